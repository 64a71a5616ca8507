"""``bitlogic.native.Library``: build, verified cache, ABI check, binding."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys

import pytest

from bitlogic import native
from bitlogic.backends import packed_native
from bitlogic.kernels import _library as train_library
from bitlogic.ternary import kernel as ternary_kernel

TINY_C = """
#include "bitlogic_abi.h"

#define TINY_VERSION 3
typedef struct { int32_t a; double b; } tiny_pair;

int64_t tiny_add(int64_t x, int64_t y) { return x + y; }
double tiny_sum(const tiny_pair *p) { return p->a + p->b; }

static const bitlogic_abi_entry abi[] = {
    BITLOGIC_ABI_VALUE(TINY_VERSION),
    BITLOGIC_ABI_SIZEOF(tiny_pair),
    BITLOGIC_ABI_OFFSETOF(tiny_pair, a),
    BITLOGIC_ABI_OFFSETOF(tiny_pair, b),
    BITLOGIC_ABI_END,
};
const bitlogic_abi_entry *bitlogic_abi(void) { return abi; }
"""


class TinyPair(ctypes.Structure):
    _fields_ = [("a", ctypes.c_int32), ("b", ctypes.c_double)]


SIGNATURES = {
    "tiny_add": (ctypes.c_int64, [ctypes.c_int64, ctypes.c_int64]),
    "tiny_sum": (ctypes.c_double, [ctypes.POINTER(TinyPair)]),
}
ABI = {"TINY_VERSION": 3, **native.struct_abi("tiny_pair", TinyPair)}
USER_CACHE = os.environ.get("BITLOGIC_CACHE")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch, cc):
    """Every test builds into its own cache; needs a C compiler (skip locally, fail on CI)."""
    monkeypatch.setenv("BITLOGIC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("BITLOGIC_NO_NATIVE", raising=False)


def tiny(tmp_path, name="tiny", abi=ABI, signatures=SIGNATURES, source=TINY_C, **kwargs):
    src = tmp_path / "src" / f"{name}.c"
    src.parent.mkdir(exist_ok=True)
    src.write_text(source)
    return native.Library(name, [src], signatures, abi, **kwargs)


def test_a_tiny_library_builds_binds_and_runs(tmp_path):
    lib = tiny(tmp_path).require()
    assert lib.tiny_add(2**40, 5) == 2**40 + 5  # int64 arguments: the signature was applied
    assert lib.tiny_sum(ctypes.byref(TinyPair(2, 0.5))) == 2.5
    assert native.read_abi(lib) == ABI
    cached = list((tmp_path / "cache").glob("tiny-*.so"))
    assert len(cached) == 1 and cached[0] in native.loaded()
    record = json.loads(cached[0].with_suffix(".json").read_text())
    assert record["size"] == cached[0].stat().st_size
    assert not list((tmp_path / "cache").glob(".tiny-*"))  # no temporary left behind


def test_a_second_declaration_reuses_the_cache(tmp_path):
    path = tiny(tmp_path).build()
    stamp = path.stat().st_mtime_ns
    assert tiny(tmp_path).require().tiny_add(1, 2) == 3
    assert path.stat().st_mtime_ns == stamp


def test_a_wrong_expected_abi_value_fails_loudly(tmp_path):
    lib = tiny(tmp_path, abi={**ABI, "TINY_VERSION": 4})
    with pytest.raises(native.AbiError, match="TINY_VERSION: C has 3, Python expects 4"):
        lib.load()
    with pytest.raises(native.AbiError):  # remembered: never a silent fallback later
        lib.load()
    assert not lib.loaded
    # The rejected fresh build was not published to the cache.
    assert not list((tmp_path / "cache").glob("tiny-*.so"))
    assert not list((tmp_path / "cache").glob(".tiny-*"))


def test_a_struct_mirror_that_disagrees_names_the_field(tmp_path):
    class Wrong(ctypes.Structure):
        _fields_ = [("a", ctypes.c_int32), ("b", ctypes.c_float)]

    abi = {"TINY_VERSION": 3, **native.struct_abi("tiny_pair", Wrong)}
    with pytest.raises(native.AbiError) as err:
        tiny(tmp_path, abi=abi).load()
    assert "sizeof(tiny_pair): C has 16, Python expects 8" in str(err.value)
    assert "offsetof(tiny_pair, b): C has 8, Python expects 4" in str(err.value)


def test_entries_on_one_side_only_and_missing_symbols_are_mismatches(tmp_path):
    abi = {**ABI, "TINY_EXTRA": 1}
    abi.pop("TINY_VERSION")
    signatures = {**SIGNATURES, "tiny_missing": (None, [])}
    with pytest.raises(native.AbiError) as err:
        tiny(tmp_path, abi=abi, signatures=signatures).load()
    message = str(err.value)
    assert "TINY_EXTRA: missing in C, Python expects 1" in message
    assert "TINY_VERSION: C has 3, Python declares nothing" in message
    assert "missing entry points: tiny_missing" in message


def test_a_library_without_an_abi_table_is_rejected(tmp_path):
    source = "int tiny_one(void) { return 1; }\n"
    lib = tiny(tmp_path, source=source, abi={}, signatures={"tiny_one": (ctypes.c_int, [])})
    with pytest.raises(native.AbiError, match="exports no bitlogic_abi"):
        lib.load()


def test_a_truncated_cached_library_is_rebuilt(tmp_path):
    path = tiny(tmp_path).build()  # built, not loaded: nothing maps the file
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    assert tiny(tmp_path).require().tiny_add(20, 22) == 42
    assert path.stat().st_size == size


@pytest.mark.parametrize("kind", ["garbage", "empty", "other library"])
def test_a_cached_file_of_the_wrong_kind_is_rebuilt(tmp_path, kind):
    path = tiny(tmp_path).build()
    if kind == "garbage":
        path.write_bytes(b"\x7fELF not really" * 100)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        # A valid library of another kind, with a manifest that vouches for it:
        # only the symbol and ABI checks can tell.
        other = tiny(tmp_path, name="other", source=TINY_C.replace("TINY_VERSION 3",
                                                                   "TINY_VERSION 9"))
        path.write_bytes(other.build().read_bytes())
        manifest = path.with_suffix(".json")
        record = json.loads(manifest.read_text())
        record["size"] = path.stat().st_size
        record["sha256"] = native.build.file_digest(path)
        manifest.write_text(json.dumps(record))
    lib = tiny(tmp_path).require()
    assert native.read_abi(lib)["TINY_VERSION"] == 3
    assert native.build.verified(path)


def test_the_build_key_covers_sources_headers_and_flags(tmp_path):
    lib = tiny(tmp_path, source='#include "tiny.h"\n' + TINY_C)
    (tmp_path / "src" / "tiny.h").write_text("/* v1 */\n")
    first = lib.path()
    (tmp_path / "src" / "tiny.h").write_text("/* v2 */\n")
    assert lib.path() != first
    flagged = tiny(tmp_path, flags=(*native.DEFAULT_FLAGS, "-DTINY_FLAG"))
    assert flagged.path() != lib.path()


def test_without_a_compiler_load_warns_once_and_require_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    lib = tiny(tmp_path)
    with pytest.warns(RuntimeWarning, match="no C compiler found"):
        assert lib.load() is None
    assert lib.load() is None  # silently, the second time
    with pytest.raises(RuntimeError, match="'tiny' is unavailable"):
        lib.require()


def test_bitlogic_no_native_disables_loading(tmp_path, monkeypatch):
    monkeypatch.setenv("BITLOGIC_NO_NATIVE", "1")
    with pytest.warns(RuntimeWarning, match="BITLOGIC_NO_NATIVE is set; tiny"):
        assert tiny(tmp_path).load() is None
    assert not (tmp_path / "cache").exists()


def test_bad_declarations_fail_early():
    with pytest.raises(ValueError, match="sources must be a non-empty list"):
        native.Library("x", "x.c", {}, {})
    with pytest.raises(ValueError, match="name must be"):
        native.Library("a b", ["x.c"], {}, {})
    with pytest.raises(TypeError, match="abi values must be ints"):
        native.Library("x", ["x.c"], {}, {"V": "1"})


@pytest.mark.parametrize(
    "declaration", [train_library.LIBRARY, packed_native.LIBRARY, ternary_kernel.LIBRARY],
    ids=lambda lib: lib.name,
)
def test_the_package_libraries_match_their_declarations(declaration, monkeypatch):
    if USER_CACHE is None:  # the shared cache, where the other tests built them
        monkeypatch.delenv("BITLOGIC_CACHE")
    else:
        monkeypatch.setenv("BITLOGIC_CACHE", USER_CACHE)
    lib = native.Library(declaration.name, declaration.sources, declaration.signatures,
                         declaration.abi, flags=declaration.flags).require()
    assert native.read_abi(lib) == declaration.abi


def test_importing_native_loads_neither_torch_nor_numpy():
    code = (
        "import sys, bitlogic.native\n"
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
