"""``setup_connections``: build a connection module by kind."""

from __future__ import annotations

from typing import Any

import torch

from bitlogic.registry import Registry

from .base import Connections
from .fixed import FixedDenseConnections
from .learnable import LearnableDenseConnections

CONNECTIONS: Registry[type[Connections]] = Registry("connections kind", ValueError)
# "random" names the fixed routing by how its indices are drawn (older configs use it).
CONNECTIONS.register("fixed", FixedDenseConnections, aliases=("random",))
CONNECTIONS.register("learnable", LearnableDenseConnections)


def setup_connections(
    kind: str,
    in_dim: int,
    out_dim: int,
    lut_rank: int,
    device: torch.device | str | None = None,
    **kwargs: Any,
) -> Connections:
    """Build a dense connection module of the given kind.

    Args:
        kind: ``"fixed"``, ``"random"`` (alias of ``"fixed"``) or ``"learnable"``;
            any name in ``CONNECTIONS.names(aliases=True)``.
        in_dim: number of input features.
        out_dim: number of output neurons.
        lut_rank: inputs per neuron.
        device: optional target device.
        **kwargs: forwarded to the class (``init_method``, ``num_candidates``,
            ``temperature``, ``num_groups``, ``group_bias``, ...).

    Raises:
        ValueError: unknown ``kind`` (the message lists the valid ones).
    """
    return CONNECTIONS.build(kind, in_dim=in_dim, out_dim=out_dim, lut_rank=lut_rank,
                             device=device, **kwargs)
