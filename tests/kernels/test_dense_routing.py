"""Dense learnable routing (num_candidates=-1) against the matmul reference."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_checks import ATOL, MODES, RANKS, RTOL, assert_close, batches, leaf, seeds

from bitlogic.connections import LearnableDenseConnections
from bitlogic.functional.sampling import gumbel_noise
from bitlogic.kernels.dense_routing import column_argmax, column_softmax, dense_select


def _reference(x, logits, temperature, mode, noise):
    """``LearnableDenseConnections._forward_dense`` on ``logits``, with ``noise`` as its draw."""
    conn = LearnableDenseConnections(logits.shape[0], logits.shape[2], logits.shape[1],
                                     temperature=temperature, forward_sampling=mode)
    del conn.weights
    conn.weights = logits  # the leaf under test, so gradients reach it
    return conn._forward_dense(x, noise).reshape(x.shape[0], -1)


@settings(max_examples=40, deadline=None)
@given(batch=batches, in_dim=st.integers(1, 40), out_dim=st.integers(1, 20),
       rank=st.sampled_from(RANKS), mode=st.sampled_from(MODES),
       temperature=st.sampled_from([0.01, 0.3, 2.0]), seed=seeds)
def test_dense_select_matches_the_matmul_reference(batch, in_dim, out_dim, rank, mode,
                                                   temperature, seed):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(batch, in_dim, generator=gen) > 0.5).float()
    logits = torch.randn(in_dim, rank, out_dim, generator=gen) * 0.1
    noise = gumbel_noise(logits.shape, generator=gen)
    k_in = [leaf(x), leaf(logits)]
    r_in = [leaf(x.double()), leaf(logits.double())]  # float64: the rounding is all ours
    k_out = dense_select(*k_in, temperature, mode, noise)
    r_out = _reference(*r_in, temperature, mode, noise.double())
    assert torch.equal(k_out, r_out.float())
    g = torch.randn(k_out.shape, generator=gen)
    (dx_k, dw_k), (dx_r, dw_r) = (torch.autograd.grad(o, i, g.to(o.dtype))
                                  for o, i in ((k_out, k_in), (r_out, r_in)))
    assert_close(dx_k, dx_r.float(), "grad of x")
    # The logit gradient carries a factor 1 / temperature, and so does its rounding error.
    torch.testing.assert_close(dw_k, dw_r.float(), rtol=RTOL, atol=ATOL / min(temperature, 1))


def test_dense_select_value_is_the_argmax_input():
    torch.manual_seed(5)
    x = torch.rand(9, 13)
    logits = torch.randn(13, 2, 4)
    out = dense_select(x, logits, 0.001, "hard")
    expected = x[:, logits.argmax(0).reshape(-1)]
    assert torch.equal(out, expected)
    assert out.shape == (9, 8)


@pytest.mark.parametrize("shape", [(2, 1), (3, 17), (50, 33), (300, 64)])
def test_column_argmax_and_softmax(shape):
    torch.manual_seed(6)
    z = torch.randn(shape)
    z[0, 0] = z[1, 0] = z[:, 0].max() + 1  # ties go to the first row, as torch.argmax
    best = column_argmax(z)
    assert torch.equal(best, z.argmax(0))
    torch.testing.assert_close(column_softmax(z, best, 0.2), torch.softmax(z / 0.2, dim=0),
                               atol=1e-6, rtol=1e-5)


def test_far_below_the_maximum_has_probability_zero():
    z = torch.tensor([[0.0], [-1.0], [-100.0]])
    probs = column_softmax(z, column_argmax(z), 0.01)
    assert probs[0, 0] == 1.0 and probs[1, 0] == 0.0 and probs[2, 0] == 0.0


def test_bad_noise_shape_raises():
    with pytest.raises(ValueError, match="noise must have shape"):
        dense_select(torch.rand(2, 3), torch.randn(3, 2, 2), 1.0, "gumbel_soft",
                     noise=torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\)"):
        dense_select(torch.rand(2, 4), torch.randn(3, 2, 2), 1.0, "soft")
