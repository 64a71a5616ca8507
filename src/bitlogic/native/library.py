"""``Library``: one plain-C shared library, built, verified, loaded and typed in one place.

A declaration names the sources, the ctypes signature of every entry point
and the ABI values Python expects. On first use :meth:`Library.load`

1. returns ``None`` after one ``RuntimeWarning`` when ``BITLOGIC_NO_NATIVE``
   is set or no compiler can build the library (callers then take their
   reference path);
2. opens the cached build if its manifest verifies it (size and SHA-256), and
   checks it: every declared symbol exists and the ``bitlogic_abi()`` table
   (``csrc/bitlogic_abi.h``) equals the expected ABI, entry for entry;
3. otherwise -- no cache, a damaged file, a failed check -- compiles the
   library once under a temporary name, checks that build the same way, and
   only then renames it into the cache. A fresh build that still fails raises
   :class:`AbiError` (or :class:`LibraryError`) naming every mismatch: a
   struct or enum edited on one side only is a bug, never a silent fallback.

The outcome is kept, so later calls cost one attribute read.
"""

from __future__ import annotations

import ctypes
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .build import (
    CSRC,
    DEFAULT_FLAGS,
    BuildError,
    build_key,
    cache_dir,
    compile_library,
    find_compiler,
    native_disabled,
    publish,
    supported_flags,
    verified,
)

#: ``(restype, argtypes)`` of one C function, as ctypes takes them.
Signature = tuple[Any, Sequence[Any]]

ABI_SYMBOL = "bitlogic_abi"
_MAX_ABI_ENTRIES = 4096
_UNSET: Any = object()
_loaded: dict[Path, str] = {}
_loaded_lock = threading.Lock()


class LibraryError(RuntimeError):
    """A compiled library cannot be used as declared (it does not load or does not match)."""


class AbiError(LibraryError):
    """A compiled library's symbols or ABI table disagree with its Python declaration."""


class _AbiEntry(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_int64)]


def struct_abi(c_name: str, struct: type[ctypes.Structure]) -> dict[str, int]:
    """The ABI entries of a ctypes mirror: its size and every field's offset.

    The names are those ``BITLOGIC_ABI_SIZEOF`` / ``BITLOGIC_ABI_OFFSETOF``
    write on the C side, e.g. ``"sizeof(bl_net)"``, ``"offsetof(bl_net, tau)"``.
    """
    entries = {f"sizeof({c_name})": ctypes.sizeof(struct)}
    for field in struct._fields_:
        entries[f"offsetof({c_name}, {field[0]})"] = getattr(struct, field[0]).offset
    return entries


def read_abi(lib: ctypes.CDLL) -> dict[str, int]:
    """The ``bitlogic_abi()`` table of a loaded library.

    Raises:
        AbiError: the library exports no ``bitlogic_abi`` or its table is not terminated.
    """
    try:
        fn = getattr(lib, ABI_SYMBOL)
    except AttributeError:
        raise AbiError(f"it exports no {ABI_SYMBOL}() (not a bitlogic library)") from None
    fn.restype = ctypes.POINTER(_AbiEntry)
    fn.argtypes = []
    table = fn()
    found: dict[str, int] = {}
    for i in range(_MAX_ABI_ENTRIES):
        entry = table[i]
        if entry.name is None:
            return found
        found[entry.name.decode()] = int(entry.value)
    raise AbiError(f"its {ABI_SYMBOL}() table has no end marker")


def abi_mismatches(found: Mapping[str, int], expected: Mapping[str, int]) -> list[str]:
    """One line per entry where the C table and the Python declaration differ."""
    lines = []
    for key, value in expected.items():
        if key not in found:
            lines.append(f"{key}: missing in C, Python expects {value}")
        elif found[key] != value:
            lines.append(f"{key}: C has {found[key]}, Python expects {value}")
    lines += [f"{key}: C has {found[key]}, Python declares nothing" for key in found
              if key not in expected]
    return lines


def loaded() -> tuple[Path, ...]:
    """Cache paths of the libraries this process has loaded through :class:`Library`."""
    with _loaded_lock:
        return tuple(_loaded)


def _dlclose(lib: ctypes.CDLL) -> None:
    # Unload a rejected library so a later dlopen of the same path reads the new file.
    import _ctypes

    close = getattr(_ctypes, "dlclose", None)
    if close is not None:
        close(lib._handle)


class Library:
    """A plain-C shared library: its sources, entry points and expected ABI.

    Args:
        name: Library name; the cache file is ``<cache>/<name>-<key>.so``.
        sources: C files to compile, relative to ``bitlogic/csrc`` or absolute.
            ``bitlogic_abi.h`` is on the include path.
        signatures: ``{symbol: (restype, argtypes)}`` for every entry point
            Python calls; each must exist and is typed on load.
        abi: The ``bitlogic_abi()`` table Python expects, ``{name: value}``
            (:func:`struct_abi` writes a struct's entries).
        flags: Compiler flags (``-shared -fPIC`` and ``-lm`` are added).

    Example:
        >>> import ctypes
        >>> lib = Library("bitlogic_packed", ["packed/packed.c"], {"bl_isa": (ctypes.c_char_p, [])},
        ...               {"BL_X_U8_BITS": 0})
        >>> lib.name, lib.sources[0].name
        ('bitlogic_packed', 'packed.c')
    """

    def __init__(
        self,
        name: str,
        sources: Sequence[str | Path],
        signatures: Mapping[str, Signature],
        abi: Mapping[str, int],
        *,
        flags: Sequence[str] = DEFAULT_FLAGS,
    ) -> None:
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise ValueError(f"name must be a non-empty identifier-like string, got {name!r}")
        if isinstance(sources, str | Path) or not sources:
            raise ValueError(f"sources must be a non-empty list of C files, got {sources!r}")
        bad = {k: v for k, v in abi.items() if not isinstance(v, int) or isinstance(v, bool)}
        if bad:
            raise TypeError(f"abi values must be ints, got {bad}")
        self.name = name
        self.sources = tuple(Path(s) if Path(s).is_absolute() else CSRC / s for s in sources)
        self.signatures = dict(signatures)
        self.abi = dict(abi)
        self.flags = tuple(flags)
        self._lock = threading.Lock()
        self._result: Any = _UNSET
        self._warned = False

    def __repr__(self) -> str:
        return f"Library({self.name!r}, {[s.name for s in self.sources]})"

    @property
    def loaded(self) -> bool:
        """True once :meth:`load` has returned the compiled library."""
        return isinstance(self._result, ctypes.CDLL)

    def path(self) -> Path:
        """Where the build for the current sources, flags, compiler and CPU is cached.

        Raises:
            BuildError: no C compiler, or a source cannot be read.
        """
        cc = self._compiler()
        return cache_dir() / f"{self.name}-{build_key(cc, self.sources, self.flags)}.so"

    def build(self) -> Path:
        """The verified cached library, compiling it first when missing or damaged.

        Does not load it (so the ABI is checked by :meth:`load`, not here).

        Raises:
            BuildError: no compiler, or the compiler failed.
        """
        path = self.path()
        if not verified(path):
            cc = self._compiler()
            tmp = compile_library(self.name, cc, self.sources, self.flags, path.parent)
            publish(tmp, path, supported_flags(cc, self.flags), self.sources)
        return path

    def load(self) -> ctypes.CDLL | None:
        """The checked, typed library, or ``None`` (after one warning) when it cannot be built.

        Raises:
            AbiError: even a fresh build disagrees with the declaration.
            LibraryError: a fresh build cannot be loaded.
        """
        result = self._result
        if result is _UNSET:
            with self._lock:
                if self._result is _UNSET:
                    self._result = self._load_or_warn()
                result = self._result
        if isinstance(result, LibraryError):
            raise result
        return result

    def require(self) -> ctypes.CDLL:
        """Like :meth:`load`, but raises ``RuntimeError`` instead of returning ``None``."""
        lib = self.load()
        if lib is None:
            raise RuntimeError(
                f"bitlogic: compiled library {self.name!r} is unavailable (see the earlier warning)"
            )
        return lib

    # ------------------------------------------------------------ internals ----

    def _compiler(self) -> str:
        cc = find_compiler()
        if cc is None:
            raise BuildError("no C compiler found (set CC or install gcc)")
        return cc

    def _warn(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(message, RuntimeWarning, stacklevel=5)

    def _load_or_warn(self) -> ctypes.CDLL | LibraryError | None:
        if native_disabled():
            self._warn(f"bitlogic: BITLOGIC_NO_NATIVE is set; {self.name} uses the reference path")
            return None
        try:
            return self._open()
        except BuildError as err:
            self._warn(
                f"bitlogic: compiled kernel {self.name!r} unavailable ({err}); "
                "falling back to the slower reference implementation"
            )
            return None
        except LibraryError as err:
            return err

    def _open(self) -> ctypes.CDLL:
        path = self.path()
        if verified(path):
            try:
                lib = ctypes.CDLL(str(path))
            except OSError:
                lib = None  # verified but unloadable (another machine's file): rebuild
            if lib is not None:
                try:
                    return self._bind(lib, path, "cached")
                except AbiError:
                    _dlclose(lib)  # stale or foreign build: rebuild once below
        cc = self._compiler()
        tmp = compile_library(self.name, cc, self.sources, self.flags, path.parent)
        try:
            try:
                lib = ctypes.CDLL(str(tmp))
            except OSError as err:
                raise LibraryError(f"{self.name}: a fresh build does not load: {err}") from err
            try:
                self._bind(lib, path, "freshly built")
            except AbiError:
                _dlclose(lib)
                raise
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        publish(tmp, path, supported_flags(cc, self.flags), self.sources)
        return lib

    def _bind(self, lib: ctypes.CDLL, path: Path, origin: str) -> ctypes.CDLL:
        """Check ``lib`` against the declaration, then type its entry points."""
        try:
            problems = abi_mismatches(read_abi(lib), self.abi)
        except AbiError as err:
            problems = [str(err)]
        missing = [name for name in self.signatures if not hasattr(lib, name)]
        if missing:
            problems.append(f"missing entry points: {', '.join(missing)}")
        if problems:
            raise AbiError(
                f"compiled library {self.name!r} ({origin} {path.name}) does not match its Python "
                "declaration -- a C struct, enum or signature changed on one side only:\n  "
                + "\n  ".join(problems)
            )
        for symbol, (restype, argtypes) in self.signatures.items():
            fn = getattr(lib, symbol)
            fn.restype = restype
            fn.argtypes = list(argtypes)
        with _loaded_lock:
            _loaded[path] = self.name
        return lib
