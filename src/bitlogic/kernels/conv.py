"""When a :class:`~bitlogic.layers.LogicConv2d` call takes the fused path, and how.

A tree level of a convolution is a dense LUT layer of ``nodes * L`` neurons
(``L = H' * W'`` output positions, neuron ``node * L + position``) whose
gather indices are structured and whose weights are shared by the ``L``
positions, so it runs through the same fused kernels as
:class:`~bitlogic.layers.LogicDense` (:func:`~bitlogic.kernels.fused_fold`,
:func:`~bitlogic.kernels.fused_lookup`); nothing of size ``(batch, L, 2**rank,
...)`` is formed.

* The input is zero-padded once, feature-major: ``x^T`` of shape ``(C * Hp *
  Wp, batch)``, which the kernels read as is (a fused convolution's output
  already has that layout, so stacked convolutions without padding cost no
  copy).
* Level 0 reads the leaf offsets ``c * k * k + kh * k + kw`` of every window:
  ``table[offset, position]`` is the padded input's flat index, and the
  level's routing is ``table[indices]`` ``(rank, nodes0 * L)``, cached per
  input size and wiring (:class:`ConvPlan`).
* Level ``d + 1`` node ``i`` reads level ``d`` nodes ``i * rank + j`` at the
  same position: a fixed routing built once per input size.
* The per-node kernel tensor (``spec.coefficients`` of the effective weight,
  ``(nodes, ·)``, with its random draws) is computed once. The fold kernel
  reads it as is (``shared=L``: the ``L`` neurons of a node read its row, and
  its backward sums their coefficient gradients); the lookup kernel takes one
  row per neuron, so for it the rows are expanded to ``(nodes * L, ·)`` and
  autograd sums the per-position gradients.
* Per-sample noise (``warp``/``linear`` ``hard`` and gumbel modes) is drawn
  with the reference's shape ``(batch * L, nodes)`` and passed in the kernels'
  layout, so a seed gives the reference's values.
* The last level's ``(batch, out_channels * L)`` is viewed as ``(batch,
  out_channels, H', W')``.

:func:`conv_forward` applies under the conditions of
:func:`~bitlogic.kernels.dispatch.dense_forward` (kernels enabled, plain
float32 CPU tensors, no tracing/compile/autocast, a well-formed input, every
level's parametrization describing its fused form) and when the leaf
connections route fixed offsets (fixed wiring, or learnable wiring in eval)
or candidate pools of at most 64 offsets (learnable wiring in training, the
argmax and probabilities drawn per node and shared by the positions).
Learnable wiring over all receptive-field inputs (``num_candidates=-1``)
trains through the reference: its fused form needs the ``(batch * L, C * k
* k)`` patch matrix.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..functional.fused import FusedKernel, FusedSpec, RoutingKind, RoutingSpec
from ..functional.sampling import Sampling, logistic_noise
from .dispatch import plain_cpu_float, routable, tracing
from .fold import fused_fold
from .lookup import fused_lookup
from .routing import Routing, candidate_routing, exclusive_routing, fixed_routing
from .switch import kernels_enabled

__all__ = ["ConvPlan", "conv_forward", "per_position", "position_table", "tree_routing"]


def position_table(in_channels: int, kernel_size: int, stride: int, padded: tuple[int, int],
                   out_size: tuple[int, int]) -> torch.Tensor:
    """Flat index into the padded input of every receptive-field offset at every position.

    Args:
        in_channels: ``C``.
        kernel_size: ``k``.
        stride: window step.
        padded: ``(Hp, Wp)``, the padded input's size.
        out_size: ``(H', W')``.

    Returns:
        int32 ``(C * k * k, H' * W')``: offset ``c * k * k + kh * k + kw`` at
        position ``oh * W' + ow`` reads ``c * Hp * Wp + (oh * stride + kh) *
        Wp + ow * stride + kw``.
    """
    k = kernel_size
    (hp, wp), (out_h, out_w) = padded, out_size
    c = torch.arange(in_channels).view(-1, 1, 1)
    kh = torch.arange(k).view(1, -1, 1)
    kw = torch.arange(k).view(1, 1, -1)
    offset = (c * hp * wp + kh * wp + kw).reshape(-1, 1)  # (C * k * k, 1)
    oh = torch.arange(out_h).view(-1, 1) * stride
    ow = torch.arange(out_w).view(1, -1) * stride
    origin = (oh * wp + ow).reshape(1, -1)  # (1, L)
    return (offset + origin).to(torch.int32)


def tree_routing(nodes: int, rank: int, positions: int) -> Routing:
    """Level ``d + 1`` of a tree: node ``i`` reads nodes ``i * rank + j`` at its position.

    Args:
        nodes: nodes of the reading level.
        rank: inputs per node.
        positions: ``L``; neuron ``i * L + p`` is node ``i`` at position ``p``.

    Returns:
        An exclusive routing ``(rank, nodes * L)`` over ``nodes * rank * L``
        features (each read once).
    """
    node = torch.arange(nodes).view(1, -1, 1)
    slot = torch.arange(rank).view(-1, 1, 1)
    position = torch.arange(positions).view(1, 1, -1)
    indices = ((node * rank + slot) * positions + position).reshape(rank, nodes * positions)
    return exclusive_routing(indices, nodes * rank * positions)


class ConvPlan:
    """The index maps of one layer at one input size (cached on the layer).

    Attributes:
        key: what the maps depend on (sizes, kernel, stride, padding, levels).
        positions: ``L = H' * W'``.
        in_dim: ``C * Hp * Wp``, features of the padded input.
        table: int32 ``(C * k * k, L)`` from :func:`position_table`.
        levels: the routings of levels ``1 .. depth - 1`` (:func:`tree_routing`).
    """

    def __init__(self, layer: nn.Module, height: int, width: int) -> None:
        k, s, p = layer.kernel_size, layer.stride, layer.padding
        out_h, out_w = layer.output_size(height, width)
        padded = (height + 2 * p, width + 2 * p)
        self.key = plan_key(layer, height, width)
        self.positions = out_h * out_w
        self.in_dim = layer.in_channels * padded[0] * padded[1]
        self.table = position_table(layer.in_channels, k, s, padded, (out_h, out_w))
        sizes = layer.level_sizes
        self.levels = [tree_routing(n, layer.lut_rank, self.positions) for n in sizes[1:]]
        self._leaf: tuple[torch.Tensor, int, Routing] | None = None

    def spread(self, indices: torch.Tensor) -> torch.Tensor:
        """Offsets ``(..., n)`` (in range) -> int32 padded-input indices ``(..., n * L)``."""
        return self.table[indices.long()].flatten(-2)

    def leaf_routing(self, route: RoutingSpec) -> tuple[Routing, torch.Tensor | None]:
        """Level 0's routing and candidate probabilities (draws the selection's noise).

        A fixed routing is cached while ``route.indices`` is the same tensor
        at the same version (an in-place edit or a reload rebuilds it).
        """
        if route.kind is RoutingKind.FIXED:
            indices, cached = route.indices, self._leaf
            if cached is not None and cached[0] is indices and cached[1] == indices._version:
                return cached[2], None
            field = self.table.shape[0]
            routing = Routing(self.in_dim, self.spread(fixed_routing(indices, field).selected))
            self._leaf = (indices, indices._version, routing)
            return routing, None
        nodes, routing_probs = candidate_routing(route.indices, route.logits, route.temperature,
                                                 route.sampling, route.in_dim)
        routing = Routing(self.in_dim, self.spread(nodes.selected),
                          self.spread(nodes.candidates), nodes.spread)
        return routing, probs_per_position(routing_probs, self.positions)


def plan_key(layer: nn.Module, height: int, width: int) -> tuple:
    """What a :class:`ConvPlan`'s maps depend on."""
    return (height, width, layer.in_channels, layer.kernel_size, layer.stride, layer.padding,
            layer.lut_rank, tuple(layer.level_sizes))


def conv_plan(layer: nn.Module, height: int, width: int) -> ConvPlan:
    """The layer's cached :class:`ConvPlan` for ``height x width`` inputs (rebuilt on change)."""
    plan = getattr(layer, "_kernel_plan", None)
    if plan is None or plan.key != plan_key(layer, height, width):
        plan = ConvPlan(layer, height, width)
        layer._kernel_plan = plan
    return plan


def per_position(rows: torch.Tensor, positions: int) -> torch.Tensor:
    """Per-node rows ``(n, ·)`` -> per-neuron rows ``(n * L, ·)``: row ``i * L + p`` is row ``i``.

    Autograd sums the ``L`` per-position gradients of each row.
    """
    n, width = rows.shape
    return rows.unsqueeze(1).expand(n, positions, width).reshape(n * positions, width)


def probs_per_position(probs: torch.Tensor, positions: int) -> torch.Tensor:
    """Candidate probabilities ``(C, rank, n)`` -> ``(C, rank, n * L)``, as :func:`per_position`."""
    return probs.unsqueeze(-1).expand(*probs.shape, positions).flatten(-2)


def padded_feature_major(x: torch.Tensor, padding: int) -> torch.Tensor:
    """``(B, C, H, W)`` -> zero-padded, contiguous ``(C * Hp * Wp, B)``."""
    xt = x.permute(1, 2, 3, 0)
    if padding:
        xt = F.pad(xt, (0, 0, padding, padding, padding, padding))
    return xt.contiguous().view(-1, x.shape[0])


def _noise(spec: FusedSpec, batch: int, nodes: int, positions: int) -> torch.Tensor | None:
    """The reference's logistic noise ``(batch * L, nodes)`` as ``(batch, nodes * L)``.

    Returned as a transposed view of a contiguous ``(nodes * L, batch)``
    tensor, the layout the kernel reads.
    """
    mode = spec.sampling
    if mode is None or not (mode.uses_gumbel or (mode is Sampling.HARD and spec.bernoulli_hard)):
        return None
    noise = logistic_noise((batch * positions, nodes))
    return noise.view(batch, positions, nodes).permute(2, 1, 0).reshape(-1, batch).t()


def run_level(spec: FusedSpec, x: torch.Tensor, coeffs: torch.Tensor, routing: Routing,
              probs: torch.Tensor | None, positions: int) -> torch.Tensor:
    """One tree level through the fused kernels.

    Args:
        spec: the level's parametrization's fused form.
        x: float32 ``(batch, routing.in_dim)``.
        coeffs: per-node kernel tensor ``(nodes, ·)`` (``spec.coefficients``).
        routing: ``(rank, nodes * L)``.
        probs: candidate probabilities ``(C, rank, nodes * L)`` or ``None``.
        positions: ``L``.

    Returns:
        ``(batch, nodes * L)`` (a transposed view of the kernel's buffer).
    """
    if spec.kernel is FusedKernel.LOOKUP:
        return fused_lookup(x, per_position(coeffs, positions), routing, spec.efd_coeff,
                            spec.alpha, probs=probs)
    noise = _noise(spec, x.shape[0], coeffs.shape[0], positions)
    return fused_fold(x, coeffs, routing, spec.basis, spec.sampling, spec.temperature,
                      spec.bernoulli_hard, noise=noise, probs=probs, shared=positions)


def _leaf_route(layer: nn.Module) -> RoutingSpec | None:
    route = layer.connections.routing()
    field = layer.in_channels * layer.kernel_size ** 2
    if route is None or route.kind is RoutingKind.ALL_INPUTS:
        return None
    return route if routable(route, field, layer.lut_rank) else None


def conv_forward(layer: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """``layer(x)`` through the fused kernels, or ``None`` when they do not apply.

    Example:
        >>> from bitlogic.layers import LogicConv2d
        >>> conv = LogicConv2d(3, 4, kernel_size=3, padding=1, tree_depth=2)
        >>> y = conv_forward(conv, torch.rand(2, 3, 5, 7))  # None without the kernels
        >>> y is None or tuple(y.shape) == (2, 4, 5, 7)
        True

    Args:
        layer: a :class:`~bitlogic.layers.LogicConv2d`.
        x: ``(batch, C, H, W)``.

    Returns:
        ``(batch, out_channels, H', W')`` (a view of the kernel's
        ``(out_channels * H' * W', batch)`` buffer) or ``None``.
    """
    if not plain_cpu_float(x) or tracing():
        return None
    if not all(plain_cpu_float(w) for w in layer.weights):
        return None
    k, pad = layer.kernel_size, layer.padding
    if x.dim() != 4 or x.shape[1] != layer.in_channels or x.shape[0] == 0:
        return None
    height, width = x.shape[2], x.shape[3]
    if min(height, width) + 2 * pad < k:
        return None  # the reference raises its usual error
    route = _leaf_route(layer)
    if route is None:
        return None
    specs = [param.fused_spec(layer.training) for param in layer.parametrizations]
    if any(spec is None for spec in specs) or not kernels_enabled():
        return None
    plan = conv_plan(layer, height, width)
    batch = x.shape[0]
    h = padded_feature_major(x, pad).t()  # (batch, C * Hp * Wp), feature-major storage
    routing, probs = plan.leaf_routing(route)
    for level, (param, weight, spec) in enumerate(zip(layer.parametrizations, layer.weights,
                                                      specs, strict=True)):
        if level:
            routing, probs = plan.levels[level - 1], None
        coeffs = spec.coefficients(param.effective_weight(weight))
        h = run_level(spec, h, coeffs, routing, probs, plan.positions)
    out_h, out_w = layer.output_size(height, width)
    return h.view(batch, layer.out_channels, out_h, out_w)
