"""Saving a run's state after every epoch, and resuming it bit-identically.

Each epoch writes ``best.safetensors`` (when the epoch improved) and then
``checkpoint.safetensors``: the model, the optimizer, every RNG state and the
:class:`~bitlogic.train.bookkeeping.LoopState`. Resuming refuses a checkpoint
whose structural sections differ from the config's, restores all of that and
reports what else the config changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .bookkeeping import LoopState
from .checkpoint import (
    CHECKPOINT_VERSION,
    Checkpoint,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from .config import ConfigError, RunConfig
from .rundir import config_changes
from .runs import BEST_FILE, CHECKPOINT_FILE, ArtifactError
from .splits import RunData

# The sections whose change would make a checkpoint's tensors meaningless.
STRUCTURAL_SECTIONS = ("dataset", "encoder", "model")


def checkpoint_meta(config: RunConfig, data: RunData, state: LoopState, world_size: int,
                    rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON header of the run's checkpoints, all but its leading ``kind``."""
    return {
        "version": CHECKPOINT_VERSION,
        "config": config.to_dict(),
        "num_features": data.num_features,
        "num_classes": data.num_classes,
        "feature_shape": list(data.feature_shape),
        "epoch": state.epoch,
        "step": state.step,
        "best_epoch": state.best_epoch,
        "best_score": None if math.isinf(state.best_score) else state.best_score,
        "bad_epochs": state.bad_epochs,
        "stopped_early": state.stopped_early,
        "world_size": world_size,
        "rows": rows,
    }


def save_run(out: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
             meta: dict[str, Any], *, device: torch.device, improved: bool) -> None:
    """Best model first (when ``improved``), then the full checkpoint (see :func:`resume_run`)."""
    state = model.state_dict()
    if improved:
        save_checkpoint(out / BEST_FILE, Checkpoint(state, {"kind": "model", **meta}))
    save_checkpoint(out / CHECKPOINT_FILE, Checkpoint(
        state, {"kind": "checkpoint", **meta}, optimizer.state_dict(), capture_rng(device)))


@dataclass(frozen=True)
class Resumed:
    """What :func:`resume_run` restored besides the tensors and RNG states.

    Attributes:
        state: the loop state, with ``stopped_early`` judged by the current config.
        rows: the metric rows of the completed epochs.
        changes: what the current config changes (see
            :func:`~bitlogic.train.rundir.config_changes`).
    """

    state: LoopState
    rows: list[dict[str, Any]]
    changes: dict[str, list[Any]]


def resume_run(path: Path, config: RunConfig, model: nn.Module,
               optimizer: torch.optim.Optimizer, device: torch.device) -> Resumed:
    """Load the checkpoint at ``path`` into ``model``, ``optimizer`` and the RNGs.

    ``best.safetensors`` may be one epoch ahead of the checkpoint if a kill
    fell between the two writes; the replayed epoch is bit-identical, so it
    rewrites the same best model.

    Raises:
        ArtifactError: ``path`` is not a readable checkpoint.
        ValueError: ``path`` is a model file, not a training checkpoint.
        ConfigError: a structural section (dataset, encoder, model) differs.
    """
    try:
        ckpt = load_checkpoint(path)
    except ValueError as err:
        raise ArtifactError(f"cannot resume: {err}") from None
    meta = ckpt.meta
    if meta.get("kind") != "checkpoint":
        raise ValueError(f"{path} is a {meta.get('kind')!r} file, not a training checkpoint")
    saved = RunConfig.from_dict(meta["config"]).to_dict()
    now = config.to_dict()
    for section in STRUCTURAL_SECTIONS:
        if saved[section] != now[section]:
            raise ConfigError(f"cannot resume {path}: the {section!r} section differs from "
                              f"the checkpoint's ({saved[section]} vs {now[section]})")
    model.load_state_dict({k: v.to(device) for k, v in ckpt.model_state.items()})
    optimizer.load_state_dict(ckpt.optimizer_state)
    restore_rng(ckpt.rng_state)
    # Judged by the current config, so raising train.patience (or clearing it)
    # lets a stopped run go on.
    patience = config.train.patience
    state = LoopState(
        epoch=meta["epoch"], step=meta["step"], best_epoch=meta["best_epoch"],
        best_score=-math.inf if meta["best_score"] is None else meta["best_score"],
        bad_epochs=meta["bad_epochs"],
        stopped_early=bool(patience) and meta["bad_epochs"] >= patience)
    return Resumed(state, meta["rows"], config_changes(saved, now))
