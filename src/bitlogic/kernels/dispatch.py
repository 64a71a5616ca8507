"""When a :class:`~bitlogic.layers.LogicDense` call takes the fused path.

:func:`dense_forward` returns the fused result, or ``None`` to let the layer
run its reference code. It applies when all of these hold:

* the kernels are enabled (:func:`~bitlogic.kernels.kernels_enabled`);
* ``x``, the weight (and learnable connections' logits) are float32 CPU
  tensors of plain ``torch.Tensor`` type, the connection indices live on the
  CPU, and no tracer, ``torch.compile``, functorch transform or autocast is
  active (ctypes calls cannot be traced or batched);
* ``x`` is ``(batch, in_dim)`` (any strides; malformed input falls through,
  so the reference raises its usual error);
* the connections are fixed, or learnable with candidate pools of at most
  64 inputs or over all inputs (:func:`~bitlogic.kernels.dense_routing.dense_select`
  gathers the argmax inputs, and the fused layer reads them in order);
* the parametrization is supported (:func:`~bitlogic.kernels.parametrized.supports`).
"""

from __future__ import annotations

import torch
from torch import nn

from ..connections import FixedDenseConnections, LearnableDenseConnections
from ._library import MAX_CANDIDATES
from .dense_routing import dense_select
from .parametrized import lut_forward, supports
from .routing import Routing, candidate_routing, fixed_routing
from .switch import kernels_enabled

_PLAIN = (torch.Tensor, nn.Parameter)


def _plain_cpu_float(t: torch.Tensor) -> bool:
    return (type(t) in _PLAIN and t.device.type == "cpu" and t.dtype == torch.float32
            and t.layout == torch.strided)


def _tracing() -> bool:
    functorch = getattr(torch._C, "_are_functorch_transforms_active", None)
    return (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling()
            or (functorch is not None and functorch())
            or torch.is_autocast_enabled("cpu"))


def connection_routing(conn: nn.Module, in_dim: int
                       ) -> tuple[Routing, torch.Tensor | None] | None:
    """The routing (and candidate probabilities) of ``conn`` in its current mode.

    Returns ``None`` for connections the kernels do not handle.
    """
    kind = type(conn)
    indices = getattr(conn, "indices", None)
    if isinstance(indices, torch.Tensor) and indices.device.type != "cpu":
        return None
    if kind is FixedDenseConnections:
        return fixed_routing(conn.indices, in_dim), None
    if kind is not LearnableDenseConnections:
        return None
    if not conn.training:
        return fixed_routing(conn.selected_indices(), in_dim), None
    if conn._dense_identity or conn.num_candidates > MAX_CANDIDATES:
        return None
    return candidate_routing(conn.indices, conn.weights, conn.temperature,
                             conn.forward_sampling, in_dim)


def dense_forward(layer: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``layer(x)`` through the fused kernels, or ``None`` when they do not apply.

    Args:
        layer: a :class:`~bitlogic.layers.LogicDense`.
        x: ``(batch, in_dim)``.

    Returns:
        ``(batch, out_dim)`` or ``None``.
    """
    param, conn = layer.parametrization, layer.connections
    if not (_plain_cpu_float(x) and _plain_cpu_float(layer.weight)) or _tracing():
        return None
    if isinstance(conn, LearnableDenseConnections) and not _plain_cpu_float(conn.weights):
        return None
    if x.dim() != 2 or x.shape[1] != layer.in_dim or getattr(conn, "in_dim", None) != x.shape[1]:
        return None
    if conn.lut_rank != param.lut_rank or not supports(param, layer.training):
        return None
    if not kernels_enabled():
        return None
    if type(conn) is LearnableDenseConnections and conn.training and conn._dense_identity:
        # Gather the argmax inputs slot by slot; the layer then reads them in order.
        gathered = dense_select(x, conn.weights, conn.temperature, conn.forward_sampling)
        weight = param.effective_weight(layer.weight)
        return lut_forward(param, gathered, weight, _in_order(conn.lut_rank, conn.out_dim),
                           None, layer.training)
    planned = connection_routing(conn, layer.in_dim)
    if planned is None:
        return None
    routing, probs = planned
    weight = param.effective_weight(layer.weight)
    return lut_forward(param, x, weight, routing, probs, layer.training)


def _in_order(rank: int, out_dim: int) -> Routing:
    """Slot ``j`` of neuron ``n`` reads feature ``j * out_dim + n``."""
    return fixed_routing(torch.arange(rank * out_dim).view(rank, out_dim), rank * out_dim)
