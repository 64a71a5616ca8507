"""The training loop: run directory, best model, early stopping, bit-identical resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from bitlogic.layers import to_netlist
from bitlogic.netlist import InputScaling, LogicNetlist
from bitlogic.train import load_preset, load_run, read_config, train
from bitlogic.train.checkpoint import read_meta
from bitlogic.train.metrics import FIELDS, read_metrics

# Small and single-threaded: reductions split over threads would round differently,
# and the comparisons below are exact.
SMALL = ["model.widths=[60,60]", "train.num_threads=1", "train.max_steps_per_epoch=3"]


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _config(*extra: str):
    return load_preset("digits-tiny", [*SMALL, *extra])


def _tensors(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "checkpoint.safetensors"))


def _assert_identical(a: Path, b: Path) -> None:
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    for key in ta:
        if key.startswith(("model/", "optim/", "rng/")):
            assert torch.equal(ta[key], tb[key]), key


def test_run_directory_holds_every_artifact(tmp_path):
    result = train(_config("train.epochs=2"), tmp_path / "run", verbose=False)
    run = tmp_path / "run"
    for name in ("config.yaml", "checkpoint.safetensors", "best.safetensors", "metrics.csv",
                 "metrics.json", "loss.png", "accuracy.png", "netlist.safetensors"):
        assert (run / name).is_file(), name
    assert read_config(run / "config.yaml") == _config("train.epochs=2")
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header == list(FIELDS)
    metrics = read_metrics(run)
    assert [row["epoch"] for row in metrics["epochs"]] == [1, 2]
    row = metrics["epochs"][-1]
    assert row["gap"] == pytest.approx(row["val_soft_acc"] - row["val_discrete_acc"])
    summary = metrics["summary"]
    assert 0.0 <= summary["test_discrete_acc"] <= 1.0
    assert summary["gates"] == 120 and summary["test_n"] == 449
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"
    # The exported netlist is the best model frozen, and load_run returns that model.
    netlist = LogicNetlist.load(run / "netlist.safetensors")
    # ... with the dataset's scaling (pixel / 16), so that it takes raw pixels
    frozen = to_netlist(load_run(run), input_scaling=InputScaling.divide(64, 16.0))
    assert netlist.layers == frozen.layers and netlist.encoding == frozen.encoding
    assert netlist.layers == to_netlist(result.model).layers
    assert netlist.metadata["dataset"] == "digits"


def test_best_model_is_the_best_validation_epoch(tmp_path):
    result = train(_config("train.epochs=3"), tmp_path / "run", verbose=False)
    rows = result.rows
    best = max(rows, key=lambda r: r["val_discrete_acc"])  # the first of equal maxima wins
    assert result.summary["best_epoch"] == best["epoch"]
    assert read_meta(tmp_path / "run" / "best.safetensors")["epoch"] == best["epoch"]
    assert [r["best"] for r in rows].count(True) >= 1


def test_early_stopping_ends_a_run_that_stops_improving(tmp_path):
    # lr ~ 0: validation accuracy never rises after epoch 1.
    result = train(_config("train.epochs=10", "train.patience=2", "optimizer.lr=1e-12"),
                   tmp_path / "run", verbose=False)
    assert result.summary["stopped_early"] is True
    assert result.summary["epochs_run"] == 3
    assert result.summary["best_epoch"] == 1
    assert len(read_metrics(tmp_path / "run")["epochs"]) == 3
    # Lifting the patience on resume lets the stopped run go on.
    more = train(_config("train.epochs=5", "train.patience=null", "optimizer.lr=1e-12"),
                 tmp_path / "run", resume=True, verbose=False)
    assert more.summary["epochs_run"] == 5 and more.summary["stopped_early"] is False


def test_resume_is_bit_identical(tmp_path):
    straight = tmp_path / "straight"
    train(_config("train.epochs=3"), straight, verbose=False)
    resumed = tmp_path / "resumed"
    train(_config("train.epochs=1"), resumed, verbose=False)
    assert read_meta(resumed / "checkpoint.safetensors")["epoch"] == 1
    train(_config("train.epochs=3"), resumed, resume=True, verbose=False)
    _assert_identical(straight, resumed)
    a, b = read_metrics(straight), read_metrics(resumed)
    for ra, rb in zip(a["epochs"], b["epochs"], strict=True):
        for key in ("train_loss", "val_loss", "val_soft_acc", "val_discrete_acc"):
            assert ra[key] == rb[key], key
    assert a["summary"]["test_discrete_acc"] == b["summary"]["test_discrete_acc"]


def test_resume_survives_sigkill(tmp_path):
    run = tmp_path / "killed"
    overrides = [*SMALL, "train.epochs=300"]
    cmd = [sys.executable, "-m", "bitlogic.cli", "train", "--out", str(run), "--quiet"]
    for text in overrides:
        cmd += ["--set", text]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ckpt = run / "checkpoint.safetensors"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ckpt.is_file() and read_meta(ckpt)["epoch"] >= 2:
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    killed_at = read_meta(ckpt)["epoch"]
    assert 2 <= killed_at < 300
    assert not (run / "netlist.safetensors").exists()

    target = killed_at + 3
    train(_config(f"train.epochs={target}"), run, resume=True, verbose=False)
    straight = tmp_path / "straight"
    train(_config(f"train.epochs={target}"), straight, verbose=False)
    _assert_identical(straight, run)
    assert (run / "netlist.safetensors").is_file()


def test_refuses_to_overwrite_or_resume_nothing(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        train(_config(), run, resume=True, verbose=False)
    train(_config("train.epochs=1"), run, verbose=False)
    with pytest.raises(FileExistsError, match="already holds a training checkpoint"):
        train(_config("train.epochs=1"), run, verbose=False)


def test_resume_rejects_a_different_architecture(tmp_path):
    from bitlogic.train import ConfigError

    run = tmp_path / "run"
    train(_config("train.epochs=1"), run, verbose=False)
    with pytest.raises(ConfigError, match="'model' section differs"):
        train(_config("train.epochs=2", "model.widths=[80,80]"), run, resume=True,
              verbose=False)


def test_same_seed_same_model_other_seed_other_model(tmp_path):
    a = train(_config("train.epochs=1"), None, verbose=False).model.state_dict()
    b = train(_config("train.epochs=1"), None, verbose=False).model.state_dict()
    c = train(_config("train.epochs=1", "train.seed=1"), None, verbose=False).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_a_zero_second_epoch_has_no_rate_in_the_row_or_the_line():
    from bitlogic.train.bookkeeping import LoopState, epoch_line, epoch_row
    from bitlogic.train.epoch import EpochResult
    from bitlogic.train.evaluate import EvalResult

    result, val = EpochResult(loss=0.5, accuracy=0.8, step=3), EvalResult(0.4, 0.75, 10)
    row = epoch_row(LoopState(epoch=1, step=3), result, val, val, improved=True,
                    temperature=1.0, lr=0.01, seconds=0.0, samples=96, wall_s=0.0)
    assert row["samples_per_s"] is None
    line = epoch_line(1, result, val, val, improved=True, seconds=0.0, samples=96)
    assert line.endswith("  - samples/s  *")
    line = epoch_line(1, result, val, val, improved=False, seconds=2.0, samples=3000)
    assert line.endswith("  1,500 samples/s")
