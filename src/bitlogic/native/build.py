"""Compile plain-C sources into a verified, cached shared library (stdlib only).

A library is compiled with the system C compiler (``$CC``, else ``cc``,
``gcc``, ``clang``) and the flags ``-O3 -march=native -fopenmp -std=c11``,
dropping ``-march=native`` or ``-fopenmp`` where the compiler rejects them.
Building on the user's machine lets ``-march=native`` pick AVX2/AVX-512 where
the CPU has them and needs no Python or torch headers.

The cache file is ``<cache>/<name>-<key>.so``. The key is a hash of the
sources, every ``.c``/``.h`` file in their folders and in ``csrc/`` (so an
edited header or an ``#include``-d ``.c`` file never loads a stale build),
the requested flags, the compiler and its version, and the CPU's feature
flags (``-march=native`` code must not run on another CPU sharing the cache).
Next to it ``<name>-<key>.json`` records the file's size and SHA-256: a file
that does not match (truncated, overwritten, of another kind) is never
opened and is rebuilt instead. Both files are written under a temporary name
and renamed into place, so concurrent builders race harmlessly.

Environment:
    BITLOGIC_CACHE: cache directory (default ``~/.cache/bitlogic``).
    BITLOGIC_NO_NATIVE: set to ``1`` to disable compiled kernels.
    CC: the C compiler to use (default ``cc``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

#: The package's C sources; a library's relative source paths start here.
CSRC = Path(__file__).resolve().parent.parent / "csrc"
#: Flags of every build; ``-shared -fPIC`` and ``-lm`` are always added.
DEFAULT_FLAGS: tuple[str, ...] = ("-O3", "-march=native", "-fopenmp", "-std=c11")
#: Flags dropped (not failed on) when the compiler rejects them.
OPTIONAL_FLAGS = frozenset({"-march=native", "-fopenmp"})


class BuildError(RuntimeError):
    """No compiler, or the compiler failed; the library is unavailable."""


def cache_dir() -> Path:
    """Directory that holds compiled libraries (``$BITLOGIC_CACHE`` or ``~/.cache/bitlogic``)."""
    root = os.environ.get("BITLOGIC_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "bitlogic"
    )
    return Path(root)


def native_disabled() -> bool:
    """True when ``BITLOGIC_NO_NATIVE`` asks for the reference paths."""
    return os.environ.get("BITLOGIC_NO_NATIVE", "") not in ("", "0")


def find_compiler() -> str | None:
    """Path of the C compiler (``$CC`` or ``cc``/``gcc``/``clang``), or ``None``."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@functools.cache
def _compiler_version(cc: str) -> str:
    return subprocess.run([cc, "--version"], capture_output=True, text=True).stdout


@functools.lru_cache(maxsize=1)
def _cpu_signature() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return hashlib.sha256(line.encode()).hexdigest()[:16]
    except OSError:
        pass
    return platform.processor() or platform.machine()


_PROBES = {
    "-fopenmp": "#include <omp.h>\nint bitlogic_probe(void) { return omp_get_max_threads(); }\n",
}


@functools.cache
def _accepts(cc: str, flag: str) -> bool:
    """Whether ``cc`` compiles and links a tiny shared library with ``flag``."""
    source = _PROBES.get(flag, "int bitlogic_probe(void) { return 0; }\n")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text(source)
        cmd = [cc, flag, "-shared", "-fPIC", str(src), "-o", str(Path(tmp) / "probe.so")]
        return subprocess.run(cmd, capture_output=True).returncode == 0


def supported_flags(cc: str, flags: Sequence[str]) -> list[str]:
    """``flags`` without the :data:`OPTIONAL_FLAGS` that ``cc`` rejects."""
    return [f for f in flags if f not in OPTIONAL_FLAGS or _accepts(cc, f)]


def dependencies(sources: Sequence[Path]) -> list[Path]:
    """Files a build may read: the sources, and every ``.c``/``.h`` beside them or in ``csrc/``."""
    folders = dict.fromkeys([CSRC, *(s.parent for s in sources)])
    found = set(sources)
    for folder in folders:
        found.update(p for p in folder.glob("*") if p.suffix in (".c", ".h"))
    return sorted(found)


def build_key(cc: str, sources: Sequence[Path], flags: Sequence[str]) -> str:
    """Hash of everything the compiled library depends on (20 hex digits).

    Raises:
        BuildError: a source file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        for path in dependencies(sources):
            digest.update(f"{path.name}\0".encode() + path.read_bytes() + b"\0")
    except OSError as err:
        raise BuildError(f"cannot read C source: {err}") from err
    meta = [*flags, cc, _compiler_version(cc), _cpu_signature(), platform.machine()]
    digest.update("\0".join(meta).encode())
    return digest.hexdigest()[:20]


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_path(library: Path) -> Path:
    """The JSON record next to a cached library."""
    return library.with_suffix(".json")


def verified(library: Path) -> bool:
    """True when ``library`` exists and matches the size and SHA-256 its manifest records."""
    try:
        record = json.loads(manifest_path(library).read_text())
        if library.stat().st_size != record["size"]:
            return False
        return file_digest(library) == record["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def compile_library(
    name: str, cc: str, sources: Sequence[Path], flags: Sequence[str], out_dir: Path
) -> Path:
    """Compile ``sources`` into a new temporary ``.so`` in ``out_dir`` and return its path.

    The caller publishes it with :func:`publish` (or deletes it).

    Raises:
        BuildError: the compiler failed (its command and output are included).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".so", dir=out_dir)
    os.close(fd)
    cmd = [
        cc, *supported_flags(cc, flags), "-shared", "-fPIC", "-I", str(CSRC),
        *map(str, sources), "-o", tmp, "-lm",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        os.unlink(tmp)
        raise BuildError(f"compiling {name} failed:\n{' '.join(cmd)}\n{proc.stderr}")
    return Path(tmp)


def publish(tmp: Path, library: Path, flags: Sequence[str], sources: Sequence[Path]) -> None:
    """Move a freshly compiled ``tmp`` to ``library`` with its manifest (both atomically).

    ``flags`` are recorded as built with (after :func:`supported_flags`).
    """
    record = {
        "size": tmp.stat().st_size,
        "sha256": file_digest(tmp),
        "flags": list(flags),
        "sources": [str(s) for s in sources],
    }
    fd, tmp_manifest = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=library.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp_manifest, manifest_path(library))
    os.replace(tmp, library)
