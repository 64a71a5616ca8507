"""bitlogic: logic-gate and LUT neural networks, trained in PyTorch, deployed bit-exactly.

Train a continuous relaxation (:mod:`bitlogic.layers`), freeze it with
:func:`to_netlist`, run it with :class:`PackedLogicNet` or emit C / Verilog
(:mod:`bitlogic.backends`). Compiled kernels are built lazily on first use,
so importing the package compiles nothing and never touches a GPU.
"""

from bitlogic.backends import PackedLogicNet, emit_c, emit_verilog, synth_report
from bitlogic.connections import (
    Connections,
    FixedDenseConnections,
    LearnableDenseConnections,
    setup_connections,
)
from bitlogic.layers import (
    BitLinear,
    DistributiveThermometer,
    GroupSum,
    LogicDense,
    MultiTernaryLinear,
    PackedBitLinear,
    Thermometer,
    quantize_model,
)
from bitlogic.netlist import InputEncoding, LogicNetlist, NetlistLayer, to_netlist
from bitlogic.parametrizations import (
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
from bitlogic.schedules import TemperatureSchedule, set_temperature

__version__ = "0.1.0"

__all__ = [
    # train: layers
    "LogicDense",
    "GroupSum",
    "Thermometer",
    "DistributiveThermometer",
    # ternary layers
    "BitLinear",
    "MultiTernaryLinear",
    "PackedBitLinear",
    "quantize_model",
    # train: parametrizations
    "LUTParametrization",
    "LightLUT",
    "WarpLUT",
    "LinearLUT",
    "PolyLUT",
    "NeuralLUT",
    "DwnLUT",
    "DiffLogicLUT",
    "setup_parametrization",
    "list_parametrizations",
    # train: connections
    "Connections",
    "FixedDenseConnections",
    "LearnableDenseConnections",
    "setup_connections",
    # train: temperature
    "TemperatureSchedule",
    "set_temperature",
    # freeze
    "to_netlist",
    "LogicNetlist",
    "NetlistLayer",
    "InputEncoding",
    # run
    "PackedLogicNet",
    "emit_c",
    "emit_verilog",
    "synth_report",
]
