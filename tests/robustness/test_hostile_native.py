"""Hostile files in the native-library cache: truncated, foreign, of the wrong kind.

Finding 1: a cached ``bitlogic_packed-*.so`` truncated to 4096 bytes killed
every call with SIGBUS and was never rebuilt; a valid library of the wrong
kind gave a raw ``AttributeError``. A cached library is now trusted only when
its manifest (size, SHA-256) and its ABI table verify; otherwise it is rebuilt,
or, without a compiler, the reference path is used after a warning.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import clear_error, documented_warning

from bitlogic import native
from bitlogic.backends import packed_native

TINY_C = """
#include "bitlogic_abi.h"
int64_t tiny_add(int64_t x, int64_t y) { return x + y; }
static const bitlogic_abi_entry abi[] = { BITLOGIC_ABI_VALUE(TINY_VERSION), BITLOGIC_ABI_END };
const bitlogic_abi_entry *bitlogic_abi(void) { return abi; }
"""
SIGNATURES = {"tiny_add": (ctypes.c_int64, [ctypes.c_int64, ctypes.c_int64])}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch, cc):
    monkeypatch.setenv("BITLOGIC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("BITLOGIC_NO_NATIVE", raising=False)


def tiny(tmp_path: Path, version: int = 3, name: str = "tiny", symbols=SIGNATURES):
    src = tmp_path / "src" / name / f"{name}.c"  # own folder: the key hashes its neighbours
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(f"#define TINY_VERSION {version}\n" + TINY_C)
    return native.Library(name, [src], symbols, {"TINY_VERSION": version})


CACHE_DAMAGE = {
    "truncated-4096": lambda p, other: p.write_bytes(p.read_bytes()[:4096]),
    "truncated-to-half": lambda p, other: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "empty": lambda p, other: p.write_bytes(b""),
    "zeros": lambda p, other: p.write_bytes(bytes(p.stat().st_size)),
    "text": lambda p, other: p.write_text("not a library"),
    "other-library": lambda p, other: p.write_bytes(other.read_bytes()),
    "manifest-deleted": lambda p, other: native.build.manifest_path(p).unlink(),
    "manifest-garbage": lambda p, other: native.build.manifest_path(p).write_text("{"),
}


@pytest.mark.parametrize("damage", list(CACHE_DAMAGE), ids=lambda d: f"ok-rebuilt-{d}")
def test_a_damaged_cached_library_is_rebuilt(tmp_path, damage):
    path = tiny(tmp_path).build()
    other = tiny(tmp_path, version=9, name="other").build()
    size = path.stat().st_size
    CACHE_DAMAGE[damage](path, other)
    assert tiny(tmp_path).require().tiny_add(40, 2) == 42
    assert path.stat().st_size == size and native.build.verified(path)


@pytest.mark.outcome("ok")
def test_a_vouched_library_of_the_wrong_kind_is_rebuilt_not_an_attribute_error(tmp_path):
    # Another library in the cache file *and* a manifest that vouches for it: only
    # the symbol and ABI checks can tell. They must, before any attribute is read.
    path = tiny(tmp_path).build()
    stranger = tmp_path / "stranger.c"
    stranger.write_text("int something_else(void) { return 7; }\n")
    foreign = native.Library("stranger", [stranger], {}, {})
    tmp = native.build.compile_library("stranger", native.find_compiler(), foreign.sources,
                                       foreign.flags, path.parent)
    native.build.publish(tmp, path, [], foreign.sources)
    assert tiny(tmp_path).require().tiny_add(1, 2) == 3


@pytest.mark.outcome("error")
def test_a_fresh_build_without_a_declared_symbol_is_an_abi_error(tmp_path):
    symbols = {**SIGNATURES, "tiny_missing": (None, [])}
    lib = tiny(tmp_path, symbols=symbols)
    clear_error(lib.load, native.AbiError, "missing entry points: tiny_missing")
    clear_error(lib.require, native.LibraryError, "tiny_missing")


@pytest.mark.outcome("warn")
def test_without_a_compiler_a_damaged_cache_falls_back_with_a_warning(tmp_path, monkeypatch):
    path = tiny(tmp_path).build()
    path.write_bytes(path.read_bytes()[:4096])
    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with documented_warning("no C compiler found"):
        assert tiny(tmp_path).load() is None


CHILD = """
import sys
from bitlogic.backends import packed_native
lib = packed_native.load_engine()
print("loaded" if lib is not None else "fallback")
"""


@pytest.mark.outcome("ok")
def test_a_truncated_packed_engine_in_the_cache_is_rebuilt_in_a_fresh_process(tmp_path):
    """The issue's reproduction: ``truncate -s 4096 $BITLOGIC_CACHE/bitlogic_packed-*.so``."""
    cache = tmp_path / "cache"
    target = packed_native.LIBRARY.path()  # under the test's cache
    user = Path(os.environ.get("BITLOGIC_USER_CACHE", Path.home() / ".cache" / "bitlogic"))
    if native.build.verified(user / target.name):  # spare a compile: copy the user's build
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copy(user / target.name, target)
        shutil.copy(native.build.manifest_path(user / target.name),
                    native.build.manifest_path(target))
    else:
        packed_native.LIBRARY.build()
    size = target.stat().st_size
    with open(target, "r+b") as f:
        f.truncate(4096)
    env = {**os.environ, "BITLOGIC_CACHE": str(cache)}
    proc = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"exit {proc.returncode} (negative: a signal)\n{proc.stderr}"
    assert proc.stdout.strip() == "loaded"
    assert target.stat().st_size == size and native.build.verified(target)
