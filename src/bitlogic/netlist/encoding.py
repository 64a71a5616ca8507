"""The thermometer input encoding in front of a netlist's first layer: :class:`InputEncoding`.

Input bit ``feature * num_thresholds + t`` is
``float32(x[feature]) > raw_thresholds[feature, t]`` (strict ``>``, float32).
With a :class:`~bitlogic.netlist.scaling.InputScaling` ``x`` is the *raw*
feature and :attr:`InputEncoding.raw_thresholds` are the exact raw-space
boundaries of ``scaled(x) > thresholds``; without one ``x`` is the already
scaled input the model was trained on.

Imports NumPy only, never torch. :mod:`bitlogic.netlist.ir` re-exports the
class, and :mod:`bitlogic.netlist` exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bitlogic.netlist.scaling import InputScaling, _describe, raw_thresholds


@dataclass(eq=False)
class InputEncoding:
    """Thermometer-family input encoding.

    Attributes:
        thresholds: float32 ``(num_features, num_thresholds)``, non-decreasing
            along each row, in the space the model was trained in (scaled
            features). Input bit ``feature * num_thresholds + t`` is
            ``float32(x[feature]) > raw_thresholds[feature, t]``.
        scaling: how raw features become the trained-on features, or ``None``
            when callers pass scaled features (then ``raw_thresholds`` is
            ``thresholds``).
    """

    thresholds: np.ndarray
    scaling: InputScaling | None = None

    @property
    def raw_thresholds(self) -> np.ndarray:
        """float32 ``(num_features, num_thresholds)``: the thresholds every backend compares
        the caller's features with (see :func:`~bitlogic.netlist.scaling.raw_thresholds`)."""
        return raw_thresholds(self.thresholds, self.scaling)

    @property
    def num_features(self) -> int:
        """Number of real-valued features entering the encoder."""
        return int(self.thresholds.shape[0])

    @property
    def num_thresholds(self) -> int:
        """Bits produced per feature."""
        return int(self.thresholds.shape[1])

    def validate(self) -> InputEncoding:
        """Check dtype, shape and ordering; return ``self``.

        Raises:
            ValueError: naming the first rule that is broken.
        """
        thr = self.thresholds
        if not isinstance(thr, np.ndarray) or thr.dtype != np.float32 or thr.ndim != 2:
            raise ValueError(
                "encoding.thresholds must be a float32 array (num_features, num_thresholds), "
                f"got {_describe(thr)}"
            )
        if thr.shape[0] < 1 or thr.shape[1] < 1:
            raise ValueError(f"encoding.thresholds must be non-empty, got shape {thr.shape}")
        if not np.all(np.isfinite(thr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(thr))[0])
            raise ValueError(f"encoding.thresholds must be finite, got {thr[bad]} at {bad}")
        if thr.shape[1] > 1 and np.any(np.diff(thr, axis=1) < 0):
            row = int(np.argwhere(np.diff(thr, axis=1) < 0)[0, 0])
            raise ValueError(
                f"encoding.thresholds must be ascending (non-decreasing) per feature; "
                f"feature {row} has {thr[row].tolist()}"
            )
        if self.scaling is not None:
            if not isinstance(self.scaling, InputScaling):
                raise ValueError(f"encoding.scaling must be an InputScaling or None, "
                                 f"got {type(self.scaling).__name__}")
            if self.scaling.validate().num_features != thr.shape[0]:
                raise ValueError(f"encoding.scaling has {self.scaling.num_features} features, "
                                 f"the thresholds {thr.shape[0]}; they must match")
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InputEncoding):
            return NotImplemented
        return _arrays_equal(self.thresholds, other.thresholds) and self.scaling == other.scaling

    __hash__ = None  # type: ignore[assignment]


# Shared with ir.py (NetlistLayer, LogicNetlist), which imports them from here.
def _arrays_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))
