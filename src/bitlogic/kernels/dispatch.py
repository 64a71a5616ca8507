"""When a :class:`~bitlogic.layers.LogicDense` call takes the fused path.

:func:`dense_forward` returns the fused result, or ``None`` to let the layer
run its reference code. It reads only what the layer's modules say about
themselves: the connections' :meth:`~bitlogic.connections.Connections.routing`
and the parametrization's
:meth:`~bitlogic.parametrizations.LUTParametrization.fused_spec`. It applies
when all of these hold:

* the kernels are enabled (:func:`~bitlogic.kernels.kernels_enabled`);
* ``x``, the weight (and learnable connections' logits) are float32 CPU
  tensors of plain ``torch.Tensor`` type, the connection indices live on the
  CPU, and no tracer, ``torch.compile``, functorch transform or autocast is
  active (ctypes calls cannot be traced or batched);
* ``x`` is ``(batch, in_dim)`` (any strides; malformed input falls through,
  so the reference raises its usual error);
* the connections describe their routing: fixed, candidate pools of at most
  64 inputs, or all inputs (:func:`~bitlogic.kernels.dense_routing.dense_select`
  gathers the argmax inputs, and the fused layer reads them in order);
* the parametrization describes its fused form for the current mode.

Both descriptions are free of side effects, so the decision comes before any
random draw; the routing's draw then comes before the parametrization's, as
in the reference.
"""

from __future__ import annotations

import torch
from torch import nn

from ..functional.fused import RoutingKind, RoutingSpec
from ._library import MAX_CANDIDATES
from .dense_routing import dense_select
from .parametrized import lut_forward
from .routing import Routing, candidate_routing, fixed_routing
from .switch import kernels_enabled

_PLAIN = (torch.Tensor, nn.Parameter)


def plain_cpu_float(t: torch.Tensor) -> bool:
    """True for a float32 strided CPU tensor of plain ``torch.Tensor`` (or ``Parameter``) type."""
    return (type(t) in _PLAIN and t.device.type == "cpu" and t.dtype == torch.float32
            and t.layout == torch.strided)


def tracing() -> bool:
    """True under a tracer, ``torch.compile``, a functorch transform or CPU autocast."""
    functorch = getattr(torch._C, "_are_functorch_transforms_active", None)
    return (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling()
            or (functorch is not None and functorch())
            or torch.is_autocast_enabled("cpu"))


def routable(route: RoutingSpec, in_dim: int, rank: int) -> bool:
    """True when the kernels can apply ``route`` to a ``(batch, in_dim)`` input."""
    if route.in_dim != in_dim or route.rank != rank:
        return False
    if route.indices is not None and route.indices.device.type != "cpu":
        return False
    if route.logits is not None and not plain_cpu_float(route.logits):
        return False
    return route.kind is not RoutingKind.CANDIDATES or route.num_candidates <= MAX_CANDIDATES


def plan_routing(route: RoutingSpec, x: torch.Tensor
                 ) -> tuple[torch.Tensor, Routing, torch.Tensor | None]:
    """The kernel input, routing and candidate probabilities of ``route`` (draws its noise).

    Args:
        route: a description for which :func:`routable` holds.
        x: float32 ``(batch, in_dim)``.

    Returns:
        ``(x_in, routing, probs)``: for all-inputs routing ``x_in`` holds the
        argmax inputs slot by slot and ``routing`` reads them in order.
    """
    if route.kind is RoutingKind.FIXED:
        return x, fixed_routing(route.indices, route.in_dim), None
    if route.kind is RoutingKind.CANDIDATES:
        routing, probs = candidate_routing(route.indices, route.logits, route.temperature,
                                           route.sampling, route.in_dim)
        return x, routing, probs
    gathered = dense_select(x, route.logits, route.temperature, route.sampling)
    return gathered, _in_order(route.rank, route.out_dim), None


def dense_forward(layer: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``layer(x)`` through the fused kernels, or ``None`` when they do not apply.

    Args:
        layer: a :class:`~bitlogic.layers.LogicDense`.
        x: ``(batch, in_dim)``.

    Returns:
        ``(batch, out_dim)`` (a transposed view of the kernel's
        ``(out_dim, batch)`` buffer) or ``None``.
    """
    param, conn = layer.parametrization, layer.connections
    if not (plain_cpu_float(x) and plain_cpu_float(layer.weight)) or tracing():
        return None
    if x.dim() != 2 or x.shape[1] != layer.in_dim:
        return None
    route = conn.routing()
    if route is None or not routable(route, x.shape[1], param.lut_rank):
        return None
    spec = param.fused_spec(layer.training)
    if spec is None or not kernels_enabled():
        return None
    weight = param.effective_weight(layer.weight)
    x_in, routing, probs = plan_routing(route, x)
    return lut_forward(spec, x_in, weight, routing, probs)


def _in_order(rank: int, out_dim: int) -> Routing:
    """Slot ``j`` of neuron ``n`` reads feature ``j * out_dim + n``."""
    return fixed_routing(torch.arange(rank * out_dim).view(rank, out_dim), rank * out_dim)
