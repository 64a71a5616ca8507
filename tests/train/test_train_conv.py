"""Conv models from a config: build, freeze bit-exactly, train on MNIST, and the image presets."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import torch
from torch import nn

from bitlogic.cli import main
from bitlogic.layers import GroupSum, LogicConv2d, LogicDense, OrPool2d, Thermometer, to_netlist
from bitlogic.train import ConfigError, load_preset, train
from bitlogic.train.config import RunConfig
from bitlogic.train.model import build_model, count_neurons
from tests.differential import assert_backends_agree

IMAGE_PRESETS = ("mnist-conv", "fashion-conv", "cifar10-s", "cifar10-m")


def small_conv_config(**model) -> RunConfig:
    return RunConfig.from_dict({
        "dataset": {"name": "mnist"},
        "encoder": {"kind": "thermometer", "thresholds": 2},
        "model": {"widths": [60, 30], "lut_rank": 2, "tau": 3.0,
                  "conv": [{"channels": 4}, {"channels": 6, "pool": 0, "stride": 2}], **model},
    })


def test_conv_config_builds_unflatten_encoder_blocks_flatten_dense_groupsum():
    torch.manual_seed(0)
    model = build_model(small_conv_config(), 784, 10, feature_shape=(1, 28, 28))
    kinds = [type(m) for m in model]
    assert kinds == [nn.Unflatten, Thermometer, LogicConv2d, OrPool2d, LogicConv2d, nn.Flatten,
                     LogicDense, LogicDense, GroupSum]
    conv2 = model[4]
    assert (conv2.in_channels, conv2.out_channels, conv2.stride) == (4, 6, 2)
    # 28 -> pool 14 -> stride-2 conv with padding 1: 7; 6 channels * 49 positions.
    assert model[6].in_dim == 6 * 7 * 7
    assert model(torch.rand(5, 784)).shape == (5, 10)
    assert count_neurons(model) == (4 * 2 + 4) + (6 * 2 + 6) + 60 + 30


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("batch", [1, 70])
def test_conv_model_from_config_freezes_bit_exactly(seed, batch):
    torch.manual_seed(seed)
    depth = [2, 1, 2][seed]  # rank 6 at depth 2 would need 36 leaves from an 18-bit window
    per_tree = [{"channels_per_tree": 1}, {}, {"channels_per_tree": 2}][seed]
    config = small_conv_config(parametrization=["light", "dwn", "warp"][seed],
                               lut_rank=[2, 6, 4][seed],
                               conv=[{"channels": 4, "tree_depth": depth, **per_tree},
                                     {"channels": 6, "pool": 0, "stride": 2, "tree_depth": depth,
                                      **per_tree}])
    model = build_model(config, 784, 10, feature_shape=(1, 28, 28)).eval()
    x = torch.rand(batch, 784, generator=torch.Generator().manual_seed(seed))
    netlist = to_netlist(model)  # the leading Unflatten gives the image shape
    assert netlist.num_inputs == 784 * 2
    assert_backends_agree(model, x, seed=f"conv-config seed={seed} batch={batch}")


def test_distributive_encoder_is_fitted_per_channel_on_images():
    config = RunConfig.from_dict({
        "dataset": {"name": "cifar10"},
        "encoder": {"kind": "distributive", "thresholds": 3},
        "model": {"widths": [20], "lut_rank": 2, "conv": [{"channels": 4, "pool": 4}]},
    })
    fit_x = torch.rand(50, 3 * 32 * 32) * torch.tensor([1.0, 0.5, 0.25]).repeat_interleave(1024)
    model = build_model(config, 3 * 32 * 32, 10, fit_x=fit_x, feature_shape=(3, 32, 32))
    thresholds = model[1].thresholds
    assert thresholds.shape == (3, 3)
    assert thresholds[0, 2] > thresholds[1, 2] > thresholds[2, 2]  # the channels' scales


def test_conv_config_errors_name_the_block_or_key():
    with pytest.raises(ConfigError, match=r"model.conv\[1\] needs 'channels'"):
        build_model(small_conv_config(conv=[{"channels": 4}, {"kernel_size": 3}]), 784, 10,
                    feature_shape=(1, 28, 28))
    with pytest.raises(ConfigError, match=r"cannot build model.conv\[1\] for 4 x 5 x 5 inputs: "
                                          r"kernel_size=9 is larger"):
        build_model(small_conv_config(conv=[{"channels": 4, "kernel_size": 9, "padding": 0,
                                             "pool": 4}, {"channels": 4, "kernel_size": 9}]),
                    784, 10, feature_shape=(1, 28, 28))
    with pytest.raises(ConfigError, match=r"cannot build model.conv\[0\].*bogus"):
        build_model(small_conv_config(conv=[{"channels": 4, "bogus": 1}]), 784, 10,
                    feature_shape=(1, 28, 28))
    with pytest.raises(ConfigError, match=r"cannot build model.conv\[0\].*channels_per_tree "
                                          r"must be an integer in \[1, in_channels=2\]"):
        build_model(small_conv_config(conv=[{"channels": 4, "channels_per_tree": 3}]), 784, 10,
                    feature_shape=(1, 28, 28))
    with pytest.raises(ConfigError, match=r"model.conv needs images of shape"):
        build_model(small_conv_config(), 784, 10, feature_shape=(784,))
    with pytest.raises(ConfigError, match=r"model.conv needs an image dataset; 'digits'"):
        RunConfig.from_dict({"dataset": {"name": "digits"}, "model": {"conv": [{"channels": 4}]}})
    with pytest.raises(ConfigError, match=r"train.flip needs an image dataset"):
        RunConfig.from_dict({"dataset": {"name": "breast-cancer"}, "train": {"flip": True}})


@pytest.mark.parametrize("name", IMAGE_PRESETS)
def test_image_presets_are_conv_models_with_augmentation(name):
    config = load_preset(name)
    assert config.model.conv and config.encoder.kind in ("thermometer", "distributive")
    assert config.train.shift_pixels > 0
    assert config.train.flip == (config.dataset.name != "mnist")  # digits are not mirror-symmetric
    assert config.dataset.val_fraction > 0  # selection on a split carved from training data


def test_conv_run_on_mnist_exports_and_evaluates_from_the_run(data_dir, tmp_path):
    threads = torch.get_num_threads()
    config = small_conv_config()
    config = RunConfig.from_dict({**config.to_dict(), "dataset": {
        "name": "mnist", "train_limit": 600, "val_fraction": 0.1},
        "train": {"epochs": 1, "batch_size": 50, "shift_pixels": 1, "eval_batch_size": 512}})
    try:
        result = train(config, tmp_path / "run", data_dir=data_dir, verbose=False)
    finally:
        torch.set_num_threads(threads)
    summary = result.summary
    assert summary["test_n"] == 10000 and summary["neurons"] == count_neurons(result.model)
    assert summary["gates"] == to_netlist(result.model).num_gates
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the run dir rebuilds the conv model from its config
        code = main(["eval", str(tmp_path / "run"), "--json", "--data-dir", str(data_dir)])
    assert code == 0
    report = json.loads(out.getvalue())
    assert report["n"] == 10000 and report["accuracy"] == summary["test_discrete_acc"]


# One epoch of each shipped image recipe (2 to 4 minutes each on 2 cores). The
# floors sit below what one epoch reached (validation discrete accuracy after
# epoch 1 in the full runs of the presets as shipped, 2026-12-05: mnist-conv
# 96.98%, fashion-conv 85.28%, cifar10-s 50.22%, cifar10-m 51.02%) and far
# above chance or a broken kernel.
# fashion-conv and cifar10-s run a second epoch with their first conv block hardened
# (frozen at its discrete table), as their recipes do later on; in cifar10-s the
# first epoch is then the end of that block's temperature ramp.
@pytest.mark.slow
@pytest.mark.parametrize("preset, overrides, floor", [
    ("mnist-conv", ["train.epochs=1"], 0.90),
    ("fashion-conv", ["train.epochs=2", "train.harden_epochs=[2,null,null,null,null]"], 0.80),
    ("cifar10-s", ["train.epochs=2",
                   "train.harden_epochs=[2,null,null,null,null,null]"], 0.30),
    ("cifar10-m", ["train.epochs=1"], 0.35),
])
def test_image_preset_recipe_learns_in_one_epoch(preset, overrides, floor, data_dir, tmp_path):
    threads = torch.get_num_threads()
    try:
        result = train(load_preset(preset, overrides), tmp_path / "run", data_dir=data_dir,
                       verbose=False)
    finally:
        torch.set_num_threads(threads)
    assert result.summary["test_discrete_acc"] > floor
