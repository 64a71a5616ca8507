"""Run a :class:`~bitlogic.functional.fused.FusedSpec` with the two fused layers.

A parametrization describes itself with
:meth:`~bitlogic.parametrizations.LUTParametrization.fused_spec`; the
per-neuron part (sampling a ``(out, 2**rank)`` table, a softmax over 16
gates) is the spec's ``coefficients(weight)``, computed in PyTorch, so
autograd handles it and the gumbel draws are the reference's own. Only the
per-sample part runs in C. What the built-in parametrizations say:

=============  ===========================================================
``light``      table = ``light_lut_values(w)``; indicator fold
``difflogic``  table = ``expected_gate_table(w)``; indicator fold (the
               expected gate, identical to ``c0 + ca a + cb b + cab ab``)
``warp``       Walsh fold of ``w``, then ``sample_sigmoid`` (Bernoulli ``hard``)
``linear``     affine fold of ``w``, then ``sample_sigmoid``
``dwn``        table = ``sample_sigmoid(w)``; lookup with EFD backward
eval (any)     table = ``get_lut(w)``; indicator fold (= the lookup at binary
               inputs, the same interpolation as the reference elsewhere)
=============  ===========================================================
"""

from __future__ import annotations

import torch

from ..functional.fused import FusedKernel, FusedSpec
from .fold import fused_fold
from .lookup import fused_lookup
from .routing import Routing


def _fold(spec: FusedSpec, x, coeffs, routing, probs):
    return fused_fold(x, coeffs, routing, spec.basis, spec.sampling, spec.temperature,
                      spec.bernoulli_hard, probs=probs)


def _lookup(spec: FusedSpec, x, table, routing, probs):
    return fused_lookup(x, table, routing, spec.efd_coeff, spec.alpha, probs=probs)


_KERNELS = {FusedKernel.FOLD: _fold, FusedKernel.LOOKUP: _lookup}


def lut_forward(
    spec: FusedSpec,
    x: torch.Tensor,
    weight: torch.Tensor,
    routing: Routing,
    probs: torch.Tensor | None,
) -> torch.Tensor:
    """``spec``'s layer on ``x[:, routing]`` through the fused kernels.

    Args:
        spec: from a parametrization's ``fused_spec``.
        x: float32 ``(batch, in_dim)``.
        weight: the effective weight ``(out, num_basis)``.
        routing: the layer's routing.
        probs: candidate probabilities for candidate routings, else ``None``.

    Returns:
        ``(batch, out)`` (a transposed view of an ``(out, batch)`` buffer).
    """
    return _KERNELS[spec.kernel](spec, x, spec.coefficients(weight), routing, probs)
