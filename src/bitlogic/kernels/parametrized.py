"""Each parametrization's forward, expressed with the two fused layers.

The per-neuron part (sampling a ``(out, 2**rank)`` table, a softmax over 16
gates) stays in PyTorch, reusing the reference functions, so autograd
handles it and the gumbel draws are the reference's own. Only the
per-sample part runs in C:

=============  ===========================================================
``light``      table = ``light_lut_values(w)``; indicator fold
``difflogic``  table = ``sample_softmax(w) @ gate_truth_tables()``; indicator
               fold (the expected gate, identical to ``c0 + ca a + cb b + cab ab``)
``warp``       Walsh fold of ``w``, then ``sample_sigmoid`` (Bernoulli ``hard``)
``linear``     affine fold of ``w``, then ``sample_sigmoid``
``dwn``        table = ``sample_sigmoid(w)``; lookup with EFD backward
eval (any)     table = ``get_lut(w)``; indicator fold (= the lookup at binary
               inputs, the same interpolation as the reference elsewhere)
=============  ===========================================================
"""

from __future__ import annotations

import torch

from ..functional.sampling import sample_sigmoid, sample_softmax
from ..parametrizations import (
    DiffLogicLUT,
    DwnLUT,
    LightLUT,
    LinearLUT,
    LUTParametrization,
    WarpLUT,
)
from ..parametrizations.difflogic import gate_truth_tables
from ..parametrizations.light import light_lut_values
from .fold import fused_fold
from .lookup import fused_lookup
from .routing import Routing

TRAINING_KINDS = (LightLUT, WarpLUT, LinearLUT, DwnLUT, DiffLogicLUT)


def supports(param: LUTParametrization, training: bool) -> bool:
    """True when :func:`lut_forward` reproduces ``param(x, weight, training)``.

    Training needs one of the five parametrizations above (exact class: a
    subclass may change the math). Eval needs only the base class's lookup,
    which every parametrization inherits unless it overrides ``forward``.
    """
    if training:
        return type(param) in TRAINING_KINDS
    return type(param).forward is LUTParametrization.forward


def lut_forward(
    param: LUTParametrization,
    x: torch.Tensor,
    weight: torch.Tensor,
    routing: Routing,
    probs: torch.Tensor | None,
    training: bool,
) -> torch.Tensor:
    """``param(x[:, routing], weight, training)`` through the fused kernels.

    Args:
        param: a parametrization for which :func:`supports` is True.
        x: float32 ``(batch, in_dim)``.
        weight: the effective weight ``(out, num_coeffs)``.
        routing: the layer's routing.
        probs: candidate probabilities for candidate routings, else ``None``.
        training: training forward or the eval lookup.

    Returns:
        ``(batch, out)``.
    """
    if not training:
        table = param.get_lut(weight).to(x.dtype)
        return fused_fold(x, table, routing, probs=probs)
    t, mode = param.temperature, param.forward_sampling
    kind = type(param)
    if kind is LightLUT:
        table = light_lut_values(weight, t, mode, param.estimator)
        return fused_fold(x, table, routing, probs=probs)
    if kind is DiffLogicLUT:
        gates = sample_softmax(weight, t, mode, dim=-1)
        table = gates @ gate_truth_tables().to(gates)
        return fused_fold(x, table, routing, probs=probs)
    if kind is WarpLUT:
        return fused_fold(x, weight, routing, "walsh", mode, t, bernoulli_hard=True, probs=probs)
    if kind is LinearLUT:
        return fused_fold(x, weight, routing, "linear", mode, t, probs=probs)
    if kind is DwnLUT:
        table = sample_sigmoid(weight, t, mode)
        return fused_lookup(x, table, routing, param._efd_coeff, param.alpha, probs=probs)
    raise ValueError(f"no fused training path for {kind.__name__}")
