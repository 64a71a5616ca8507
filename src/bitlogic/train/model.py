"""Build the network a config describes: ``[encoder] -> LogicDense... -> GroupSum``.

The result is a plain ``nn.Sequential`` so that
:func:`bitlogic.netlist.to_netlist` freezes it without adapters.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ConfigError, RunConfig
from .families import ENCODERS


def build_encoder(config: RunConfig, fit_x: torch.Tensor | None = None) -> nn.Module | None:
    """The input encoder, fitted on ``fit_x`` when it learns thresholds.

    Args:
        config: the run config (``encoder`` section; ``kind`` names an entry of
            :data:`~bitlogic.train.families.ENCODERS`).
        fit_x: ``(n, features)`` training inputs; required by ``distributive``
            unless the thresholds will be loaded from a checkpoint.

    Returns:
        The encoder module, or ``None`` for ``encoder.kind: none``.
    """
    return ENCODERS.build(config.encoder.kind, config.encoder, fit_x)


def input_bits(config: RunConfig, num_features: int) -> int:
    """Width of the first logic layer's input for ``num_features`` raw features.

    Every encoder but ``none`` writes ``encoder.thresholds`` bits per feature.
    """
    if config.encoder.kind == "none":
        return num_features
    return num_features * config.encoder.thresholds


def build_model(
    config: RunConfig,
    num_features: int,
    num_classes: int,
    fit_x: torch.Tensor | None = None,
) -> nn.Sequential:
    """Construct the model; consumes the torch RNG (connections and weight init).

    Args:
        config: the run config.
        num_features: raw input features per sample.
        num_classes: GroupSum groups.
        fit_x: training inputs for a ``distributive`` encoder (see :func:`build_encoder`).

    Raises:
        ConfigError: a last width not divisible by ``num_classes``, or layer
            options that ``LogicDense`` rejects.
    """
    from bitlogic.layers import GroupSum, LogicDense

    m = config.model
    if m.widths[-1] % num_classes:
        raise ConfigError(
            f"model.widths[-1]={m.widths[-1]} must be divisible by the {num_classes} classes "
            f"of dataset {config.dataset.name!r}"
        )
    kinds = [m.connections] * len(m.widths) if isinstance(m.connections, str) else m.connections
    modules: list[nn.Module] = []
    encoder = build_encoder(config, fit_x)
    if encoder is not None:
        modules.append(encoder)
    width = input_bits(config, num_features)
    for out_dim, kind in zip(m.widths, kinds, strict=True):
        try:
            layer = LogicDense(
                width,
                out_dim,
                parametrization=m.parametrization,
                lut_rank=m.lut_rank,
                temperature=config.temperature.start,
                connections=kind,
                init_method=m.init_method,
                **m.options,
            )
        except (TypeError, ValueError, KeyError) as err:
            raise ConfigError(f"cannot build LogicDense({width}, {out_dim}) from the model "
                              f"section: {err}") from None
        modules.append(layer)
        width = out_dim
    modules.append(GroupSum(num_classes, tau=m.tau))
    return nn.Sequential(*modules)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (connection logits included)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
