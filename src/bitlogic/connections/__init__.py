"""Connections: "which inputs feed each neuron" half of a logic layer."""

from .base import Connections
from .factory import setup_connections
from .fixed import FixedDenseConnections
from .learnable import LearnableDenseConnections, select_candidates

__all__ = [
    "Connections",
    "FixedDenseConnections",
    "LearnableDenseConnections",
    "select_candidates",
    "setup_connections",
]
