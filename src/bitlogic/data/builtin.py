"""The small datasets that ship with scikit-learn, so they work fully offline.

Neither has an official train/test split; both use the frozen stratified split of
`bitlogic.data.splits.fixed_test_split` (25% test, seed 0):

- digits: 1797 8x8 grey images of digits, 10 classes, pixel values 0..16 divided
  by 16; 1348 train and 449 test rows.
- breast-cancer: 569 rows of 30 real features, 2 classes (0 malignant, 1 benign),
  min-max scaled with train statistics as described in `bitlogic.data.tabular`;
  427 train and 142 test rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits

from bitlogic.data.splits import fixed_test_split
from bitlogic.data.tabular import split_and_scale, train_minmax_scaling
from bitlogic.netlist.scaling import InputScaling

DIGITS_MAX = 16.0


def load_digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of scikit-learn's digits.

    Args:
        split: "train" or "test".

    Returns:
        (x, y): float32 (n, 64) in [0, 1] (pixel / 16, row-major 8x8) and int64 (n,).
    """
    bunch = load_digits()
    rows = fixed_test_split(bunch.target, split)
    x = (bunch.data[rows] / DIGITS_MAX).astype(np.float32)
    return x, bunch.target[rows].astype(np.int64)


def load_digits_raw(split: str) -> tuple[np.ndarray, np.ndarray]:
    """`load_digits_split` before scaling: float32 pixel values 0..16."""
    bunch = load_digits()
    rows = fixed_test_split(bunch.target, split)
    return bunch.data[rows].astype(np.float32), bunch.target[rows].astype(np.int64)


def digits_scaling() -> InputScaling:
    """pixel / 16, the scaling of `load_digits_split`."""
    return InputScaling.divide(64, DIGITS_MAX)


def load_breast_cancer_raw(split: str) -> tuple[np.ndarray, np.ndarray]:
    """`load_breast_cancer_split` before scaling: the 30 raw features as float32."""
    bunch = load_breast_cancer()
    rows = fixed_test_split(bunch.target, split)
    return bunch.data[rows].astype(np.float32), bunch.target[rows].astype(np.int64)


def breast_cancer_scaling() -> InputScaling:
    """The train-fitted min-max scaling of `load_breast_cancer_split`."""
    bunch = load_breast_cancer()
    return train_minmax_scaling(bunch.data, bunch.target)


def load_breast_cancer_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of scikit-learn's Wisconsin breast-cancer table.

    Args:
        split: "train" or "test".

    Returns:
        (x, y): float32 (n, 30) in [0, 1] (min-max with train statistics, test
        clipped) and int64 (n,).
    """
    bunch = load_breast_cancer()
    return split_and_scale(bunch.data, bunch.target, split)
