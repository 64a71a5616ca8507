"""Layers: logic layers, GroupSum, input encoders and ternary (BitLinear) layers."""

from .bitlinear import BitLinear
from .dense import LogicDense
from .encoders import DistributiveThermometer, Thermometer, thermometer_encode
from .groupsum import GroupSum
from .multi_ternary_linear import MultiTernaryLinear
from .packed_bitlinear import PackedBitLinear
from .quantize_model import QuantizationReport, quantize_model

__all__ = [
    # logic networks
    "LogicDense",
    "GroupSum",
    "Thermometer",
    "DistributiveThermometer",
    "thermometer_encode",
    # ternary layers
    "BitLinear",
    "MultiTernaryLinear",
    "PackedBitLinear",
    "quantize_model",
    "QuantizationReport",
]
