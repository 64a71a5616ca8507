"""Fixed dense routing: buffered indices, one gather per forward."""

from __future__ import annotations

from typing import Any

import torch

from ..functional.fused import RoutingSpec
from .base import Connections, check_dims
from .indices import build_indices


class FixedDenseConnections(Connections):
    """Non-trainable dense routing — buffered indices, one gather per forward.

    Args:
        in_dim: number of input features.
        out_dim: number of output neurons.
        lut_rank: inputs per neuron.
        device: optional target device for the index buffer.
        init_method: ``"random-unique"`` (default: distinct inputs per
            neuron, inputs used evenly), ``"random"`` or ``"group-biased"``.
        num_groups: required for ``"group-biased"``: inputs and outputs are
            split into this many contiguous chunks.
        group_bias: required for ``"group-biased"``: probability that a slot
            reads from its neuron's own chunk rather than anywhere.

    The buffer ``indices`` is int64 ``(lut_rank, out_dim)``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        lut_rank: int = 2,
        device: torch.device | str | None = None,
        init_method: str = "random-unique",
        num_groups: int | None = None,
        group_bias: float | None = None,
        **kwargs: Any,
    ):
        super().__init__(lut_rank=lut_rank, device=device, init_method=init_method, **kwargs)
        in_dim, out_dim = check_dims(in_dim, out_dim)
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.num_groups = num_groups
        self.group_bias = group_bias
        self.register_buffer("indices", self._build_indices())

    def _build_indices(self) -> torch.Tensor:
        return build_indices(self.init_method, self.in_dim, self.lut_rank, self.out_dim,
                             self.num_groups, self.group_bias, self.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x, self.in_dim)
        return x[:, self.indices]

    def selected_indices(self) -> torch.Tensor:
        return self.indices

    def routing(self) -> RoutingSpec | None:
        """Fixed routing over ``indices`` (in both modes)."""
        if not self._routes_as(FixedDenseConnections):
            return super().routing()
        return RoutingSpec.fixed(self.indices, self.in_dim)

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, out_dim={self.out_dim}, lut_rank={self.lut_rank}, " \
               f"init_method={self.init_method!r}"
