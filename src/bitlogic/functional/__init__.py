"""Pure tensor functions: basis folds, samplers, ternary (BitLinear) math."""

# The ternary (BitLinear) functions live in bitlogic.ternary; the seed imports them from here.
from bitlogic.ternary.functional import (
    activation_quant,
    bitlinear_python,
    decomposition_error,
    greedy_ternary_decomposition,
    multi_ternary_linear_python,
    refit_ternary_gammas,
)
from bitlogic.ternary.integer import bitlinear_forward, rms_norm
from bitlogic.ternary.kernel import packed_ternary_linear
from bitlogic.ternary.packing import pack_ternary, unpack_ternary

from .bases import (
    VALID_RANKS,
    corner_inputs,
    indicator_fold,
    walsh_fold,
    weighted_indicator_basis_sum,
)
from .fused import FoldBasis, FusedKernel, FusedSpec, RoutingKind, RoutingSpec
from .sampling import (
    VALID_SAMPLING,
    RelaxedArgmax,
    Sampling,
    add_gumbel,
    gumbel_noise,
    logistic_noise,
    relaxed_argmax,
    sample_sigmoid,
    sample_softmax,
    straight_through,
)

__all__ = [
    # LUT bases
    "VALID_RANKS",
    "corner_inputs",
    "indicator_fold",
    "walsh_fold",
    "weighted_indicator_basis_sum",
    # samplers
    "Sampling",
    "VALID_SAMPLING",
    "add_gumbel",
    "gumbel_noise",
    "logistic_noise",
    "relaxed_argmax",
    "RelaxedArgmax",
    "sample_sigmoid",
    "sample_softmax",
    "straight_through",
    # descriptions read by the fused kernels
    "FusedSpec",
    "FusedKernel",
    "FoldBasis",
    "RoutingSpec",
    "RoutingKind",
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
