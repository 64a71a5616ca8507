"""The named choices of a training config: encoders, optimizers, LR schedules.

Each family is one :class:`~bitlogic.registry.Registry`; ``config.validate``
checks ``encoder.kind``, ``optimizer.kind`` and ``lr_schedule.kind`` against
its ``names()``, and the model and the loop build through it, so registering a
new entry is all it takes to make a kind usable. Torch is imported inside the
builders only, so :mod:`bitlogic.train.config` stays light to import.

Example:
    >>> sorted(OPTIMIZERS)
    ['adam', 'adamw', 'sgd']
    >>> from bitlogic.train.config import LRScheduleConfig
    >>> step = LRScheduleConfig("step", step_epochs=10, gamma=0.5)
    >>> LR_SCHEDULES.get("step")(step, 0.1, epoch=20, epochs=30)
    0.025
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bitlogic.registry import Registry

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .config import EncoderConfig, LRScheduleConfig, OptimizerConfig

# kind -> build(encoder section, fit_x or None) -> module, or None for raw bits.
ENCODERS: Registry[Callable[..., Any]] = Registry("encoder kind", ValueError)
# kind -> build(optimizer section, trainable params) -> torch optimizer.
OPTIMIZERS: Registry[Callable[..., Any]] = Registry("optimizer kind", ValueError)
# kind -> lr(lr_schedule section, base lr, 0-based epoch, total epochs) -> float.
LR_SCHEDULES: Registry[Callable[..., float]] = Registry("lr schedule kind", ValueError)


# -- encoders --------------------------------------------------------------------


@ENCODERS.register("none")
def _no_encoder(enc: EncoderConfig, fit_x: torch.Tensor | None = None) -> None:
    return None


@ENCODERS.register("thermometer")
def _thermometer(enc: EncoderConfig, fit_x: torch.Tensor | None = None) -> nn.Module:
    from bitlogic.layers import Thermometer

    return Thermometer(enc.thresholds, low=enc.low, high=enc.high)


@ENCODERS.register("distributive")
def _distributive(enc: EncoderConfig, fit_x: torch.Tensor | None = None) -> nn.Module:
    from bitlogic.layers import DistributiveThermometer

    encoder = DistributiveThermometer(enc.thresholds, per_feature=enc.per_feature)
    if fit_x is not None:  # None when the thresholds come from a checkpoint
        encoder.fit(fit_x)
    return encoder


# -- optimizers --------------------------------------------------------------------


def _fused(params: list[torch.nn.Parameter]) -> bool | None:
    # The fused step is one pass over each parameter: 6.6x faster than the default
    # multi-tensor step on the 28M routing logits of mnist-dwn (CPU, 2 threads).
    import torch

    ok = all(p.device.type in ("cpu", "cuda") and p.dtype == torch.float32 for p in params)
    return ok or None


@OPTIMIZERS.register("adamw")
def _adamw(o: OptimizerConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    import torch

    return torch.optim.AdamW(params, lr=o.lr, betas=tuple(o.betas),
                             weight_decay=o.weight_decay, fused=_fused(params))


@OPTIMIZERS.register("adam")
def _adam(o: OptimizerConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    import torch

    return torch.optim.Adam(params, lr=o.lr, betas=tuple(o.betas),
                            weight_decay=o.weight_decay, fused=_fused(params))


@OPTIMIZERS.register("sgd")
def _sgd(o: OptimizerConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    import torch

    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)


# -- learning-rate schedules ---------------------------------------------------------


@LR_SCHEDULES.register("constant")
def _constant_lr(s: LRScheduleConfig, base: float, epoch: int, epochs: int) -> float:
    return base


@LR_SCHEDULES.register("step")
def _step_lr(s: LRScheduleConfig, base: float, epoch: int, epochs: int) -> float:
    return base * s.gamma ** (epoch // s.step_epochs)


@LR_SCHEDULES.register("cosine")
def _cosine_lr(s: LRScheduleConfig, base: float, epoch: int, epochs: int) -> float:
    frac = epoch / max(1, epochs)
    return s.min_lr + (base - s.min_lr) * 0.5 * (1 + math.cos(math.pi * frac))
