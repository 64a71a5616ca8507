"""InputScaling: raw thresholds are exact, netlists store it, older files load as scaled inputs.

The end-to-end tests train tiny models on the breast-cancer preset and on a
``load_table`` CSV: raw features into the netlist (packed engine and the emitted
C) must predict exactly what ``model.eval()`` predicts on the loader's output.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from differential import random_netlist, run_c

from bitlogic.backends import PackedLogicNet
from bitlogic.data import load_dataset, load_table
from bitlogic.netlist import (
    InputEncoding,
    InputScaling,
    LogicNetlist,
    evaluate_netlist,
    raw_thresholds,
)
from bitlogic.netlist.ir import NETLIST_HEADER_KEY


def _near_boundaries(raw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float32 values at, and a few ulps around, every finite raw threshold, plus random ones."""
    finite = raw[np.isfinite(raw)].astype(np.float32)
    around = [np.nextafter(finite, np.float32(s * np.inf)) for s in (-1, 1)]
    ulps = [finite, *around, *(np.nextafter(a, np.float32(s * np.inf))
                               for a, s in zip(around, (-1, 1), strict=True))]
    return np.concatenate([*ulps, (rng.normal(size=200) * 50).astype(np.float32)])


@pytest.mark.parametrize("seed", range(4))
def test_raw_thresholds_are_exact_boundaries(seed):
    rng = np.random.default_rng(seed)
    features, t = 6, 5
    low = rng.normal(size=features) * 10
    inv = np.abs(rng.normal(size=features)) / 7
    inv[0] = 0.0  # a feature constant on the train rows
    for scaling in (InputScaling.minmax(low, inv), InputScaling(low, inv, clip=False),
                    InputScaling.divide(features, 255.0)):
        thr = rng.uniform(-0.2, 1.2, size=(features, t))
        thr[1, 0] = 1.0  # at the clip bound: never 1 after clipping
        thr = np.sort(thr, axis=1).astype(np.float32)
        raw = raw_thresholds(thr, scaling)
        assert raw.dtype == np.float32 and raw.shape == thr.shape
        assert np.all(raw[:, 1:] >= raw[:, :-1]), f"seed {seed}: raw thresholds not ascending"
        for f in range(features):
            x = _near_boundaries(raw[f], rng)
            scaled = scaling.apply(np.repeat(x[:, None], features, axis=1))[:, f]
            np.testing.assert_array_equal(x[:, None] > raw[f], scaled[:, None] > thr[f],
                                          err_msg=f"seed {seed}, {scaling.kind}, feature {f}")


def test_pixel_scaling_matches_the_image_loaders_exactly():
    pixels = np.arange(256, dtype=np.uint8)
    scaling = InputScaling.divide(1, 255.0)
    expected = np.divide(pixels, np.float32(255.0), dtype=np.float32)  # registry._unit_pixels
    np.testing.assert_array_equal(scaling.apply(pixels[:, None].astype(np.float32))[:, 0],
                                  expected)


def test_identity_without_scaling_and_bad_scalings_are_refused():
    thr = np.array([[0.25, 0.5]], np.float32)
    np.testing.assert_array_equal(raw_thresholds(thr, None), thr)
    with pytest.raises(ValueError, match="scaling.scale must be >= 0"):
        InputScaling(np.zeros(1), np.array([-1.0])).validate()
    with pytest.raises(ValueError, match="divisor"):
        InputScaling.divide(3, 0.0)
    with pytest.raises(ValueError, match="2 features, the thresholds 1"):
        InputEncoding(thr, InputScaling.divide(2, 16.0)).validate()


def _scaled_netlist(seed: int) -> LogicNetlist:
    net = random_netlist(seed, [24, 12], [4, 2], num_classes=3, encoding=(5, 3))
    net.encoding.scaling = InputScaling.minmax(np.arange(5.0), np.full(5, 0.25))
    return net.validate()


def test_scaling_survives_save_and_load(tmp_path):
    net = _scaled_netlist(0)
    loaded = LogicNetlist.load(net.save(tmp_path / "n.safetensors"))
    assert loaded == net and loaded.encoding.scaling == net.encoding.scaling
    assert loaded.encoding.scaling.clip and loaded.encoding.scaling.kind == "minmax"


def test_version_1_files_load_as_scaled_inputs(tmp_path):
    from safetensors.numpy import load_file, save_file

    path = random_netlist(1, [8], [2], num_classes=2, encoding=(3, 2)).save(tmp_path / "n")
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        header = json.loads(f.metadata()[NETLIST_HEADER_KEY])
    header["version"] = 1
    save_file(load_file(str(path)), str(path), metadata={NETLIST_HEADER_KEY: json.dumps(header)})
    loaded = LogicNetlist.load(path)
    assert loaded.encoding is not None and loaded.encoding.scaling is None


def test_every_backend_takes_raw_features(tmp_path):
    net = _scaled_netlist(2)
    rng = np.random.default_rng(2)
    raw = (rng.normal(size=(300, 5)) * 3 + np.arange(5)).astype(np.float32)
    _, counts = evaluate_netlist(net, raw)
    scaled_net = LogicNetlist(net.num_inputs, net.layers, net.num_classes, net.tau,
                              InputEncoding(net.encoding.thresholds))
    assert net.takes_raw_features and not scaled_net.takes_raw_features
    _, expected = evaluate_netlist(scaled_net, net.encoding.scaling.apply(raw))
    np.testing.assert_array_equal(counts, expected, err_msg="seed 2: reference")
    for use_native in (False, None):
        engine = PackedLogicNet(net, use_native=use_native)
        np.testing.assert_array_equal(engine.counts(raw), counts, err_msg=engine.backend)


# -- end to end: the model's data loader vs raw features into the netlist ---------------------


def _assert_raw_netlist_predicts_like_the_model(model, netlist, scaled_x, raw_x, cc, work, case):
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(scaled_x)).argmax(1).numpy()
    engine = PackedLogicNet(netlist)
    np.testing.assert_array_equal(engine.predict(raw_x), expected, err_msg=f"{case}: packed")
    _, c_pred, _ = run_c(cc, netlist, raw_x, work)
    np.testing.assert_array_equal(c_pred, expected, err_msg=f"{case}: C")


def test_breast_cancer_preset_netlist_takes_raw_features(cc, tmp_path, capsys):
    from bitlogic.cli import main
    from bitlogic.train import load_preset, train

    config = load_preset("breast-cancer", ["train.epochs=2", "model.widths=[64,64]",
                                           "train.seed=3"])
    result = train(config, tmp_path / "run", verbose=False)
    netlist = LogicNetlist.load(tmp_path / "run" / "netlist.safetensors")
    assert netlist.encoding.scaling is not None and netlist.encoding.scaling.kind == "minmax"
    test = load_dataset("breast-cancer", "test", raw=True)
    _assert_raw_netlist_predicts_like_the_model(result.model, netlist, test.x, test.raw_x, cc,
                                                tmp_path / "c", "breast-cancer seed 3")
    capsys.readouterr()
    accuracies = []
    for what in ("run", "run/netlist.safetensors"):  # model.eval() vs the packed engine on raw
        assert main(["eval", str(tmp_path / what), "--json"]) == 0
        accuracies.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert accuracies[1]["engine"].startswith("packed"), accuracies
    assert accuracies[0]["accuracy"] == accuracies[1]["accuracy"], accuracies


def test_load_table_netlist_takes_raw_features(cc, tmp_path):
    from torch import nn

    from bitlogic.layers import DistributiveThermometer, GroupSum, LogicDense, to_netlist

    rng = np.random.default_rng(5)
    n = 240
    x = np.stack([rng.normal(50, 20, n), rng.uniform(-3, 3, n), rng.integers(0, 7, n),
                  np.round(rng.normal(1e4, 3e3, n), 1), np.full(n, 2.5)], axis=1)
    y = (x[:, 0] + 10 * x[:, 1] > 50).astype(int) + (x[:, 2] > 4)
    lines = ["a,b,c,d,e,label"] + [",".join(f"{v:.6g}" for v in row) + f",{c}"
                                    for row, c in zip(x, y, strict=True)]
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n")
    train_split, test_split = (load_table(path, split) for split in ("train", "test"))
    assert train_split.scaling is not None and train_split.scaling.clip
    torch.manual_seed(5)
    model = nn.Sequential(DistributiveThermometer(6).fit(torch.from_numpy(train_split.x)),
                          LogicDense(30, 60, "light", 4), GroupSum(3, tau=4.0))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    xt, yt = torch.from_numpy(train_split.x), torch.from_numpy(train_split.y)
    for _ in range(30):
        loss = nn.functional.cross_entropy(model.train()(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    netlist = to_netlist(model.eval(), input_scaling=train_split.scaling)
    for split in (train_split, test_split):
        _assert_raw_netlist_predicts_like_the_model(model, netlist, split.x, split.raw_x, cc,
                                                    tmp_path / split.split,
                                                    f"table seed 5, {split.split}")
