"""LogicDense takes the fused path exactly when it applies, and the path is invisible."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from kernel_checks import MODES, assert_paths_agree

from bitlogic.connections import FixedDenseConnections
from bitlogic.kernels import dispatch, use_kernels
from bitlogic.layers import GroupSum, LogicDense
from bitlogic.parametrizations import LightLUT, list_parametrizations

TRAINED = ("light", "warp", "linear", "dwn", "difflogic")
# What each parametrization's fused_spec says in training: (kernel, basis, sampled).
TRAINED_SPECS = {"light": ("fold", "indicator", False), "warp": ("fold", "walsh", True),
                 "linear": ("fold", "linear", True), "dwn": ("lookup", "indicator", False),
                 "difflogic": ("fold", "indicator", False)}
EVAL_SPEC = ("fold", "indicator", False)


@pytest.fixture
def fused_calls(monkeypatch):
    """The ``(kernel, basis, sampled)`` of every layer that went through the kernels."""
    calls = []
    original = dispatch.lut_forward

    def spy(spec, *args, **kwargs):
        calls.append((spec.kernel.value, spec.basis.value, spec.sampling is not None))
        return original(spec, *args, **kwargs)

    monkeypatch.setattr(dispatch, "lut_forward", spy)
    return calls


def _assert_same(model, x, seed=0):
    assert_paths_agree(model, x, seed, every_parameter=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", TRAINED)
def test_fused_layer_matches_reference(name, mode, fused_calls):
    torch.manual_seed(0)
    rank = 2 if name == "difflogic" else 4
    layer = LogicDense(30, 21, parametrization=name, lut_rank=rank, forward_sampling=mode,
                       temperature=0.7)
    _assert_same(layer, torch.rand(19, 30))
    assert fused_calls == [TRAINED_SPECS[name]]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["light", "dwn", "warp"])
def test_fused_learnable_candidates_match_reference(name, mode, fused_calls):
    torch.manual_seed(1)
    layer = LogicDense(40, 17, parametrization=name, lut_rank=2, connections="learnable",
                       num_candidates=6, connection_temperature=0.5, connection_sampling=mode)
    _assert_same(layer, torch.rand(23, 40))
    assert len(fused_calls) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["light", "dwn", "linear"])
def test_fused_learnable_all_inputs_match_reference(name, mode, fused_calls):
    # num_candidates=-1: every input competes for every slot (DWN's learnable mapping).
    torch.manual_seed(4)
    layer = LogicDense(45, 19, parametrization=name, lut_rank=6, connections="learnable",
                       connection_temperature=0.05, connection_sampling=mode)
    _assert_same(layer, (torch.rand(70, 45) > 0.5).float())
    assert len(fused_calls) == 1


@pytest.mark.parametrize("name", TRAINED)
def test_stacked_layers_with_residual_init_match_reference(name, fused_calls):
    # Outputs travel between fused layers as transposed views; GroupSum and
    # autograd see ordinary (batch, out) tensors.
    torch.manual_seed(2)
    rank = 2 if name == "difflogic" else 6
    model = torch.nn.Sequential(
        LogicDense(50, 60, parametrization=name, lut_rank=rank, weight_init="residual"),
        LogicDense(60, 40, parametrization=name, lut_rank=rank),
        GroupSum(4, tau=2.0),
    )
    _assert_same(model, (torch.rand(33, 50) > 0.5).float())
    assert len(fused_calls) == 2


@pytest.mark.parametrize("name", list_parametrizations())
def test_eval_lookup_is_fused_for_every_parametrization(name, fused_calls):
    torch.manual_seed(3)
    rank = 2 if name == "difflogic" else 4
    layer = LogicDense(16, 12, parametrization=name, lut_rank=rank,
                       connections="learnable", num_candidates=3).eval()
    x = (torch.rand(37, 16) > 0.5).float()
    with torch.no_grad():
        fused = layer(x)
        with use_kernels(False):
            reference = layer(x)
    assert torch.equal(fused, reference)
    assert fused_calls == [EVAL_SPEC]


class _ShiftedLight(LightLUT):
    """A subclass may change the math, so it keeps the reference path."""

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return super()._forward_train(x, weight, contraction) * 0.5


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogicDense(8, 6, parametrization="polylut", lut_rank=2),
        lambda: LogicDense(8, 6, parametrization="neurallut", lut_rank=2),
        lambda: LogicDense(8, 6, parametrization=_ShiftedLight(2)),
        lambda: LogicDense(80, 6, connections="learnable", num_candidates=65),
    ],
    ids=["polylut", "neurallut", "subclass", "pool-of-65"],
)
def test_unsupported_training_layers_use_the_reference(make, fused_calls):
    layer = make()
    out = layer(torch.rand(5, layer.in_dim))
    assert out.shape == (5, 6)
    assert fused_calls == []


class _ReversedSlots(FixedDenseConnections):
    """Overrides forward, so its inherited routing() no longer describes it."""

    def forward(self, x):
        return super().forward(x).flip(1)


@pytest.mark.parametrize("training", [True, False])
def test_connections_without_a_routing_use_the_reference(training, fused_calls):
    torch.manual_seed(8)
    conn = _ReversedSlots(12, 7, lut_rank=2)
    layer = LogicDense(12, 7, parametrization="warp", lut_rank=2, connections=conn)
    layer.train(training)
    x = (torch.rand(9, 12) > 0.5).float()
    out = layer(x)
    gathered = x[:, conn.indices].flip(1)
    expected = layer.parametrization(gathered, layer.weight, training)
    if training:
        assert out.shape == (9, 7)
    else:
        assert torch.equal(out, expected)
    assert fused_calls == []


def test_other_inputs_fall_through(fused_calls):
    layer = LogicDense(8, 6)
    layer(torch.rand(5, 8))
    assert fused_calls == [TRAINED_SPECS["light"]]
    fused_calls.clear()
    layer.double()(torch.rand(5, 8, dtype=torch.float64))
    with use_kernels(False):
        LogicDense(8, 6)(torch.rand(5, 8))
    with pytest.raises(ValueError, match="in_dim=8"):
        LogicDense(8, 6)(torch.rand(5, 9))
    assert fused_calls == []


def test_use_kernels_restores_the_previous_setting(fused_calls):
    layer = LogicDense(8, 6)
    with use_kernels(False):
        with use_kernels(True):
            layer(torch.rand(2, 8))
        layer(torch.rand(2, 8))
    layer(torch.rand(2, 8))
    assert len(fused_calls) == 2


@pytest.mark.without_kernels
def test_without_the_library_layers_fall_back_with_one_warning():
    script = (
        "import warnings, torch\n"
        "warnings.simplefilter('always')\n"
        "from bitlogic import kernels\n"
        "from bitlogic.layers import LogicDense\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    layer = LogicDense(10, 7, parametrization='warp', lut_rank=4)\n"
        "    for _ in range(2):\n"
        "        layer(torch.rand(3, 10)).sum().backward()\n"
        "    assert not kernels.available()\n"
        "assert layer.weight.grad is not None\n"
        "print(sum('BITLOGIC_NO_NATIVE' in str(w.message) for w in caught))\n"
    )
    env = {**os.environ, "BITLOGIC_NO_NATIVE": "1"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"
