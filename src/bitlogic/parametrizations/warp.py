"""WarpLUT: Walsh–Hadamard relaxation of Boolean functions (WARP-LUTs, arXiv 2510.15655).

Inputs are mapped to ``s = 2x - 1`` in ``{-1, +1}`` and contracted with the
Walsh characters: ``z = sum_S w_S prod_{j in S} s_j``; ``sigmoid(z / t)`` is
the relaxed output. Weight shape ``(num_neurons, 2**lut_rank)``; coefficient
``k`` belongs to the character over the inputs ``j`` whose bit
``lut_rank-1-j`` is set in ``k``.
"""

from __future__ import annotations

import torch

from ..functional.bases import walsh_fold
from ..functional.fused import FoldBasis, FusedSpec
from ..functional.sampling import Sampling, sample_sigmoid
from .base import LUTParametrization
from .registry import register_parametrization


def warp_forward(
    x: torch.Tensor,
    weight: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Training forward ``(batch, rank, neurons)`` -> ``(batch, neurons)``.

    ``noise``: logistic noise ``(batch, neurons)`` for ``hard`` (a Bernoulli
    draw ``z/t + L > 0``) and the gumbel modes.
    """
    return sample_sigmoid(walsh_fold(weight, x), temperature, mode, noise, bernoulli_hard=True)


@register_parametrization("warp")
class WarpLUT(LUTParametrization):
    """Walsh–Hadamard-basis LUT parametrization.

    ``forward_sampling``: ``"soft"`` = ``sigmoid(z/t)``; ``"hard"`` = the same
    with a Bernoulli-sampled straight-through round to ``{0, 1}``;
    ``"gumbel_soft"`` = ``sigmoid((z + L)/t)`` with logistic noise ``L``;
    ``"gumbel_hard"`` = its straight-through round. Eval mode is the discrete
    lookup ``get_lut(weight)[neuron, addr(x)]``, with ``get_lut`` the sign of
    ``z`` at every input pattern. See :class:`LUTParametrization` for the
    constructor arguments.
    """

    HARD_IS_DISCRETE = False  # "hard" is a Bernoulli draw, as in the paper

    def init_weights(self, num_neurons: int, device=None) -> torch.Tensor:
        identity = torch.zeros(num_neurons, self.lut_entries, device=device)
        # The singleton character of input 0 (the MSB) gives z = c * (2 x_0 - 1).
        identity[:, 1 << (self.lut_rank - 1)] = self._residual_logit()
        return self._finish_init(identity, torch.randn(num_neurons, self.lut_entries,
                                                       device=device))

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return warp_forward(x, weight, self.temperature, self.forward_sampling)

    def fused_spec(self, training: bool) -> FusedSpec | None:
        """Training: a Walsh fold of the weight, then Bernoulli-``hard`` sigmoid sampling."""
        if not (training and self._trains_as(WarpLUT)):
            return super().fused_spec(training)
        return FusedSpec.fold(basis=FoldBasis.WALSH, sampling=self.forward_sampling,
                              temperature=self.temperature, bernoulli_hard=True)

    def logits_at(self, x, weight):
        return walsh_fold(weight, x)
