"""The hardened front on the packed engine: the float forward's bits, and identical training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bitlogic.layers import GroupSum, LogicConv2d, LogicDense, OrPool2d, Thermometer
from bitlogic.parametrizations.registry import PARAMETRIZATIONS
from bitlogic.train import RunConfig, load_preset, train
from bitlogic.train.harden import harden_for_epoch, harden_layer, logic_layers
from bitlogic.train.packed_front import FrontCache, PackedFront, hardened_front_length

HARDENABLE = [name for name in PARAMETRIZATIONS.names()
              if PARAMETRIZATIONS.get(name).HARD_IS_DISCRETE]
CPU = torch.device("cpu")


def conv_net(parametrization: str, rank: int) -> nn.Sequential:
    kw = {"parametrization": parametrization, "lut_rank": rank}
    return nn.Sequential(
        nn.Unflatten(1, (2, 9, 7)), Thermometer(3),
        LogicConv2d(6, 5, kernel_size=3, padding=1, **kw), OrPool2d(2),
        LogicConv2d(5, 4, kernel_size=3, padding=1, stride=2, **kw), nn.Flatten(),
        LogicDense(4 * 2 * 2, 40, **kw), LogicDense(40, 20, **kw), GroupSum(4, tau=2.0))


def dense_net(parametrization: str, rank: int) -> nn.Sequential:
    kw = {"parametrization": parametrization, "lut_rank": rank}
    return nn.Sequential(Thermometer(3), LogicDense(30, 50, **kw), LogicDense(50, 40, **kw),
                         LogicDense(40, 20, **kw), GroupSum(4, tau=2.0))


def _cases():
    for name in HARDENABLE:
        for rank in ((2,) if name == "difflogic" else (2, 4, 6)):
            for kind in ("conv", "dense"):
                yield name, rank, kind


@pytest.mark.parametrize("parametrization, rank, kind", list(_cases()))
@pytest.mark.parametrize("batch", [1, 63, 130])
def test_the_front_computes_the_float_forwards_bits(parametrization, rank, kind, batch):
    seed = 11 * rank + batch
    torch.manual_seed(seed)
    model = (conv_net if kind == "conv" else dense_net)(parametrization, rank)
    features = 2 * 9 * 7 if kind == "conv" else 10
    x = torch.rand(batch, features, generator=torch.Generator().manual_seed(seed))
    lengths, layers = [], len(logic_layers(model))
    for hardened in range(1, layers):  # every layer but the last
        harden_for_epoch(model, [1] * hardened + [None] * (layers - hardened), epoch=0)
        length = hardened_front_length(model)
        lengths.append(length)
        front = PackedFront(model, length, num_threads=2)
        for training in (True, False):
            model.train(training)
            with torch.no_grad():
                expected = model[:length](x)
                got = front(x)
                assert torch.equal(got, expected), \
                    f"{parametrization} rank {rank} {kind} front {length} seed {seed}"
                assert torch.equal(front.forward_model(x), model(x))
    # conv: the pool after the first conv and the Flatten after the second join the front
    assert lengths == ([4, 6, 7] if kind == "conv" else [2, 3])


def test_the_front_stops_at_the_first_trainable_layer():
    torch.manual_seed(0)
    model = conv_net("light", 2)
    assert hardened_front_length(model) == 0  # nothing hardened
    harden_layer(model[4])  # the second conv alone: the first still trains
    assert hardened_front_length(model) == 0
    harden_layer(model[2])
    assert hardened_front_length(model) == 6
    model[6].weight.requires_grad_(True)  # a trainable parameter breaks the run
    assert hardened_front_length(model) == 6
    harden_layer(model[6])
    harden_layer(model[7])
    assert hardened_front_length(model) == 8  # never the GroupSum
    model[1].thresholds = nn.Parameter(model[1].thresholds.clone())  # a learnable encoder
    assert hardened_front_length(model) == 0


def test_the_cache_rebuilds_when_hardening_moves_and_can_be_turned_off():
    torch.manual_seed(1)
    model = dense_net("light", 4)
    cache = FrontCache()
    assert cache.get(model, CPU) is None
    harden_for_epoch(model, [1, 2, None], epoch=0)
    first = cache.get(model, CPU)
    assert first is not None and first.length == 2 and cache.get(model, CPU) is first
    harden_for_epoch(model, [1, 2, None], epoch=1)
    assert cache.get(model, CPU).length == 3
    assert FrontCache(enabled=False).get(model, CPU) is None
    assert cache.get(model, torch.device("meta")) is None  # the engine runs on the CPU only


def _count_front_calls(monkeypatch) -> list[int]:
    calls = []
    original = PackedFront.forward_model

    def counted(self, x):
        calls.append(x.shape[0])
        return original(self, x)

    monkeypatch.setattr(PackedFront, "forward_model", counted)
    return calls


def _same_run(a, b) -> None:
    keys = ("train_loss", "train_soft_acc", "val_loss", "val_soft_acc", "val_discrete_acc")
    assert [[r.get(k) for k in keys] for r in a.rows] == [[r.get(k) for k in keys] for r in b.rows]
    for key in ("test_soft_acc", "test_discrete_acc"):
        assert a.summary[key] == b.summary[key]
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_a_dense_run_trains_identically_with_and_without_the_front(tmp_path, monkeypatch):
    calls = _count_front_calls(monkeypatch)
    overrides = ["train.epochs=3", "train.harden_epochs=[2,null]"]
    packed = train(load_preset("digits-tiny", overrides), tmp_path / "packed", verbose=False)
    assert calls, "the hardened first layer should have run on the packed engine"
    calls.clear()
    floats = train(load_preset("digits-tiny", [*overrides, "train.packed_front=false"]),
                   tmp_path / "float", verbose=False)
    assert not calls
    _same_run(packed, floats)


def test_a_conv_run_trains_identically_with_and_without_the_front(data_dir, tmp_path,
                                                                   monkeypatch):
    calls = _count_front_calls(monkeypatch)
    config = {
        "dataset": {"name": "mnist", "train_limit": 400, "val_fraction": 0.25},
        "encoder": {"kind": "thermometer", "thresholds": 2},
        "model": {"widths": [60, 30], "lut_rank": 4, "tau": 3.0,
                  "conv": [{"channels": 4}, {"channels": 6}]},
        "train": {"epochs": 3, "batch_size": 50, "shift_pixels": 1, "cutout": 4,
                  "harden_epochs": [2, 3, None, None], "eval_batch_size": 512},
    }
    threads = torch.get_num_threads()
    try:
        packed = train(RunConfig.from_dict(config), tmp_path / "packed", data_dir=data_dir,
                       verbose=False)
        assert calls
        calls.clear()
        config["train"]["packed_front"] = False
        floats = train(RunConfig.from_dict(config), tmp_path / "float", data_dir=data_dir,
                       verbose=False)
    finally:
        torch.set_num_threads(threads)
    assert not calls
    _same_run(packed, floats)
