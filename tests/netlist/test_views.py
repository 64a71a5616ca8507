"""view_ensemble: one netlist over several views of its input, counts added exactly."""

from __future__ import annotations

import numpy as np
import pytest

from bitlogic.netlist import InputEncoding, LogicNetlist, evaluate_netlist
from bitlogic.netlist.views import mirror_permutation, view_ensemble
from tests.differential import assert_backends_agree, random_inputs, random_netlist


def shared_thresholds(netlist: LogicNetlist, seed: int) -> LogicNetlist:
    """``netlist`` with one set of thresholds for every feature (as a fixed-range thermometer)."""
    enc = netlist.encoding
    row = np.sort(np.round(np.random.default_rng(seed).normal(size=enc.num_thresholds), 1))
    thresholds = np.tile(row.astype(np.float32), (enc.num_features, 1))
    netlist.encoding = InputEncoding(thresholds)
    return netlist.validate()


def test_mirror_permutation_flips_columns_within_each_row_and_channel():
    perm = mirror_permutation((2, 2, 3))
    image = np.arange(12).reshape(2, 2, 3)
    assert np.array_equal(perm, image[:, :, ::-1].reshape(-1))
    assert np.array_equal(perm[perm], np.arange(12))  # a mirror is its own inverse
    with pytest.raises(ValueError, match=r"shape must be three positive ints \(C, H, W\)"):
        mirror_permutation((28, 28))
    with pytest.raises(ValueError, match="shape must be three positive ints"):
        mirror_permutation((1, 0, 4))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("encoded", [True, False])
def test_counts_are_the_sum_of_each_views_counts(seed, encoded):
    rng = np.random.default_rng(seed)
    classes = [1, 2, 3, 5, 4, 2][seed]
    widths = [int(rng.integers(3, 20)) for _ in range(seed % 3)] + [classes * (1 + seed % 4)]
    ranks = [int(rng.choice([2, 4, 6])) for _ in widths]
    if encoded:
        net = shared_thresholds(random_netlist(seed, widths, ranks, classes,
                                               encoding=(12, 1 + seed % 3)), seed)
        views = [np.arange(12), mirror_permutation((1, 3, 4)), rng.permutation(12)]
    else:
        net = random_netlist(seed, widths, ranks, classes, num_inputs=10)
        views = [np.arange(10), rng.permutation(10)]
    used = views[:1 + seed % len(views)] if seed % 2 else views
    ensemble = view_ensemble(net, used)
    x = random_inputs(net, batch=37 + seed, seed=seed)
    expected = sum(evaluate_netlist(net, x[:, v])[1] for v in used)
    scores, counts = evaluate_netlist(ensemble, x)
    assert np.array_equal(counts, expected), f"seed {seed}"
    assert np.array_equal(scores, counts.astype(np.float32) / np.float32(net.tau))
    assert ensemble.num_gates == len(used) * net.num_gates
    assert ensemble.metadata["views"] == str(len(used))
    assert ensemble.encoding == net.encoding and ensemble.tau == net.tau
    assert_backends_agree(ensemble, x, seed=f"view ensemble seed {seed}")


def test_an_ensemble_of_an_ensemble_records_every_view():
    net = random_netlist(3, [6], [2], 3, num_inputs=8)
    twice = view_ensemble(view_ensemble(net, [np.arange(8)] * 2), [np.arange(8)] * 3)
    assert twice.metadata["views"] == "6" and twice.num_gates == 6 * net.num_gates


def test_a_view_must_keep_each_features_thresholds():
    net = random_netlist(0, [4], [2], 2, encoding=(3, 2))
    net.encoding = InputEncoding(np.array([[0.1, 0.5], [0.1, 0.5], [0.2, 0.5]], np.float32))
    swap_equal = np.array([1, 0, 2])
    assert view_ensemble(net, [swap_equal]).num_gates == 4  # features 0 and 1 share thresholds
    with pytest.raises(ValueError, match=r"feature 0 has thresholds \[0\.1.*reads feature 2"):
        view_ensemble(net, [np.array([2, 1, 0])])


def test_bad_views_are_rejected():
    net = random_netlist(1, [4], [2], 2, num_inputs=5)
    with pytest.raises(ValueError, match="at least one permutation"):
        view_ensemble(net, [])
    with pytest.raises(ValueError, match=r"permutation of 0\.\.4 .*shape \(4,\)"):
        view_ensemble(net, [np.arange(4)])
    with pytest.raises(ValueError, match=r"permutation of 0\.\.4"):
        view_ensemble(net, [np.array([0, 1, 2, 3, 3])])
    with pytest.raises(ValueError, match=r"permutation of 0\.\.4 .*float64"):
        view_ensemble(net, [np.arange(5.0)])
