"""MultiTernaryLinear: weights as a sum of ``k`` scaled ternary matrices.

``W ~= sum_i gammas[i, :, None] * T_i`` by greedy residual ternarization
(:func:`bitlogic.ternary.functional.greedy_ternary_decomposition`). Each
extra component costs another ternary matrix and lowers the approximation
error, trading the 1.58 bits of BitLinear for ``k * 1.58``.

Design choice: the layer keeps a latent float weight and re-decomposes it on
*every* forward (no cached decomposition that could go stale after an
optimizer step or ``load_state_dict``); the decomposition is ``O(k * out * in)``
elementwise work, small next to the matmul for batches of more than a few rows.
Gradients reach the latent weight straight through (the decomposition is
treated as the identity). Activations stay in float: this layer quantizes
weights only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bitlogic.functional.sampling import straight_through

from .bitlinear import (
    MAX_WEIGHTS,
    check_bool,
    check_positive_int,
    copy_linear_,
    init_like_linear_,
)
from .functional import greedy_ternary_decomposition


class MultiTernaryLinear(nn.Module):
    """Linear layer whose weight is a ``k``-term ternary decomposition of a latent weight.

    Args:
        in_features: Input width, ``>= 1``.
        out_features: Output width, ``>= 1``.
        k: Number of ternary components, ``>= 1``.
        bias: Learn an additive float bias.
        refit: Least-squares refit of the ``k`` scales of each row after the
            greedy pass (lower error, a ``k x k`` solve per row per forward).
        device: Device of the parameters.
        dtype: Floating dtype of the parameters.

    Shape:
        ``[..., in_features] -> [..., out_features]``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        k: int = 2,
        bias: bool = True,
        refit: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        if in_features * out_features > MAX_WEIGHTS:
            raise ValueError(f"in_features * out_features must be <= {MAX_WEIGHTS} (16 GiB of "
                             f"float32 weights), got {in_features} * {out_features}")
        self.k = check_positive_int("k", k)
        check_bool("bias", bias)
        self.refit = check_bool("refit", refit)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(out_features, in_features, **factory))
        self.bias = nn.Parameter(torch.empty(out_features, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``U(-1/sqrt(in), 1/sqrt(in))`` for weight and bias, as ``nn.Linear`` does."""
        init_like_linear_(self.weight, self.bias)

    def decompose(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Current decomposition ``(W_ternary [k, out, in], gammas [k, out])``."""
        with torch.no_grad():
            return greedy_ternary_decomposition(self.weight.detach(), self.k, self.refit)

    def quantized_weight(self) -> torch.Tensor:
        """``sum_i gammas[i, :, None] * W_ternary[i]`` as ``[out, in]`` (no gradient)."""
        W_ternary, gammas = self.decompose()
        return torch.einsum("io,ior->or", gammas, W_ternary)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        quantized = self.quantized_weight()
        if quantized.shape != self.weight.shape:  # would broadcast silently
            raise ValueError(
                f"quantized weight has shape {tuple(quantized.shape)}, "
                f"expected {tuple(self.weight.shape)}"
            )
        # Value of the decomposition, gradient straight through to the latent weight.
        return F.linear(x, straight_through(quantized, self.weight), self.bias)

    @classmethod
    def from_linear(cls, linear: nn.Linear, k: int = 2, refit: bool = False) -> MultiTernaryLinear:
        """A MultiTernaryLinear holding a copy of ``linear``'s weight and bias.

        Raises:
            TypeError: ``linear`` is not an ``nn.Linear``.
        """
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"linear must be an nn.Linear, got {type(linear).__name__}")
        layer = cls(
            linear.in_features,
            linear.out_features,
            k=k,
            bias=linear.bias is not None,
            refit=refit,
            device=linear.weight.device,
            dtype=linear.weight.dtype,
        )
        return copy_linear_(layer, linear)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, k={self.k}, "
            f"bias={self.bias is not None}, refit={self.refit}"
        )
