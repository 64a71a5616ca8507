"""Building, caching (verified) and binding the package's plain-C libraries.

Stdlib only: importing it compiles nothing and loads neither torch nor numpy.
Each library is declared once as a :class:`Library` -- sources, ctypes
signatures, expected ABI -- next to the Python code that calls it
(``bitlogic.kernels._library``, ``bitlogic.backends.packed_native``,
``bitlogic.ternary.kernel``). See :mod:`bitlogic.native.build` for the cache
and the environment variables, :mod:`bitlogic.native.library` for the checks.
"""

from .build import (
    CSRC,
    DEFAULT_FLAGS,
    BuildError,
    cache_dir,
    find_compiler,
    native_disabled,
)
from .library import (
    AbiError,
    Library,
    LibraryError,
    Signature,
    loaded,
    read_abi,
    struct_abi,
)
from .process import (
    OPENMP_WAIT_ENV,
    flush_denormals,
    keep_freed_memory,
    openmp_started,
    prefer_passive_openmp_wait,
)

__all__ = [
    # declaring and loading a library
    "Library",
    "Signature",
    "struct_abi",
    "read_abi",
    "loaded",
    # errors
    "BuildError",
    "LibraryError",
    "AbiError",
    # cache and environment
    "CSRC",
    "DEFAULT_FLAGS",
    "cache_dir",
    "find_compiler",
    "native_disabled",
    # process settings for the training loops
    "flush_denormals",
    "keep_freed_memory",
    "OPENMP_WAIT_ENV",
    "openmp_started",
    "prefer_passive_openmp_wait",
]
