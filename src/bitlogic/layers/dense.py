"""LogicDense: connections + parametrization + the per-neuron weight."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..connections import Connections, setup_connections
from ..kernels.dispatch import dense_forward
from ..parametrizations import LUTParametrization, setup_parametrization
from .checks import MAX_INPUTS, MAX_NEURONS, check_binary, check_size

# Keyword arguments that belong to the connections rather than the parametrization.
_CONNECTION_KWARGS = ("num_groups", "group_bias")


class LogicDense(nn.Module):
    """A dense layer of ``out_dim`` LUT neurons, each reading ``lut_rank`` inputs.

    Example:
        >>> layer = LogicDense(in_dim=784, out_dim=4000, parametrization="warp",
        ...                    lut_rank=4, temperature=1.0)
        >>> layer(torch.rand(8, 784)).shape
        torch.Size([8, 4000])

    Args:
        in_dim: input features (bits in eval), an int in ``[1, 2**24]``.
        out_dim: neurons, an int in ``[1, 2**24]`` (a larger layer is refused
            before anything is allocated).
        parametrization: a registered name (see
            :func:`~bitlogic.parametrizations.list_parametrizations`) or a
            :class:`~bitlogic.parametrizations.LUTParametrization` instance.
        lut_rank: inputs per neuron, ``{2, 4, 6}``.
        temperature: parametrization temperature.
        connections: ``"fixed"``/``"random"``, ``"learnable"`` or a
            :class:`~bitlogic.connections.Connections` instance.
        num_candidates: learnable connections' pool size (``-1``: all inputs).
        init_method: connection init (``"random-unique"``, ``"random"``,
            ``"group-biased"``).
        connection_temperature: learnable connections' softmax temperature.
        connection_sampling: learnable connections' ``forward_sampling``.
        device: optional device.
        **kwargs: ``num_groups``/``group_bias`` go to the connections; the rest
            (``forward_sampling``, ``weight_init``, ``residual_probability``,
            ``anchor_init``, ``alpha``, ``efd``, ``degree``, ...) to the
            parametrization.

    Eval mode reads bits: an input value other than 0 or 1 raises the same
    ``ValueError`` as the packed engine (an encoder turns real features into bits).

    Shapes: ``(batch, in_dim)`` -> ``(batch, out_dim)``. On the fused CPU path
    (see :mod:`bitlogic.kernels.dispatch`) the output is a transposed view of
    the kernel's ``(out_dim, batch)`` buffer: an ordinary ``(batch, out_dim)``
    tensor to every caller, which the next fused layer reads without a copy.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        parametrization: str | LUTParametrization = "light",
        lut_rank: int = 2,
        temperature: float = 1.0,
        connections: str | Connections = "fixed",
        num_candidates: int = -1,
        init_method: str = "random-unique",
        connection_temperature: float = 0.001,
        connection_sampling: str = "soft",
        device: torch.device | str | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        in_dim = check_size("in_dim", in_dim, MAX_INPUTS)
        out_dim = check_size("out_dim", out_dim, MAX_NEURONS)
        conn_kwargs = {k: kwargs.pop(k) for k in _CONNECTION_KWARGS if k in kwargs}
        if isinstance(parametrization, LUTParametrization):
            if kwargs:
                raise TypeError(f"unexpected keyword arguments with a parametrization instance: "
                                f"{sorted(kwargs)}")
            self.parametrization = parametrization
        else:
            self.parametrization = setup_parametrization(
                parametrization, lut_rank=lut_rank, temperature=temperature, **kwargs
            )
        rank = self.parametrization.lut_rank
        if isinstance(connections, Connections):
            self.connections = connections
        else:
            if connections == "learnable":
                conn_kwargs.update(num_candidates=num_candidates,
                                   temperature=connection_temperature,
                                   forward_sampling=connection_sampling)
            self.connections = setup_connections(
                connections, in_dim, out_dim, rank, device=device, init_method=init_method,
                **conn_kwargs,
            )
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.lut_rank = rank
        self.weight = nn.Parameter(self.parametrization.init_weights(out_dim, device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            check_binary(x, "LogicDense")
        fused = dense_forward(self, x)  # the fused CPU kernels, when they apply
        if fused is not None:
            return fused
        gathered = self.connections(x)
        weight = self.parametrization.effective_weight(self.weight)
        return self.parametrization(gathered, weight, self.training)

    @torch.no_grad()
    def export_luts(self) -> torch.Tensor:
        """Discrete truth tables: uint8 ``(out_dim, 2**lut_rank)``, MSB-first."""
        return self.parametrization.get_lut(self.parametrization.effective_weight(self.weight))

    @torch.no_grad()
    def export_indices(self) -> torch.Tensor:
        """Input index of every LUT input in eval mode: int64 ``(out_dim, lut_rank)``."""
        return self.connections.selected_indices().T.contiguous()

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, out_dim={self.out_dim}"
