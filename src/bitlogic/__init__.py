"""bitlogic: logic-gate and LUT neural networks, trained in PyTorch, deployed bit-exactly.

Train a continuous relaxation (:mod:`bitlogic.layers`), freeze it with
:func:`to_netlist`, run it with :class:`PackedLogicNet` or emit C / Verilog
(:mod:`bitlogic.backends`). Compiled kernels are built lazily on first use,
so importing the package compiles nothing and never touches a GPU.

The names below are imported on first use (PEP 562): ``import bitlogic``
alone loads neither torch nor the backends, so a deployment that only needs
:mod:`bitlogic.netlist` and :mod:`bitlogic.backends` runs without PyTorch.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first access)
_EXPORTS: dict[str, str] = {
    # train: layers
    "LogicDense": "bitlogic.layers",
    "LogicConv2d": "bitlogic.layers",
    "OrPool2d": "bitlogic.layers",
    "GroupSum": "bitlogic.layers",
    "Thermometer": "bitlogic.layers",
    "DistributiveThermometer": "bitlogic.layers",
    # ternary layers
    "BitLinear": "bitlogic.layers",
    "MultiTernaryLinear": "bitlogic.layers",
    "PackedBitLinear": "bitlogic.layers",
    "quantize_model": "bitlogic.layers",
    # train: parametrizations
    "LUTParametrization": "bitlogic.parametrizations",
    "LightLUT": "bitlogic.parametrizations",
    "WarpLUT": "bitlogic.parametrizations",
    "LinearLUT": "bitlogic.parametrizations",
    "PolyLUT": "bitlogic.parametrizations",
    "NeuralLUT": "bitlogic.parametrizations",
    "DwnLUT": "bitlogic.parametrizations",
    "DiffLogicLUT": "bitlogic.parametrizations",
    "setup_parametrization": "bitlogic.parametrizations",
    "list_parametrizations": "bitlogic.parametrizations",
    # train: connections
    "Connections": "bitlogic.connections",
    "FixedDenseConnections": "bitlogic.connections",
    "LearnableDenseConnections": "bitlogic.connections",
    "setup_connections": "bitlogic.connections",
    # train: temperature
    "TemperatureSchedule": "bitlogic.schedules",
    "set_temperature": "bitlogic.schedules",
    # freeze
    "to_netlist": "bitlogic.layers",
    "LogicNetlist": "bitlogic.netlist",
    "NetlistLayer": "bitlogic.netlist",
    "InputEncoding": "bitlogic.netlist",
    # run
    "PackedLogicNet": "bitlogic.backends",
    "emit_c": "bitlogic.backends",
    "emit_verilog": "bitlogic.backends",
    "synth_report": "bitlogic.backends",
}

__all__ = list(_EXPORTS)

if TYPE_CHECKING:  # static analysers and IDEs see the real definitions (re-exports)
    from bitlogic.backends import PackedLogicNet, emit_c, emit_verilog, synth_report  # noqa: F401
    from bitlogic.connections import (  # noqa: F401
        Connections,
        FixedDenseConnections,
        LearnableDenseConnections,
        setup_connections,
    )
    from bitlogic.layers import (  # noqa: F401
        BitLinear,
        DistributiveThermometer,
        GroupSum,
        LogicConv2d,
        LogicDense,
        MultiTernaryLinear,
        OrPool2d,
        PackedBitLinear,
        Thermometer,
        quantize_model,
        to_netlist,
    )
    from bitlogic.netlist import InputEncoding, LogicNetlist, NetlistLayer  # noqa: F401
    from bitlogic.parametrizations import (  # noqa: F401
        DiffLogicLUT,
        DwnLUT,
        LightLUT,
        LinearLUT,
        LUTParametrization,
        NeuralLUT,
        PolyLUT,
        WarpLUT,
        list_parametrizations,
        setup_parametrization,
    )
    from bitlogic.schedules import TemperatureSchedule, set_temperature  # noqa: F401


def __getattr__(name: str) -> Any:
    """Import a public name (or a subpackage such as ``bitlogic.layers``) on first use."""
    module_name = _EXPORTS.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")  # binds itself as an attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
