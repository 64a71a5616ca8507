"""DwnLUT: binarized-input LUTs trained with Extended Finite Differences.

Differentiable Weightless Neural Networks (Bacellar et al., ICML 2024).
Forward: binarize the inputs at 0.5 (``x > 0.5`` is 1), look the address up.
Backward to the inputs (EFD): for input ``j`` of a neuron at address ``a``,

    dy/dx_j = alpha * sum_k sign_j(k) * A[k] / (H_j(k, a) + 1)

over all ``2**rank`` entries ``k``, where ``sign_j(k)`` is ``+1`` if bit ``j``
of ``k`` is set and ``-1`` otherwise, and ``H_j`` is the Hamming distance
between ``k`` and ``a`` ignoring bit ``j``. ``efd=False`` keeps only the
``H_j = 0`` terms: the plain finite difference ``A[a | j] - A[a & ~j]``.
``A = sigmoid(w / t)`` are the LUT values; the weight gradient flows through
the looked-up entry only.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch

from ..functional.bases import indicator_fold
from ..functional.fused import FusedSpec
from ..functional.sampling import Sampling, sample_sigmoid
from .base import LUTParametrization
from .light import identity_table_signs
from .registry import register_parametrization

_FLOAT32_MAX = float(torch.finfo(torch.float32).max)

_ALPHA_BASE = 0.5
_ALPHA_DECAY = 0.75


def build_efd_coefficients(lut_rank: int, efd: bool = True) -> torch.Tensor:
    """Coefficients ``C[a, k, j]`` with ``dy/dx_j = alpha * sum_k C[a, k, j] A[k]``.

    Returns:
        float32 ``(2**rank, 2**rank, rank)`` (96 KB at rank 6).
    """
    n = 1 << lut_rank
    a = torch.arange(n)[:, None, None]
    k = torch.arange(n)[None, :, None]
    bit = (1 << (lut_rank - 1 - torch.arange(lut_rank)))[None, None, :]  # input j's bit
    sign = torch.where((k & bit) != 0, 1.0, -1.0)
    diff = (a ^ k) & ~bit
    hamming = torch.zeros_like(diff)
    for b in range(lut_rank):
        hamming = hamming + ((diff >> b) & 1)
    if efd:
        return (sign / (hamming + 1).float()).float()
    return torch.where(hamming == 0, sign, 0.0).float()


def binary_address(x: torch.Tensor) -> torch.Tensor:
    """MSB-first address of binarized inputs: ``(batch, rank, neurons)`` -> ``(batch, neurons)``."""
    rank = x.shape[1]
    shifts = (1 << torch.arange(rank - 1, -1, -1, device=x.device)).view(1, rank, 1)
    return ((x > 0.5).long() * shifts).sum(dim=1)


class _EFDLookup(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, table, coeff, alpha):
        address = binary_address(x)  # (batch, neurons)
        ctx.save_for_backward(address, table, coeff, alpha)
        return table.T.gather(0, address)

    @staticmethod
    def backward(ctx, grad_out):
        address, table, coeff, alpha = ctx.saved_tensors
        grad_table = torch.zeros_like(table.T).scatter_add_(0, address, grad_out).T
        # per_address[n, a, j]: the input gradient of neuron n sitting at address a.
        per_address = torch.einsum("akj,nk->naj", coeff.to(table.dtype), table) * alpha
        neurons = torch.arange(table.shape[0], device=table.device)
        grad_x = per_address[neurons[None, :], address]  # (batch, neurons, rank)
        grad_x = grad_x.permute(0, 2, 1) * grad_out.unsqueeze(1)
        return grad_x, grad_table, None, None


def dwn_forward(
    x: torch.Tensor,
    weight: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    coeff: torch.Tensor,
    alpha: torch.Tensor,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Training forward ``(batch, rank, neurons)`` -> ``(batch, neurons)`` with EFD backward.

    ``coeff``: :func:`build_efd_coefficients`; ``noise``: logistic
    ``(neurons, 2**rank)`` for the gumbel modes.
    """
    table = sample_sigmoid(weight, temperature, mode, noise)
    return _EFDLookup.apply(x, table, coeff, alpha)


@register_parametrization("dwn")
class DwnLUT(LUTParametrization):
    """Binarized-input LUT with Extended Finite Difference (EFD) gradient.

    Weight shape ``(num_neurons, 2**lut_rank)``; ``sigmoid(weight / t)`` is the
    LUT value. ``forward_sampling`` applies to the LUT values as in
    :class:`LightLUT`.

    Args:
        lut_rank: inputs per neuron.
        alpha: backward scale; default ``0.5 * 0.75**(lut_rank - 1)``.
        efd: Hamming-weighted EFD (default) or the Hamming-1 finite difference.
        **kwargs: forwarded to :class:`LUTParametrization`.
    """

    def __init__(self, lut_rank: int, alpha: float | None = None, efd: bool = True,
                 **kwargs: Any):
        super().__init__(lut_rank, **kwargs)
        if alpha is None:
            alpha = _ALPHA_BASE * (_ALPHA_DECAY ** (self.lut_rank - 1))
        # Stored in float32: a float64 beyond its range would become inf there.
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or \
                not math.isfinite(alpha) or not 0 < alpha <= _FLOAT32_MAX:
            raise ValueError(f"alpha must be a finite number > 0 (float32), got {alpha!r}")
        self.register_buffer("alpha", torch.tensor(float(alpha)))
        self.efd = bool(efd)
        # Rebuilt from lut_rank on construction, so it is not saved (96 KB at rank 6).
        self.register_buffer(
            "_efd_coeff", build_efd_coefficients(self.lut_rank, self.efd), persistent=False
        )

    def init_weights(self, num_neurons: int, device=None) -> torch.Tensor:
        shape = (num_neurons, self.lut_entries)
        identity = identity_table_signs(self.lut_rank, device).expand(shape) * \
            self._residual_logit()
        return self._finish_init(identity.clone(), torch.randn(shape, device=device))

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return dwn_forward(x, weight, self.temperature, self.forward_sampling,
                           self._efd_coeff, self.alpha)

    def fused_spec(self, training: bool) -> FusedSpec | None:
        """Training: the sampled table ``sample_sigmoid(w)`` in a lookup with EFD gradients."""
        if not (training and self._trains_as(DwnLUT)):
            return super().fused_spec(training)
        table = partial(sample_sigmoid, temperature=self.temperature, mode=self.forward_sampling)
        return FusedSpec.lookup(table, self._efd_coeff, self.alpha)

    def logits_at(self, x, weight):
        return indicator_fold(weight, (x > 0.5).to(weight.dtype))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", alpha={float(self.alpha):.4g}, efd={self.efd}"
