"""Progressive hardening: config checks, the per-epoch switch, freezing, hard forward == netlist."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bitlogic.layers import GroupSum, LogicConv2d, LogicDense, OrPool2d, Thermometer
from bitlogic.parametrizations import LUTParametrization, list_parametrizations
from bitlogic.parametrizations.registry import PARAMETRIZATIONS
from bitlogic.train import ConfigError, count_parameters, load_preset, train
from bitlogic.train.harden import (
    check_harden_epochs,
    harden_for_epoch,
    logic_layers,
    ramp_factor,
    ramp_temperatures,
)


def table_temperatures(layer: nn.Module) -> list[float]:
    return [p.temperature for p in layer.modules() if isinstance(p, LUTParametrization)]


def modes(layer: nn.Module) -> set[str]:
    return {p.forward_sampling.value for p in layer.modules()
            if isinstance(p, LUTParametrization)}


def dense_model(parametrization: str, lut_rank: int) -> nn.Sequential:
    kwargs = {"parametrization": parametrization, "lut_rank": lut_rank}
    return nn.Sequential(Thermometer(3), LogicDense(24, 40, **kwargs), LogicDense(40, 20, **kwargs),
                         GroupSum(4, tau=2.0))


def conv_model(parametrization: str) -> nn.Sequential:
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)), Thermometer(2),
        LogicConv2d(2, 4, kernel_size=3, padding=1, parametrization=parametrization, lut_rank=2),
        OrPool2d(2), nn.Flatten(),
        LogicDense(64, 20, parametrization=parametrization, lut_rank=2), GroupSum(4, tau=2.0))


def test_logic_layers_are_the_children_with_luts_in_order():
    model = conv_model("light")
    assert [type(m) for m in logic_layers(model)] == [LogicConv2d, LogicDense]


def test_harden_for_epoch_switches_layers_from_their_epoch_on():
    model = dense_model("light", 4)
    first, second = logic_layers(model)
    assert harden_for_epoch(model, [2, None], epoch=0) == 0
    assert modes(first) == modes(second) == {"soft"}
    assert harden_for_epoch(model, [2, None], epoch=1) == 1  # 0-based epoch 1 is epoch 2
    assert (modes(first), modes(second)) == ({"hard"}, {"soft"})
    assert harden_for_epoch(model, [2, 3], epoch=5) == 2
    assert modes(second) == {"hard"}
    # Back to an earlier epoch (the end of a run restores its best epoch's state).
    assert harden_for_epoch(model, [2, 3], epoch=0) == 0
    assert modes(first) == modes(second) == {"soft"}
    assert all(p.requires_grad for p in model.parameters())


def test_a_layer_hardened_from_gumbel_soft_returns_to_gumbel_soft():
    model = nn.Sequential(Thermometer(2), LogicDense(8, 20, lut_rank=2,
                                                     forward_sampling="gumbel_soft"),
                          GroupSum(4, tau=2.0))
    harden_for_epoch(model, [1], epoch=0)
    assert modes(model[1]) == {"hard"}
    harden_for_epoch(model, [3], epoch=0)
    assert modes(model[1]) == {"gumbel_soft"}


@pytest.mark.parametrize("epochs, match", [
    ([1], "one entry .* per logic layer, 2 here"),
    ([1, 2, 3], "one entry .* per logic layer, 2 here"),
    ([0, None], r"harden_epochs\[0\] must be a 1-based epoch >= 1"),
])
def test_check_harden_epochs_names_the_key_and_what_is_allowed(epochs, match):
    with pytest.raises(ConfigError, match=match):
        check_harden_epochs(dense_model("light", 2), epochs, epochs=10)


def test_check_harden_epochs_refuses_to_freeze_every_layer_within_the_run():
    model = dense_model("light", 2)
    with pytest.raises(ConfigError, match=r"freezes every logic layer from epoch 4 of 10"):
        check_harden_epochs(model, [2, 4], epochs=10)
    check_harden_epochs(model, [2, 11], epochs=10)  # the last layer trains through epoch 10


def test_check_harden_epochs_accepts_empty_and_nulls():
    model = dense_model("light", 2)
    check_harden_epochs(model, [], epochs=3)
    check_harden_epochs(model, [None, 4], epochs=3)
    check_harden_epochs(model, [1, None], epochs=3)


def test_a_hardened_layer_is_frozen_and_the_rest_still_learns():
    torch.manual_seed(0)
    model = dense_model("light", 4)
    first, second = logic_layers(model)
    before = [layer.weight.detach().clone() for layer in (first, second)]
    harden_for_epoch(model, [1, None], epoch=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    x, y = torch.rand(32, 8), torch.randint(0, 4, (32,))
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model.train()(x), y).backward()
        optimizer.step()
    assert torch.equal(first.weight, before[0])
    assert not torch.equal(second.weight, before[1])
    assert first.weight.grad is None
    assert count_parameters(model) == first.weight.numel() + second.weight.numel()


HARDENABLE = [name for name in list_parametrizations()
              if PARAMETRIZATIONS.get(name).HARD_IS_DISCRETE]


def test_warp_cannot_be_hardened_its_hard_mode_is_a_bernoulli_draw():
    assert [n for n in list_parametrizations() if n != "warp"] == HARDENABLE
    with pytest.raises(ConfigError, match=r"harden_epochs\[1\]: WarpLUT .* give null"):
        check_harden_epochs(dense_model("warp", 2), [None, 1], epochs=2)
    check_harden_epochs(dense_model("warp", 2), [None, None], epochs=2)


@pytest.mark.parametrize("parametrization", HARDENABLE)
@pytest.mark.parametrize("seed", [0, 1])
def test_fully_hardened_training_forward_is_the_discrete_net(parametrization, seed):
    """Every layer hard: the train-mode scores equal model.eval()'s bit for bit."""
    torch.manual_seed(seed)
    rank = 2 if parametrization == "difflogic" else 4
    model = dense_model(parametrization, rank)
    x = torch.rand(67, 8, generator=torch.Generator().manual_seed(seed))
    harden_for_epoch(model, [1, 1], epoch=0)
    model.train()
    trained = model(x)
    model.eval()
    with torch.no_grad():
        discrete = model(x)
    assert torch.equal(trained.detach(), discrete), f"{parametrization} seed={seed}"
    assert not any(p.requires_grad for p in model.parameters())


def test_hardened_conv_training_forward_is_the_discrete_net():
    torch.manual_seed(3)
    model = conv_model("light")
    x = torch.rand(33, 64, generator=torch.Generator().manual_seed(3))
    harden_for_epoch(model, [1, 1], epoch=0)
    trained = model.train()(x)
    with torch.no_grad():
        assert torch.equal(trained.detach(), model.eval()(x))


@pytest.mark.parametrize("ramp", [0, 1])
def test_a_run_hardens_its_first_layer_and_resumes_bit_identically(tmp_path, ramp):
    common = ["train.harden_epochs=[2,null]", f"train.harden_ramp_epochs={ramp}"]
    overrides = ["train.epochs=3", *common]
    whole = train(load_preset("digits-tiny", overrides), out_dir=tmp_path / "whole",
                  verbose=False)
    train(load_preset("digits-tiny", ["train.epochs=2", *common]),
          out_dir=tmp_path / "split", verbose=False)
    resumed = train(load_preset("digits-tiny", overrides), out_dir=tmp_path / "split",
                    resume=True, verbose=False)
    assert [r["val_discrete_acc"] for r in resumed.rows] == \
        [r["val_discrete_acc"] for r in whole.rows]
    assert resumed.summary["test_soft_acc"] == whole.summary["test_soft_acc"]
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b)


def test_a_wrong_harden_list_fails_before_training(tmp_path):
    config = load_preset("digits-tiny", ["train.harden_epochs=[1]"])
    with pytest.raises(ConfigError, match="train.harden_epochs needs one entry"):
        train(config, out_dir=tmp_path / "run", verbose=False)


def test_ramp_factor_falls_geometrically_to_final_at_the_harden_epoch():
    # hardened from (1-based) epoch 5 with a 2-epoch ramp: it spans progress 2.0 to 4.0
    assert ramp_factor(5, 1.9, 2, 0.01) == 1.0
    assert ramp_factor(5, 2.0, 2, 0.01) == 1.0
    assert ramp_factor(5, 3.0, 2, 0.01) == pytest.approx(0.1)
    assert ramp_factor(5, 3.5, 2, 0.01) == pytest.approx(0.01 ** 0.75)
    assert ramp_factor(5, 4.0, 2, 0.01) == pytest.approx(0.01)
    assert ramp_factor(5, 9.0, 2, 0.01) == pytest.approx(0.01)
    assert ramp_factor(None, 3.0, 2, 0.01) == 1.0
    assert ramp_factor(5, 3.0, 0, 0.01) == 1.0


def test_ramp_temperatures_scale_only_the_layers_in_their_ramp():
    model = conv_model("light")
    conv, dense = logic_layers(model)
    assert ramp_temperatures(model, [3, None], 2, 0.01, progress=1.0, temperature=2.0) == 1
    assert table_temperatures(conv) == pytest.approx([0.2, 0.2])
    assert table_temperatures(dense) == [1.0]
    assert ramp_temperatures(model, [3, None], 2, 0.01, progress=0.0, temperature=2.0) == 0


@pytest.mark.parametrize("overrides,match", [
    (["train.harden_ramp_factor=0"], r"train.harden_ramp_factor must lie in \(0, 1\], got 0"),
    (["train.harden_ramp_factor=1.5"], r"train.harden_ramp_factor must lie in \(0, 1\]"),
    (["train.harden_epochs=[2,null]", "train.harden_ramp_epochs=-1"],
     "train.harden_ramp_epochs must be >= 0, got -1"),
    (["train.harden_ramp_epochs=2"], "train.harden_epochs is empty"),
])
def test_bad_ramp_settings_name_the_key(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_preset("digits-tiny", overrides)


def test_the_ramp_changes_training_before_the_harden_epoch(tmp_path):
    rows = {}
    for ramp in (0, 1):
        run = train(load_preset("digits-tiny", ["train.epochs=1", "train.harden_epochs=[2,null]",
                                                f"train.harden_ramp_epochs={ramp}"]),
                    out_dir=tmp_path / f"ramp{ramp}", verbose=False)
        rows[ramp] = run.rows[0]
    assert rows[0]["train_loss"] != rows[1]["train_loss"]


def test_the_best_model_is_tested_at_its_epochs_temperatures(tmp_path):
    # min_delta=1 keeps epoch 1 as the best model; the schedule and the ramp move on
    # after it, and the soft test figure must use epoch 1's last-step temperatures.
    overrides = ["train.epochs=3", "train.min_delta=1.0", "temperature.kind=linear",
                 "temperature.start=1.0", "temperature.end=0.1",
                 "train.harden_epochs=[3,null]", "train.harden_ramp_epochs=2",
                 "train.harden_ramp_factor=0.01"]
    run = train(load_preset("digits-tiny", overrides), out_dir=tmp_path / "run", verbose=False)
    assert run.summary["best_epoch"] == 1
    steps = run.summary["steps"] // 3
    schedule = 1.0 + (0.1 - 1.0) * (steps - 1) / (3 * steps)  # linear, at the last step
    first, second = logic_layers(run.model)
    # the first layer's ramp (epochs 1-2 before its freeze at 3) is half way at the end
    # of epoch 1, less one step
    ramp = 0.01 ** ((steps - 1) / steps / 2)
    assert table_temperatures(first) == pytest.approx([schedule * ramp])
    assert table_temperatures(second) == pytest.approx([schedule])
    assert run.rows[0]["temperature"] == pytest.approx(schedule)  # the epoch's validated step


def test_the_best_epochs_temperatures_survive_a_resume_that_changes_its_step_count(tmp_path):
    # Epoch 1 takes 4 steps; the resume makes epochs 6 steps long and keeps epoch 1
    # best (min_delta=1), so its last step is 3, not 1 * 6 - 1.
    common = ["temperature.kind=linear", "temperature.start=1.0", "temperature.end=0.1",
              "temperature.steps=100"]
    train(load_preset("digits-tiny", ["train.epochs=1", "train.max_steps_per_epoch=4", *common]),
          out_dir=tmp_path / "run", verbose=False)
    run = train(load_preset("digits-tiny", ["train.epochs=2", "train.max_steps_per_epoch=6",
                                            "train.min_delta=1.0", *common]),
                out_dir=tmp_path / "run", resume=True, verbose=False)
    assert (run.summary["best_epoch"], [r["step"] for r in run.rows]) == (1, [4, 10])
    schedule = 1.0 + (0.1 - 1.0) * 3 / 100
    for layer in logic_layers(run.model):
        assert table_temperatures(layer) == pytest.approx([schedule])
