"""Dense learnable routing (every input a candidate) without the dense matmuls.

The reference, ``LearnableDenseConnections._forward_dense``, multiplies the
input by an ``(in_dim, rank * out)`` one-hot matrix and its softmax. Here the
forward is a gather of the argmax inputs, and the backward forms the only
product it needs, ``x^T g`` (the gradient of the softmax), then the softmax
backward column by column in C (``csrc/train_softmax.c``). The values are
the reference's; the gradients agree to float32 rounding.

For DWN's MNIST model (2352 inputs, 12000 slots, batch 100) this replaces two
5.6-GFLOP products in the forward and 28M-entry softmaxes taken with a
stride of 48 KB.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from ..functional.sampling import Sampling, add_gumbel
from . import _library as lib_
from .routing import feature_major


def column_argmax(z: torch.Tensor) -> torch.Tensor:
    """``z.argmax(dim=0)``: float32 ``(rows, cols)`` contiguous CPU -> int64 ``(cols,)``."""
    rows, cols = z.shape
    padded = (cols + 15) // 16 * 16  # the kernel reads whole 16-lane vectors
    out = torch.empty(cols, dtype=torch.int64)
    best = torch.empty(padded)
    arg = torch.empty(padded, dtype=torch.int32)
    lib_.library().bl_column_argmax(lib_.ptr(z), rows, cols, lib_.ptr(out), lib_.ptr(best),
                                    lib_.ptr(arg), lib_.num_threads())
    return out


def column_softmax(z: torch.Tensor, argmax: torch.Tensor, temperature: float) -> torch.Tensor:
    """``softmax(z / temperature, dim=0)`` given ``argmax = z.argmax(0)``."""
    rows, cols = z.shape
    probs, scratch = torch.empty_like(z), torch.empty(3 * cols)
    lib_.library().bl_column_softmax(lib_.ptr(z), lib_.ptr(argmax), rows, cols,
                                     1.0 / temperature, lib_.ptr(probs), lib_.ptr(scratch),
                                     lib_.num_threads())
    return probs


class _DenseSelect(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, logits, z, temperature, spread):
        # z: the (noisy) logits as (in_dim, slots); logits only carries the autograd edge.
        selected = column_argmax(z)
        xT = feature_major(x)
        gatheredT = xT.index_select(0, selected)
        ctx.save_for_backward(xT, z, selected)
        ctx.temperature, ctx.spread = temperature, spread
        ctx.logits_shape = logits.shape
        return gatheredT.t()

    @staticmethod
    @once_differentiable
    def backward(ctx, dgathered):
        xT, z, selected = ctx.saved_tensors
        need_x, need_logits = ctx.needs_input_grad[:2]
        gT = feature_major(dgathered.to(torch.float32))  # (slots, batch)
        dx = dlogits = None
        if need_logits:
            dz = torch.mm(xT, gT.t())  # d loss / d probs, (in_dim, slots)
            rows, cols = dz.shape
            scratch = torch.empty(3 * cols)
            lib_.library().bl_column_softmax_backward(
                lib_.ptr(z), lib_.ptr(selected), lib_.ptr(dz), rows, cols,
                1.0 / ctx.temperature, lib_.ptr(dz), lib_.ptr(scratch), lib_.num_threads())
            dlogits = dz.view(ctx.logits_shape)
        if need_x:
            if ctx.spread:  # soft modes: the mixture's gradient reaches every input
                dx = torch.mm(gT.t(), column_softmax(z, selected, ctx.temperature).t())
            else:  # hard modes: only the selected input
                dx = torch.zeros_like(xT).index_add_(0, selected, gT).t()
        return dx, dlogits, None, None, None


def dense_select(
    x: torch.Tensor,
    logits: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Dense learnable routing: ``LearnableDenseConnections`` with ``num_candidates=-1``.

    Args:
        x: float32 ``(batch, in_dim)`` CPU tensor; any strides.
        logits: float32 ``(in_dim, rank, out)`` selection logits.
        temperature: softmax temperature.
        mode: ``"soft"``, ``"hard"``, ``"gumbel_soft"`` or ``"gumbel_hard"``.
        noise: Gumbel noise shaped like ``logits`` for the gumbel modes;
            drawn as the reference draws it when ``None``.

    Returns:
        ``(batch, rank * out)``, slot ``j * out + n`` for slot ``j`` of neuron
        ``n``: the argmax input's value (a transposed view of a
        feature-major buffer).
    """
    mode = Sampling.parse(mode, "mode")
    in_dim = logits.shape[0]
    if x.dim() != 2 or x.shape[1] != in_dim:
        raise ValueError(f"x must have shape (batch, {in_dim}), got {tuple(x.shape)}")
    z = add_gumbel(logits.detach(), mode, noise).reshape(in_dim, -1).contiguous()
    return _DenseSelect.apply(x, logits, z, float(temperature), not mode.is_hard)
