"""The preprocessing from raw features to the encoder's input: :class:`InputScaling`.

A model is trained on scaled features (pixel / 255, a min-max fit on the
train rows, ...). A netlist that stores the scaling takes *raw* features:

* the scaled value of raw feature ``x`` is
  ``float32(clip((float64(float32(x)) - offset[f]) * scale[f]))``, where
  ``clip`` limits to [0, 1] when ``clip`` is set (min-max scaling clips the
  test rows) and does nothing otherwise; the loaders in :mod:`bitlogic.data`
  compute exactly this;
* this is non-decreasing in ``x``, so "scaled value > threshold" is
  "``x`` > a *raw threshold*" for every finite float32 ``x``:
  :func:`raw_thresholds` finds that float32 boundary exactly, and every
  backend compares raw features with it. No backend does float arithmetic
  on the features at run time.

Raw features are float32 (what the emitted C takes); float64 values are
rounded to float32 first, in the loaders as in the backends.

Example:
    >>> import numpy as np
    >>> pixels = InputScaling.divide(2, 255.0)
    >>> raw_thresholds(np.array([[0.5], [0.25]], np.float32), pixels).ravel().tolist()
    [127.5, 63.75]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_FLOAT_MAX = float(np.finfo(np.float32).max)


@dataclass(eq=False)
class InputScaling:
    """Per-feature affine scaling of raw features, optionally clipped to [0, 1].

    Attributes:
        offset: float64 ``(num_features,)``, finite.
        scale: float64 ``(num_features,)``, finite and >= 0 (0 maps a feature
            that was constant on the train rows to 0).
        clip: whether scaled values are clipped to [0, 1].
        kind: what the scaling is, for people (``"minmax"``, ``"divide"``, ...).
    """

    offset: np.ndarray
    scale: np.ndarray
    clip: bool = False
    kind: str = "affine"

    @classmethod
    def divide(cls, num_features: int, divisor: float) -> InputScaling:
        """``x / divisor`` for every feature (pixel / 255, digits' / 16)."""
        if not math.isfinite(divisor) or divisor <= 0:
            raise ValueError(f"divisor must be a finite number > 0, got {divisor!r}")
        n = int(num_features)
        return cls(np.zeros(n), np.full(n, 1.0 / float(divisor)), clip=False,
                   kind=f"divide by {float(divisor):g}").validate()

    @classmethod
    def minmax(cls, low: np.ndarray, inv_range: np.ndarray) -> InputScaling:
        """``clip((x - low) * inv_range, 0, 1)``: min-max scaling with train statistics."""
        return cls(np.asarray(low, np.float64), np.asarray(inv_range, np.float64), clip=True,
                   kind="minmax").validate()

    @property
    def num_features(self) -> int:
        """Number of raw features."""
        return int(self.offset.shape[0])

    def validate(self) -> InputScaling:
        """Check dtypes, shapes and values; return ``self``.

        Raises:
            ValueError: naming the first rule that is broken.
        """
        for name in ("offset", "scale"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.ndim != 1:
                raise ValueError(f"scaling.{name} must be a float64 (num_features,) array, "
                                 f"got {_describe(arr)}")
            if arr.shape[0] < 1 or not np.all(np.isfinite(arr)):
                raise ValueError(f"scaling.{name} must be non-empty and finite")
        if self.scale.shape != self.offset.shape:
            raise ValueError(f"scaling.scale has shape {self.scale.shape}, scaling.offset "
                             f"{self.offset.shape}; they must match")
        if np.any(self.scale < 0):
            f = int(np.argwhere(self.scale < 0)[0, 0])
            raise ValueError(f"scaling.scale must be >= 0, got {self.scale[f]} for feature {f}")
        if not isinstance(self.clip, (bool, np.bool_)):
            raise ValueError(f"scaling.clip must be a bool, got {self.clip!r}")
        if not isinstance(self.kind, str):
            raise ValueError(f"scaling.kind must be a str, got {type(self.kind).__name__}")
        return self

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Scaled features, float32 ``(batch, num_features)``, of raw ``(batch, num_features)``."""
        raw = np.asarray(x, dtype=np.float32).astype(np.float64)
        return self._scaled(raw, self.offset, self.scale)

    def _scaled(self, raw: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            v = ((raw - offset) * scale).astype(np.float32)
        return np.clip(v, np.float32(0), np.float32(1)) if self.clip else v

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InputScaling):
            return NotImplemented
        return (bool(self.clip) == bool(other.clip) and self.kind == other.kind
                and np.array_equal(self.offset, other.offset)
                and np.array_equal(self.scale, other.scale))

    __hash__ = None  # type: ignore[assignment]


def raw_thresholds(thresholds: np.ndarray, scaling: InputScaling | None) -> np.ndarray:
    """The thresholds in raw feature space: the exact float32 boundary of each bit.

    For every finite float32 ``x``, ``x > raw[f, t]`` equals
    ``scaling.apply(x)[f] > thresholds[f, t]``. ``raw[f, t]`` is ``-inf``
    when the bit is 1 for every finite ``x`` and ``+inf`` when it is never 1.

    Args:
        thresholds: float32 ``(num_features, num_thresholds)`` in scaled space.
        scaling: the scaling, or ``None`` (the identity: thresholds unchanged).

    Returns:
        float32 ``(num_features, num_thresholds)``, non-decreasing per feature.
    """
    thr = np.asarray(thresholds, dtype=np.float32)
    if scaling is None:
        return thr.copy()
    if thr.ndim != 2 or thr.shape[0] != scaling.num_features:
        raise ValueError(f"thresholds must have shape ({scaling.num_features}, T) for this "
                         f"scaling, got {thr.shape}")
    offset = np.repeat(scaling.offset, thr.shape[1])
    scale = np.repeat(scaling.scale, thr.shape[1])
    flat = thr.ravel()

    def bit(keys: np.ndarray) -> np.ndarray:  # is the bit 1 at these raw values?
        raw = _from_key(keys).astype(np.float64)
        return scaling._scaled(raw, offset, scale) > flat

    # Binary search over the float32 values in order: the largest finite value whose
    # bit is 0 is the boundary; the bit is monotone in x, so 33 halvings find it.
    lo = np.full(flat.shape, _key(-_FLOAT_MAX), dtype=np.int64)
    hi = np.full(flat.shape, _key(_FLOAT_MAX), dtype=np.int64)
    always, never = bit(lo), ~bit(hi)
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        one = bit(mid)
        hi = np.where(one, mid, hi)
        lo = np.where(one, lo, mid)
    raw = _from_key(lo)
    raw[always] = -np.inf
    raw[never] = np.inf
    return raw.reshape(thr.shape)


def _key(value: float) -> int:
    """Position of a float32 in value order (-0.0 just below +0.0)."""
    return int(_keys(np.array([value], np.float32))[0])


def _keys(values: np.ndarray) -> np.ndarray:
    bits = values.view(np.int32).astype(np.int64)
    return np.where(bits >= 0, bits, -(bits & 0x7FFFFFFF) - 1)


def _from_key(keys: np.ndarray) -> np.ndarray:
    bits = np.where(keys >= 0, keys, (-(keys + 1)) | 0x80000000)
    return bits.astype(np.uint32).view(np.float32)


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__
