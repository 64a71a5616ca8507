"""Connections: shapes, init methods, learnable routing, errors."""

from __future__ import annotations

import pytest
import torch

from bitlogic.connections import (
    Connections,
    FixedDenseConnections,
    LearnableDenseConnections,
    select_candidates,
    setup_connections,
)
from bitlogic.functional.fused import RoutingKind, RoutingSpec
from bitlogic.functional.sampling import Sampling


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
    if Sampling(mode).uses_gumbel:
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


# ---- routing(): what the fused kernels are told ------------------------------------------


def _apply_routing(route, x, noise=None):
    """A pure-PyTorch reading of a RoutingSpec: ``(batch, in_dim)`` -> ``(batch, rank, out)``."""
    if route.kind is RoutingKind.FIXED:
        return x[:, route.indices]
    if route.kind is RoutingKind.CANDIDATES:
        return select_candidates(x[:, route.indices], route.logits, route.temperature,
                                 route.sampling, noise)
    pool = torch.arange(route.in_dim).view(-1, 1, 1).expand_as(route.logits)
    return select_candidates(x[:, pool], route.logits, route.temperature, route.sampling, noise)


@pytest.mark.parametrize("training", [True, False])
def test_fixed_routing_is_its_indices(training):
    c = FixedDenseConnections(20, 9, lut_rank=4).train(training)
    route = c.routing()
    assert route.kind is RoutingKind.FIXED and route.indices is c.indices
    assert (route.in_dim, route.rank, route.out_dim, route.num_candidates) == (20, 4, 9, 1)


@pytest.mark.parametrize("mode", ["soft", "hard", "gumbel_soft", "gumbel_hard"])
@pytest.mark.parametrize("num_candidates", [-1, 4])
def test_learnable_routing_reproduces_the_forward(num_candidates, mode):
    torch.manual_seed(7)
    c = LearnableDenseConnections(15, 6, lut_rank=2, num_candidates=num_candidates,
                                  forward_sampling=mode, temperature=0.4)
    route = c.routing()
    expected_kind = RoutingKind.ALL_INPUTS if num_candidates == -1 else RoutingKind.CANDIDATES
    assert route.kind is expected_kind and route.logits is c.weights
    assert route.sampling is Sampling(mode) and route.temperature == 0.4
    assert route.num_candidates == (15 if num_candidates == -1 else 4)
    x = torch.rand(5, 15, requires_grad=True)
    noise = torch.randn(c.weights.shape)
    got = _apply_routing(route, x, noise)
    if num_candidates == -1:
        want = c._forward_dense(x, noise)
    else:
        want = select_candidates(x[:, c.indices], c.weights, 0.4, mode, noise)
    assert torch.equal(got, want)
    gx, gw = torch.autograd.grad(got.sum(), (x, c.weights))
    wx, ww = torch.autograd.grad(want.sum(), (x, c.weights))
    assert torch.allclose(gx, wx, atol=1e-6) and torch.allclose(gw, ww, atol=1e-6)
    c.eval()
    route = c.routing()
    assert route.kind is RoutingKind.FIXED
    assert torch.equal(route.indices, c.selected_indices())
    assert torch.equal(_apply_routing(route, x), c(x))


class _Shuffled(FixedDenseConnections):
    def forward(self, x):
        return super().forward(x).flip(1)


class _Undescribed(Connections):
    def forward(self, x):
        return x[:, None, :].expand(-1, self.lut_rank, -1)

    def selected_indices(self):
        raise NotImplementedError


def test_connections_that_do_not_describe_their_routing_return_none():
    assert _Shuffled(10, 4).routing() is None
    assert _Undescribed(lut_rank=2).routing() is None


def test_routing_spec_validation():
    idx = torch.zeros(2, 3, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="needs logits and sampling"):
        RoutingSpec(RoutingKind.CANDIDATES, 5, idx)
    with pytest.raises(ValueError, match="same shape"):
        RoutingSpec.candidates(idx, torch.zeros(3, 3, 4), 1.0, "soft", 5)
    with pytest.raises(ValueError, match="forward_sampling"):
        RoutingSpec.candidates(idx, torch.zeros(2, 3, 4), 1.0, "argmax", 5)
    with pytest.raises(ValueError, match="temperature"):
        RoutingSpec.all_inputs(torch.zeros(2, 3, 4), 0.0, "soft")
    with pytest.raises(ValueError, match="takes no logits"):
        RoutingSpec(RoutingKind.FIXED, 5, idx[0], torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="takes no indices"):
        RoutingSpec(RoutingKind.ALL_INPUTS, 2, idx, torch.zeros(2, 3, 4), 1.0, "soft")


def test_learnable_forward_sampling_is_validated_on_assignment():
    c = LearnableDenseConnections(10, 5)
    c.forward_sampling = "gumbel_hard"
    assert c.forward_sampling is Sampling.GUMBEL_HARD and "'gumbel_hard'" in repr(c)
    with pytest.raises(ValueError, match="forward_sampling must be one of"):
        c.forward_sampling = "argmax"
