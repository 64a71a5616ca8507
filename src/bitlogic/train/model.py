"""Build the network a config describes.

Dense models are ``[encoder] -> LogicDense... -> GroupSum``; image models
(``model.conv`` non-empty) are ``Unflatten(C, H, W) -> [encoder] ->
(LogicConv2d [-> OrPool2d])... -> Flatten -> LogicDense... -> GroupSum``,
so both take the flat ``(batch, features)`` rows the trainer feeds. The
result is a plain ``nn.Sequential`` so that :func:`bitlogic.layers.to_netlist`
freezes it without adapters.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ConfigError, RunConfig
from .families import ENCODERS

# Keys of one ``model.conv`` block and their defaults (None: the model section's value);
# any other key is a LogicConv2d keyword argument (weight_init, forward_sampling, ...).
CONV_BLOCK_KEYS = {"channels": None, "kernel_size": 3, "stride": 1, "padding": 1,
                   "tree_depth": 2, "lut_rank": None, "parametrization": None,
                   "connections": "fixed", "pool": 2}


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


def conv_blocks(config: RunConfig, channels: int, height: int, width: int
                ) -> tuple[list[nn.Module], tuple[int, int, int]]:
    """The ``model.conv`` blocks for ``(channels, height, width)`` encoded images.

    Returns:
        The modules (``LogicConv2d`` and ``OrPool2d``, in order) and the
        ``(C, H, W)`` shape they output.

    Raises:
        ConfigError: an unknown block key, a missing ``channels``, or sizes the
            layers reject (the message names the block).
    """
    from bitlogic.layers import LogicConv2d, OrPool2d

    m = config.model
    modules: list[nn.Module] = []
    for i, block in enumerate(m.conv):
        key = f"model.conv[{i}]"
        if "channels" not in block:
            raise ConfigError(f"{key} needs 'channels'; its keys are {list(CONV_BLOCK_KEYS)} "
                              f"and LogicConv2d keyword arguments, got {sorted(block)}")
        b = {**CONV_BLOCK_KEYS, "lut_rank": m.lut_rank, "parametrization": m.parametrization,
             **block}
        pool = b.pop("pool")
        try:
            conv = LogicConv2d(channels, b.pop("channels"), temperature=config.temperature.start,
                               **b)
            height, width = conv.output_size(height, width)
            modules.append(conv)
            channels = conv.out_channels
            if pool not in (0, 1):
                modules.append(OrPool2d(pool))
                height, width = modules[-1].output_size(height, width)
        except (TypeError, ValueError, KeyError) as err:
            raise ConfigError(f"cannot build {key} for {channels} x {height} x {width} "
                              f"inputs: {err}") from None
    return modules, (channels, height, width)


def build_model(
    config: RunConfig,
    num_features: int,
    num_classes: int,
    fit_x: torch.Tensor | None = None,
    feature_shape: tuple[int, ...] | None = None,
) -> nn.Sequential:
    """Construct the model; consumes the torch RNG (connections and weight init).

    Args:
        config: the run config.
        num_features: raw input features per sample.
        num_classes: GroupSum groups.
        fit_x: ``(n, num_features)`` training inputs for a ``distributive``
            encoder (see :func:`build_encoder`).
        feature_shape: one sample's ``(C, H, W)``; required by conv models.

    Raises:
        ConfigError: a last width not divisible by ``num_classes``, a conv model
            without an image ``feature_shape``, or layer options the layers reject.
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
    if m.conv:
        shape = tuple(int(n) for n in feature_shape or ())
        if len(shape) != 3 or shape[0] * shape[1] * shape[2] != num_features:
            raise ConfigError(f"model.conv needs images of shape (C, H, W) with {num_features} "
                              f"features, got feature_shape={feature_shape}")
        modules.append(nn.Unflatten(1, shape))
        if fit_x is not None:
            fit_x = fit_x.reshape(-1, *shape)
    encoder = build_encoder(config, fit_x)
    if encoder is not None:
        modules.append(encoder)
    if m.conv:
        bits_per_value = 1 if encoder is None else config.encoder.thresholds
        convs, (c, h, w) = conv_blocks(config, shape[0] * bits_per_value, shape[1], shape[2])
        modules += [*convs, nn.Flatten()]
        width = c * h * w
    else:
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
    """Learned parameters (connection logits included), frozen ones too.

    Layers hardened at the end of training (:mod:`bitlogic.train.harden`) stop
    requiring gradients but remain the model's parameters.
    """
    return sum(p.numel() for p in model.parameters())


def count_neurons(model: nn.Module) -> int:
    """Trained LUTs: dense neurons plus conv tree nodes (each shared by every position)."""
    from bitlogic.layers import LogicConv2d, LogicDense

    total = 0
    for module in model.modules():
        if isinstance(module, LogicDense):
            total += int(module.out_dim)
        elif isinstance(module, LogicConv2d):
            total += sum(module.level_sizes)
    return total
