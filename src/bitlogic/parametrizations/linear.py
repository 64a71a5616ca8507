"""LinearLUT: ``y = sigmoid((W x + b) / t)`` per neuron, the simplest basis."""

from __future__ import annotations

import torch

from ..functional.fused import FoldBasis, FusedSpec
from ..functional.sampling import sample_sigmoid
from .base import LUTParametrization
from .registry import register_parametrization


def linear_logits(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``(batch, rank, neurons)``, ``(neurons, rank + 1)`` -> ``(batch, neurons)``."""
    return (x * weight[:, :-1].T).sum(dim=1) + weight[:, -1]


def linear_forward(x, weight, temperature, mode, noise=None) -> torch.Tensor:
    """Training forward; ``noise``: logistic ``(batch, neurons)`` for the gumbel modes."""
    return sample_sigmoid(linear_logits(x, weight), temperature, mode, noise)


@register_parametrization("linear")
class LinearLUT(LUTParametrization):
    """Affine + sigmoid parametrization: ``y_n = sigmoid(W_n . x_n + b_n)``.

    Weight shape ``(num_neurons, lut_rank + 1)``: the affine weights and the bias
    in the trailing column. ``get_lut`` thresholds the affine form at every
    input pattern, so it is an exact truth table (a threshold function). See
    :class:`LUTParametrization` for the constructor arguments.
    """

    def init_weights(self, num_neurons: int, device=None) -> torch.Tensor:
        logit = self._residual_logit()
        identity = torch.zeros(num_neurons, self.lut_rank + 1, device=device)
        identity[:, 0] = 2 * logit  # z = 2c x_0 - c: +c when x_0 = 1, -c when 0
        identity[:, -1] = -logit
        return self._finish_init(identity, torch.randn(num_neurons, self.lut_rank + 1,
                                                       device=device))

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return linear_forward(x, weight, self.temperature, self.forward_sampling)

    def fused_spec(self, training: bool) -> FusedSpec | None:
        """Training: the affine fold of the weight, then sigmoid sampling."""
        if not (training and self._trains_as(LinearLUT)):
            return super().fused_spec(training)
        return FusedSpec.fold(basis=FoldBasis.LINEAR, sampling=self.forward_sampling,
                              temperature=self.temperature)

    def logits_at(self, x, weight):
        return linear_logits(x, weight)
