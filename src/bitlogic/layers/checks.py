"""Argument and input checks shared by the layers: sizes, finite scalars, binary inputs.

Every check raises a ``ValueError`` (``TypeError`` for a value of the wrong
kind) that names the argument, the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers

import torch

from ..connections.base import MAX_INPUTS, MAX_NEURONS

__all__ = ["MAX_INPUTS", "MAX_NEURONS", "check_binary", "check_finite",
           "check_finite_positive", "check_size"]


def check_size(name: str, value: object, maximum: int) -> int:
    """``value`` as an int in ``[1, maximum]``.

    Raises:
        TypeError: not an integer (a float such as ``16.0`` included, or a bool).
        ValueError: out of range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer in [1, {maximum}], got "
                        f"{type(value).__name__} {value!r}")
    if not 1 <= value <= maximum:
        raise ValueError(f"{name} must be an integer in [1, {maximum}], got {value}")
    return int(value)


def check_finite_positive(name: str, value: object) -> float:
    """``value`` as a finite float ``> 0``.

    Raises:
        TypeError: not a real number.
        ValueError: zero, negative, NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number > 0, got {type(value).__name__} "
                        f"{value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_finite(name: str, value: object) -> float:
    """``value`` as a finite float.

    Raises:
        TypeError: not a real number.
        ValueError: NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def check_binary(x: torch.Tensor, where: str) -> None:
    """Eval mode's input contract: every value of ``x`` is 0 or 1, as the packed engine demands.

    Args:
        x: ``(batch, features)`` (any shape works).
        where: the layer, for the message.

    Raises:
        ValueError: naming the first offending value and its position.
    """
    if x.dtype == torch.bool:
        return
    bad = (x != 0) & (x != 1)
    if bool(bad.any()):
        pos = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(
            f"{where}: x must be binary (0/1) in eval mode, as the netlist and the packed "
            f"engine read it; got {x[pos].item()!r} at {list(pos)}. Put an encoder "
            f"(Thermometer, DistributiveThermometer) in front of real-valued features"
        )
