"""LightLUT: input-wise parametrization (Light DLGN, arXiv 2510.03250).

Each neuron stores one logit per input pattern; the squashed logits are the
LUT values and the neuron output is their multilinear interpolation (the
Kronecker indicator basis). Options from the paper: the sinusoidal estimator
``rho(w) = 0.5 + 0.5 sin(w)`` and heavy-tail initialization ``|w| ~ N(1.2, 0.25)``.
"""

from __future__ import annotations

import math
from functools import partial

import torch

from ..functional.bases import indicator_fold
from ..functional.fused import FusedSpec
from ..functional.sampling import Sampling, logistic_noise, sample_sigmoid, straight_through
from .base import LUTParametrization
from .registry import register_parametrization

_ESTIMATORS = ("sigmoid", "sin")
_HEAVY_TAIL_MEAN, _HEAVY_TAIL_STD = 1.2, 0.25


def identity_table_signs(lut_rank: int, device=None) -> torch.Tensor:
    """``(2**lut_rank,)`` of ``+1`` where input 0 (the MSB) is 1, else ``-1``."""
    k = torch.arange(1 << lut_rank, device=device)
    return ((k >> (lut_rank - 1)) & 1).float() * 2.0 - 1.0


def light_lut_values(
    weight: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    estimator: str = "sigmoid",
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Relaxed LUT values ``(neurons, 2**rank)`` in ``[0, 1]`` from logits."""
    if estimator == "sigmoid":
        return sample_sigmoid(weight, temperature, mode, noise)
    # Sinusoidal estimator: periodic, so it never saturates; temperature does not apply.
    mode = Sampling.parse(mode)
    if mode.uses_gumbel:
        weight = weight + (noise if noise is not None else logistic_noise(weight.shape,
                                                                          weight.device))
    soft = 0.5 + 0.5 * torch.sin(weight)
    if not mode.is_hard:
        return soft
    return straight_through((soft > 0.5).to(soft.dtype), soft)


def light_forward(
    x: torch.Tensor,
    weight: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    estimator: str = "sigmoid",
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Training forward: ``(batch, rank, n)``, ``(n, 2**rank)`` -> ``(batch, n)``.

    ``noise``: logistic noise ``(neurons, 2**rank)`` for the gumbel modes (one
    draw per step, shared by the batch).
    """
    return indicator_fold(light_lut_values(weight, temperature, mode, estimator, noise), x)


@register_parametrization("light")
class LightLUT(LUTParametrization):
    """LUT parametrization with the Kronecker indicator basis.

    ``forward_sampling``: ``"soft"`` (sigmoid), ``"hard"`` (sigmoid with a
    straight-through round), ``"gumbel_soft"`` / ``"gumbel_hard"`` (logistic
    noise on the logits, one draw per step). Weight shape
    ``(num_neurons, 2**lut_rank)``.

    Args:
        estimator: ``"sigmoid"`` (default) or ``"sin"``, the paper's
            sinusoidal estimator ``0.5 + 0.5 sin(w)`` (temperature unused).
        heavy_tail_init: draw logit magnitudes from ``N(1.2, 0.25)`` (the
            paper's heavy-tail init; signs random, or the identity target
            with residual init) instead of a standard Gaussian / fixed logit.
    The remaining arguments are :class:`LUTParametrization`'s.
    """

    def __init__(
        self,
        lut_rank: int,
        forward_sampling: str = "soft",
        temperature: float = 1.0,
        weight_init: str = "random",
        residual_probability: float = 0.951,
        anchor_init: bool = True,
        estimator: str = "sigmoid",
        heavy_tail_init: bool = False,
    ):
        if estimator not in _ESTIMATORS:
            raise ValueError(f"estimator must be one of {_ESTIMATORS}, got {estimator!r}")
        super().__init__(
            lut_rank,
            forward_sampling=forward_sampling,
            temperature=temperature,
            weight_init=weight_init,
            residual_probability=residual_probability,
            anchor_init=anchor_init,
        )
        self.estimator = estimator
        self.heavy_tail_init = bool(heavy_tail_init)

    def init_weights(self, num_neurons: int, device=None) -> torch.Tensor:
        shape = (num_neurons, self.lut_entries)
        signs = identity_table_signs(self.lut_rank, device).expand(shape)
        if self.heavy_tail_init:
            magnitude = torch.randn(shape, device=device) * _HEAVY_TAIL_STD + _HEAVY_TAIL_MEAN
            random_signs = torch.randint(0, 2, shape, device=device).float() * 2 - 1
            return self._finish_init(signs * magnitude, random_signs * magnitude)
        if self.estimator == "sin":
            target = math.asin(2 * self.residual_probability - 1)
        else:
            target = self._residual_logit()
        return self._finish_init(signs * target, torch.randn(shape, device=device))

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return light_forward(x, weight, self.temperature, self.forward_sampling, self.estimator)

    def fused_spec(self, training: bool) -> FusedSpec | None:
        """Training: the sampled table :func:`light_lut_values` in an indicator fold."""
        if not (training and self._trains_as(LightLUT)):
            return super().fused_spec(training)
        return FusedSpec.fold(partial(light_lut_values, temperature=self.temperature,
                                      mode=self.forward_sampling, estimator=self.estimator))

    def logits_at(self, x, weight):
        centered = torch.sin(weight) if self.estimator == "sin" else weight
        return indicator_fold(centered, x)
