"""fused_fold against the reference folds and samplers: values and gradients."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_checks import (
    MODES,
    RANKS,
    assert_close,
    batches,
    compare_paths,
    random_indices,
    seeds,
    torch_threads,
    values_and_grads,
    widths,
)

from bitlogic.functional.bases import indicator_fold
from bitlogic.functional.sampling import logistic_noise
from bitlogic.kernels import fixed_routing, fused_fold
from bitlogic.parametrizations.linear import linear_forward
from bitlogic.parametrizations.warp import warp_forward

shapes = st.fixed_dictionaries(
    {"batch": batches, "in_dim": widths, "out_dim": widths, "rank": st.sampled_from(RANKS),
     "seed": seeds}
)
temperatures = st.floats(min_value=0.3, max_value=3.0)


def _setup(batch, in_dim, out_dim, rank, seed, per_neuron):
    gen = torch.Generator().manual_seed(seed)
    idx = random_indices(in_dim, rank, out_dim, gen)
    x = torch.rand(batch, in_dim, generator=gen)
    coeffs = torch.randn(out_dim, per_neuron, generator=gen)
    noise = logistic_noise((batch, out_dim), generator=gen)
    return idx, x, coeffs, noise


@settings(max_examples=40, deadline=None)
@given(shape=shapes)
def test_indicator_fold_matches_reference(shape):
    idx, x, table, _ = _setup(**shape, per_neuron=1 << shape["rank"])
    routing = fixed_routing(idx, shape["in_dim"])
    compare_paths(lambda x, t: fused_fold(x, t, routing),
                  lambda x, t: indicator_fold(t, x[:, idx]),
                  [x, table], ["x", "table"], shape["seed"])


@settings(max_examples=60, deadline=None)
@given(shape=shapes, mode=st.sampled_from(MODES), temperature=temperatures)
def test_walsh_fold_matches_warp_forward(shape, mode, temperature):
    idx, x, w, noise = _setup(**shape, per_neuron=1 << shape["rank"])
    routing = fixed_routing(idx, shape["in_dim"])
    compare_paths(
        lambda x, w: fused_fold(x, w, routing, "walsh", mode, temperature, True, noise),
        lambda x, w: warp_forward(x[:, idx], w, temperature, mode, noise),
        [x, w], ["x", "weight"], shape["seed"])


@settings(max_examples=60, deadline=None)
@given(shape=shapes, mode=st.sampled_from(MODES), temperature=temperatures)
def test_linear_fold_matches_linear_forward(shape, mode, temperature):
    idx, x, w, noise = _setup(**shape, per_neuron=shape["rank"] + 1)
    routing = fixed_routing(idx, shape["in_dim"])
    compare_paths(
        lambda x, w: fused_fold(x, w, routing, "linear", mode, temperature, noise=noise),
        lambda x, w: linear_forward(x[:, idx], w, temperature, mode, noise),
        [x, w], ["x", "weight"], shape["seed"])


@pytest.mark.parametrize("rank", RANKS)
def test_binary_inputs_read_the_table_entry_exactly(rank):
    gen = torch.Generator().manual_seed(rank)
    in_dim, out_dim, batch = 13, 9, 33
    idx = random_indices(in_dim, rank, out_dim, gen)
    x = torch.randint(0, 2, (batch, in_dim), generator=gen).float()
    table = torch.randint(0, 2, (out_dim, 1 << rank), generator=gen).float()
    shifts = 1 << torch.arange(rank - 1, -1, -1)
    address = (x[:, idx].long() * shifts.view(1, rank, 1)).sum(1)  # (batch, out), MSB-first
    expected = table.T.gather(0, address)
    assert torch.equal(fused_fold(x, table, fixed_routing(idx, in_dim)), expected)


def test_hard_thresholds_agree_bit_for_bit():
    # The forward folds round like the reference, so no sample lands on the
    # other side of a threshold (a loose tolerance would hide a flip).
    gen = torch.Generator().manual_seed(7)
    idx = random_indices(50, 6, 300, gen)
    x, w = torch.rand(257, 50, generator=gen), torch.randn(300, 64, generator=gen)
    noise = logistic_noise((257, 300), generator=gen)
    routing = fixed_routing(idx, 50)
    for mode in ("hard", "gumbel_hard"):
        kernel = fused_fold(x, w, routing, "walsh", mode, 0.7, True, noise)
        assert torch.equal(kernel, warp_forward(x[:, idx], w, 0.7, mode, noise).detach())


def test_feature_major_input_and_strided_noise_give_the_same_result():
    gen = torch.Generator().manual_seed(3)
    idx = random_indices(20, 4, 11, gen)
    x, w = torch.rand(19, 20, generator=gen), torch.randn(11, 16, generator=gen)
    noise = logistic_noise((19, 11), generator=gen)
    routing = fixed_routing(idx, 20)
    expected = fused_fold(x, w, routing, "walsh", "gumbel_soft", 1.0, noise=noise)
    x_fm = x.t().contiguous().t()  # same values, (1, batch) strides
    noise_fm = noise.t().contiguous().t()
    got = fused_fold(x_fm, w, routing, "walsh", "gumbel_soft", 1.0, noise=noise_fm)
    assert torch.equal(got, expected)


def test_noise_drawn_like_sample_sigmoid_under_a_seed():
    gen = torch.Generator().manual_seed(5)
    idx = random_indices(10, 2, 6, gen)
    x, w = torch.rand(4, 10, generator=gen), torch.randn(6, 4, generator=gen)
    torch.manual_seed(11)
    kernel = fused_fold(x, w, fixed_routing(idx, 10), "walsh", "gumbel_soft", 0.5, True)
    torch.manual_seed(11)
    reference = warp_forward(x[:, idx], w, 0.5, "gumbel_soft")
    assert_close(kernel, reference, "output")


def test_first_layer_without_input_gradient():
    gen = torch.Generator().manual_seed(2)
    idx = random_indices(12, 2, 5, gen)
    x, table = torch.rand(8, 12, generator=gen), torch.randn(5, 4, generator=gen)
    t_kernel, t_ref = table.clone().requires_grad_(), table.clone().requires_grad_()
    fused_fold(x, t_kernel, fixed_routing(idx, 12)).sum().backward()
    indicator_fold(t_ref, x[:, idx]).sum().backward()
    assert_close(t_kernel.grad, t_ref.grad, "grad of table")


def test_bad_operands_are_rejected():
    routing = fixed_routing(torch.tensor([[0, 1], [2, 0]]), 3)
    with pytest.raises(ValueError, match="basis"):
        fused_fold(torch.rand(2, 3), torch.rand(2, 4), routing, basis="fourier")
    with pytest.raises(ValueError, match="coeffs must have shape"):
        fused_fold(torch.rand(2, 3), torch.rand(2, 5), routing)
    with pytest.raises(ValueError, match="x must have shape"):
        fused_fold(torch.rand(2, 4), torch.rand(2, 4), routing)
    with pytest.raises(TypeError, match="float32"):
        fused_fold(torch.rand(2, 3, dtype=torch.float64), torch.rand(2, 4), routing)
    with pytest.raises(ValueError, match="noise must have shape"):
        fused_fold(torch.rand(2, 3), torch.rand(2, 4), routing, "walsh", "gumbel_soft",
                   noise=torch.rand(3, 2))
    with pytest.raises(ValueError, match=r"^sampling must be one of \('soft', 'hard'"):
        fused_fold(torch.rand(2, 3), torch.rand(2, 4), routing, "walsh", "sometimes")


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_results_do_not_depend_on_the_thread_count(threads):
    gen = torch.Generator().manual_seed(4)
    idx = random_indices(40, 4, 64, gen)
    x, w = torch.rand(45, 40, generator=gen), torch.randn(64, 16, generator=gen)
    routing = fixed_routing(idx, 40)

    def fold(x, w):
        return fused_fold(x, w, routing, "walsh", "soft", 0.9)

    with torch_threads(threads):
        got = values_and_grads(fold, x, w)
    with torch_threads(1):
        expected = values_and_grads(fold, x, w)
    for name, g, e in zip(["output", "grad of x", "grad of weight"], got, expected, strict=True):
        assert_close(g, e, name)


def test_batches_longer_than_one_tile():
    # A wide input makes the kernels split the batch into several tiles
    # (bl_batch_tile keeps one tile of x^T within 8 MB).
    gen = torch.Generator().manual_seed(6)
    in_dim, batch = 70_000, 150
    idx = random_indices(in_dim, 2, 24, gen)
    x, w = torch.rand(batch, in_dim, generator=gen), torch.randn(24, 4, generator=gen)
    noise = logistic_noise((batch, 24), generator=gen)
    routing = fixed_routing(idx, in_dim)
    compare_paths(
        lambda x, w: fused_fold(x, w, routing, "walsh", "gumbel_soft", 1.3, True, noise),
        lambda x, w: warp_forward(x[:, idx], w, 1.3, "gumbel_soft", noise),
        [x, w], ["x", "weight"], 6)


def test_empty_batch_and_empty_layer():
    routing = fixed_routing(torch.tensor([[0, 1], [2, 0]]), 3)
    x = torch.rand(0, 3, requires_grad=True)
    y = fused_fold(x, torch.rand(2, 4), routing)
    y.sum().backward()
    assert y.shape == (0, 2) and x.grad.shape == (0, 3)
    nobody = fixed_routing(torch.empty(2, 0, dtype=torch.int64), 3)
    x = torch.rand(5, 3, requires_grad=True)
    y = fused_fold(x, torch.rand(0, 4), nobody)
    y.sum().backward()
    assert y.shape == (5, 0) and torch.equal(x.grad, torch.zeros(5, 3))


@settings(max_examples=40, deadline=None)
@given(batch=batches, rows=st.integers(1, 6), shared=st.integers(1, 9),
       rank=st.sampled_from(RANKS), basis=st.sampled_from(["indicator", "walsh", "linear"]),
       mode=st.sampled_from((None, *MODES)), threads=st.sampled_from([1, 2, 3]), seed=seeds)
def test_shared_rows_equal_repeated_rows(batch, rows, shared, rank, basis, mode, threads, seed):
    gen = torch.Generator().manual_seed(seed)
    out_dim, in_dim = rows * shared, 23
    idx = random_indices(in_dim, rank, out_dim, gen)
    per_neuron = rank + 1 if basis == "linear" else 1 << rank
    x, w = torch.rand(batch, in_dim, generator=gen), torch.randn(rows, per_neuron, generator=gen)
    noise = logistic_noise((batch, out_dim), generator=gen)
    routing = fixed_routing(idx, in_dim)
    with torch_threads(threads):
        compare_paths(
            lambda x, w: fused_fold(x, w, routing, basis, mode, 0.8, True, noise, shared=shared),
            lambda x, w: fused_fold(x, w.repeat_interleave(shared, 0), routing, basis, mode,
                                    0.8, True, noise),
            [x, w], ["x", "weight"], seed)


def test_shared_row_gradients_do_not_depend_on_the_thread_count():
    gen = torch.Generator().manual_seed(9)
    idx = random_indices(30, 4, 7 * 40, gen)
    x, w = torch.rand(37, 30, generator=gen), torch.randn(7, 16, generator=gen)
    routing = fixed_routing(idx, 30)
    results = []
    for threads in (1, 2, 3):
        with torch_threads(threads):
            results.append(values_and_grads(lambda x, w: fused_fold(x, w, routing, shared=40),
                                            x, w))
    # A row's positions run on one thread, so its sum is the same for any
    # thread count; dx still sums per-thread buffers (equal up to rounding).
    for _, dx, dw in results[1:]:
        assert torch.equal(dw, results[0][2])
        assert_close(dx, results[0][1], "grad of x")


@pytest.mark.parametrize("shared", [0, -2, 4, True, 2.0])
def test_bad_shared_is_rejected(shared):
    routing = fixed_routing(torch.zeros(2, 6, dtype=torch.int64), 3)
    with pytest.raises(ValueError, match="shared"):
        fused_fold(torch.rand(4, 3), torch.rand(3, 4), routing, shared=shared)
