"""OrPool2d: max pooling, which is an OR on bits."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..kernels.or_pool import or_pool_forward
from .conv import check_positive_int, conv_output_size


class OrPool2d(nn.Module):
    """Max over each window; on bits it is the OR of the window.

    Inputs are expected in ``[0, 1]``; the border added by ``padding`` is 0,
    so it never changes the result of a window that holds an input. A
    feature-major input (a fused convolution's output) is pooled by
    :func:`~bitlogic.kernels.or_pool.or_pool_feature_major` and stays
    feature-major: same values and gradients (ties: the first max of the
    window in row-major order gets the gradient).

    Example:
        >>> pool = OrPool2d(2)
        >>> pool(torch.tensor([[[[0., 1.], [0., 0.]]]])).flatten().tolist()
        [1.0]

    Args:
        kernel_size: window side ``>= 1``.
        stride: step ``>= 1`` between windows; ``None`` means ``kernel_size``.
        padding: constant-0 border ``>= 0`` on each side.

    Shapes: ``(batch, C, H, W)`` -> ``(batch, C, H', W')`` with
    ``H' = floor((H + 2 * padding - kernel_size) / stride) + 1``.

    Raises:
        ValueError: a bad size, or (at forward) a kernel larger than the padded input.
    """

    def __init__(self, kernel_size: int = 2, stride: int | None = None, padding: int = 0):
        super().__init__()
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.stride = check_positive_int("stride", kernel_size if stride is None else stride)
        self.padding = check_positive_int("padding", padding, minimum=0)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """``(H', W')`` for an ``H x W`` input; ``ValueError`` if the kernel does not fit."""
        return (conv_output_size(height, self.kernel_size, self.stride, self.padding),
                conv_output_size(width, self.kernel_size, self.stride, self.padding))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"x must be (batch, C, H, W), got shape {tuple(x.shape)}")
        self.output_size(x.shape[2], x.shape[3])
        # A fused convolution's feature-major output is pooled in its own layout.
        fused = or_pool_forward(x, self.kernel_size, self.stride, self.padding)
        if fused is not None:
            return fused
        if self.padding:
            x = F.pad(x, (self.padding,) * 4)
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
