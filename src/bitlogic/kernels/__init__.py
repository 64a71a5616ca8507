"""Fused CPU training kernels for LUT layers (plain C + OpenMP via ``bitlogic.native``).

:class:`~bitlogic.layers.LogicDense` uses them automatically when they apply
(see :mod:`bitlogic.kernels.dispatch`): the layer's connections describe their
routing (:meth:`~bitlogic.connections.Connections.routing`) and its
parametrization its fused form
(:meth:`~bitlogic.parametrizations.LUTParametrization.fused_spec`), so this
package never switches on their classes. The functions below are the same
kernels as plain differentiable functions, each equal to a pure-PyTorch
reference.

Example:
    >>> import torch
    >>> from bitlogic.kernels import fixed_routing, fused_fold
    >>> idx = torch.tensor([[0, 1], [2, 0]])          # (rank=2, out=2): input of each slot
    >>> table = torch.rand(2, 4, requires_grad=True)  # (out, 2**rank), MSB-first
    >>> fused_fold(torch.rand(5, 3), table, fixed_routing(idx, 3)).shape
    torch.Size([5, 2])
"""

from .dense_routing import dense_select
from .dispatch import dense_forward
from .fold import fused_fold
from .lookup import fused_lookup
from .routing import Routing, candidate_routing, exclusive_routing, fixed_routing
from .switch import available, kernels_enabled, use_kernels

__all__ = [
    # switches
    "available",
    "kernels_enabled",
    "use_kernels",
    # layers
    "dense_forward",
    "fused_fold",
    "fused_lookup",
    # routing
    "Routing",
    "exclusive_routing",
    "fixed_routing",
    "candidate_routing",
    "dense_select",
]
