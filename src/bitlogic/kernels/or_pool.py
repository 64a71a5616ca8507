"""OR pooling (max over each window) of a feature-major tensor, kept feature-major.

A fused convolution returns ``(B, C, H, W)`` stored as ``(C, H, W, B)`` (the
batch has stride 1), and the next one reads its input in that layout.
``F.max_pool2d`` is slow on that layout and returns NCHW, which the next
convolution copies back. Here the pool runs in ``(C, H, W,
B)``: each of the ``k * k`` window offsets is a strided view of the input of
the output's shape, and the max is a running ``torch.maximum`` over them, every
step a dense pass over the batch.

Inputs are expected in ``[0, 1]``, so the zero padding never wins a window
that holds an input.

Gradient on ties, as ``F.max_pool2d`` on CPU: each window sends its whole
gradient to one input, the first offset in row-major order (``kh``, then
``kw``) whose value equals the max. ``F.max_pool2d`` sends a window holding a
NaN to its last NaN; here such a window sends it to its last offset (NaN is
outside the inputs' range: this only avoids failing). The backward multiplies
the gradient by 0/1 masks, so a non-finite output gradient (not met in
training) reaches the other inputs of its window as NaN.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .dispatch import plain_cpu_float, tracing
from .switch import kernels_enabled

__all__ = ["or_pool_feature_major", "or_pool_forward"]


def _window_views(t: torch.Tensor, kernel_size: int, stride: int,
                  out_size: tuple[int, int]) -> Iterator[torch.Tensor]:
    """The ``(C, H', W', B)`` strided views of ``t`` ``(C, Hp, Wp, B)``, one per window offset.

    Offsets come in row-major order (``kh``, then ``kw``); the view of offset
    ``(kh, kw)`` holds ``t[:, oh * stride + kh, ow * stride + kw, :]`` at ``(:, oh, ow, :)``.
    """
    out_h, out_w = out_size
    for kh in range(kernel_size):
        for kw in range(kernel_size):
            yield t[:, kh:kh + stride * (out_h - 1) + 1:stride,
                    kw:kw + stride * (out_w - 1) + 1:stride, :]


def _padded(x: torch.Tensor, padding: int) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(C, Hp, Wp, B)``, zero-padded (a view of ``x`` without padding)."""
    xt = x.permute(1, 2, 3, 0)
    return F.pad(xt, (0, 0, padding, padding, padding, padding)) if padding else xt


def _output_size(padded: torch.Tensor, kernel_size: int, stride: int) -> tuple[int, int]:
    """``(H', W')`` of windows over ``padded`` ``(C, Hp, Wp, B)``."""
    hp, wp = padded.shape[1], padded.shape[2]
    if min(hp, wp) < kernel_size:
        raise ValueError(f"kernel_size={kernel_size} is larger than the padded input {hp}x{wp}")
    return (hp - kernel_size) // stride + 1, (wp - kernel_size) // stride + 1


def _window_max(padded: torch.Tensor, kernel_size: int, stride: int) -> torch.Tensor:
    """Max over each window: ``(C, Hp, Wp, B)`` -> contiguous ``(C, H', W', B)``."""
    out_size = _output_size(padded, kernel_size, stride)
    views = _window_views(padded, kernel_size, stride, out_size)
    first = next(views)
    if kernel_size == 1:  # clone: a 1x1 stride-1 window's view is the input itself
        return first.clone(memory_format=torch.contiguous_format)
    out = torch.empty(first.shape, dtype=first.dtype, device=first.device)
    torch.maximum(first, next(views), out=out)  # the first step writes the buffer: no clone
    for view in views:
        torch.maximum(out, view, out=out)
    return out


class _OrPoolFeatureMajor(torch.autograd.Function):
    """``(B, C, H, W)`` -> ``(B, C, H', W')`` view of a contiguous ``(C, H', W', B)``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, kernel_size: int, stride: int,
                padding: int) -> torch.Tensor:
        out = _window_max(_padded(x, padding), kernel_size, stride).permute(3, 0, 1, 2)
        ctx.geometry = (kernel_size, stride, padding)
        # The padded copy is rebuilt in backward rather than kept alive between the passes.
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        x, out = ctx.saved_tensors
        kernel_size, stride, padding = ctx.geometry
        padded = _padded(x, padding)
        out_t = out.permute(1, 2, 3, 0)
        out_size = (out_t.shape[1], out_t.shape[2])
        offsets = kernel_size * kernel_size
        # The winning offset of each window, the first that holds the max: assigned from
        # the last offset to the first, so the first match is written last. Windows no
        # earlier offset claims (their max is at the last one) keep the default. Small
        # integers in float, and 0/1 float masks: exact, and far faster than bool masks.
        winner = torch.full(out_t.shape, float(offsets - 1), dtype=out_t.dtype,
                            device=out_t.device)
        mask = torch.empty_like(winner)
        views = list(_window_views(padded, kernel_size, stride, out_size))
        for offset in range(offsets - 2, -1, -1):
            torch.ne(views[offset], out_t, out=mask)
            winner.sub_(offset).mul_(mask).add_(offset)  # offset where equal, else unchanged
        grad_t = grad.permute(1, 2, 3, 0).contiguous()  # free for a fused convolution's grad
        grad_padded = torch.zeros(padded.shape, dtype=grad.dtype, device=grad.device)
        grad_views = list(_window_views(grad_padded, kernel_size, stride, out_size))
        # Accumulated, as overlapping windows (stride < kernel_size) share inputs. From the
        # last offset to the first, an input adds its windows' gradients in the windows'
        # row-major order, as F.max_pool2d does, so the float sums round alike.
        for offset in range(offsets - 1, -1, -1):
            torch.eq(winner, offset, out=mask)
            grad_views[offset].addcmul_(grad_t, mask)
        height, width = x.shape[2], x.shape[3]
        grad_x = grad_padded[:, padding:padding + height, padding:padding + width, :]
        return grad_x.permute(3, 0, 1, 2), None, None, None


def or_pool_feature_major(x: torch.Tensor, kernel_size: int, stride: int,
                          padding: int = 0) -> torch.Tensor:
    """``F.max_pool2d(F.pad(x, (padding,) * 4), kernel_size, stride)``, run in ``(C, H, W, B)``.

    Any layout of ``x`` gives the same values; the feature-major one (batch
    stride 1) costs no copy.

    Example:
        >>> x = torch.rand(3, 2, 4, 6).permute(3, 0, 1, 2)  # (B=6, C=3, 2, 4), feature-major
        >>> y = or_pool_feature_major(x, 2, 2)
        >>> tuple(y.shape), y.permute(1, 2, 3, 0).is_contiguous()
        ((6, 3, 1, 2), True)

    Args:
        x: ``(B, C, H, W)``, values in ``[0, 1]``.
        kernel_size: window side ``k >= 1``.
        stride: step ``>= 1`` between windows.
        padding: constant-0 border ``>= 0`` on each side (its gradient is dropped).

    Returns:
        ``(B, C, H', W')``, a permuted view of a contiguous ``(C, H', W', B)``,
        ``H' = (H + 2 * padding - k) // stride + 1``. Its gradient goes to one
        input per window (see the module docstring for ties); differentiable once.

    Raises:
        ValueError: the kernel is larger than the padded input.
    """
    if torch.is_grad_enabled() and x.requires_grad:
        return _OrPoolFeatureMajor.apply(x, kernel_size, stride, padding)
    return _window_max(_padded(x, padding), kernel_size, stride).permute(3, 0, 1, 2)


def or_pool_forward(x: torch.Tensor, kernel_size: int, stride: int,
                    padding: int) -> torch.Tensor | None:
    """:func:`or_pool_feature_major` of ``x`` when it pays, else ``None`` (use ``F.max_pool2d``).

    It pays for a feature-major float32 CPU ``(B, C, H, W)`` (a fused
    convolution's output) that is not NCHW-contiguous as well (``B = 1``):
    both the pool and the next fused convolution then skip a layout copy.
    Like the fused kernels, it is off under tracing, ``torch.compile`` or
    autocast and when :class:`~bitlogic.kernels.use_kernels` switches them off.
    The caller has checked the sizes.
    """
    if x.dim() != 4 or x.is_contiguous() or not x.permute(1, 2, 3, 0).is_contiguous():
        return None  # layout first: the other checks may load the kernel library
    if not plain_cpu_float(x) or tracing() or not kernels_enabled():
        return None
    return or_pool_feature_major(x, kernel_size, stride, padding)
