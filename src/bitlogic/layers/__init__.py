"""Layers: logic layers, GroupSum, input encoders, ``to_netlist`` and ternary (BitLinear) layers."""

from bitlogic.ternary import (  # the ternary layers live in bitlogic.ternary
    BitLinear,
    MultiTernaryLinear,
    PackedBitLinear,
    QuantizationReport,
    quantize_model,
)

from .conv import LogicConv2d
from .dense import LogicDense
from .encoders import DistributiveThermometer, Thermometer, thermometer_encode
from .freeze import to_netlist
from .groupsum import GroupSum
from .pool import OrPool2d

__all__ = [
    # logic networks
    "LogicDense",
    "LogicConv2d",
    "OrPool2d",
    "GroupSum",
    "Thermometer",
    "DistributiveThermometer",
    "thermometer_encode",
    # freezing into a netlist
    "to_netlist",
    # ternary layers
    "BitLinear",
    "MultiTernaryLinear",
    "PackedBitLinear",
    "quantize_model",
    "QuantizationReport",
]
