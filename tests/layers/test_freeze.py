"""to_netlist: the frozen netlist equals model.eval() for every parametrization."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from differential import assert_backends_agree
from torch import nn

from bitlogic.layers import (
    DistributiveThermometer,
    GroupSum,
    LogicDense,
    Thermometer,
    to_netlist,
)
from bitlogic.layers.freeze import FREEZE_STEPS, FrozenModule, register_freeze_step
from bitlogic.netlist import LogicNetlist, NetlistLayer, evaluate_netlist

PARAMS = ["light", "warp", "linear", "polylut", "neurallut", "dwn", "difflogic"]


def random_model(rng: np.random.Generator, encoder: str | None, num_layers: int,
                 features: int = 12, learnable: bool = False) -> nn.Sequential:
    modules: list[nn.Module] = []
    width = features
    if encoder == "uniform":
        modules.append(Thermometer(3))
        width = features * 3
    elif encoder == "distributive":
        modules.append(DistributiveThermometer(2).fit(torch.rand(200, features)))
        width = features * 2
    classes = int(rng.integers(1, 5))
    for i in range(num_layers):
        name = PARAMS[int(rng.integers(len(PARAMS)))]
        rank = 2 if name == "difflogic" else int(rng.choice([2, 4, 6]))
        out = classes * int(rng.integers(2, 9)) if i == num_layers - 1 else int(rng.integers(8, 40))
        kwargs = {}
        if learnable and i == 0:
            kwargs = dict(connections="learnable", num_candidates=4)
        modules.append(LogicDense(width, out, name, rank, init_method="random", **kwargs))
        width = out
    modules.append(GroupSum(classes, tau=float(rng.uniform(0.5, 4.0))))
    return nn.Sequential(*modules).eval()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("encoder", [None, "uniform", "distributive"])
def test_netlist_reference_equals_eager_eval(seed, encoder):
    rng = np.random.default_rng(seed)
    model = random_model(rng, encoder, num_layers=1 + seed % 4, learnable=seed % 3 == 0)
    netlist = to_netlist(model)
    features = 12
    for batch in (1, 63, 64, 65):
        if encoder is None:
            x = torch.randint(0, 2, (batch, features)).float()
        else:
            x = torch.rand(batch, features)
        assert_backends_agree(model, x, seed=f"{seed} {encoder} batch {batch}", netlist=netlist)


def test_netlist_save_load_round_trip(tmp_path):
    model = random_model(np.random.default_rng(0), "distributive", 3)
    netlist = to_netlist(model)
    path = netlist.save(tmp_path / "net.safetensors")
    loaded = LogicNetlist.load(path)
    assert loaded == netlist
    assert json.loads(loaded.metadata["parametrizations"])


def test_learnable_connections_export_argmax():
    layer = LogicDense(10, 6, "light", 2, connections="learnable", num_candidates=3)
    model = nn.Sequential(layer, GroupSum(2)).eval()
    expected = layer.connections.selected_indices().T.numpy()
    assert np.array_equal(to_netlist(model).layers[0].indices, expected)


def test_errors():
    with pytest.raises(TypeError, match="GroupSum"):
        to_netlist(nn.Sequential(LogicDense(4, 4)))
    with pytest.raises(TypeError, match="ReLU"):
        to_netlist(nn.Sequential(LogicDense(4, 4), nn.ReLU(), GroupSum(2)))
    with pytest.raises(TypeError, match="Sequential"):
        to_netlist(LogicDense(4, 4))
    with pytest.raises(ValueError, match="fit"):
        to_netlist(nn.Sequential(DistributiveThermometer(2), LogicDense(8, 4), GroupSum(2)))
    with pytest.raises(TypeError, match="at least one"):
        to_netlist(nn.Sequential(Thermometer(2), GroupSum(2)))
    with pytest.raises(ValueError, match="reads 5 bits but the module before it produces 4"):
        to_netlist(nn.Sequential(LogicDense(8, 4), LogicDense(5, 4), GroupSum(2)))
    with pytest.raises(ValueError, match="not a multiple of the encoder's num_thresholds=3"):
        to_netlist(nn.Sequential(Thermometer(3), LogicDense(8, 4), GroupSum(2)))


def test_metadata_lists_every_layer():
    model = nn.Sequential(LogicDense(8, 6, "warp", 2), LogicDense(6, 4, "light", 2), GroupSum(2))
    metadata = to_netlist(model.eval()).metadata
    assert json.loads(metadata["parametrizations"]) == ["WarpLUT", "LightLUT"]
    assert json.loads(metadata["connections"]) == ["FixedDenseConnections"] * 2


class _Invert(nn.Module):
    """A toy layer kind: NOT of every input bit."""

    def __init__(self, width: int):
        super().__init__()
        self.width = width


def test_a_new_layer_kind_is_a_registered_step():
    with pytest.raises(TypeError, match="_Invert.*allowed: LogicDense"):
        to_netlist(nn.Sequential(_Invert(8), GroupSum(2)))

    @register_freeze_step(_Invert)
    def freeze_invert(module: _Invert) -> FrozenModule:
        indices = np.arange(module.width, dtype=np.int32)[:, None]
        luts = np.tile(np.array([1, 0], np.uint8), (module.width, 1))
        return FrozenModule(module.width, [NetlistLayer(indices, luts)], {"kind": "invert"})

    try:
        with pytest.raises(ValueError, match="already registered"):
            register_freeze_step(_Invert)(freeze_invert)
        model = nn.Sequential(LogicDense(6, 8, "light", 2), _Invert(8), GroupSum(2)).eval()
        netlist = to_netlist(model)
        assert len(netlist.layers) == 2 and json.loads(netlist.metadata["kind"]) == ["invert"]
        x = torch.randint(0, 2, (33, 6)).float()
        _, counts = evaluate_netlist(netlist, x.numpy())
        with torch.no_grad():
            bits = model[0](x)
        assert np.array_equal(counts, 4 - bits.view(33, 2, 4).sum(2).numpy())
    finally:
        del FREEZE_STEPS[_Invert]
