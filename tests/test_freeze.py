"""to_netlist: the frozen netlist equals model.eval() for every parametrization."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from bitlogic.layers import DistributiveThermometer, GroupSum, LogicDense, Thermometer
from bitlogic.netlist import LogicNetlist, evaluate_netlist, to_netlist

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
        scores, counts = evaluate_netlist(netlist, x.numpy())
        with torch.no_grad():
            expected = model(x)
        assert torch.equal(torch.from_numpy(scores), expected)


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
