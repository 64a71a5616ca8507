"""Thermometer encoders on images: ``(B, C, H, W)`` -> ``(B, C*T, H, W)``, channel ``c*T + t``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bitlogic.layers import DistributiveThermometer, Thermometer, thermometer_encode


def test_uniform_thermometer_channel_order():
    enc = Thermometer(3)  # thresholds 0.25, 0.5, 0.75
    x = torch.rand(4, 2, 5, 6)
    bits = enc(x)
    assert bits.shape == (4, 6, 5, 6)
    for c in range(2):
        for t in range(3):
            assert torch.equal(bits[:, c * 3 + t], (x[:, c] > enc.thresholds[t]).float())


def test_image_bits_equal_the_tabular_bits_of_each_pixel():
    enc = Thermometer(4, low=-1.0, high=2.0)
    x = torch.randn(3, 3, 4, 5)
    image = enc(x)  # (B, C*T, H, W)
    table = enc(x.permute(0, 2, 3, 1).reshape(-1, 3))  # pixels as rows of C features
    assert torch.equal(image.permute(0, 2, 3, 1).reshape(-1, 12), table)


def test_distributive_fits_per_channel_on_images():
    x = torch.stack([torch.rand(50, 4, 4), 10 + torch.rand(50, 4, 4)], dim=1)  # (50, 2, 4, 4)
    enc = DistributiveThermometer(3).fit(x)
    assert enc.thresholds.shape == (2, 3)
    q = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    for c in range(2):
        expected = torch.quantile(x[:, c].double().flatten(), q).float()
        assert torch.allclose(enc.thresholds[c], expected, rtol=0, atol=1e-6)
    bits = enc(x)
    assert bits.shape == (50, 6, 4, 4)
    assert torch.equal(bits[:, 5], (x[:, 1] > enc.thresholds[1, 2]).float())
    assert abs(bits[:, 4].mean().item() - 0.5) < 0.02  # the median splits channel 1


def test_distributive_global_on_images():
    x = torch.rand(20, 3, 5, 5)
    enc = DistributiveThermometer(2, per_feature=False).fit(x)
    assert enc.thresholds.shape == (2,)
    expected = torch.quantile(x.double().flatten(), torch.tensor([1 / 3, 2 / 3]).double())
    assert torch.allclose(enc.thresholds.double(), expected, atol=1e-6)
    assert enc(x).shape == (20, 6, 5, 5)


def test_tabular_behaviour_is_unchanged():
    x = torch.randn(40, 5)
    enc = DistributiveThermometer(3).fit(x)
    q = torch.arange(1, 4, dtype=torch.float64) / 4
    assert torch.equal(enc.thresholds, torch.quantile(x.double(), q, dim=0).T.float())
    assert torch.equal(enc(x), thermometer_encode(x, enc.thresholds))
    assert enc(x).shape == (40, 15)


def test_feature_thresholds_repeat_each_channel_over_its_pixels():
    x = torch.rand(30, 2, 3, 4)
    enc = DistributiveThermometer(2).fit(x)
    rows = enc.feature_thresholds((2, 3, 4))
    assert rows.shape == (24, 2)
    assert torch.equal(rows[:12], enc.thresholds[0].expand(12, 2))
    assert torch.equal(rows[12:], enc.thresholds[1].expand(12, 2))
    shared = Thermometer(3).feature_thresholds((2, 3, 4))
    assert shared.shape == (24, 3)
    assert torch.equal(Thermometer(3).feature_thresholds((5,)), Thermometer(3).thresholds_matrix(5))


def test_image_fit_survives_a_state_dict_round_trip():
    enc = DistributiveThermometer(2).fit(torch.rand(10, 3, 4, 4))
    fresh = DistributiveThermometer(2)
    fresh.load_state_dict(enc.state_dict())
    x = torch.rand(2, 3, 4, 4)
    assert torch.equal(fresh(x), enc(x))


def test_large_image_fits_need_no_quantile_size_limit():
    x = np.random.default_rng(0).random((70, 1, 500, 500), dtype=np.float32)  # 17.5M values
    enc = DistributiveThermometer(1).fit(torch.from_numpy(x))
    assert abs(enc.thresholds.item() - 0.5) < 1e-3


def test_errors():
    enc = DistributiveThermometer(2).fit(torch.rand(10, 3, 4, 4))
    with pytest.raises(ValueError, match="x has 2 channels, encoder was fitted on 3"):
        enc(torch.rand(1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"\(batch, features\) or \(batch, C, H, W\)"):
        Thermometer(2)(torch.rand(2, 3, 4))
    with pytest.raises(ValueError, match=r"\(n, features\) or \(n, C, H, W\)"):
        DistributiveThermometer(2).fit(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match="input_shape"):
        Thermometer(2).feature_thresholds((3, 4))
    with pytest.raises(ValueError, match="fitted for 3 features, not 2"):
        enc.feature_thresholds((2, 4, 4))
