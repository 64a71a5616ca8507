"""The three outcomes a hostile input may have, as assertions, and the files the cases corrupt.

Every case of the campaign ends in exactly one of

* ``clear_error``: an exception of a documented type whose message names the
  argument (or file) and says what is allowed -- never a raw ``TypeError``
  from deep inside, a ``KeyError``, a signal;
* ``documented_warning``: a ``RuntimeWarning`` / ``UserWarning`` and a result;
* a correct result, asserted by the test itself.

Case ids start with ``error-``, ``warn-`` or ``ok-`` so that
``pytest --collect-only -q tests/robustness`` counts them per outcome.
"""

from __future__ import annotations

import contextlib
import pickle
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bitlogic.netlist import InputEncoding, LogicNetlist, NetlistLayer

#: Values every numeric argument is tried with.
HOSTILE_NUMBERS = {
    "zero": 0, "negative": -3, "nan": float("nan"), "inf": float("inf"),
    "-inf": float("-inf"), "huge": 10**12, "float": 16.0, "bool": True, "str": "16",
    "none": None, "list": [16],
}


def clear_error(fn: Callable[[], Any], types: type[BaseException] | tuple, *fragments: str,
                ) -> BaseException:
    """Assert ``fn()`` raises one of ``types`` whose message holds every ``fragments`` regex."""
    with pytest.raises(types) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert re.search(fragment, message), f"{fragment!r} not in {message!r}"
    return info.value


@contextlib.contextmanager
def documented_warning(fragment: str, category: type[Warning] = RuntimeWarning) -> Iterator[None]:
    """Assert the block warns with ``category`` and a message matching ``fragment``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    hits = [w for w in caught if issubclass(w.category, category)
            and re.search(fragment, str(w.message))]
    seen = [str(w.message) for w in caught]
    assert hits, f"no {category.__name__} matching {fragment!r}; got {seen}"


def small_netlist(encoded: bool = True) -> LogicNetlist:
    """A valid 2-layer netlist over 4 encoded features (seeded)."""
    rng = np.random.default_rng(0)
    enc = InputEncoding(np.sort(rng.random((4, 2)), axis=1).astype(np.float32)) if encoded else None
    first = NetlistLayer(rng.integers(0, 8, (6, 2)).astype(np.int32),
                         rng.integers(0, 2, (6, 4)).astype(np.uint8))
    second = NetlistLayer(rng.integers(0, 6, (4, 2)).astype(np.int32),
                          rng.integers(0, 2, (4, 4)).astype(np.uint8))
    return LogicNetlist(num_inputs=8, layers=[first, second], num_classes=2, tau=1.0,
                        encoding=enc).validate()


# -- corrupting files ---------------------------------------------------------------


def truncate(path: Path, keep: int) -> None:
    """Cut ``path`` to its first ``keep`` bytes."""
    data = path.read_bytes()
    path.write_bytes(data[:keep])


def random_bytes(path: Path, size: int = 4096, seed: int = 0) -> None:
    """Replace ``path`` by ``size`` random bytes."""
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, np.uint8).tobytes())


def pickle_renamed(path: Path) -> None:
    """Replace ``path`` by a pickle (what ``torch.save`` writes) under the same name."""
    path.write_bytes(pickle.dumps({"model": [1, 2, 3]}))


def flip_bytes(path: Path, offset: int, count: int = 8) -> None:
    """Invert ``count`` bytes at ``offset`` (a bit rot in the tensor data)."""
    data = bytearray(path.read_bytes())
    for i in range(offset, min(offset + count, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


CORRUPTIONS: dict[str, Callable[[Path], None]] = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated-header": lambda p: truncate(p, 6),
    "truncated-half": lambda p: truncate(p, p.stat().st_size // 2),
    "truncated-last-byte": lambda p: truncate(p, p.stat().st_size - 1),
    "random-bytes": random_bytes,
    "pickle-renamed": pickle_renamed,
    "text": lambda p: p.write_text("not a model\n"),
}
