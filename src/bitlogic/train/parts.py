"""A run's parts, built before its first step: seeds, data, model, optimizer, temperature.

Everything that can refuse a config does so here, before any training: a
missing test file or a batch larger than the data must not surface only after
hours of training.
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from . import distributed as D
from .config import ConfigError, RunConfig, check_image_keys
from .families import OPTIMIZERS
from .harden import check_harden_epochs
from .model import build_model
from .splits import RunData, load_split, prepare_data

if TYPE_CHECKING:
    from bitlogic.schedules import TemperatureSchedule


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_optimizer(config: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer of the ``optimizer`` section over all trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    return OPTIMIZERS.build(config.optimizer.kind, config.optimizer, params)


@dataclass(frozen=True)
class RunParts:
    """What :func:`build_parts` built.

    Attributes:
        data: the training and validation splits (on the CPU).
        test_split: ``(x, y)`` of the test split, or ``None`` when not needed.
        model: the freshly initialised model, on the run's device.
        optimizer: over the model's trainable parameters.
        steps_per_epoch: optimizer steps per epoch (on every rank).
        temperature: the temperature as a function of the global step.
    """

    data: RunData
    test_split: tuple[torch.Tensor, torch.Tensor] | None
    model: nn.Sequential
    optimizer: torch.optim.Optimizer
    steps_per_epoch: int
    temperature: TemperatureSchedule


def build_parts(config: RunConfig, data_dir: str | os.PathLike[str] | None,
                ctx: D.DistContext, *, with_test: bool) -> RunParts:
    """Set the thread count, seed everything from ``train.seed`` and build the parts.

    Raises:
        ConfigError: the config cannot train on this data (see the checks).
    """
    t = config.train
    if t.num_threads is not None:
        torch.set_num_threads(t.num_threads)
    seed_everything(t.seed)
    data = prepare_data(config, data_dir)
    _check_encoder_makes_bits(config, data.train_x)
    test_split = load_split(config, "test", data_dir) if with_test else None
    model = build_model(config, data.num_features, data.num_classes, fit_x=data.train_x,
                        feature_shape=data.feature_shape).to(ctx.device)
    check_harden_epochs(model, t.harden_epochs, t.epochs)
    if t.harden_epochs and ctx.distributed:
        # DDP reduces gradients of the parameters that required them when it wrapped
        # the model; a layer frozen later would still be stepped by its moments.
        raise ConfigError("train.harden_epochs is not supported under torchrun (data "
                          "parallel); train on one process or set train.harden_epochs=[]")
    optimizer = build_optimizer(config, model)
    steps_per_epoch = min(data.train_x.shape[0] // t.batch_size,
                          t.max_steps_per_epoch or sys.maxsize)
    if steps_per_epoch == 0:
        raise ConfigError(f"train.batch_size={t.batch_size} is larger than the "
                          f"{data.train_x.shape[0]} training samples")
    D.per_rank_batch(t.batch_size, ctx)  # fail before training, not at step 1
    check_image_keys(config, tuple(data.feature_shape))
    from bitlogic.schedules import TemperatureSchedule

    tc = config.temperature
    steps = tc.steps or max(1, t.epochs * max(1, steps_per_epoch))
    temperature = TemperatureSchedule(tc.kind, tc.start, tc.end, steps)
    return RunParts(data, test_split, model, optimizer, steps_per_epoch, temperature)


def _check_encoder_makes_bits(config: RunConfig, train_x: torch.Tensor) -> None:
    """Refuse ``encoder.kind=none`` on non-binary features: eval mode and the netlist read bits."""
    if config.encoder.kind != "none" or train_x.dtype == torch.bool:
        return
    bad = (train_x != 0) & (train_x != 1)
    if bool(bad.any()):
        value = train_x[tuple(int(i) for i in bad.nonzero()[0])].item()
        raise ConfigError(
            f"encoder.kind='none' needs binary (0/1) features, but dataset "
            f"{config.dataset.name!r} has values such as {value!r}; use encoder.kind="
            f"thermometer or distributive"
        )
