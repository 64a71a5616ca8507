"""``setup_connections``: build a connection module by kind."""

from __future__ import annotations

from typing import Any

import torch

from .base import Connections
from .fixed import FixedDenseConnections
from .learnable import LearnableDenseConnections

_KINDS: dict[str, type[Connections]] = {
    "fixed": FixedDenseConnections,
    "random": FixedDenseConnections,
    "learnable": LearnableDenseConnections,
}


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
        kind: ``"fixed"``, ``"random"`` (alias of ``"fixed"``) or ``"learnable"``.
        in_dim: number of input features.
        out_dim: number of output neurons.
        lut_rank: inputs per neuron.
        device: optional target device.
        **kwargs: forwarded to the class (``init_method``, ``num_candidates``,
            ``temperature``, ``num_groups``, ``group_bias``, ...).

    Raises:
        ValueError: unknown ``kind``.
    """
    if kind not in _KINDS:
        raise ValueError(f"connections kind must be one of {sorted(_KINDS)}, got {kind!r}")
    return _KINDS[kind](in_dim=in_dim, out_dim=out_dim, lut_rank=lut_rank, device=device,
                        **kwargs)
