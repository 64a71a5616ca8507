"""Ternary (BitNet b1.58 style) layers: quantizers, reference math, packing, kernel, layers.

One concept per module:

* :mod:`~bitlogic.ternary.quantize` -- absmean weight and absmax activation quantizers.
* :mod:`~bitlogic.ternary.functional` -- the pure-PyTorch reference math
  (``bitlinear_python``, greedy ternary decomposition, ``activation_quant``).
* :mod:`~bitlogic.ternary.integer` -- the exact integer-domain BitLinear forward
  with straight-through gradients (what the layers train with).
* :mod:`~bitlogic.ternary.packing` -- the 2-bit weight layout.
* :mod:`~bitlogic.ternary.kernel` -- the packed C kernel and its PyTorch twin.
* :mod:`~bitlogic.ternary.bitlinear`, :mod:`~bitlogic.ternary.multi_ternary`,
  :mod:`~bitlogic.ternary.packed` -- the layers.
* :mod:`~bitlogic.ternary.quantize_model` -- swap every ``nn.Linear`` of a model.

The seed's import paths keep working: ``bitlogic.functional`` and
``bitlogic.quantization`` re-export the functions, ``bitlogic.layers`` the layers.
"""

from .bitlinear import BitLinear
from .functional import (
    activation_quant,
    bitlinear_python,
    decomposition_error,
    greedy_ternary_decomposition,
    multi_ternary_linear_python,
    refit_ternary_gammas,
)
from .integer import bitlinear_forward, rms_norm
from .kernel import packed_ternary_linear
from .multi_ternary import MultiTernaryLinear
from .packed import PackedBitLinear
from .packing import pack_ternary, packed_row_bytes, unpack_ternary
from .quantize import activation_qmax, quantize_activations, weight_to_ternary
from .quantize_model import LAYERS, QuantizationReport, quantize_model

__all__ = [
    # quantizers
    "weight_to_ternary",
    "quantize_activations",
    "activation_qmax",
    # reference math
    "bitlinear_python",
    "greedy_ternary_decomposition",
    "refit_ternary_gammas",
    "decomposition_error",
    "multi_ternary_linear_python",
    "activation_quant",
    # exact training forward
    "bitlinear_forward",
    "rms_norm",
    # packing and the packed kernel
    "pack_ternary",
    "unpack_ternary",
    "packed_row_bytes",
    "packed_ternary_linear",
    # layers
    "BitLinear",
    "MultiTernaryLinear",
    "PackedBitLinear",
    # model-level verb
    "quantize_model",
    "QuantizationReport",
    "LAYERS",
]
