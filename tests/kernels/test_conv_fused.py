"""LogicConv2d on the fused kernels: equal to its reference, and taken exactly when it applies.

Every comparison runs the layer twice under the same seed, with and without
the kernels. The random draws agree: per-node draws (sampled tables, the
candidate selection's Gumbel noise) happen in the reference's order, and the
per-sample logistic noise of ``warp``/``linear`` (``hard`` Bernoulli and the
gumbel modes) is drawn with the reference's shape ``(batch * L, nodes)`` and
handed to the kernel in its layout, so no sampling mode is skipped.
"""

from __future__ import annotations

import pytest
import torch
from kernel_checks import assert_paths_agree

from bitlogic.kernels import conv as conv_kernels
from bitlogic.kernels import use_kernels
from bitlogic.layers import LogicConv2d
from bitlogic.parametrizations import setup_parametrization

TRAINED = ("light", "warp", "linear", "dwn", "difflogic")
# (in_channels, H, W, kernel_size, stride, padding, tree_depth): odd and non-square
# images, strides that skip columns, padding wider than the kernel's reach, depth 1..3;
# each fits lut_rank ** depth distinct leaves into in_channels * k * k.
GEOMETRIES = {
    2: [(3, 7, 9, 3, 1, 1, 3), (2, 5, 6, 2, 2, 0, 2), (4, 9, 5, 3, 2, 2, 1), (2, 4, 3, 1, 1, 0, 1)],
    4: [(3, 7, 9, 3, 1, 1, 2), (8, 6, 5, 3, 2, 1, 3), (2, 5, 7, 2, 1, 2, 1)],
    6: [(4, 7, 6, 3, 1, 1, 2), (3, 5, 9, 2, 2, 1, 1)],
}
CASES = [(name, rank, geometry) for name in TRAINED for rank in (2, 4, 6)
         if rank == 2 or name != "difflogic" for geometry in GEOMETRIES[rank]]
CASES_WITH_MODES = [(name, rank, mode.value, geometry) for name, rank, geometry in CASES
                    for mode in setup_parametrization(name, lut_rank=rank).SAMPLING_MODES]


def case_id(case) -> str:
    name, rank, *rest = case
    c, h, w, k, s, p, depth = rest[-1]
    mode = f"-{rest[0]}" if len(rest) == 2 else ""
    return f"{name}-r{rank}{mode}-C{c}-{h}x{w}-k{k}s{s}p{p}-d{depth}"


@pytest.fixture
def fused_calls(monkeypatch):
    """``(kernel, neurons)`` of every fused kernel call made by the conv dispatch."""
    calls = []

    def spy(kind, original):
        def call(x, coeffs, routing, *args, **kwargs):
            calls.append((kind, routing.out_dim))
            return original(x, coeffs, routing, *args, **kwargs)
        return call

    monkeypatch.setattr(conv_kernels, "fused_fold", spy("fold", conv_kernels.fused_fold))
    monkeypatch.setattr(conv_kernels, "fused_lookup", spy("lookup", conv_kernels.fused_lookup))
    return calls


def make_conv(name, rank, geometry, out_channels=3, **kwargs) -> LogicConv2d:
    c, _, _, k, s, p, depth = geometry
    conv = LogicConv2d(c, out_channels, kernel_size=k, stride=s, padding=p, tree_depth=depth,
                       parametrization=name, lut_rank=rank, temperature=0.7, **kwargs)
    with torch.no_grad():  # spread the weights so sampled tables and thresholds vary
        for w in conv.weights:
            w.mul_(2.0).add_(torch.randn_like(w))
    return conv


def expected_calls(conv: LogicConv2d, x: torch.Tensor, kind: str) -> list[tuple[str, int]]:
    h, w = conv.output_size(x.shape[2], x.shape[3])
    return [(kind, n * h * w) for n in conv.level_sizes]


def image(geometry, batch=5, binary=False):
    c, h, w = geometry[:3]
    x = torch.rand(batch, c, h, w)
    return (x > 0.5).float() if binary else x


@pytest.mark.parametrize("case", CASES_WITH_MODES, ids=case_id)
def test_training_matches_reference(case, fused_calls):
    name, rank, mode, geometry = case
    torch.manual_seed(0)
    conv = make_conv(name, rank, geometry, forward_sampling=mode)
    x = image(geometry)
    assert_paths_agree(conv, x)
    kind = "lookup" if name == "dwn" else "fold"
    assert fused_calls == expected_calls(conv, x, kind)  # the kernel run only, not the reference


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_eval_is_exact(case, fused_calls):
    name, rank, geometry = case
    torch.manual_seed(1)
    conv = make_conv(name, rank, geometry).eval()
    x = image(geometry, binary=True)
    with torch.no_grad():
        fused = conv(x)
        with use_kernels(False):
            reference = conv(x)
    assert torch.equal(fused, reference)
    assert set(fused.unique().tolist()) <= {0.0, 1.0}
    assert fused_calls == expected_calls(conv, x, "fold")
    # At soft inputs both paths interpolate the tables: equal up to rounding, with gradients.
    assert_paths_agree(conv, image(geometry))


@pytest.mark.parametrize("mode", ["soft", "hard", "gumbel_soft", "gumbel_hard"])
@pytest.mark.parametrize("name", ["light", "warp", "dwn"])
def test_learnable_candidate_pools_match_reference(name, mode, fused_calls):
    # The argmax and softmax over each slot's pool are drawn per node and shared by the
    # positions; the pools' probability gradients sum over positions.
    torch.manual_seed(2)
    geometry = (3, 6, 7, 3, 1, 2, 2)
    conv = make_conv(name, 2, geometry, connections="learnable", num_candidates=5,
                     connection_sampling=mode, connection_temperature=0.5)
    x = image(geometry)
    assert_paths_agree(conv, x)
    assert len(fused_calls) == 2
    assert conv.connections.weights.grad.abs().sum() > 0


def test_learnable_over_all_inputs_trains_through_the_reference(fused_calls):
    torch.manual_seed(3)
    geometry = (3, 6, 5, 3, 1, 1, 2)
    conv = make_conv("light", 2, geometry, connections="learnable", num_candidates=-1)
    x = image(geometry, binary=True)
    conv(x).sum().backward()
    assert fused_calls == []
    conv.eval()  # eval reads the argmax offsets: fixed routing, fused
    with torch.no_grad():
        fused = conv(x)
        with use_kernels(False):
            assert torch.equal(fused, conv(x))
    assert len(fused_calls) == 2


@pytest.mark.parametrize("name", TRAINED)
def test_stacked_convolutions_match_reference(name, fused_calls):
    # The second layer reads the first one's output buffer as its feature-major input.
    torch.manual_seed(4)
    rank = 2 if name == "difflogic" else 4
    model = torch.nn.Sequential(
        make_conv(name, rank, (3, 9, 8, 3, 1, 1, 2), out_channels=4),
        make_conv(name, rank, (4, 9, 8, 3, 2, 0, 1), out_channels=5),
    )
    assert_paths_agree(model, image((3, 9, 8), batch=17))
    assert len(fused_calls) == 3


def test_strided_inputs_and_batch_one(fused_calls):
    torch.manual_seed(5)
    conv = make_conv("warp", 2, (4, 7, 6, 3, 2, 1, 2))
    channels_last = torch.rand(3, 7, 6, 4).permute(0, 3, 1, 2)
    assert_paths_agree(conv, channels_last)
    assert_paths_agree(conv, torch.rand(1, 4, 7, 6))
    assert len(fused_calls) == 4


def test_index_maps_are_cached_per_input_size_and_wiring(fused_calls):
    torch.manual_seed(6)
    conv = make_conv("light", 2, (3, 7, 9, 3, 1, 1, 2))
    conv(torch.rand(2, 3, 7, 9))
    plan = conv._kernel_plan
    leaf = plan.leaf_routing(conv.connections.routing())[0]
    conv(torch.rand(4, 3, 7, 9))  # another batch size: same maps
    assert conv._kernel_plan is plan
    assert plan.leaf_routing(conv.connections.routing())[0] is leaf
    conv(torch.rand(2, 3, 8, 9))  # another image size: new maps
    assert conv._kernel_plan is not plan
    # Rewiring in place (as load_state_dict does) rebuilds the leaf routing.
    other = make_conv("light", 2, (3, 7, 9, 3, 1, 1, 2))
    conv.load_state_dict(other.state_dict())
    assert_paths_agree(conv, torch.rand(3, 3, 8, 9))
    with torch.no_grad():
        conv.connections.indices.copy_(conv.connections.indices.flip(1))
    assert_paths_agree(conv, torch.rand(3, 3, 8, 9))


def test_other_inputs_fall_through(fused_calls):
    torch.manual_seed(7)
    conv = make_conv("light", 2, (3, 7, 9, 3, 1, 0, 2))
    with use_kernels(False):
        conv(torch.rand(2, 3, 7, 9))
    conv.double()(torch.rand(2, 3, 7, 9, dtype=torch.float64))
    conv.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        conv(torch.rand(2, 3, 7, 9))
    with pytest.raises(ValueError, match="in_channels=3"):
        conv(torch.rand(2, 4, 7, 9))
    with pytest.raises(ValueError, match="in_channels=3"):
        conv(torch.rand(3, 7, 9))
    with pytest.raises(ValueError, match="kernel_size=3"):
        conv(torch.rand(2, 3, 2, 9))
    assert fused_calls == []
    conv(torch.rand(2, 3, 7, 9))
    assert len(fused_calls) == 2
