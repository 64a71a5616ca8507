"""Checkpoints: safetensors + JSON round trips, atomic replacement, no pickle."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from safetensors import safe_open

from bitlogic.train import Checkpoint, load_checkpoint, load_preset, save_checkpoint
from bitlogic.train.checkpoint import HEADER_KEY, atomic_write, capture_rng, restore_rng
from bitlogic.train.loop import build_optimizer
from bitlogic.train.model import build_model


def _model_and_optimizer():
    torch.manual_seed(0)
    config = load_preset("digits-tiny", ["model.widths=[40,30]", "model.lut_rank=2"])
    model = build_model(config, num_features=8, num_classes=10)
    optimizer = build_optimizer(config, model)
    x = torch.rand(16, 8)
    y = torch.randint(0, 10, (16,))
    for _ in range(2):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return config, model, optimizer


def test_checkpoint_round_trips_model_optimizer_and_rng(tmp_path):
    config, model, optimizer = _model_and_optimizer()
    torch.manual_seed(123)
    np.random.seed(7)
    random.seed(9)
    rng = capture_rng()
    meta = {"kind": "checkpoint", "config": config.to_dict(), "epoch": 3}
    path = save_checkpoint(tmp_path / "c.safetensors",
                           Checkpoint(model.state_dict(), meta, optimizer.state_dict(), rng))
    expected = (torch.rand(3), np.random.rand(3), random.random())

    loaded = load_checkpoint(path)
    assert loaded.meta["epoch"] == 3 and loaded.meta["config"] == config.to_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model_state[key], value), key
    fresh = build_optimizer(config, model)
    fresh.load_state_dict(loaded.optimizer_state)
    for group_state, reference in zip(fresh.state.values(), optimizer.state.values(),
                                      strict=True):
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(group_state[name], reference[name])
    restore_rng(loaded.rng_state)
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]


def test_checkpoint_is_plain_safetensors_with_a_json_header(tmp_path):
    _, model, optimizer = _model_and_optimizer()
    checkpoint = Checkpoint(model.state_dict(), {"kind": "model"}, optimizer.state_dict())
    path = save_checkpoint(tmp_path / "c.safetensors", checkpoint)
    with safe_open(str(path), framework="pt") as f:
        header = json.loads(f.metadata()[HEADER_KEY])
        keys = list(f.keys())
    assert header["kind"] == "model"
    assert header["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.05)
    assert any(k.startswith("model/") for k in keys)
    assert any(k.startswith("optim/") for k in keys)
    assert not (tmp_path / "c.safetensors.tmp").exists()


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write(target, b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_unknown_kind_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="meta\\['kind'\\] must be one of"):
        save_checkpoint(tmp_path / "c.safetensors", Checkpoint({}, {"kind": "weights"}))


def test_loading_a_foreign_file_says_what_is_wrong(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a bitlogic training checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")
