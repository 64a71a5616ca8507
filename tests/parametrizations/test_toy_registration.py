"""A parametrization defined outside the library trains, freezes and matches its netlist.

The toy below knows nothing about the kernels: it does not describe a fused
training form, so training runs its reference forward, while eval takes the
base class's fused lookup (when the kernels are available). Freezing it with
``to_netlist`` gives a netlist whose reference interpreter equals
``model.eval()`` exactly.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bitlogic import kernels
from bitlogic.functional.bases import indicator_fold
from bitlogic.kernels import dispatch
from bitlogic.layers import GroupSum, LogicDense
from bitlogic.parametrizations import (
    LUTParametrization,
    list_parametrizations,
    register_parametrization,
)
from bitlogic.parametrizations import registry as param_registry
from bitlogic.registry import Registry

try:  # to_netlist may move to bitlogic.layers
    from bitlogic.layers import to_netlist
except ImportError:
    from bitlogic.netlist import to_netlist
from bitlogic.netlist import evaluate_netlist

TOY = "toy_rank2_sigmoid_table"


class ToyTableLUT(LUTParametrization):
    """Rank-2 truth table of ``sigmoid(w / t)``, interpolated multilinearly."""

    def __init__(self, lut_rank: int = 2, **kwargs):
        if lut_rank != 2:
            raise ValueError(f"ToyTableLUT is rank 2 only, got lut_rank={lut_rank}")
        super().__init__(lut_rank, **kwargs)

    def init_weights(self, num_neurons, device=None):
        return torch.randn(num_neurons, 4, device=device)

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return indicator_fold(torch.sigmoid(weight / self.temperature), x)

    def logits_at(self, x, weight):
        return indicator_fold(weight, x)


def _unregister(name: str) -> None:
    """Remove ``name`` from the parametrization registry, whichever form it has."""
    for value in vars(param_registry).values():
        if isinstance(value, Registry):
            value.unregister(name)
            return
    param_registry._REGISTRY.pop(name)


@pytest.fixture
def toy_name():
    register_parametrization(TOY)(ToyTableLUT)
    try:
        yield TOY
    finally:
        _unregister(TOY)
    assert TOY not in list_parametrizations()


@pytest.fixture
def fused_calls(monkeypatch):
    calls = []
    original = dispatch.lut_forward

    def spy(spec, *args, **kwargs):
        calls.append(spec.kernel.value)
        return original(spec, *args, **kwargs)

    monkeypatch.setattr(dispatch, "lut_forward", spy)
    return calls


def test_registered_toy_trains_and_freezes_to_an_equal_netlist(toy_name, fused_calls):
    assert toy_name in list_parametrizations()
    torch.manual_seed(0)
    model = nn.Sequential(
        LogicDense(24, 60, parametrization=toy_name, lut_rank=2, temperature=0.5),
        LogicDense(60, 30, parametrization=toy_name, lut_rank=2, temperature=0.5),
        GroupSum(3, tau=2.0),
    )
    assert isinstance(model[0].parametrization, ToyTableLUT)
    assert model[0].parametrization.fused_spec(training=True) is None

    x = (torch.rand(64, 24) > 0.5).float()
    y = torch.randint(0, 3, (64,))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert fused_calls == []  # training ran the reference forward

    model.eval()
    with torch.no_grad():
        eager = model(x)
    if kernels.kernels_enabled():
        assert fused_calls == ["fold", "fold"]  # the base class's eval lookup
    netlist = to_netlist(model)
    scores, counts = evaluate_netlist(netlist, x.numpy())
    assert torch.equal(eager, torch.from_numpy(scores))
    assert torch.equal(eager * 2.0, torch.from_numpy(counts).float())


def test_duplicate_registration_is_refused(toy_name):
    with pytest.raises(ValueError, match="already registered"):
        register_parametrization(toy_name)(ToyTableLUT)
