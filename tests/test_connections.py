"""Connections: shapes, init methods, learnable routing, errors."""

from __future__ import annotations

import pytest
import torch

from bitlogic.connections import (
    FixedDenseConnections,
    LearnableDenseConnections,
    select_candidates,
    setup_connections,
)


def test_factory_kinds_and_alias():
    fixed = setup_connections("fixed", 20, 30, 2)
    alias = setup_connections("random", 20, 30, 2)
    learn = setup_connections("learnable", 20, 30, 2, num_candidates=4)
    assert type(fixed) is type(alias) is FixedDenseConnections
    assert isinstance(learn, LearnableDenseConnections)
    with pytest.raises(ValueError, match="learnable"):
        setup_connections("dense", 20, 30, 2)


@pytest.mark.parametrize("init", ["random-unique", "random"])
def test_fixed_gather_shape_and_values(init):
    c = FixedDenseConnections(50, 70, lut_rank=4, init_method=init)
    assert c.indices.shape == (4, 70) and c.indices.dtype == torch.int64
    x = torch.randn(9, 50)
    out = c(x)
    assert out.shape == (9, 4, 70)
    assert torch.equal(out[:, 2, 5], x[:, c.indices[2, 5]])


def test_random_unique_distinct_per_neuron_and_even_coverage():
    c = FixedDenseConnections(100, 500, lut_rank=6)
    idx = c.indices.T
    assert all(len(set(row.tolist())) == 6 for row in idx)
    counts = torch.bincount(idx.flatten(), minlength=100)
    assert counts.min() >= 25 and counts.max() <= 35  # 3000 slots over 100 inputs


def test_random_unique_needs_enough_inputs():
    with pytest.raises(ValueError, match="in_dim"):
        FixedDenseConnections(3, 10, lut_rank=4)


def test_group_biased_honours_group_bias_statistically():
    torch.manual_seed(1)
    in_dim, out_dim, groups, bias = 400, 4000, 4, 0.8
    c = FixedDenseConnections(in_dim, out_dim, lut_rank=2, init_method="group-biased",
                              num_groups=groups, group_bias=bias)
    out_group = torch.arange(out_dim) * groups // out_dim
    in_group = c.indices * groups // in_dim
    in_own = (in_group == out_group).float().mean().item()
    # bias of own-group draws plus the uniform draws that land there by chance
    expected = bias + (1 - bias) / groups
    assert in_own == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(init_method="group-biased"), "num_groups and group_bias"),
        (dict(init_method="group-biased", num_groups=0, group_bias=0.5), "num_groups"),
        (dict(init_method="group-biased", num_groups=2, group_bias=1.5), "group_bias"),
        (dict(init_method="sorted"), "init_method"),
    ],
)
def test_fixed_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FixedDenseConnections(20, 20, lut_rank=2, **kwargs)


def test_forward_rejects_wrong_width():
    with pytest.raises(ValueError, match="in_dim=20"):
        FixedDenseConnections(20, 5)(torch.zeros(3, 21))


@pytest.mark.parametrize("num_candidates", [-1, 1, 5])
@pytest.mark.parametrize("mode", ["soft", "hard", "gumbel_soft", "gumbel_hard"])
def test_learnable_routes_argmax_candidate(num_candidates, mode):
    c = LearnableDenseConnections(30, 12, lut_rank=2, num_candidates=num_candidates,
                                  forward_sampling=mode, temperature=0.5)
    if mode.startswith("gumbel"):
        # Gumbel noise may change the argmax; make the logit gaps decisive.
        with torch.no_grad():
            c.weights.mul_(1e6)
    x = torch.randn(7, 30, requires_grad=True)
    out = c(x)
    expected = x[:, c.selected_indices()]
    assert out.shape == (7, 2, 12)
    assert torch.allclose(out, expected)
    out.sum().backward()
    assert c.weights.grad is not None and torch.isfinite(c.weights.grad).all()
    c.eval()
    assert torch.equal(c(x), expected)


def test_learnable_soft_vs_hard_input_gradients():
    torch.manual_seed(3)
    cand = torch.randn(4, 3, 2, 5, requires_grad=True)  # (batch, C, rank, out)
    logits = torch.randn(3, 2, 5)
    soft_out = select_candidates(cand, logits, 1.0, "soft")
    soft_out.sum().backward()
    soft_grad = cand.grad.clone()
    cand.grad = None
    select_candidates(cand, logits, 1.0, "hard").sum().backward()
    hard_grad = cand.grad
    probs = torch.softmax(logits, dim=0).expand_as(soft_grad)
    assert torch.allclose(soft_grad, probs)
    onehot = torch.zeros(3, 2, 5).scatter_(0, logits.argmax(0, keepdim=True), 1.0)
    assert torch.equal(hard_grad, onehot.expand_as(hard_grad))


def test_learnable_dense_matches_pool_of_all_inputs():
    torch.manual_seed(2)
    dense = LearnableDenseConnections(10, 6, lut_rank=2, num_candidates=-1, temperature=0.7)
    x = torch.randn(5, 10, requires_grad=True)
    out = dense(x)
    out.backward(torch.ones_like(out))
    g_dense, w_dense = x.grad.clone(), dense.weights.grad.clone()
    x.grad = None
    assert dense.indices is None and "indices" not in dense.state_dict()
    all_inputs = torch.arange(10).view(10, 1, 1).expand(10, 2, 6)
    cand = x[:, all_inputs]
    ref = select_candidates(cand, dense.weights, 0.7, "soft")
    dense.weights.grad = None
    ref.backward(torch.ones_like(ref))
    assert torch.allclose(out, ref)
    assert torch.allclose(g_dense, x.grad, atol=1e-6)
    assert torch.allclose(w_dense, dense.weights.grad, atol=1e-6)


def test_learnable_errors():
    with pytest.raises(ValueError, match="forward_sampling"):
        LearnableDenseConnections(10, 5, forward_sampling="argmax")
    with pytest.raises(ValueError, match="num_candidates"):
        LearnableDenseConnections(10, 5, num_candidates=0)
    with pytest.raises(ValueError, match="temperature"):
        LearnableDenseConnections(10, 5, temperature=0)


def test_learnable_state_dict_round_trip():
    a = LearnableDenseConnections(40, 8, lut_rank=4, num_candidates=6)
    b = LearnableDenseConnections(40, 8, lut_rank=4, num_candidates=6)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.selected_indices(), b.selected_indices())
