"""The seed's import path for the ternary quantizers (see :mod:`bitlogic.ternary.quantize`)."""

from bitlogic.ternary.quantize import (
    SCALE_EPS,
    activation_qmax,
    quantize_activations,
    weight_to_ternary,
)

__all__ = ["SCALE_EPS", "activation_qmax", "quantize_activations", "weight_to_ternary"]
