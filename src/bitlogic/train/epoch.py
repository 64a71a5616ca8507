"""One training epoch: the learning rate, the shuffled batches, augmentation, the optimizer step.

An epoch needs no state beyond the global step: the learning rate is a pure
function of the epoch, the batch order of ``(seed, epoch)`` and the temperature
of the step (see :mod:`bitlogic.train.loop` on determinism and resume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn import functional as F

from . import distributed as D
from .augment import random_cutout, random_flip, random_shift
from .config import RunConfig
from .families import LR_SCHEDULES
from .harden import harden_for_epoch, ramp_temperatures

if TYPE_CHECKING:
    from bitlogic.schedules import TemperatureSchedule

    from .packed_front import FrontCache


def lr_at(config: RunConfig, epoch: int) -> float:
    """Learning rate of (0-based) ``epoch``, by the ``lr_schedule`` section."""
    s = config.lr_schedule
    return LR_SCHEDULES.get(s.kind)(s, config.optimizer.lr, epoch, config.train.epochs)


def set_step_temperatures(model: nn.Module, config: RunConfig, temperature: TemperatureSchedule,
                          step: int, progress: float) -> None:
    """Give ``model`` the temperatures it trains at in global ``step``, ``progress`` epochs in.

    The schedule's (``config.temperature``), then each logic layer's hardening
    ramp (``train.harden_ramp_epochs``) on top; ``progress`` is fractional
    (``epoch + batch / batches``, 0-based epoch).
    """
    from bitlogic.schedules import set_temperature

    t = config.train
    set_temperature(model, temperature(step), config.temperature.target)
    if t.harden_ramp_epochs:  # the tables' temperature: scheduled, or fixed at start
        base = (config.temperature.start if config.temperature.target == "connections"
                else temperature(step))
        ramp_temperatures(model, t.harden_epochs, t.harden_ramp_epochs, t.harden_ramp_factor,
                          progress, base)


@dataclass(frozen=True)
class EpochResult:
    """What :func:`train_epoch` measured, averaged over every rank's samples.

    Attributes:
        loss: mean training cross-entropy.
        accuracy: training accuracy of the soft (continuous) model.
        step: the global step after the epoch.
    """

    loss: float
    accuracy: float
    step: int


def train_epoch(
    net: nn.Module,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    *,
    config: RunConfig,
    epoch: int,
    step: int,
    temperature: TemperatureSchedule,
    feature_shape: tuple[int, ...],
    ctx: D.DistContext,
    bar: Any,
    fronts: FrontCache | None = None,
) -> EpochResult:
    """Run (0-based) ``epoch`` of ``config``: one optimizer step per batch of this rank.

    Args:
        net: ``model`` as the step calls it (wrapped for data parallelism, or itself).
        model: the model whose temperature is set before each step.
        optimizer: its learning rate is set to :func:`lr_at` first.
        train_x: ``(samples, features)`` training inputs, on ``ctx.device``.
        train_y: ``(samples,)`` class labels, on ``ctx.device``.
        config: the run config (``train``, ``temperature``, ``lr_schedule``).
        epoch: the epoch's 0-based index; with ``train.seed`` it fixes the batch order.
        step: the global step before the epoch.
        temperature: the temperature schedule, called with the global step.
        feature_shape: shape of one sample, for the image augmentations.
        ctx: the distributed context (device, rank, world size).
        bar: a tqdm progress bar, advanced by every rank's samples.
        fronts: runs the layers that hardening froze on the packed engine
            (same bits, faster); ``None``: the float forward throughout.
    """
    t = config.train
    harden_for_epoch(model, t.harden_epochs, epoch)
    front = fronts.get(model, ctx.device) if fronts is not None else None
    lr = lr_at(config, epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr
    batches = D.epoch_batches(train_x.shape[0], t.batch_size, epoch, t.seed, ctx,
                              t.max_steps_per_epoch)
    model.train()
    totals = torch.zeros(3, dtype=torch.float64)  # loss sum, correct, samples
    for i, idx in enumerate(batches):
        set_step_temperatures(model, config, temperature, step, epoch + i / len(batches))
        idx = idx.to(ctx.device)
        xb, yb = train_x[idx], train_y[idx]
        if t.shift_pixels:
            xb = random_shift(xb, feature_shape, t.shift_pixels)
        if t.flip:
            xb = random_flip(xb, feature_shape)
        if t.cutout:
            xb = random_cutout(xb, feature_shape, t.cutout)
        scores = front.forward_model(xb) if front is not None else net(xb)
        loss = F.cross_entropy(scores, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        totals += torch.tensor([float(loss.detach()) * len(idx),
                                float((scores.argmax(1) == yb).sum()), len(idx)],
                               dtype=torch.float64)
        bar.update(len(idx) * ctx.world_size)
        bar.set_postfix(epoch=epoch + 1, loss=f"{float(loss.detach()):.4f}", refresh=False)
    if ctx.distributed:
        totals = totals.to(ctx.device)
        torch.distributed.all_reduce(totals)
        totals = totals.cpu()
    return EpochResult(float(totals[0] / totals[2]), float(totals[1] / totals[2]), step)
