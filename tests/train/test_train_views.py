"""model.flip_ensemble: the run scores the model over an image and its mirror exactly as
the exported netlist does."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch

from bitlogic.cli import main
from bitlogic.layers import to_netlist
from bitlogic.netlist import LogicNetlist, evaluate_netlist
from bitlogic.netlist.views import view_ensemble
from bitlogic.train import ConfigError, train
from bitlogic.train.config import RunConfig
from bitlogic.train.evaluate import evaluate
from bitlogic.train.harden import harden_for_epoch, logic_layers
from bitlogic.train.model import build_model
from bitlogic.train.packed_front import PackedFront, hardened_front_length
from bitlogic.train.runs import resolve_artifact
from bitlogic.train.views import image_shape, run_views, view_scores
from tests.differential import assert_backends_agree

SHAPE = (1, 6, 5)  # odd width: the mirror moves every column but the middle one


def flip_config(dataset: str = "fashion-mnist", **model) -> RunConfig:
    return RunConfig.from_dict({
        "dataset": {"name": dataset},
        "encoder": {"kind": "thermometer", "thresholds": 2},
        "model": {"widths": [40, 20], "lut_rank": 2, "tau": 3.0, "flip_ensemble": True,
                  "conv": [{"channels": 4}, {"channels": 6, "pool": 0, "stride": 2}], **model},
    })


def small_model(seed: int, **model):
    torch.manual_seed(seed)
    config = flip_config(**model)
    return build_model(config, 30, 10, feature_shape=SHAPE).eval(), config


@pytest.mark.parametrize("seed, parametrization, rank",
                         [(0, "light", 2), (1, "dwn", 6), (2, "warp", 4), (3, "light", 4)])
@pytest.mark.parametrize("batch", [1, 70])
def test_the_models_ensemble_scores_equal_the_ensemble_netlists(seed, parametrization, rank,
                                                                batch):
    depth = 1 if rank == 6 else 2  # rank 6 at depth 2 would need 36 leaves from an 18-bit window
    model, config = small_model(seed, parametrization=parametrization, lut_rank=rank,
                                conv=[{"channels": 4, "tree_depth": depth},
                                      {"channels": 6, "pool": 0, "stride": 2,
                                       "tree_depth": depth}])
    views = run_views(config, model)
    x = torch.rand(batch, 30, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        scores = view_scores(model[:-1], model[-1], x, views)
        mirrored = model(x.view(batch, *SHAPE).flip(-1).reshape(batch, -1))
    plain = to_netlist(model)
    netlist = view_ensemble(plain, [v.numpy() for v in views])
    assert netlist.num_gates == 2 * plain.num_gates and netlist.metadata["views"] == "2"
    reference, counts = evaluate_netlist(netlist, x.numpy())
    where = f"seed {seed} {parametrization} rank {rank} batch {batch}"
    assert torch.equal(scores, torch.from_numpy(reference)), where
    # the counts are the plain model's on x plus on the mirror image
    with torch.no_grad():
        single = torch.round(model(x) * 3.0) + torch.round(mirrored * 3.0)
    assert np.array_equal(counts, single.numpy().astype(np.int64)), where
    assert_backends_agree(netlist, x.numpy(), seed=where)


def test_evaluation_with_views_is_the_same_through_the_packed_front():
    model, config = small_model(5)
    views = run_views(config, model)
    layers = len(logic_layers(model))
    harden_for_epoch(model, [1, 1] + [None] * (layers - 2), epoch=0)  # both conv blocks
    length = hardened_front_length(model)
    assert length > 0
    front = PackedFront(model, length, num_threads=2)
    gen = torch.Generator().manual_seed(5)
    x, y = torch.rand(130, 30, generator=gen), torch.randint(0, 10, (130,), generator=gen)
    for soft in (True, False):
        with_front = evaluate(model, x, y, soft=soft, front=front, views=views, batch_size=64)
        plain = evaluate(model, x, y, soft=soft, views=views, batch_size=64)
        assert with_front == plain, f"soft={soft}"
    single = evaluate(model, x, y, soft=False)
    assert single.n == plain.n and single.loss != plain.loss  # the views are used


def test_flip_ensemble_needs_a_conv_model():
    with pytest.raises(ConfigError, match="model.flip_ensemble mirrors images for a conv model"):
        RunConfig.from_dict({"dataset": {"name": "fashion-mnist"},
                             "model": {"flip_ensemble": True}})
    dense = RunConfig.from_dict({"dataset": {"name": "fashion-mnist"}})
    model = build_model(dense, 784, 10)
    assert run_views(dense, model) is None
    with pytest.raises(ConfigError, match=r"needs a conv model, which starts by reshaping"):
        image_shape(model)
    with pytest.raises(ValueError, match="views need an nn.Sequential that ends in a GroupSum"):
        evaluate(model[:-1], torch.rand(2, 784), torch.zeros(2, dtype=torch.int64), soft=False,
                 views=[torch.arange(784)])


def test_a_flip_ensemble_run_reports_and_exports_the_ensemble(data_dir, tmp_path):
    threads = torch.get_num_threads()
    config = RunConfig.from_dict({
        **flip_config().to_dict(),
        "dataset": {"name": "fashion-mnist", "train_limit": 600, "val_fraction": 0.1},
        # the first conv block is hardened from the start: validation runs through the front
        "train": {"epochs": 1, "batch_size": 50, "flip": True, "eval_batch_size": 512,
                  "harden_epochs": [1, None, None, None]}})
    try:
        result = train(config, tmp_path / "run", data_dir=data_dir, verbose=False)
    finally:
        torch.set_num_threads(threads)
    summary = result.summary
    assert summary["gates"] == 2 * to_netlist(result.model).num_gates
    reports = []
    for path in (tmp_path / "run", tmp_path / "run" / "netlist.safetensors"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["eval", str(path), "--json", "--data-dir", str(data_dir)]) == 0
        reports.append(json.loads(out.getvalue()))
    model_report, netlist_report = reports
    assert model_report["engine"].startswith("torch") and netlist_report["engine"].startswith(
        "packed")
    assert model_report["accuracy"] == netlist_report["accuracy"] == summary["test_discrete_acc"]
    assert model_report["class_accuracy"] == netlist_report["class_accuracy"]
    # a netlist frozen again from a checkpoint (C and Verilog exports of a run
    # without its netlist file) is the ensemble too
    refrozen = resolve_artifact(tmp_path / "run" / "best.safetensors").netlist()
    assert refrozen.layers == LogicNetlist.load(tmp_path / "run" / "netlist.safetensors").layers
