"""Pure tensor functions: basis folds, samplers, ternary (BitLinear) math."""

from .bases import (
    VALID_RANKS,
    corner_inputs,
    indicator_fold,
    walsh_fold,
    weighted_indicator_basis_sum,
)
from .bitlinear import (
    activation_quant,
    bitlinear_python,
    decomposition_error,
    greedy_ternary_decomposition,
    multi_ternary_linear_python,
    refit_ternary_gammas,
)
from .bitlinear_int import bitlinear_forward, rms_norm
from .sampling import (
    VALID_SAMPLING,
    gumbel_noise,
    logistic_noise,
    sample_sigmoid,
    sample_softmax,
    straight_through,
)
from .ternary_kernel import packed_ternary_linear
from .ternary_packing import pack_ternary, unpack_ternary

__all__ = [
    # LUT bases
    "VALID_RANKS",
    "corner_inputs",
    "indicator_fold",
    "walsh_fold",
    "weighted_indicator_basis_sum",
    # samplers
    "VALID_SAMPLING",
    "gumbel_noise",
    "logistic_noise",
    "sample_sigmoid",
    "sample_softmax",
    "straight_through",
    # ternary / BitLinear
    "activation_quant",
    "bitlinear_python",
    "bitlinear_forward",
    "decomposition_error",
    "greedy_ternary_decomposition",
    "multi_ternary_linear_python",
    "refit_ternary_gammas",
    "rms_norm",
    "pack_ternary",
    "unpack_ternary",
    "packed_ternary_linear",
]
