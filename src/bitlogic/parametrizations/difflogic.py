"""DiffLogicLUT: softmax over the 16 two-input Boolean functions (Petersen et al., 2022).

The 16-way mixture collapses to four coefficient terms: every gate is
``f(a, b) = c0 + ca a + cb b + cab a b``, so the expected output is
``P @ M`` (``(neurons, 16) @ (16, 4)``) contracted with ``[1, a, b, ab]``
instead of evaluating 16 gates.

Gate ``i`` is the function whose MSB-first truth table, read as the 4-bit
number ``f(0,0) f(0,1) f(1,0) f(1,1)``, equals ``i`` (0 = FALSE, 1 = AND,
3 = A, 5 = B, 6 = XOR, 7 = OR, 14 = NAND, 15 = TRUE: difflogic's order).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch

from ..functional.bases import indicator_fold
from ..functional.fused import FusedSpec
from ..functional.sampling import Sampling, sample_softmax
from .base import LUTParametrization
from .registry import register_parametrization

NUM_GATES = 16
PASS_A_GATE = 3


def gate_truth_tables() -> torch.Tensor:
    """``(16, 4)`` float: row ``i`` is gate ``i``'s MSB-first truth table."""
    i = torch.arange(NUM_GATES)[:, None]
    k = torch.arange(4)[None, :]
    return ((i >> (3 - k)) & 1).float()


def gate_coefficients() -> torch.Tensor:
    """``(16, 4)``: ``[c0, ca, cb, cab]`` of every gate."""
    t = gate_truth_tables()
    f00, f01, f10, f11 = t.unbind(1)
    return torch.stack([f00, f10 - f00, f01 - f00, f11 - f10 - f01 + f00], dim=1)


def expected_gate_table(
    weight: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """The sampled gate mixture as a truth table: logits ``(neurons, 16)`` -> ``(neurons, 4)``.

    Its indicator fold equals :func:`difflogic_forward` (``c0 + ca a + cb b + cab ab``
    is the multilinear interpolation of the expected gate's table).
    """
    gates = sample_softmax(weight, temperature, mode, dim=-1, noise=noise)
    return gates @ gate_truth_tables().to(gates)


def difflogic_forward(x, weight, temperature, mode, noise=None) -> torch.Tensor:
    """``(batch, 2, neurons)``, logits ``(neurons, 16)`` -> ``(batch, neurons)``.

    ``noise``: Gumbel ``(neurons, 16)`` for the gumbel modes.
    """
    probs = sample_softmax(weight, temperature, mode, dim=-1, noise=noise)
    c = probs @ gate_coefficients().to(probs)  # (neurons, 4)
    a, b = x[:, 0], x[:, 1]
    return c[:, 0] + c[:, 1] * a + c[:, 2] * b + c[:, 3] * (a * b)


@register_parametrization("difflogic")
class DiffLogicLUT(LUTParametrization):
    """DiffLogic-style softmax over the 16 two-input Boolean functions.

    Rank 2 only. Weight shape ``(num_neurons, 16)``. ``get_lut`` is the truth
    table of the argmax gate (difflogic's discretization). The soft mixture at
    a binary input need not round to the argmax gate's output, so
    ``LUT_INFERENCE_SUPPORTED`` is False; ``forward_sampling="hard"`` trains
    exactly the argmax gate in the forward pass.

    Args:
        lut_rank: must be 2.
        **kwargs: forwarded to :class:`LUTParametrization`.

    Raises:
        ValueError: if ``lut_rank != 2``.
    """

    LUT_INFERENCE_SUPPORTED = False

    def __init__(self, lut_rank: int = 2, **kwargs: Any):
        if lut_rank != 2:
            raise ValueError(
                f"DiffLogicLUT only supports lut_rank == 2 (got {lut_rank}). "
                f"Higher ranks have 2^(2^rank) truth tables."
            )
        super().__init__(lut_rank, **kwargs)

    def init_weights(self, num_neurons: int, device=None) -> torch.Tensor:
        p = self.residual_probability
        identity = torch.zeros(num_neurons, NUM_GATES, device=device)
        # softmax puts p on gate A when its logit is log(15 p / (1 - p)) above the rest.
        identity[:, PASS_A_GATE] = self.temperature * math.log((NUM_GATES - 1) * p / (1 - p))
        return self._finish_init(identity, torch.randn(num_neurons, NUM_GATES, device=device))

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return difflogic_forward(x, weight, self.temperature, self.forward_sampling)

    def fused_spec(self, training: bool) -> FusedSpec | None:
        """Training: the expected gate's table :func:`expected_gate_table` in an indicator fold."""
        if not (training and self._trains_as(DiffLogicLUT)):
            return super().fused_spec(training)
        return FusedSpec.fold(partial(expected_gate_table, temperature=self.temperature,
                                      mode=self.forward_sampling))

    def logits_at(self, x, weight):
        table = gate_truth_tables().to(weight)[weight.argmax(dim=-1)]
        return indicator_fold(table - 0.5, x)
