"""Fused LUT layer: gather, basis fold and sigmoid sampling, forward and backward.

One call replaces the reference chain ``x[:, indices]`` -> fold -> ``sample_sigmoid``
(``light``, ``warp``, ``linear``, ``difflogic`` and the eval lookup all reduce to
it, as their :meth:`~bitlogic.parametrizations.LUTParametrization.fused_spec` says). Nothing of size
``(batch, 2**rank, out)`` or ``(batch, rank, out)`` is kept between forward and
backward: the backward re-gathers and refolds.

The output is returned as the transpose of a contiguous ``(out, batch)``
buffer: values and shape are those of the reference, and the next fused layer
reads that buffer as its feature-major input without a copy.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import torch
from torch.autograd.function import once_differentiable

from ..functional.fused import FoldBasis
from ..functional.sampling import Sampling, logistic_noise
from . import _library as lib_
from .routing import RouteBuffers, Routing, feature_major

BASES = {FoldBasis.INDICATOR: lib_.BASIS_INDICATOR, FoldBasis.WALSH: lib_.BASIS_WALSH,
         FoldBasis.LINEAR: lib_.BASIS_LINEAR}
_SAMPLING = {Sampling.SOFT: lib_.SAMPLE_SOFT, Sampling.HARD: lib_.SAMPLE_HARD,
             Sampling.GUMBEL_SOFT: lib_.SAMPLE_GUMBEL_SOFT,
             Sampling.GUMBEL_HARD: lib_.SAMPLE_GUMBEL_HARD}
_NOISY = (lib_.SAMPLE_HARD_BERNOULLI, lib_.SAMPLE_GUMBEL_SOFT, lib_.SAMPLE_GUMBEL_HARD)


def parse_basis(basis: FoldBasis | str) -> FoldBasis:
    """``basis`` as a :class:`~bitlogic.functional.fused.FoldBasis`; raises ``ValueError``."""
    try:
        return FoldBasis(basis)
    except ValueError:
        raise ValueError(f"basis must be one of {tuple(b.value for b in FoldBasis)}, "
                         f"got {basis!r}") from None


def num_coeffs(basis: FoldBasis | str, rank: int) -> int:
    """Coefficients per neuron: ``rank + 1`` for ``linear``, else ``2**rank``."""
    return rank + 1 if parse_basis(basis) is FoldBasis.LINEAR else 1 << rank


def sampling_code(mode: Sampling | str | None, bernoulli_hard: bool = False) -> int:
    """The kernel's ``SAMPLE_*`` code for a :func:`~bitlogic.functional.sample_sigmoid` mode."""
    if mode is None:
        return lib_.SAMPLE_NONE
    mode = Sampling.parse(mode, "sampling")
    if mode is Sampling.HARD and bernoulli_hard:
        return lib_.SAMPLE_HARD_BERNOULLI
    return _SAMPLING[mode]


@dataclass(frozen=True)
class _FoldSpec:
    routing: Routing
    basis: int
    sampling: int
    temperature: float
    noiseT: torch.Tensor | None
    shared: int = 1

    def struct(self, xT: torch.Tensor, coeffs: torch.Tensor) -> lib_.LayerStruct:
        return lib_.layer_struct(xT, self.routing.selected, coeffs, self.basis, self.sampling,
                                 self.temperature, self.noiseT, self.shared)


class _FusedFold(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeffs, probs, spec: _FoldSpec):
        xT = feature_major(x)
        yT = torch.empty(spec.routing.out_dim, xT.shape[1])
        layer = spec.struct(xT, coeffs)
        lib_.check(lib_.library().bl_fold_forward(ctypes.byref(layer), lib_.ptr(yT)),
                   "bl_fold_forward")
        ctx.save_for_backward(xT, coeffs, probs)
        ctx.spec = spec
        return yT.t()

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        xT, coeffs, probs = ctx.saved_tensors
        spec: _FoldSpec = ctx.spec
        need_x, need_coeffs, need_probs = ctx.needs_input_grad[:3]
        dyT = feature_major(dy.to(torch.float32))
        route = RouteBuffers(spec.routing, xT.shape[1], probs, need_x, need_probs)
        dcoeffs = torch.zeros_like(coeffs)
        layer = spec.struct(xT, coeffs)
        status = lib_.library().bl_fold_backward(ctypes.byref(layer), lib_.ptr(dyT),
                                                 lib_.ptr(dcoeffs), ctypes.byref(route.struct))
        lib_.check(status, "bl_fold_backward")
        dx = route.dxT.t() if need_x else None
        return dx, (dcoeffs if need_coeffs else None), route.dprobs, None


def check_operands(x: torch.Tensor, coeffs: torch.Tensor, routing: Routing, per_neuron: int,
                   probs: torch.Tensor | None, shared: int = 1) -> None:
    """Validate the common operands of the fused layers; raises ``ValueError``/``TypeError``.

    ``coeffs`` holds one row per ``shared`` consecutive neurons.
    """
    named = [("x", x), ("coeffs", coeffs)] + ([("probs", probs)] if probs is not None else [])
    for name, t in named:
        if t.dtype != torch.float32 or t.device.type != "cpu":
            raise TypeError(f"{name} must be a float32 CPU tensor, got {t.dtype} on {t.device}")
    if x.dim() != 2 or x.shape[1] != routing.in_dim:
        raise ValueError(f"x must have shape (batch, {routing.in_dim}), got {tuple(x.shape)}")
    if isinstance(shared, bool) or not isinstance(shared, int) or shared < 1 or (
            routing.out_dim % shared):
        raise ValueError(f"shared must be a positive int dividing the {routing.out_dim} "
                         f"neurons, got {shared!r}")
    rows = routing.out_dim // shared
    if tuple(coeffs.shape) != (rows, per_neuron):
        raise ValueError(f"coeffs must have shape ({rows}, {per_neuron}), "
                         f"got {tuple(coeffs.shape)}")
    if (probs is None) != (routing.candidates is None):
        raise ValueError("probs must be given exactly when the routing has candidates")
    if probs is not None and probs.shape != routing.candidates.shape:
        raise ValueError(f"probs must have shape {tuple(routing.candidates.shape)}, "
                         f"got {tuple(probs.shape)}")
    if probs is not None and probs.shape[0] > lib_.MAX_CANDIDATES:
        raise ValueError(f"candidate pools hold at most {lib_.MAX_CANDIDATES} inputs in the "
                         f"fused kernels, got {probs.shape[0]}")


def fused_fold(
    x: torch.Tensor,
    coeffs: torch.Tensor,
    routing: Routing,
    basis: FoldBasis | str = "indicator",
    sampling: Sampling | str | None = None,
    temperature: float = 1.0,
    bernoulli_hard: bool = False,
    noise: torch.Tensor | None = None,
    probs: torch.Tensor | None = None,
    shared: int = 1,
) -> torch.Tensor:
    """One LUT layer in one kernel: ``sample(fold(coeffs, x[:, routing]))``.

    Equals ``sample_sigmoid(fold(coeffs, x[:, routing.selected]), temperature,
    sampling, noise, bernoulli_hard)`` with ``fold`` the indicator fold, the
    Walsh fold or ``linear_logits``; with ``sampling=None`` the fold itself.

    Args:
        x: float32 ``(batch, in_dim)``; any strides.
        coeffs: float32 ``(out / shared, 2**rank)`` (``(out / shared, rank + 1)``
            for ``linear``).
        routing: from :func:`~bitlogic.kernels.fixed_routing` or
            :func:`~bitlogic.kernels.candidate_routing`.
        basis: ``"indicator"``, ``"walsh"`` or ``"linear"``.
        sampling: ``None`` or a ``sample_sigmoid`` mode.
        temperature: sigmoid temperature.
        bernoulli_hard: ``hard`` draws ``z / t + L > 0`` (as ``warp``).
        noise: logistic noise ``(batch, out)`` for the modes that use it;
            drawn when ``None`` exactly as ``sample_sigmoid`` draws it.
        probs: candidate probabilities ``(C, rank, out)`` from
            :func:`~bitlogic.kernels.candidate_routing`, for candidate routings.
        shared: neurons ``i * shared .. (i + 1) * shared - 1`` read coefficient
            row ``i`` (a convolution's positions); the same as repeating each
            row ``shared`` times, without the copy.

    Returns:
        ``(batch, out)`` (a transposed view of an ``(out, batch)`` buffer).
    """
    basis = parse_basis(basis)
    check_operands(x, coeffs, routing, num_coeffs(basis, routing.rank), probs, shared)
    code = sampling_code(sampling, bernoulli_hard)
    noiseT = None
    if code in _NOISY:
        if noise is None:
            # Drawn as sample_sigmoid draws it, so a seed gives the reference's values.
            noise = logistic_noise((x.shape[0], routing.out_dim), x.device)
        if tuple(noise.shape) != (x.shape[0], routing.out_dim):
            raise ValueError(f"noise must have shape {(x.shape[0], routing.out_dim)}, "
                             f"got {tuple(noise.shape)}")
        noiseT = feature_major(noise.to(torch.float32))
    spec = _FoldSpec(routing, BASES[basis], code, float(temperature), noiseT, shared)
    return _FusedFold.apply(x, coeffs.contiguous(), probs, spec)
