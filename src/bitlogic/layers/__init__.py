"""Layers: logic layers, GroupSum and input encoders."""

from .dense import LogicDense
from .encoders import DistributiveThermometer, Thermometer, thermometer_encode
from .groupsum import GroupSum

__all__ = [
    "LogicDense",
    "GroupSum",
    "Thermometer",
    "DistributiveThermometer",
    "thermometer_encode",
]
