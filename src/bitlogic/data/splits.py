"""Deterministic, optionally stratified index splits.

Every split here orders samples by a keyed hash of their index (SplitMix64, the
finaliser published with Java's `SplittableRandom`) instead of a NumPy random
generator, because NumPy does not promise that `Generator` streams stay the same
across releases. The splits therefore depend only on `(labels, fraction, seed)`
and are identical on every platform and every version of NumPy and bitlogic.

Algorithm, for `fraction` f of n samples:

1. key[i] = splitmix64(splitmix64(seed) + i) (all arithmetic mod 2**64);
2. the number taken is round(f * n) (halves round up);
3. with labels, it is shared among classes by largest remainder: class c first gets
   floor(f * n_c), and the leftover goes one each to the classes with the largest
   fractional parts f * n_c - floor(f * n_c), ties to the smaller class index;
4. within each class (or among all samples, without labels) the samples with the
   smallest keys are taken.

Both returned index arrays are sorted ascending.
"""

from __future__ import annotations

import numpy as np

from bitlogic.data.dataset import check_split

FIXED_TEST_FRACTION = 0.25
FIXED_TEST_SEED = 0

_MASK = (1 << 64) - 1


def _splitmix64(z: np.ndarray) -> np.ndarray:
    # uint64 array arithmetic wraps modulo 2**64, which is exactly what SplitMix64 needs.
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash_order(n: int, seed: int) -> np.ndarray:
    """Return a seeded, version-independent permutation of `range(n)`.

    Args:
        n: number of items.
        seed: non-negative int below 2**64.

    Returns:
        int64 array, shape (n,): the indices sorted by their SplitMix64 key.
    """
    _check_seed(seed)
    base = _splitmix64(np.array([seed], dtype=np.uint64))[0]
    keys = _splitmix64(np.arange(n, dtype=np.uint64) + base)
    return np.argsort(keys, kind="stable").astype(np.int64)


def _check_seed(seed: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if not 0 <= int(seed) <= _MASK:
        raise ValueError(f"seed={seed} must lie in [0, 2**64)")


def _round_half_up(v: float) -> int:
    return int(np.floor(v + 0.5))


def _allocate(counts: np.ndarray, fraction: float) -> np.ndarray:
    # Largest-remainder apportionment keeps the total equal to round(fraction * n)
    # while every class gets within one sample of its exact share.
    quota = fraction * counts.astype(np.float64)
    take = np.floor(quota).astype(np.int64)
    leftover = _round_half_up(fraction * int(counts.sum())) - int(take.sum())
    if leftover > 0:
        remainder = quota - take
        # lexsort sorts by the last key first: largest remainder, then class index.
        order = np.lexsort((np.arange(counts.size), -remainder))
        take[order[:leftover]] += 1
    return take


def split_indices(
    n: int, fraction: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split `range(n)` into a kept part and a taken part of about `fraction * n`.

    See the module docstring for the exact, frozen algorithm.

    Args:
        n: number of samples.
        fraction: share of samples to take, in [0, 1).
        seed: non-negative int below 2**64.
        labels: optional int array, shape (n,); when given the split is stratified.

    Returns:
        (kept, taken): sorted int64 index arrays, disjoint, together covering range(n).

    Raises:
        TypeError: if `n`, `seed` or `labels` has the wrong type.
        ValueError: if `n` is negative, `fraction` is outside [0, 1), or `labels` does
            not have shape (n,).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"n={n} must be non-negative")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)):
        raise TypeError(f"fraction must be a float, got {fraction!r}")
    if not 0.0 <= float(fraction) < 1.0:
        raise ValueError(f"fraction={fraction} must lie in [0, 1)")
    order = hash_order(int(n), seed)
    if labels is None:
        taken = order[: _round_half_up(float(fraction) * n)]
    else:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
        if labels.dtype.kind not in "iub":
            raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
        classes, inverse = np.unique(labels, return_inverse=True)
        counts = np.bincount(inverse, minlength=classes.size)
        take = _allocate(counts, float(fraction))
        # Group by class while keeping hash order inside each class, then keep the
        # first take[c] of class c: one pass, however many classes there are.
        by_class = inverse[order]
        grouped = np.argsort(by_class, kind="stable")
        cls = by_class[grouped]
        starts = np.cumsum(counts) - counts
        rank = np.arange(n) - starts[cls]
        taken = order[grouped][rank < take[cls]]
    mask = np.zeros(n, dtype=bool)
    mask[taken] = True
    return np.flatnonzero(~mask).astype(np.int64), np.flatnonzero(mask).astype(np.int64)


def train_val_split(
    n: int, val_fraction: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a validation set out of training data.

    Use this for model selection; the test split is never used for it.

    Args:
        n: number of training samples.
        val_fraction: share of samples to hold out, in [0, 1); 0 gives an empty
            validation set.
        seed: non-negative int below 2**64; the same seed always gives the same split.
        labels: optional int array, shape (n,); when given, every class is held out in
            proportion (largest-remainder rounding, see `bitlogic.data.splits`).

    Returns:
        (train_idx, val_idx): sorted int64 index arrays, shapes (n - k,) and (k,) with
        k = round(val_fraction * n); disjoint and together covering range(n).

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if `val_fraction` is outside [0, 1), if a positive `val_fraction`
            would leave the validation or the training set empty, or if `labels` does
            not have shape (n,).
    """
    train_idx, val_idx = split_indices(n, val_fraction, seed, labels)
    if val_fraction > 0 and (val_idx.size == 0 or train_idx.size == 0):
        raise ValueError(
            f"val_fraction={val_fraction} with n={n} gives {val_idx.size} validation and "
            f"{train_idx.size} training samples; both must be non-empty"
        )
    return train_idx, val_idx


def fixed_test_split(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of the frozen train/test split for datasets that have no official one.

    A stratified 25% test split with seed 0 (`FIXED_TEST_FRACTION`,
    `FIXED_TEST_SEED`), computed with the algorithm of this module. It must never
    change: published results depend on it.

    Args:
        labels: int array, shape (n,), of the whole dataset.
        split: "train" or "test".

    Returns:
        Sorted int64 indices into the whole dataset for the requested split.
    """
    check_split(split)
    train_idx, test_idx = split_indices(
        int(np.asarray(labels).shape[0]), FIXED_TEST_FRACTION, FIXED_TEST_SEED, labels
    )
    return train_idx if split == "train" else test_idx
