"""Parametrizations: "what is the LUT" half of a logic layer."""

from .base import VALID_RANKS, LUTParametrization
from .difflogic import DiffLogicLUT
from .dwn import DwnLUT
from .light import LightLUT
from .linear import LinearLUT
from .neurallut import NeuralLUT
from .polylut import PolyLUT
from .registry import list_parametrizations, register_parametrization, setup_parametrization
from .warp import WarpLUT

__all__ = [
    "VALID_RANKS",
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
    "register_parametrization",
]
