"""Turning a feature table without an official split into a `Dataset` split.

Used for scikit-learn's breast-cancer data and for user CSV / `.npz` tables:

1. the rows are divided by the frozen stratified split of
   `bitlogic.data.splits.fixed_test_split` (25% test, seed 0);
2. each feature is min-max scaled with the minimum and maximum of the TRAIN rows,
   so the test split never influences preprocessing. A feature that is constant
   on the train rows maps to 0. Test values outside the train range are clipped to
   [0, 1], so test rows stay inside the range the model was trained on.
"""

from __future__ import annotations

import numpy as np

from bitlogic.data.splits import fixed_test_split
from bitlogic.netlist.scaling import InputScaling


def fit_minmax(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature offset and scale mapping the train rows onto [0, 1].

    Args:
        x_train: float array, shape (n, num_features), n >= 1.

    Returns:
        (low, inv_range): float64 arrays of shape (num_features,); inv_range is 0 for
        a constant feature.

    Raises:
        ValueError: if `x_train` has no rows or holds a non-finite value.
    """
    if x_train.shape[0] == 0:
        raise ValueError("cannot fit min-max scaling on 0 training rows")
    if not np.all(np.isfinite(x_train)):
        raise ValueError("features must be finite to be min-max scaled; found NaN or inf")
    # Fitted on the float32-rounded values that apply_minmax scales, so the train
    # minimum maps to exactly 0 and the maximum to 1.
    rounded = x_train.astype(np.float32).astype(np.float64)
    low = rounded.min(axis=0)
    span = rounded.max(axis=0) - low
    inv_range = np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)
    return low, inv_range


def apply_minmax(x: np.ndarray, low: np.ndarray, inv_range: np.ndarray) -> np.ndarray:
    """Scale with `fit_minmax`'s statistics and clip to [0, 1].

    Args:
        x: float array, shape (n, num_features).
        low: float64 array, shape (num_features,).
        inv_range: float64 array, shape (num_features,).

    Returns:
        float32 array, shape (n, num_features), values in [0, 1].
    """
    # Clipping also absorbs the last-bit rounding that can put a train maximum at
    # 1 + eps, so train rows land exactly inside [0, 1] as well. Raw values are
    # rounded to float32 first, as a deployed netlist receives them (InputScaling).
    scaled = (x.astype(np.float32).astype(np.float64) - low) * inv_range
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)


def train_minmax_scaling(x: np.ndarray, y: np.ndarray) -> InputScaling:
    """The min-max scaling `split_and_scale` applies, as an `InputScaling` for netlists.

    Args:
        x: numeric array, shape (n, num_features), the whole table.
        y: int array, shape (n,), the whole table's labels.
    """
    return InputScaling.minmax(*fit_minmax(x[fixed_test_split(y, "train")]))


def split_and_scale(x: np.ndarray, y: np.ndarray, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Select a fixed split and min-max scale it with train statistics.

    Args:
        x: numeric array, shape (n, num_features), the whole table.
        y: int array, shape (n,), the whole table's labels.
        split: "train" or "test".

    Returns:
        (x_split, y_split): float32 (m, num_features) in [0, 1] and int64 (m,).
    """
    train_idx = fixed_test_split(y, "train")
    rows = train_idx if split == "train" else fixed_test_split(y, "test")
    low, inv_range = fit_minmax(x[train_idx])
    return apply_minmax(x[rows], low, inv_range), np.asarray(y)[rows].astype(np.int64)
