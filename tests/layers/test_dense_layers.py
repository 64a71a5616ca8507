"""LogicDense, GroupSum, encoders, temperature schedules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bitlogic.layers import DistributiveThermometer, GroupSum, LogicDense, Thermometer
from bitlogic.parametrizations import WarpLUT
from bitlogic.schedules import TemperatureSchedule, set_temperature


def test_seed_page_examples():
    layer = LogicDense(in_dim=784, out_dim=4000, parametrization="warp", lut_rank=4,
                       temperature=1.0)
    assert layer(torch.rand(3, 784)).shape == (3, 4000)
    layer = LogicDense(in_dim=6272 // 8, out_dim=640, parametrization="light", lut_rank=4,
                       connections="learnable", num_candidates=8, init_method="random-unique")
    out = layer(torch.rand(3, 784))
    assert out.shape == (3, 640)
    out.sum().backward()
    assert layer.connections.weights.grad is not None and layer.weight.grad is not None


def test_kwargs_are_routed():
    layer = LogicDense(64, 32, "dwn", 6, forward_sampling="hard", efd=False,
                       init_method="group-biased", num_groups=4, group_bias=0.9)
    assert layer.parametrization.forward_sampling == "hard"
    assert layer.parametrization.efd is False
    assert layer.connections.num_groups == 4
    with pytest.raises(TypeError):
        LogicDense(64, 32, "light", 2, bogus=1)


def test_parametrization_instance():
    layer = LogicDense(16, 8, parametrization=WarpLUT(lut_rank=6))
    assert layer.lut_rank == 6 and layer.weight.shape == (8, 64)
    assert layer.export_indices().shape == (8, 6)


@pytest.mark.parametrize("name", ["light", "warp", "dwn", "difflogic", "linear", "polylut",
                                  "neurallut"])
def test_eval_equals_exported_tables(name):
    layer = LogicDense(20, 33, name, 2).eval()
    x = torch.randint(0, 2, (65, 20)).float()
    idx, luts = layer.export_indices(), layer.export_luts()
    addr = sum(x[:, idx[:, j]].long() << (1 - j) for j in range(2))
    expected = luts.T.gather(0, addr).float()
    assert torch.equal(layer(x), expected)


def test_groupsum():
    g = GroupSum(3, tau=2.0)
    x = torch.arange(12.0).view(2, 6)
    assert torch.equal(g(x), torch.tensor([[1.0, 5.0, 9.0], [13.0, 17.0, 21.0]]) / 2)
    with pytest.raises(ValueError, match="divisible"):
        g(torch.zeros(2, 7))
    with pytest.raises(ValueError, match="tau"):
        GroupSum(3, tau=0)
    with pytest.raises(ValueError, match="k"):
        GroupSum(0)


def test_thermometer_bit_order_is_feature_major():
    enc = Thermometer(3)  # thresholds 0.25, 0.5, 0.75
    assert enc.thresholds.tolist() == [0.25, 0.5, 0.75]
    out = enc(torch.tensor([[0.6, 0.1, 0.9]]))
    assert out.tolist() == [[1, 1, 0, 0, 0, 0, 1, 1, 1]]
    assert enc(torch.tensor([[0.5]])).tolist() == [[1, 0, 0]]  # strict >
    assert enc.thresholds_matrix(2).shape == (2, 3)
    with pytest.raises(ValueError, match="num_thresholds"):
        Thermometer(0)
    with pytest.raises(ValueError, match="low < high"):
        Thermometer(2, low=1, high=0)


def test_distributive_thermometer_fits_quantiles():
    torch.manual_seed(0)
    x = torch.cat([torch.rand(4000, 1), torch.rand(4000, 1) * 10], dim=1)
    enc = DistributiveThermometer(3)
    with pytest.raises(RuntimeError, match="fit"):
        enc(x)
    enc.fit(x)
    assert enc.thresholds.shape == (2, 3)
    assert torch.allclose(enc.thresholds[1], torch.tensor([2.5, 5.0, 7.5]), atol=0.3)
    bits = enc(x)
    assert bits.shape == (4000, 6)
    assert torch.allclose(bits.mean(0), torch.tensor([0.75, 0.5, 0.25] * 2), atol=0.02)
    glob = DistributiveThermometer(3, per_feature=False).fit(x)
    assert glob.thresholds.shape == (3,) and glob.thresholds_matrix(2).shape == (2, 3)
    fresh = DistributiveThermometer(3)
    fresh.load_state_dict(enc.state_dict())
    assert torch.equal(fresh(x), bits)
    with pytest.raises(ValueError, match="features"):
        enc(torch.rand(3, 5))


@pytest.mark.parametrize("kind", ["constant", "linear", "cosine", "exponential"])
def test_schedules_hit_their_ends(kind):
    s = TemperatureSchedule(kind, 1.0, 0.1, steps=100)
    assert s(0) == pytest.approx(1.0)
    assert s(100) == pytest.approx(1.0 if kind == "constant" else 0.1)
    assert s(500) == s(100)
    values = [s(i) for i in range(101)]
    assert all(a >= b - 1e-12 for a, b in zip(values, values[1:], strict=False))
    assert TemperatureSchedule("exponential", 1.0, 0.01, 2)(1) == pytest.approx(0.1)


def test_schedule_errors():
    with pytest.raises(ValueError, match="kind"):
        TemperatureSchedule("step")
    with pytest.raises(ValueError, match="start and end"):
        TemperatureSchedule("linear", 0.0, 1.0)


def test_set_temperature_reaches_every_module():
    model = nn.Sequential(LogicDense(10, 8, "light", 2, connections="learnable"),
                          LogicDense(8, 6, "warp", 2), GroupSum(2))
    assert set_temperature(model, 0.3) == 2
    assert model[0].parametrization.temperature == 0.3
    assert model[0].connections.temperature == 0.001
    assert set_temperature(model, 0.05, target="connections") == 2
    assert model[0].connections.temperature == 0.05
    assert set_temperature(model, 0.5, target="all") == 4
    with pytest.raises(ValueError, match="target"):
        set_temperature(model, 0.1, target="layers")
