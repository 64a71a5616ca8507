"""``to_netlist``: freeze a trained model into a :class:`LogicNetlist`.

This is the only place that reads layer classes on the deployment side; the
backends see the netlist alone.
"""

from __future__ import annotations

import json

import numpy as np
from torch import nn

from ..layers import DistributiveThermometer, GroupSum, LogicDense, Thermometer
from .ir import InputEncoding, LogicNetlist, NetlistLayer

_ENCODERS = (Thermometer, DistributiveThermometer)
_PASS_THROUGH = (nn.Flatten, nn.Identity)


def _modules_of(model: nn.Module) -> list[nn.Module]:
    if isinstance(model, nn.Sequential):
        return list(model)
    inner = getattr(model, "net", None)  # models that wrap a Sequential as ``.net``
    if isinstance(inner, nn.Sequential):
        return list(inner)
    raise TypeError(
        f"to_netlist expects an nn.Sequential of [encoder] -> LogicDense... -> GroupSum, "
        f"got {type(model).__name__}"
    )


def to_netlist(model: nn.Module) -> LogicNetlist:
    """Freeze ``model`` into a validated netlist equal to ``model.eval()`` bit for bit.

    Accepted shape: ``nn.Sequential(``[``nn.Flatten``], [``Thermometer`` |
    ``DistributiveThermometer``], ``LogicDense``, ..., ``GroupSum)``. Without
    an encoder the netlist's inputs are the model's (binary) input features.

    Raises:
        TypeError: a module that has no discrete meaning, or a missing GroupSum.
        ValueError: an unfitted encoder or inconsistent widths.
    """
    modules = [m for m in _modules_of(model) if not isinstance(m, _PASS_THROUGH)]
    encoder = modules.pop(0) if modules and isinstance(modules[0], _ENCODERS) else None
    if not modules or not isinstance(modules[-1], GroupSum):
        raise TypeError("to_netlist needs the model to end with a GroupSum layer")
    group_sum = modules.pop()
    dense = []
    for i, module in enumerate(modules):
        if not isinstance(module, LogicDense):
            raise TypeError(
                f"module {i} ({type(module).__name__}) cannot be frozen; between the encoder "
                f"and GroupSum only LogicDense layers are allowed"
            )
        dense.append(module)
    if not dense:
        raise TypeError("to_netlist needs at least one LogicDense layer")

    encoding = None
    num_inputs = dense[0].in_dim
    if encoder is not None:
        if isinstance(encoder, DistributiveThermometer) and not encoder.fitted:
            raise ValueError("the DistributiveThermometer is not fitted; call .fit() first")
        t = encoder.num_thresholds
        if num_inputs % t:
            raise ValueError(
                f"first LogicDense in_dim={num_inputs} is not a multiple of the encoder's "
                f"num_thresholds={t}"
            )
        thresholds = encoder.thresholds_matrix(num_inputs // t).detach().cpu().numpy()
        encoding = InputEncoding(np.ascontiguousarray(thresholds, dtype=np.float32))

    layers = [
        NetlistLayer(
            indices=layer.export_indices().cpu().numpy().astype(np.int32),
            luts=layer.export_luts().cpu().numpy().astype(np.uint8),
        )
        for layer in dense
    ]
    metadata = {
        "parametrizations": json.dumps([type(d.parametrization).__name__ for d in dense]),
        "connections": json.dumps([type(d.connections).__name__ for d in dense]),
    }
    netlist = LogicNetlist(
        num_inputs=num_inputs,
        layers=layers,
        num_classes=group_sum.k,
        tau=group_sum.tau,
        encoding=encoding,
        metadata=metadata,
    )
    return netlist.validate()
