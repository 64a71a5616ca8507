"""The `Dataset` container every loader in `bitlogic.data` returns."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bitlogic.netlist.scaling import InputScaling

SPLITS: tuple[str, ...] = ("train", "test")


def check_split(split: object, allowed: tuple[str, ...] = SPLITS) -> str:
    """Validate a split name.

    Args:
        split: the requested split.
        allowed: the split names that are valid here.

    Returns:
        `split`, unchanged.

    Raises:
        ValueError: if `split` is not one of `allowed`.
    """
    if not isinstance(split, str) or split not in allowed:
        raise ValueError(f"split={split!r} is not valid; allowed: {', '.join(allowed)}")
    return split


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of a classification dataset, ready to train on.

    Attributes:
        x: float32 array, shape (n, num_features), every value in [0, 1]. Images are
            flattened in their native layout (channel, row, column), so
            `x.reshape(n, *feature_shape)` recovers them.
        y: int64 array, shape (n,), class indices in [0, num_classes).
        num_classes: number of classes of the dataset (not only those present in `y`).
        name: registry name of the dataset, e.g. "mnist".
        split: "train" or "test".
        feature_shape: shape of one sample before flattening, e.g. (1, 28, 28),
            (3, 32, 32) or (64,); its product is num_features.
        scaling: how the raw features became `x` (`x == scaling.apply(raw_x)`), or
            None when unknown; `to_netlist(..., input_scaling=...)` stores it so the
            netlist takes raw features.
        raw_x: float32 (n, num_features), the features before scaling, when the
            loader was asked for them (`load_dataset(..., raw=True)`, `load_table`).
    """

    x: np.ndarray
    y: np.ndarray
    num_classes: int
    name: str
    split: str
    feature_shape: tuple[int, ...]
    scaling: InputScaling | None = None
    raw_x: np.ndarray | None = None

    def __post_init__(self) -> None:
        # Loaders are many and users register their own; checking the contract here
        # means a broken loader fails at construction instead of inside a training run.
        if not isinstance(self.x, np.ndarray) or self.x.dtype != np.float32 or self.x.ndim != 2:
            raise TypeError(f"x must be a 2-D float32 numpy array, got {_describe(self.x)}")
        if not isinstance(self.y, np.ndarray) or self.y.dtype != np.int64 or self.y.ndim != 1:
            raise TypeError(f"y must be a 1-D int64 numpy array, got {_describe(self.y)}")
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"x has {self.x.shape[0]} rows but y has {self.y.shape[0]}; they must match"
            )
        shape = tuple(self.feature_shape)
        if not shape or any(not isinstance(d, int) or d < 1 for d in shape):
            raise ValueError(f"feature_shape={self.feature_shape!r} must be positive ints")
        if math.prod(shape) != self.x.shape[1]:
            raise ValueError(
                f"feature_shape={shape} has {math.prod(shape)} elements but x has "
                f"{self.x.shape[1]} features"
            )
        object.__setattr__(self, "feature_shape", shape)
        if self.scaling is not None and not isinstance(self.scaling, InputScaling):
            raise TypeError(f"scaling must be an InputScaling or None, got "
                            f"{type(self.scaling).__name__}")
        if self.raw_x is not None and (not isinstance(self.raw_x, np.ndarray)
                                       or self.raw_x.dtype != np.float32
                                       or self.raw_x.shape != self.x.shape):
            raise TypeError(f"raw_x must be None or a float32 array of x's shape {self.x.shape}, "
                            f"got {_describe(self.raw_x)}")
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int):
            raise TypeError(f"num_classes must be an int, got {self.num_classes!r}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes={self.num_classes} must be at least 1")
        if self.y.size and (self.y.min() < 0 or self.y.max() >= self.num_classes):
            raise ValueError(
                f"labels must lie in [0, {self.num_classes}), got range "
                f"[{self.y.min()}, {self.y.max()}]"
            )
        # Written as `not (... >= ...)` so that NaN, which compares false, is rejected too.
        if self.x.size and not (self.x.min() >= 0.0 and self.x.max() <= 1.0):
            raise ValueError(
                f"x must be scaled to [0, 1], got range [{self.x.min()}, {self.x.max()}]"
            )

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def num_features(self) -> int:
        """Number of columns of `x`."""
        return int(self.x.shape[1])


def _describe(a: object) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.ndim}-D {a.dtype} array of shape {a.shape}"
    return type(a).__name__
