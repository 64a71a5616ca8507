"""``to_netlist``: freeze a trained model into a :class:`~bitlogic.netlist.LogicNetlist`.

This is the only place that reads layer classes on the deployment side; the
backends see the netlist alone. Each module kind between the encoder and
GroupSum has one small *freeze step* (``module -> FrozenModule``), found by
type in ``FREEZE_STEPS``; a new layer kind is frozen by registering its step
with :func:`register_freeze_step`, not by editing :func:`to_netlist`.

Image layers (``LogicConv2d``, ``OrPool2d``, ``nn.Flatten``) need the
activation's layout, so their steps live in :mod:`bitlogic.layers.conv_freeze`
as ``(module, where) -> (layers, where)``: ``where`` holds, for every value
of one sample's current activation (shape ``(N,)`` or ``(C, H, W)``), its
position in the current netlist level. :func:`to_netlist` threads it through
every module; a registered (flat) step's first layer is re-pointed through
``where`` (:func:`~bitlogic.layers.conv_freeze.remap_flat`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from bitlogic.netlist.ir import InputEncoding, LogicNetlist, NetlistLayer
from bitlogic.netlist.scaling import InputScaling

from . import conv_freeze
from .dense import LogicDense
from .encoders import DistributiveThermometer, Thermometer
from .groupsum import GroupSum

_ENCODERS = (Thermometer, DistributiveThermometer)
_PASS_THROUGH = (nn.Flatten, nn.Identity)


@dataclass
class FrozenModule:
    """What one module contributes to the netlist.

    Attributes:
        in_width: bits the module reads (the previous level's width).
        layers: its LUT layers, in order (one or more).
        metadata: per-module facts; each key becomes a JSON list over the
            modules that set it in the netlist's metadata (``parametrizations``,
            ``connections``).
    """

    in_width: int
    layers: list[NetlistLayer]
    metadata: dict[str, str] = field(default_factory=dict)


FreezeStep = Callable[[nn.Module], FrozenModule]

FREEZE_STEPS: dict[type[nn.Module], FreezeStep] = {}
"""Module type -> its freeze step; filled by :func:`register_freeze_step`."""


def register_freeze_step(kind: type[nn.Module]) -> Callable[[FreezeStep], FreezeStep]:
    """Decorator: ``fn(module) -> FrozenModule`` freezes modules of type ``kind``.

    Subclasses of ``kind`` use the same step unless they register their own.

    Raises:
        ValueError: ``kind`` already has a step.
    """
    def add(fn: FreezeStep) -> FreezeStep:
        if kind in FREEZE_STEPS:
            raise ValueError(f"a freeze step for {kind.__name__} is already registered")
        FREEZE_STEPS[kind] = fn
        return fn

    return add


def freeze_step_for(module: nn.Module) -> FreezeStep | None:
    """The registered step for ``module``'s type (or its nearest base), else ``None``."""
    for cls in type(module).__mro__:
        if cls in FREEZE_STEPS:
            return FREEZE_STEPS[cls]
    return None


@register_freeze_step(LogicDense)
def freeze_dense(layer: LogicDense) -> FrozenModule:
    """One :class:`NetlistLayer` with the layer's connections and hard truth tables."""
    netlist_layer = NetlistLayer(
        indices=layer.export_indices().cpu().numpy().astype(np.int32),
        luts=layer.export_luts().cpu().numpy().astype(np.uint8),
    )
    metadata = {
        "parametrizations": type(layer.parametrization).__name__,
        "connections": type(layer.connections).__name__,
    }
    return FrozenModule(int(layer.in_dim), [netlist_layer], metadata)


def to_netlist(model: nn.Module, input_shape: tuple[int, ...] | None = None,
               input_scaling: InputScaling | None = None) -> LogicNetlist:
    """Freeze ``model`` into a validated netlist equal to ``model.eval()`` bit for bit.

    Accepted shape: ``nn.Sequential(``[``nn.Flatten``], [``Thermometer`` |
    ``DistributiveThermometer``], ``LogicDense``, ..., ``GroupSum)``, where
    every module between the encoder and GroupSum has a registered freeze
    step. Without an encoder the netlist's inputs are the model's (binary)
    input features.

    Image models (``[encoder], LogicConv2d | OrPool2d ..., nn.Flatten(),
    LogicDense ..., GroupSum``) need ``input_shape``, one sample's
    ``(C, H, W)``, unless they start with ``nn.Unflatten(1, (C, H, W))`` (as
    the trainer's conv models do); the netlist then reads the features
    flattened C-major (``x.flatten(1)``).

    Args:
        model: the ``nn.Sequential`` (or a module wrapping one as ``.net``).
        input_shape: one sample's shape; inferred as ``(features,)`` from the
            first layer when omitted.
        input_scaling: how the data loader scaled the raw features the model
            was trained on (``Dataset.scaling``); stored in the encoding so the
            netlist takes raw features. ``None``: the netlist takes scaled ones.

    Raises:
        TypeError: a module that has no discrete meaning, or a missing GroupSum.
        ValueError: an unfitted encoder, inconsistent widths, an image
            model without ``input_shape``, or an ``input_scaling`` without an
            encoder or for another number of features.

    Example:
        >>> from torch import nn
        >>> from bitlogic.layers import GroupSum, LogicDense
        >>> model = nn.Sequential(LogicDense(8, 6, "warp", 2), GroupSum(2)).eval()
        >>> to_netlist(model).num_gates
        6
    """
    modules = _modules_of(model)
    if not modules or not isinstance(modules[-1], GroupSum):
        raise TypeError("to_netlist needs the model to end with a GroupSum layer")
    group_sum = modules.pop()
    body = _freeze_body(modules, input_shape, input_scaling)
    return LogicNetlist(
        num_inputs=body.num_inputs,
        layers=body.layers,
        num_classes=group_sum.k,
        tau=group_sum.tau,
        encoding=body.encoding,
        metadata=body.metadata,
    ).validate()


def to_bit_netlist(modules: list[nn.Module], input_shape: tuple[int, ...] | None = None
                   ) -> tuple[LogicNetlist, np.ndarray]:
    """Freeze the front of a model (no GroupSum) into a netlist whose counts are its bits.

    ``modules`` is what :func:`to_netlist` accepts before the GroupSum. The
    netlist's GroupSum has one class per bit of the last level (``tau`` 1), so
    its counts are the modules' output bits (``PackedLogicNet.last_bits``
    returns them as float32, in any order).

    Returns:
        ``(netlist, where)``: ``where`` has the shape of one sample's output
        (``(C, H, W)`` or ``(N,)``) and holds each value's class index.
    """
    body = _freeze_body(list(modules), input_shape, None)
    width = body.layers[-1].n_out
    netlist = LogicNetlist(num_inputs=body.num_inputs, layers=body.layers, num_classes=width,
                           tau=1.0, encoding=body.encoding, metadata=body.metadata).validate()
    return netlist, body.where


@dataclass
class _FrozenBody:
    """Everything of a netlist but its GroupSum (see :func:`_freeze_body`)."""

    num_inputs: int
    layers: list[NetlistLayer]
    encoding: InputEncoding | None
    metadata: dict[str, str]
    where: np.ndarray


def _freeze_body(modules: list[nn.Module], input_shape: tuple[int, ...] | None,
                 input_scaling: InputScaling | None) -> _FrozenBody:
    """Freeze ``[pass-through...], [encoder], logic modules...`` (consumes ``modules``)."""
    shape = None if input_shape is None else tuple(int(n) for n in input_shape)
    while modules and isinstance(modules[0], (*_PASS_THROUGH, nn.Unflatten)):
        shape = _reshape_features(modules.pop(0), shape)  # before the encoder: features
    encoder = modules.pop(0) if modules and isinstance(modules[0], _ENCODERS) else None
    if all(isinstance(m, _PASS_THROUGH) for m in modules):
        raise TypeError("to_netlist needs at least one logic layer (e.g. LogicDense)")
    if shape is None:
        shape = _flat_input_shape(modules, encoder)
    encoding, where = (conv_freeze.freeze_encoder(encoder, shape) if encoder is not None
                       else (None, conv_freeze.input_where(shape)))
    if input_scaling is not None:
        if encoding is None:
            raise ValueError("input_scaling needs a model with an input encoder: without one "
                             "the netlist reads bits, which are not scaled")
        encoding = InputEncoding(encoding.thresholds, input_scaling).validate()
    num_inputs = int(where.size)
    frozen, summary = [], []
    for i, module in enumerate(modules):
        f, where = _freeze_module(i, module, where)
        frozen.append(f)
        if f.layers:  # Flatten and Identity add no LUTs; info lists the logic modules
            summary.append({"module": type(module).__name__,
                            "output_shape": [int(n) for n in where.shape],
                            "netlist_layers": len(f.layers),
                            "luts": sum(layer.n_out for layer in f.layers)})
    metadata = _collect_metadata(frozen)
    metadata["modules"] = json.dumps(summary)
    return _FrozenBody(num_inputs, [layer for f in frozen for layer in f.layers], encoding,
                       metadata, where)


def _reshape_features(module: nn.Module, shape: tuple[int, ...] | None
                      ) -> tuple[int, ...] | None:
    """One sample's shape after a leading ``Flatten``/``Unflatten``/``Identity``."""
    if isinstance(module, nn.Flatten):
        return None if shape is None else (int(np.prod(shape)),)
    if not isinstance(module, nn.Unflatten):
        return shape
    if module.dim != 1:
        raise ValueError(f"only nn.Unflatten(1, shape) can be frozen, got dim={module.dim}")
    image = tuple(int(n) for n in module.unflattened_size)
    if shape is not None and int(np.prod(shape)) != int(np.prod(image)):
        raise ValueError(f"input_shape={shape} does not match the model's "
                         f"nn.Unflatten(1, {image})")
    return image


def _flat_input_shape(modules: list[nn.Module], encoder: nn.Module | None) -> tuple[int]:
    """``(features,)`` read by the first logic layer (without ``input_shape``)."""
    first = next(m for m in modules if not isinstance(m, _PASS_THROUGH))
    if conv_freeze.freeze_step(first) is not None:
        raise ValueError(f"{type(first).__name__} needs the image size: pass "
                         f"to_netlist(model, input_shape=(C, H, W))")
    width = _freeze_module(0, first, None)[0].in_width
    if encoder is None:
        return (width,)
    t = encoder.num_thresholds
    if width % t:
        raise ValueError(
            f"the first layer's input width {width} is not a multiple of the encoder's "
            f"num_thresholds={t}"
        )
    return (width // t,)


def _freeze_module(position: int, module: nn.Module, where: np.ndarray | None
                   ) -> tuple[FrozenModule, np.ndarray | None]:
    layout_step = conv_freeze.freeze_step(module)
    if layout_step is not None:  # image layers and Flatten: they read the layout
        layers, new_where = layout_step(module, where)
        return FrozenModule(int(where.size), layers, conv_freeze.freeze_metadata(module)), \
            new_where
    step = freeze_step_for(module)
    if step is None:
        kinds = [k.__name__ for k in FREEZE_STEPS] + [k.__name__ for k in conv_freeze.FREEZE_STEPS]
        raise TypeError(
            f"module {position} ({type(module).__name__}) cannot be frozen; between the "
            f"encoder and GroupSum only these layers are allowed: {', '.join(kinds)}"
        )
    frozen = step(module)
    if where is None:  # only asked for its input width
        return frozen, None
    if frozen.in_width != where.size:
        raise ValueError(
            f"module {position} ({type(module).__name__}) reads {frozen.in_width} bits "
            f"but the module before it produces {where.size}"
        )
    frozen.layers, where = conv_freeze.remap_flat(frozen.layers, where)
    return frozen, where


def _collect_metadata(frozen: list[FrozenModule]) -> dict[str, str]:
    keys = dict.fromkeys(key for f in frozen for key in f.metadata)  # first-seen order
    return {key: json.dumps([f.metadata[key] for f in frozen if key in f.metadata])
            for key in keys}


def _modules_of(model: nn.Module) -> list[nn.Module]:
    if isinstance(model, nn.Sequential):
        return list(model)
    inner = getattr(model, "net", None)  # models that wrap a Sequential as ``.net``
    if isinstance(inner, nn.Sequential):
        return list(inner)
    raise TypeError(
        f"to_netlist expects an nn.Sequential of [encoder] -> logic layers... -> GroupSum, "
        f"got {type(model).__name__}"
    )
