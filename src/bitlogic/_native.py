"""Build and load the package's plain-C kernels (no Python or torch headers).

The kernels in ``bitlogic/csrc`` are ordinary C over raw pointers. They are
compiled once per machine with the system C compiler (``-O3 -march=native
-fopenmp``) into a cache directory, keyed by a hash of the source, the flags,
the compiler and the CPU, and loaded with :mod:`ctypes`. Building on the user's
machine lets ``-march=native`` pick AVX2/AVX-512 where the CPU has them, and
needs no torch headers, so installing bitlogic never drags a CUDA torch into a
build environment.

Without a compiler (or with ``BITLOGIC_NO_NATIVE=1``) :func:`load_library`
returns ``None`` after a one-time warning and callers use their pure
PyTorch/NumPy reference path.

Environment:
    BITLOGIC_CACHE: cache directory (default ``~/.cache/bitlogic``).
    BITLOGIC_NO_NATIVE: set to ``1`` to disable compiled kernels.
    CC: the C compiler to use (default ``cc``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

CSRC = Path(__file__).parent / "csrc"
DEFAULT_FLAGS = ("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-std=c11")

_lock = threading.Lock()
_loaded: dict[str, ctypes.CDLL | None] = {}
_warned: set[str] = set()


def cache_dir() -> Path:
    """Directory that holds compiled kernels."""
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


def _cpu_signature() -> str:
    # -march=native code must not be reused on a different CPU sharing the cache.
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return hashlib.sha256(line.encode()).hexdigest()[:16]
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def build_library(name: str, sources: list[str], flags: tuple[str, ...] = DEFAULT_FLAGS) -> Path:
    """Compile ``csrc`` sources into a cached shared library and return its path.

    Raises:
        RuntimeError: no compiler, or the compiler failed (its output included).
    """
    cc = find_compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set CC or install gcc)")
    # Headers count too: an edited header must not load a stale library.
    headers = sorted(CSRC.glob("*.h"))
    texts = [(CSRC / s).read_text() for s in sources] + [h.read_text() for h in headers]
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256(
        "\0".join([*texts, *flags, version, _cpu_signature()]).encode()
    ).hexdigest()[:20]
    out = cache_dir() / f"{name}-{key}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
    os.close(fd)
    cmd = [cc, *flags, "-I", str(CSRC), *[str(CSRC / s) for s in sources], "-o", tmp, "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        os.unlink(tmp)
        raise RuntimeError(f"compiling {name} failed:\n{' '.join(cmd)}\n{proc.stderr}")
    os.replace(tmp, out)  # atomic: concurrent builders race harmlessly
    return out


def load_library(name: str, sources: list[str]) -> ctypes.CDLL | None:
    """Build (if needed) and load a kernel library; ``None`` if unavailable.

    The first failure for ``name`` emits one ``RuntimeWarning`` explaining the
    fallback; later calls return ``None`` silently.
    """
    with _lock:
        if name in _loaded:
            return _loaded[name]
        lib = None
        if native_disabled():
            _warn_once(name, f"bitlogic: BITLOGIC_NO_NATIVE is set; {name} uses the reference path")
        else:
            try:
                lib = ctypes.CDLL(str(build_library(name, sources)))
            except (RuntimeError, OSError) as err:
                _warn_once(
                    name,
                    f"bitlogic: compiled kernel {name!r} unavailable ({err}); "
                    "falling back to the slower reference implementation",
                )
        _loaded[name] = lib
        return lib


def flush_denormals() -> None:
    """Flush subnormal floats to zero in this thread and in threads it starts later.

    Adam's moments of routing logits that stop receiving gradient decay into
    the subnormal range, where every multiply takes a microcode assist: the
    fused step over mnist-dwn's 28M logits went from 44 ms to 535 ms (2 threads).
    x86 threads inherit the flag from their creator, so this must run before
    the first parallel region creates the OpenMP pools.
    """
    import torch

    torch.set_flush_denormal(True)


def keep_freed_memory() -> bool:
    """Ask glibc not to return freed heap memory to the OS (training loops).

    Each training step frees and re-allocates the same activation buffers; with
    glibc's default trim/mmap thresholds those pages go back to the OS and
    fault in again every step (measured: ~12 ms of a 43 ms step on the wide
    rank-2 net). Returns False where ``mallopt`` is unavailable (non-glibc).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    big = 1 << 30
    return bool(mallopt(m_trim_threshold, big)) and bool(mallopt(m_mmap_threshold, 1 << 25))
