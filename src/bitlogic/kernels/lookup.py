"""Fused DWN layer: gather, binarise at 0.5, table lookup; EFD backward.

Same semantics as :func:`bitlogic.parametrizations.dwn.dwn_forward` after
the connections' gather: the table gradient flows through the looked-up
entry, and the input gradient is the Extended Finite Difference of
``dwn._EFDLookup`` (the same per-address coefficients, computed by one
matrix product and gathered per sample in C).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import torch
from torch.autograd.function import once_differentiable

from . import _library as lib_
from .fold import check_operands
from .routing import RouteBuffers, Routing, feature_major


@dataclass(frozen=True)
class _LookupSpec:
    routing: Routing
    coeff: torch.Tensor
    alpha: torch.Tensor


class _FusedLookup(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, table, probs, spec: _LookupSpec):
        xT = feature_major(x)
        yT = torch.empty(spec.routing.out_dim, xT.shape[1])
        layer = lib_.layer_struct(xT, spec.routing.selected, table)
        lib_.check(lib_.library().bl_lookup_forward(ctypes.byref(layer), lib_.ptr(yT)),
                   "bl_lookup_forward")
        ctx.save_for_backward(xT, table, probs)
        ctx.spec = spec
        return yT.t()

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        xT, table, probs = ctx.saved_tensors
        spec: _LookupSpec = ctx.spec
        routing = spec.routing
        need_x, need_table, need_probs = ctx.needs_input_grad[:3]
        dyT = feature_major(dy.to(torch.float32))
        route = RouteBuffers(routing, xT.shape[1], probs, need_x, need_probs)
        per_address = None
        if need_x or need_probs:
            # dwn._EFDLookup.backward's alpha * einsum("akj,nk->naj"), as one GEMM
            # laid out (out, rank, 2**rank): the kernel gathers each slot's
            # gradient from 2**rank contiguous floats.
            entries, rank = table.shape[1], routing.rank
            mix = spec.coeff.to(table.dtype).permute(1, 2, 0).reshape(entries, rank * entries)
            per_address = table @ (mix * spec.alpha)
        dtable = torch.zeros_like(table)
        layer = lib_.layer_struct(xT, routing.selected, table)
        status = lib_.library().bl_lookup_backward(
            ctypes.byref(layer), lib_.ptr(dyT), lib_.ptr(per_address), lib_.ptr(dtable),
            ctypes.byref(route.struct))
        lib_.check(status, "bl_lookup_backward")
        dx = route.dxT.t() if need_x else None
        return dx, (dtable if need_table else None), route.dprobs, None


def fused_lookup(
    x: torch.Tensor,
    table: torch.Tensor,
    routing: Routing,
    coeff: torch.Tensor,
    alpha: torch.Tensor | float,
    probs: torch.Tensor | None = None,
) -> torch.Tensor:
    """DWN lookup with EFD gradients: ``_EFDLookup(x[:, routing], table, coeff, alpha)``.

    Args:
        x: float32 ``(batch, in_dim)``; any strides.
        table: float32 ``(out, 2**rank)`` LUT values (already sampled).
        routing: the layer's routing.
        coeff: ``(2**rank, 2**rank, rank)`` from
            :func:`~bitlogic.parametrizations.dwn.build_efd_coefficients`.
        alpha: backward scale.
        probs: candidate probabilities ``(C, rank, out)`` for candidate routings.

    Returns:
        ``(batch, out)`` (a transposed view of an ``(out, batch)`` buffer).
    """
    check_operands(x, table, routing, 1 << routing.rank, probs)
    entries = 1 << routing.rank
    if tuple(coeff.shape) != (entries, entries, routing.rank):
        raise ValueError(f"coeff must have shape {(entries, entries, routing.rank)}, "
                         f"got {tuple(coeff.shape)}")
    spec = _LookupSpec(routing, coeff, torch.as_tensor(alpha, dtype=torch.float32))
    return _FusedLookup.apply(x, table.contiguous(), probs, spec)
