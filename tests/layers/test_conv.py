"""LogicConv2d: shapes, every parametrization x rank x sampling mode, wiring, errors."""

from __future__ import annotations

import itertools

import pytest
import torch
from conv_reference import conv_eval_reference
from torch import nn

from bitlogic.connections import LearnableDenseConnections
from bitlogic.connections.receptive_field import receptive_field_indices
from bitlogic.layers import LogicConv2d
from bitlogic.parametrizations import list_parametrizations, setup_parametrization


def ranks_of(name: str) -> list[int]:
    return [2] if name == "difflogic" else [2, 4, 6]


CASES = [(n, r) for n in list_parametrizations() for r in ranks_of(n)]
CASES_WITH_MODES = [(n, r, m.value) for (n, r) in CASES
                    for m in setup_parametrization(n, lut_rank=r).SAMPLING_MODES]


def binary(*shape: int) -> torch.Tensor:
    return torch.randint(0, 2, shape).float()


def spread(conv: LogicConv2d) -> LogicConv2d:
    """Spread the weights so every table entry can flip."""
    with torch.no_grad():
        for w in conv.weights:
            w.mul_(3.0).add_(torch.randn_like(w))
    return conv


@pytest.mark.parametrize("k,s,p", list(itertools.product(range(1, 6), range(1, 4), range(3))))
def test_output_shape_matches_conv2d(k, s, p):
    conv = LogicConv2d(3, 4, kernel_size=k, stride=s, padding=p, tree_depth=1)
    x = torch.rand(2, 3, 7, 9)
    expected = nn.Conv2d(3, 4, k, s, p)(x).shape
    out = conv(x)
    assert out.shape == expected
    assert conv.output_size(7, 9) == tuple(expected[2:])
    assert conv.output_size(7, 9) == ((7 + 2 * p - k) // s + 1, (9 + 2 * p - k) // s + 1)


@pytest.mark.parametrize("name,rank,mode", CASES_WITH_MODES)
def test_every_parametrization_rank_and_mode(name, rank, mode):
    depth = 2 if rank == 2 else 1
    conv = spread(LogicConv2d(4, 3, kernel_size=3, stride=2, padding=1, tree_depth=depth,
                              parametrization=name, lut_rank=rank, forward_sampling=mode))
    assert conv.level_sizes == [3 * rank ** (depth - 1 - d) for d in range(depth)]
    x = binary(5, 4, 7, 9)
    conv.train()
    soft = conv(x)
    assert soft.shape == (5, 3, 4, 5) and torch.isfinite(soft).all()
    conv.eval()
    out = conv(x)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(out, conv_eval_reference(conv, x))


@pytest.mark.parametrize("mode", ["soft", "hard", "gumbel_soft", "gumbel_hard"])
def test_learnable_leaves_train_and_eval_as_their_argmax(mode):
    conv = spread(LogicConv2d(3, 4, kernel_size=3, padding=1, tree_depth=2, lut_rank=4,
                              connections="learnable", connection_sampling=mode,
                              num_candidates=-1))
    assert isinstance(conv.connections, LearnableDenseConnections)
    assert conv.connections.in_dim == 27 and conv.connections.out_dim == 16
    x = binary(3, 3, 6, 5)
    conv.train()
    out = conv(x)
    out.sum().backward()
    assert conv.connections.weights.grad is not None
    assert conv.connections.weights.grad.abs().sum() > 0
    conv.eval()
    assert torch.equal(conv(x), conv_eval_reference(conv, x))


def test_learnable_with_a_candidate_pool():
    conv = LogicConv2d(2, 3, kernel_size=3, tree_depth=1, lut_rank=4, connections="learnable",
                       num_candidates=5, init_method="random")
    assert conv.connections.indices.shape == (5, 4, 3)
    x = binary(4, 2, 5, 5)
    assert torch.equal(conv.eval()(x), conv_eval_reference(conv, x))


@pytest.mark.parametrize("name,rank", [c for c in CASES if c[0] != "neurallut"])
def test_residual_init_passes_a_leaf_through(name, rank):
    depth = 2 if rank < 6 else 1
    conv = LogicConv2d(8, 5, kernel_size=3, padding=1, tree_depth=depth, parametrization=name,
                       lut_rank=rank, weight_init="residual").eval()
    x = binary(4, 8, 6, 7)
    # every node passes its input 0 through: output channel o is leaf 0 of its tree
    leaf0 = conv.export_leaf_indices()[torch.arange(5) * rank ** (depth - 1), 0]
    channel, rest = leaf0 // 9, leaf0 % 9
    padded = nn.functional.pad(x, (1, 1, 1, 1))
    expected = torch.stack([padded[:, c, kh:kh + 6, kw:kw + 7]
                            for c, kh, kw in zip(channel.tolist(), (rest // 3).tolist(),
                                                 (rest % 3).tolist(), strict=True)], dim=1)
    assert torch.equal(conv(x), expected)


@pytest.mark.parametrize("connections", ["fixed", "learnable"])
def test_gradients_reach_weights_and_inputs(connections):
    conv = LogicConv2d(3, 4, kernel_size=2, stride=1, padding=1, tree_depth=2, lut_rank=2,
                       parametrization="warp", connections=connections)
    x = torch.rand(2, 3, 5, 6, requires_grad=True)
    conv(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for w in conv.weights:
        assert w.grad is not None and w.grad.abs().sum() > 0


@pytest.mark.parametrize("connections,init", [("fixed", "random"), ("fixed", "residual"),
                                              ("learnable", "random")])
def test_state_dict_round_trip(connections, init):
    kwargs = dict(kernel_size=3, padding=1, tree_depth=2, lut_rank=4, connections=connections,
                  weight_init=init)
    torch.manual_seed(1)
    a = spread(LogicConv2d(3, 2, **kwargs)).eval()
    torch.manual_seed(2)
    b = LogicConv2d(3, 2, **{**kwargs, "weight_init": "random"}).eval()
    b.load_state_dict(a.state_dict())
    x = binary(4, 3, 6, 6)
    assert torch.equal(a(x), b(x))
    assert all(torch.equal(u, v) for u, v in zip(a.export_luts(), b.export_luts(), strict=True))
    assert torch.equal(a.export_leaf_indices(), b.export_leaf_indices())


@pytest.mark.parametrize("channels,k,rank,depth", [(1, 3, 2, 3), (3, 3, 2, 2), (4, 1, 2, 2),
                                                   (2, 5, 6, 1), (16, 3, 4, 2), (5, 2, 4, 1)])
def test_fixed_wiring_is_unique_per_tree_and_spread_over_channels(channels, k, rank, depth):
    conv = LogicConv2d(channels, 7, kernel_size=k, tree_depth=depth, lut_rank=rank)
    leaves = conv.export_leaf_indices().reshape(7, rank ** depth)  # one row per tree
    assert ((leaves >= 0) & (leaves < channels * k * k)).all()
    for tree in leaves:
        assert tree.unique().numel() == tree.numel()
        counts = torch.bincount(tree // (k * k), minlength=channels)
        assert counts.max() - counts.min() <= 1


def test_receptive_field_indices_use_every_channel_evenly_over_many_trees():
    idx = receptive_field_indices(3, 2, leaves_per_tree=4, num_trees=3000)
    counts = torch.bincount((idx // 4).flatten(), minlength=3).float()
    assert (counts / counts.mean() - 1).abs().max() < 0.05
    positions = torch.bincount(idx.flatten(), minlength=12).float()
    assert (positions / positions.mean() - 1).abs().max() < 0.1


@pytest.mark.parametrize("channels,per_tree,rank,depth", [(21, 2, 4, 2), (16, 1, 2, 3),
                                                         (5, 3, 2, 2), (8, 8, 4, 2)])
def test_channels_per_tree_restricts_each_tree_to_that_many_channels(channels, per_tree, rank,
                                                                     depth):
    torch.manual_seed(3)
    conv = LogicConv2d(channels, 40, padding=1, tree_depth=depth, lut_rank=rank,
                       channels_per_tree=per_tree)
    leaves = conv.export_leaf_indices().reshape(40, rank ** depth)
    chosen = set()
    for tree in leaves:
        assert tree.unique().numel() == tree.numel()
        counts = torch.bincount(tree // 9, minlength=channels)
        used = counts[counts > 0]
        assert used.numel() == min(per_tree, rank ** depth)
        assert used.max() - used.min() <= 1
        chosen.add(tuple(sorted((tree // 9).unique().tolist())))
    assert f"channels_per_tree={per_tree}" in repr(conv)
    assert (len(chosen) > 1) == (per_tree < channels)  # a random choice per tree
    x = binary(3, channels, 6, 5)
    conv.eval()
    assert torch.equal(conv(x), conv_eval_reference(conv, x))


def test_channels_per_tree_none_draws_as_all_channels():
    torch.manual_seed(7)
    every = receptive_field_indices(6, 3, leaves_per_tree=16, num_trees=50)
    torch.manual_seed(7)
    named = receptive_field_indices(6, 3, leaves_per_tree=16, num_trees=50, channels_per_tree=6)
    assert torch.equal(every, named)


def test_extra_repr_and_leaf_count():
    conv = LogicConv2d(3, 8, kernel_size=5, stride=2, padding=1, tree_depth=3, lut_rank=2)
    text = repr(conv)
    for part in ("in_channels=3", "out_channels=8", "kernel_size=5", "stride=2", "padding=1",
                 "tree_depth=3", "lut_rank=2", "connections='fixed'"):
        assert part in text
    assert "channels_per_tree" not in text
    assert conv.leaves_per_tree == 8
    assert [lut.shape for lut in conv.export_luts()] == [(32, 4), (16, 4), (8, 4)]
    assert conv.export_leaf_indices().shape == (32, 2)


@pytest.mark.parametrize("kwargs,match", [
    (dict(tree_depth=0), "tree_depth must be a positive integer"),
    (dict(kernel_size=0), "kernel_size must be a positive integer"),
    (dict(stride=0), "stride must be a positive integer"),
    (dict(padding=-1), "padding must be an integer >= 0"),
    (dict(in_channels=0), "in_channels"),
    (dict(out_channels=0), "out_channels"),
    (dict(connections="dense"), r"connections must be one of \('fixed', 'learnable'\)"),
    (dict(in_channels=1, kernel_size=1, lut_rank=2, tree_depth=1),
     "cannot draw 2 distinct leaves .* allowed at most 1"),
    (dict(in_channels=2, kernel_size=2, lut_rank=2, tree_depth=4),
     r"16 distinct leaves .*\(channels_per_tree \* kernel_size\*\*2 = 8 positions"),
    (dict(num_candidates=3), "apply to connections='learnable' only"),
    (dict(channels_per_tree=0), r"channels_per_tree must be an integer in \[1, in_channels=3\]"),
    (dict(channels_per_tree=4), r"channels_per_tree must be an integer in \[1, in_channels=3\]"),
    (dict(channels_per_tree=True), "channels_per_tree must be an integer"),
    (dict(channels_per_tree=1, lut_rank=4, tree_depth=2),
     r"16 distinct leaves \(lut_rank \*\* tree_depth\) from 1 channels .* allowed at most 9"),
    (dict(channels_per_tree=2, connections="learnable"),
     "channels_per_tree applies to connections='fixed' only"),
])
def test_bad_arguments(kwargs, match):
    args = {"in_channels": 3, "out_channels": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        LogicConv2d(**args)


def test_bad_inputs():
    conv = LogicConv2d(3, 2, kernel_size=5, padding=1)
    with pytest.raises(ValueError, match=r"x must be \(batch, in_channels=3, H, W\)"):
        conv(torch.rand(2, 3, 8))
    with pytest.raises(ValueError, match=r"in_channels=3"):
        conv(torch.rand(2, 4, 8, 8))
    with pytest.raises(ValueError, match=r"kernel_size=5 is larger than the padded input"):
        conv(torch.rand(2, 3, 2, 8))
    assert conv(torch.rand(1, 3, 3, 3)).shape == (1, 2, 1, 1)  # 3 + 2 * 1 = 5 fits


def test_unknown_parametrization_lists_the_names():
    with pytest.raises(KeyError, match="warp"):
        LogicConv2d(3, 2, parametrization="nand")
