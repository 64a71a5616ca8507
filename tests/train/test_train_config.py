"""Presets as data: the registry, dotted overrides and their error messages."""

from __future__ import annotations

import pytest

from bitlogic.train import (
    ConfigError,
    RunConfig,
    apply_overrides,
    build_model,
    list_presets,
    load_preset,
    preset_dict,
    valid_keys,
)
from bitlogic.train.config import parse_override

REQUIRED = ("digits-tiny", "mnist-s", "mnist-dwn", "mnist-dwn-s", "fashion-s", "breast-cancer")


def test_registry_holds_the_required_presets():
    assert set(REQUIRED) <= set(list_presets())


@pytest.mark.parametrize("name", REQUIRED)
def test_every_preset_names_what_a_run_needs(name):
    raw = preset_dict(name)
    assert raw["name"] == name  # the file name is the preset name
    for section in ("dataset", "encoder", "model", "optimizer", "temperature", "train"):
        assert section in raw, f"{name} lacks the {section!r} section"
    config = load_preset(name)
    assert config.name == name
    assert config.model.widths and config.model.tau > 0
    assert config.train.epochs > 0 and config.train.batch_size > 0
    assert 0 < config.dataset.val_fraction < 1


def test_mnist_presets_follow_the_published_architectures():
    s = load_preset("mnist-s")
    assert s.model.widths == [8000] * 6 and s.model.lut_rank == 2
    assert 10 <= s.model.tau <= 30
    dwn = load_preset("mnist-dwn")
    assert dwn.model.widths == [2000, 1000] and dwn.model.lut_rank == 6
    assert dwn.model.parametrization == "dwn" and dwn.encoder.kind == "distributive"
    # the FPGA-sized DWN: one layer, so its io design routes on an ECP5 12k
    small = load_preset("mnist-dwn-s")
    assert small.model.widths == [1000] and small.model.lut_rank == 6
    assert small.model.connections == ["learnable"] and small.encoder == dwn.encoder


def test_digits_tiny_builds_the_reference_architecture():
    config = load_preset("digits-tiny")
    model = build_model(config, num_features=64, num_classes=10)
    dense = [m for m in model if type(m).__name__ == "LogicDense"]
    assert [(d.in_dim, d.out_dim, d.lut_rank) for d in dense] == [(192, 500, 4), (500, 500, 4)]
    assert model[-1].k == 10 and model[-1].tau == 10.0


def test_overrides_parse_yaml_scalars_and_lists():
    config = load_preset("digits-tiny", [
        "train.epochs=3", "optimizer.lr=1e-3", "model.widths=[64, 60]",
        "train.patience=null", "encoder.kind=distributive", "model.options.weight_init=residual",
        "model.connections=[learnable, fixed]",
    ])
    assert config.train.epochs == 3
    assert config.optimizer.lr == pytest.approx(1e-3)
    assert config.model.widths == [64, 60]
    assert config.train.patience is None
    assert config.encoder.kind == "distributive"
    assert config.model.options == {"weight_init": "residual"}
    assert config.model.connections == ["learnable", "fixed"]


def test_an_int_is_accepted_where_a_float_is_due():
    assert load_preset("digits-tiny", ["model.tau=20"]).model.tau == 20.0


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        load_preset("digits-tiny", ["train.epoch=3"])
    message = str(err.value)
    assert "'train.epoch'" in message and "train.epochs" in message and "model.widths" in message


def test_unknown_key_in_a_preset_file_is_rejected(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nmodel:\n  width: [10]\n")
    with pytest.raises(ConfigError, match="'model.width'"):
        load_preset(str(path))


def test_preset_file_path_works_like_a_name(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\ntrain:\n  epochs: 2\n")
    assert load_preset(str(path)).train.epochs == 2


@pytest.mark.parametrize("override, fragment", [
    ("train.epochs=three", "train.epochs must be an integer"),
    ("train.epochs=0", "train.epochs must be > 0"),
    ("model.widths=5", "model.widths must be a list"),
    ("model.parametrization=nope", "model.parametrization must be one of"),
    ("model.lut_rank=3", "model.lut_rank must be one of"),
    ("encoder.kind=gray", "encoder.kind must be one of"),
    ("dataset.val_fraction=1.5", "dataset.val_fraction must lie in [0, 1)"),
    ("model.connections=[fixed]", "give one per layer"),
    ("train.use_gpu=true", "unknown config key 'train.use_gpu'"),
])
def test_bad_values_name_the_key_and_what_is_allowed(override, fragment):
    with pytest.raises(ConfigError) as err:
        load_preset("digits-tiny", [override])
    assert fragment in str(err.value)


def test_bad_preset_name_lists_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        load_preset("mnist-xl")
    assert "mnist-xl" in str(err.value)
    for name in REQUIRED:
        assert name in str(err.value)


def test_override_needs_an_equals_sign():
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("train.epochs")


def test_overrides_do_not_modify_the_input():
    base = load_preset("digits-tiny").to_dict()
    apply_overrides(base, ["train.epochs=99"])
    assert base["train"]["epochs"] == 12


def test_config_round_trips_through_a_dict():
    config = load_preset("mnist-dwn")
    assert RunConfig.from_dict(config.to_dict()) == config


def test_valid_keys_cover_every_section():
    keys = valid_keys()
    for key in ("dataset.name", "encoder.thresholds", "model.tau", "optimizer.weight_decay",
                "lr_schedule.kind", "temperature.kind", "train.batch_size", "train.patience"):
        assert key in keys


def _registry(key):
    """The registry a config key's choices come from."""
    from bitlogic.connections.factory import CONNECTIONS
    from bitlogic.data.registry import DATASETS
    from bitlogic.parametrizations.registry import PARAMETRIZATIONS
    from bitlogic.schedules import TEMPERATURE_SCHEDULES
    from bitlogic.train.families import ENCODERS, LR_SCHEDULES, OPTIMIZERS

    return {
        "dataset.name": DATASETS,
        "encoder.kind": ENCODERS,
        "optimizer.kind": OPTIMIZERS,
        "lr_schedule.kind": LR_SCHEDULES,
        "temperature.kind": TEMPERATURE_SCHEDULES,
        "model.parametrization": PARAMETRIZATIONS,
        "model.connections": CONNECTIONS,
    }[key]


@pytest.mark.parametrize("key", ["dataset.name", "encoder.kind", "optimizer.kind",
                                 "lr_schedule.kind", "temperature.kind",
                                 "model.parametrization", "model.connections"])
def test_config_choices_come_from_the_registries(key):
    registry = _registry(key)
    with pytest.raises(ConfigError, match=f"{key} must be one of .*got 'toy_kind'"):
        load_preset("digits-tiny", [f"{key}=toy_kind"])
    registry.register("toy_kind", object())  # validation only reads the names
    try:
        assert "toy_kind" in str(load_preset("digits-tiny", [f"{key}=toy_kind"]).to_dict())
    finally:
        registry.unregister("toy_kind")
    with pytest.raises(ConfigError, match=key):
        load_preset("digits-tiny", [f"{key}=toy_kind"])


def test_registered_encoder_optimizer_and_lr_schedule_are_built():
    import torch

    from bitlogic.train.families import ENCODERS, LR_SCHEDULES, OPTIMIZERS
    from bitlogic.train.loop import build_optimizer, lr_at
    from bitlogic.train.model import build_encoder

    ENCODERS.register("toy_sign", lambda enc, fit_x=None: torch.nn.Identity())
    OPTIMIZERS.register("toy_sgd", lambda o, params: torch.optim.SGD(params, lr=o.lr))
    LR_SCHEDULES.register("toy_halving", lambda s, base, epoch, epochs: base / 2**epoch)
    try:
        config = load_preset("digits-tiny", ["encoder.kind=toy_sign", "optimizer.kind=toy_sgd",
                                             "lr_schedule.kind=toy_halving", "optimizer.lr=0.5"])
        assert isinstance(build_encoder(config), torch.nn.Identity)
        model = build_model(config, num_features=192, num_classes=10)
        assert type(build_optimizer(config, model)) is torch.optim.SGD
        assert lr_at(config, 3) == 0.5 / 8
    finally:
        ENCODERS.unregister("toy_sign")
        OPTIMIZERS.unregister("toy_sgd")
        LR_SCHEDULES.unregister("toy_halving")


def test_built_in_lr_schedules_and_optimizers():
    import torch

    from bitlogic.train.loop import build_optimizer, lr_at

    step = load_preset("digits-tiny", ["lr_schedule.kind=step", "lr_schedule.step_epochs=2",
                                       "lr_schedule.gamma=0.5", "optimizer.lr=0.4"])
    assert [lr_at(step, e) for e in range(5)] == [0.4, 0.4, 0.2, 0.2, 0.1]
    cosine = load_preset("digits-tiny", ["lr_schedule.kind=cosine", "train.epochs=4",
                                         "lr_schedule.min_lr=0.1", "optimizer.lr=0.5"])
    assert lr_at(cosine, 0) == 0.5 and lr_at(cosine, 2) == pytest.approx(0.3)
    assert lr_at(load_preset("digits-tiny"), 7) == load_preset("digits-tiny").optimizer.lr
    model = torch.nn.Linear(3, 2)
    for kind, cls in [("adamw", torch.optim.AdamW), ("adam", torch.optim.Adam),
                      ("sgd", torch.optim.SGD)]:
        config = load_preset("digits-tiny", [f"optimizer.kind={kind}"])
        assert type(build_optimizer(config, model)) is cls
