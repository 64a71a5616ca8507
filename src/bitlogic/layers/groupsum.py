"""GroupSum: class scores as counts of ones per contiguous group of neurons."""

from __future__ import annotations

import torch
from torch import nn

from .checks import check_finite_positive


class GroupSum(nn.Module):
    """Split the last dimension into ``k`` contiguous groups, sum each, divide by ``tau``.

    In eval mode with binary inputs the sums are integer counts, which is what
    the exported hardware computes; the class with the highest count wins and
    ties go to the lower class index.

    Args:
        k: number of groups (classes), ``>= 1``.
        tau: finite temperature ``> 0`` dividing the sums.

    Shapes: ``(batch, n)`` -> ``(batch, k)``; ``n`` must be divisible by ``k``.
    """

    def __init__(self, k: int, tau: float = 1.0):
        super().__init__()
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        self.k = k
        self.tau = check_finite_positive("tau", tau)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.k:
            raise ValueError(
                f"GroupSum(k={self.k}) needs the last dimension divisible by k, got {x.shape[-1]}"
            )
        return x.unflatten(-1, (self.k, -1)).sum(dim=-1) / self.tau

    def extra_repr(self) -> str:
        return f"k={self.k}, tau={self.tau:g}"
