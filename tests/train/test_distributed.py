"""Data-parallel training: 2 CPU processes under torchrun match one process, same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from bitlogic.train.metrics import read_metrics

# 4 steps of a global batch of 64: 32 per rank with 2 processes.
ARGS = ["train", "--preset", "digits-tiny", "--epochs", "1", "--quiet",
        "--set", "model.widths=[60,60]", "--set", "train.max_steps_per_epoch=4",
        "--set", "train.batch_size=64", "--set", "train.device=cpu"]


def _env() -> dict[str, str]:
    # torchrun pins every rank to one thread; the single process must match.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    env.pop("RANK", None)
    return env


def _train(cmd: list[str], out: Path) -> None:
    proc = subprocess.run([*cmd, *ARGS, "--out", str(out)], env=_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_two_processes_match_one_process(tmp_path):
    pytest.importorskip("torch.distributed")
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch was built without the gloo backend")
    single, multi = tmp_path / "single", tmp_path / "multi"
    _train([sys.executable, "-m", "bitlogic.cli"], single)
    _train([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "bitlogic.cli"], multi)

    # Rank 0 alone wrote the run directory, once.
    assert sorted(p.name for p in multi.iterdir()) == sorted(p.name for p in single.iterdir())
    a = load_file(str(single / "checkpoint.safetensors"))
    b = load_file(str(multi / "checkpoint.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        if key.startswith("model/"):
            # Same samples per step; only the order of the gradient sums differs.
            torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-4, msg=key)
    ma, mb = read_metrics(single), read_metrics(multi)
    assert mb["summary"]["world_size"] == 2 and ma["summary"]["world_size"] == 1
    ra, rb = ma["epochs"][0], mb["epochs"][0]
    assert ra["step"] == rb["step"] == 4
    assert rb["train_loss"] == pytest.approx(ra["train_loss"], rel=1e-5)
    assert rb["train_soft_acc"] == pytest.approx(ra["train_soft_acc"], abs=1 / 256)
    assert rb["val_discrete_acc"] == pytest.approx(ra["val_discrete_acc"], abs=0.01)
