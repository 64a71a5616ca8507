"""NeuralLUT: a tiny MLP per neuron, evaluated for all neurons at once.

Defaults (hidden width 8, depth 2, ReLU) follow the small per-LUT networks of
the NeuralLUT paper (Andronic & Constantinides, FPL 2024): at rank 6 this is
65 parameters per neuron, about the size of a rank-6 truth table, which keeps
its cost comparable with the other bases.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..functional.sampling import sample_sigmoid
from .base import LUTParametrization
from .registry import register_parametrization

_DEFAULT_HIDDEN_WIDTH = 8
_DEFAULT_DEPTH = 2
_DEFAULT_ACTIVATION = "relu"
_ACTIVATIONS = {
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "leakyrelu": F.leaky_relu,
    "tanh": torch.tanh,
}


def mlp_logits(x: torch.Tensor, weight: torch.Tensor, shapes, activation) -> torch.Tensor:
    """Per-neuron MLP on inputs mapped to ``2x - 1``.

    Args:
        x: ``(batch, rank, neurons)``.
        weight: ``(neurons, num_weights)``, layers packed as ``W (in*out)`` then ``b (out)``.
        shapes: ``[(in, out), ...]`` per linear layer.
        activation: hidden nonlinearity.

    Returns:
        ``(batch, neurons)``.
    """
    h = (2.0 * x - 1.0).permute(2, 0, 1)  # (neurons, batch, rank)
    offset = 0
    for i, (fan_in, fan_out) in enumerate(shapes):
        w = weight[:, offset : offset + fan_in * fan_out].view(-1, fan_in, fan_out)
        offset += fan_in * fan_out
        b = weight[:, offset : offset + fan_out].unsqueeze(1)
        offset += fan_out
        h = torch.baddbmm(b, h, w)
        if i < len(shapes) - 1:
            h = activation(h)
    return h.squeeze(-1).T


@register_parametrization("neurallut")
class NeuralLUT(LUTParametrization):
    """Tiny-MLP-per-neuron LUT parametrization.

    Each neuron is an MLP ``lut_rank -> hidden_width -> ... -> 1`` followed by
    ``sigmoid(. / t)``; all neurons run in parallel with ``bmm``. Residual
    init is not supported (an MLP has no unique identity weight): passing
    ``weight_init="residual"`` raises ``ValueError``.

    Args:
        lut_rank: inputs per neuron.
        hidden_width: width of the hidden layers, ``>= 1``.
        depth: number of linear layers (``depth - 1`` hidden layers), ``>= 1``.
        activation: ``"relu"``, ``"sigmoid"``, ``"leakyrelu"`` or ``"tanh"``.
        **kwargs: forwarded to :class:`LUTParametrization`.

    Raises:
        ValueError: unknown ``activation``, bad sizes, or residual init.
    """

    def __init__(
        self,
        lut_rank: int,
        hidden_width: int = _DEFAULT_HIDDEN_WIDTH,
        depth: int = _DEFAULT_DEPTH,
        activation: str = _DEFAULT_ACTIVATION,
        **kwargs: Any,
    ):
        super().__init__(lut_rank, **kwargs)
        if self.weight_init == "residual":
            raise ValueError("NeuralLUT does not support weight_init='residual'; use 'random'")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(_ACTIVATIONS)}, got {activation!r}")
        if hidden_width < 1 or depth < 1:
            raise ValueError(f"hidden_width and depth must be >= 1, got {hidden_width}, {depth}")
        self.hidden_width = int(hidden_width)
        self.depth = int(depth)
        self.activation_name = activation
        self.activation = _ACTIVATIONS[activation]
        widths = [self.lut_rank] + [self.hidden_width] * (self.depth - 1) + [1]
        self._layer_shapes: list[tuple[int, int]] = list(zip(widths[:-1], widths[1:], strict=True))
        self._num_weights = sum(i * o + o for (i, o) in self._layer_shapes)

    def init_weights(self, num_neurons: int, device=None) -> torch.Tensor:
        parts = []
        for fan_in, fan_out in self._layer_shapes:
            bound = fan_in ** -0.5
            parts.append(torch.empty(num_neurons, fan_in * fan_out, device=device)
                         .uniform_(-bound, bound))
            parts.append(torch.empty(num_neurons, fan_out, device=device).uniform_(-bound, bound))
        return self._finish_init(None, torch.cat(parts, dim=1))

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        z = mlp_logits(x, weight, self._layer_shapes, self.activation)
        return sample_sigmoid(z, self.temperature, self.forward_sampling)

    def logits_at(self, x, weight):
        return mlp_logits(x, weight, self._layer_shapes, self.activation)

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            f", hidden_width={self.hidden_width}, depth={self.depth}, "
            f"activation={self.activation_name!r}"
        )
