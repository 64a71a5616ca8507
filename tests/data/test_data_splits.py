"""train_val_split and the frozen splits of the datasets without an official one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer, load_digits

from bitlogic.data import load_dataset, train_val_split
from bitlogic.data.splits import _splitmix64, fixed_test_split, hash_order


def test_splitmix64_matches_the_reference_output() -> None:
    # First output of the reference SplitMix64 generator seeded with 0.
    assert int(_splitmix64(np.zeros(1, np.uint64))[0]) == 0xE220A8397B1DCDAF


def test_hash_order_is_frozen() -> None:
    # Pinned: changing these values changes every published split.
    assert hash_order(8, 0).tolist() == [5, 7, 1, 4, 2, 0, 6, 3]
    assert hash_order(8, 12345).tolist() == [0, 4, 2, 5, 1, 6, 3, 7]
    assert sorted(hash_order(1000, 2**64 - 1).tolist()) == list(range(1000))


@pytest.mark.parametrize(
    ("loader", "first", "total", "size"),
    [
        (load_digits, [1, 5, 7, 14, 17, 33, 34, 36, 40, 44, 47, 53], 395672, 449),
        (load_breast_cancer, [1, 5, 7, 14, 17, 33, 34, 40, 47, 53, 55, 56], 41854, 142),
    ],
)
def test_fixed_test_splits_never_change(loader, first: list[int], total: int, size: int) -> None:
    test = fixed_test_split(loader().target, "test")
    assert test[:12].tolist() == first and int(test.sum()) == total and test.size == size


@pytest.mark.parametrize(
    ("name", "sizes"), [("digits", (1348, 449)), ("breast-cancer", (427, 142))]
)
def test_builtin_splits_are_deterministic_disjoint_and_stratified(
    name: str, sizes: tuple[int, int]
) -> None:
    train, test = load_dataset(name, "train"), load_dataset(name, "test")
    assert (len(train), len(test)) == sizes
    again = load_dataset(name, "test")
    assert np.array_equal(again.x, test.x) and np.array_equal(again.y, test.y)
    all_counts = np.bincount(np.concatenate([train.y, test.y]))
    assert np.all(np.abs(np.bincount(test.y, minlength=all_counts.size) - all_counts / 4) < 1)
    # Disjoint: no test row also appears in train (all rows of both sets are distinct).
    rows = {r.tobytes() for r in train.x}
    assert len(rows) == len(train) and not any(r.tobytes() in rows for r in test.x)


def test_digits_split_covers_the_whole_set() -> None:
    bunch = load_digits()
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    order = np.concatenate([fixed_test_split(bunch.target, s) for s in ("train", "test")])
    assert sorted(order.tolist()) == list(range(len(bunch.target)))
    expected = (bunch.data[order] / 16).astype(np.float32)
    assert np.array_equal(np.concatenate([train.x, test.x]), expected)


def test_breast_cancer_is_scaled_with_train_statistics_only() -> None:
    bunch = load_breast_cancer()
    train_idx, test_idx = (fixed_test_split(bunch.target, s) for s in ("train", "test"))
    low = bunch.data[train_idx].min(axis=0)
    high = bunch.data[train_idx].max(axis=0)
    expected = np.clip((bunch.data[test_idx] - low) / (high - low), 0, 1)
    test = load_dataset("breast-cancer", "test")
    assert np.allclose(test.x, expected, atol=1e-6)
    train = load_dataset("breast-cancer", "train")
    assert np.allclose(train.x.min(axis=0), 0) and np.allclose(train.x.max(axis=0), 1)
    assert train.y.tolist() == bunch.target[train_idx].tolist()


def check_split(n: int, fraction: float, seed: int, labels: np.ndarray | None) -> None:
    train, val = train_val_split(n, fraction, seed, labels)
    assert train.dtype == np.int64 and val.dtype == np.int64
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(n))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert val.size == int(np.floor(fraction * n + 0.5))
    if labels is not None:
        counts = np.bincount(labels)
        taken = np.bincount(labels[val], minlength=counts.size)
        assert np.all(np.abs(taken - fraction * counts) < 1)


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 5), min_size=4, max_size=300),
    fraction=st.floats(0.05, 0.6),
    seed=st.integers(0, 2**64 - 1),
)
def test_train_val_split_properties(labels: list[int], fraction: float, seed: int) -> None:
    y = np.array(labels)
    n = y.size
    if 0 < np.floor(fraction * n + 0.5) < n:
        check_split(n, fraction, seed, y)
        check_split(n, fraction, seed, None)


def test_train_val_split_is_deterministic_and_seed_dependent() -> None:
    y = np.arange(1000) % 7
    a = train_val_split(1000, 0.2, 3, y)
    b = train_val_split(1000, 0.2, 3, y)
    c = train_val_split(1000, 0.2, 4, y)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c[1])
    assert np.bincount(y[a[1]]).tolist() == [29, 29, 29, 29, 28, 28, 28]


def test_train_val_split_zero_fraction_keeps_everything() -> None:
    train, val = train_val_split(5, 0.0, 0)
    assert train.tolist() == [0, 1, 2, 3, 4] and val.size == 0


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((10, 1.0, 0), ValueError, r"fraction=1.0 must lie in \[0, 1\)"),
        ((10, -0.1, 0), ValueError, r"fraction=-0.1 must lie in \[0, 1\)"),
        ((10, 0.01, 0), ValueError, "gives 0 validation and 10 training samples"),
        ((10, 0.2, -1), ValueError, r"seed=-1 must lie in \[0, 2\*\*64\)"),
        ((10, 0.2, 1.5), TypeError, "seed must be an int"),
        ((10.0, 0.2, 0), TypeError, "n must be an int"),
        ((-1, 0.2, 0), ValueError, "n=-1 must be non-negative"),
        ((10, "0.2", 0), TypeError, "fraction must be a float"),
        ((10, 0.2, 0, np.zeros(9, int)), ValueError, r"labels must have shape \(10,\)"),
        ((3, 0.2, 0, np.zeros(3)), TypeError, "labels must be integers"),
    ],
)
def test_train_val_split_rejects_bad_input(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        train_val_split(*args)
