"""LogicConv2d: a tree of LUT nodes per output channel, shared over every position.

On the CPU in float32, :meth:`LogicConv2d.forward` runs the fused training
kernels when they apply (:mod:`bitlogic.kernels.conv`: each level as one dense
LUT layer of ``nodes * H' * W'`` neurons); the code here is the pure-PyTorch
reference of the convolutional logic layer, which they equal. Each
output channel is a tree of ``tree_depth`` levels of rank-``r`` LUT nodes:
its ``r ** tree_depth`` leaves read bits of the ``kernel_size x kernel_size
x in_channels`` receptive field (offsets ordered C-major as in
:func:`torch.nn.functional.unfold`, see
:mod:`bitlogic.connections.receptive_field`), level 0 holds
``out_channels * r ** (tree_depth - 1)`` nodes, node ``i`` of level ``d + 1``
reads nodes ``i * r ... i * r + r - 1`` of level ``d`` at the same position,
and the last level holds ``out_channels`` nodes. The weights are shared by
all output positions; padding adds constant-0 bits.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..connections import LearnableDenseConnections
from ..connections.receptive_field import ReceptiveFieldConnections
from ..kernels.conv import conv_forward
from ..parametrizations import setup_parametrization
from .checks import MAX_INPUTS, MAX_NEURONS

CONNECTION_KINDS = ("fixed", "learnable")
# Keyword arguments of learnable leaf connections rather than the parametrization.
_LEARNABLE_KWARGS = ("num_candidates", "connection_temperature", "connection_sampling",
                     "init_method", "num_groups", "group_bias")


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum``; ``ValueError`` naming ``name`` otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        allowed = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def conv_output_size(size: int, kernel_size: int, stride: int, padding: int) -> int:
    """``floor((size + 2 * padding - kernel_size) / stride) + 1``, as :class:`nn.Conv2d`.

    Raises:
        ValueError: the kernel is larger than the padded input.
    """
    padded = size + 2 * padding
    if kernel_size > padded:
        raise ValueError(f"kernel_size={kernel_size} is larger than the padded input "
                         f"({size} + 2 * padding={padding} = {padded}); allowed kernel_size "
                         f"<= {padded}")
    return (padded - kernel_size) // stride + 1


def check_image(x: torch.Tensor, channels: int, name: str = "x") -> None:
    """``ValueError`` unless ``x`` is ``(batch, channels, H, W)``."""
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} must be (batch, in_channels={channels}, H, W), "
                         f"got shape {tuple(x.shape)}")


def sliding_windows(x: torch.Tensor, kernel_size: int, stride: int, padding: int) -> torch.Tensor:
    """Zero-padded windows as a view: ``(B, C, H, W)`` -> ``(B, C, H', W', k, k)``."""
    if padding:
        x = F.pad(x, (padding,) * 4)
    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)


def gather_offsets(windows: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Read receptive-field ``offsets`` at every position.

    Args:
        windows: ``(B, C, H', W', k, k)`` from :func:`sliding_windows`.
        offsets: int64 ``(rank, n)``, C-major offsets ``c * k * k + kh * k + kw``.

    Returns:
        ``(B * H' * W', rank, n)``, batch-major then row-major over positions.
    """
    k = windows.shape[-1]
    c, rest = offsets // (k * k), offsets % (k * k)
    picked = windows[:, c, :, :, rest // k, rest % k]  # (rank, n, B, H', W')
    rank, n = offsets.shape
    return picked.permute(2, 3, 4, 0, 1).reshape(-1, rank, n)


def flat_patches(windows: torch.Tensor) -> torch.Tensor:
    """``(B, C, H', W', k, k)`` -> ``(B * H' * W', C * k * k)`` in C-major offset order."""
    b, c, h, w, k, _ = windows.shape
    return windows.permute(0, 2, 3, 1, 4, 5).reshape(b * h * w, c * k * k)


class LogicConv2d(nn.Module):
    """A convolution whose output channels are trees of LUT nodes.

    Example:
        >>> conv = LogicConv2d(3, 8, kernel_size=3, padding=1, tree_depth=2, lut_rank=2)
        >>> conv(torch.rand(4, 3, 7, 9)).shape
        torch.Size([4, 8, 7, 9])

    Args:
        in_channels: input channels ``C``.
        out_channels: output channels (trees).
        kernel_size: window side ``k >= 1``.
        stride: step ``>= 1`` between windows.
        padding: constant-0 border ``>= 0`` on each side.
        tree_depth: levels per tree ``>= 1``.
        parametrization: a registered parametrization name (see
            :func:`~bitlogic.parametrizations.list_parametrizations`); every
            level gets its own instance and weight.
        lut_rank: inputs per node, ``{2, 4, 6}``.
        connections: leaf wiring: ``"fixed"`` (distinct random offsets per
            tree, spread evenly over the channels; needs
            ``lut_rank ** tree_depth <= C * k * k``) or ``"learnable"`` (a
            softmax over receptive-field candidates with a straight-through
            argmax, :class:`~bitlogic.connections.LearnableDenseConnections`
            over the ``C * k * k`` offsets).
        device: optional device.
        channels_per_tree: ``"fixed"`` only: the input channels each tree
            reads (a random choice per tree; LogicTreeNet uses 2, so that a
            tree sees a spatial pattern within a channel); ``None``: all
            ``C``, one or a few leaves each.
        **kwargs: for ``"learnable"``: ``num_candidates``,
            ``connection_temperature``, ``connection_sampling``,
            ``init_method``, ``num_groups``, ``group_bias``; the rest
            (``temperature``, ``forward_sampling``, ``weight_init``, ...) go
            to the parametrization.

    Shapes: ``(batch, C, H, W)`` -> ``(batch, out_channels, H', W')`` with
    ``H' = floor((H + 2 * padding - kernel_size) / stride) + 1`` (likewise ``W'``).

    Raises:
        ValueError: a bad size, unknown ``connections``, connection options
            with fixed wiring, or more leaves than fixed wiring can draw.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        tree_depth: int = 2,
        parametrization: str = "light",
        lut_rank: int = 2,
        connections: str = "fixed",
        device: torch.device | str | None = None,
        channels_per_tree: int | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.out_channels = check_positive_int("out_channels", out_channels)
        self.kernel_size = check_positive_int("kernel_size", kernel_size)
        self.stride = check_positive_int("stride", stride)
        self.padding = check_positive_int("padding", padding, minimum=0)
        self.tree_depth = check_positive_int("tree_depth", tree_depth)
        if connections not in CONNECTION_KINDS:
            raise ValueError(f"connections must be one of {CONNECTION_KINDS}, got {connections!r}")
        if not isinstance(parametrization, str):
            raise TypeError(f"parametrization must be a registered name (str), "
                            f"got {type(parametrization).__name__}")
        conn_kwargs = {k: kwargs.pop(k) for k in _LEARNABLE_KWARGS if k in kwargs}
        params = [setup_parametrization(parametrization, lut_rank=lut_rank, **kwargs)
                  for _ in range(self.tree_depth)]
        rank = params[0].lut_rank
        self.lut_rank = rank
        self.connections_kind = connections
        self.level_sizes = [out_channels * rank ** (self.tree_depth - 1 - d)
                            for d in range(self.tree_depth)]
        field = in_channels * kernel_size * kernel_size
        if sum(self.level_sizes) > MAX_NEURONS or field > MAX_INPUTS:
            raise ValueError(
                f"LogicConv2d(in_channels={in_channels}, out_channels={out_channels}, "
                f"kernel_size={kernel_size}, tree_depth={self.tree_depth}) needs "
                f"{sum(self.level_sizes)} neurons over a receptive field of {field} inputs; "
                f"allowed at most {MAX_NEURONS} neurons and {MAX_INPUTS} inputs")
        if connections == "fixed":
            if conn_kwargs:
                raise ValueError(f"{sorted(conn_kwargs)} apply to connections='learnable' only")
            self.connections = ReceptiveFieldConnections(
                in_channels, kernel_size, self.level_sizes[0], rank, num_trees=out_channels,
                device=device, channels_per_tree=channels_per_tree)
        else:
            if channels_per_tree is not None:
                raise ValueError("channels_per_tree applies to connections='fixed' only, got "
                                 f"channels_per_tree={channels_per_tree!r} with 'learnable'")
            self.connections = LearnableDenseConnections(
                field, self.level_sizes[0], rank,
                temperature=conn_kwargs.pop("connection_temperature", 0.001),
                forward_sampling=conn_kwargs.pop("connection_sampling", "soft"),
                device=device, **conn_kwargs)
        self.parametrizations = nn.ModuleList(params)
        self.weights = nn.ParameterList(
            [nn.Parameter(p.init_weights(n, device)) for p, n in zip(params, self.level_sizes,
                                                                      strict=True)])
        self._kernel_plan = None  # index maps of the fused path, per input size (kernels.conv)

    @property
    def leaves_per_tree(self) -> int:
        """Leaves of one output channel's tree: ``lut_rank ** tree_depth``."""
        return self.lut_rank ** self.tree_depth

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """``(H', W')`` for an ``H x W`` input; ``ValueError`` if the kernel does not fit."""
        return (conv_output_size(height, self.kernel_size, self.stride, self.padding),
                conv_output_size(width, self.kernel_size, self.stride, self.padding))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fused = conv_forward(self, x)  # the fused CPU kernels, when they apply
        if fused is not None:
            return fused
        check_image(x, self.in_channels)
        out_h, out_w = self.output_size(x.shape[2], x.shape[3])
        windows = sliding_windows(x, self.kernel_size, self.stride, self.padding)
        if self.training and self.connections_kind == "learnable":
            y = self.connections(flat_patches(windows))
        else:  # fixed routing: gather only the offsets that are read
            y = gather_offsets(windows, self.connections.selected_indices())
        for level, (param, weight) in enumerate(zip(self.parametrizations, self.weights,
                                                    strict=True)):
            if level:  # node i reads nodes i*r .. i*r + r-1 of the level below
                y = y.reshape(y.shape[0], -1, self.lut_rank).transpose(1, 2)
            y = param(y, param.effective_weight(weight), self.training)
        return y.reshape(x.shape[0], out_h, out_w, self.out_channels).permute(0, 3, 1, 2)

    @torch.no_grad()
    def export_luts(self) -> list[torch.Tensor]:
        """Truth tables per level: uint8 ``(level_sizes[d], 2**lut_rank)``, MSB-first."""
        return [p.get_lut(p.effective_weight(w))
                for p, w in zip(self.parametrizations, self.weights, strict=True)]

    @torch.no_grad()
    def export_leaf_indices(self) -> torch.Tensor:
        """Receptive-field offset of every level-0 input in eval mode.

        Returns:
            int64 ``(level_sizes[0], lut_rank)``: node ``n``'s input ``j`` reads
            offset ``c * k * k + kh * k + kw`` (channel ``c``, window row ``kh``,
            window column ``kw``).
        """
        return self.connections.selected_indices().T.contiguous()

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"tree_depth={self.tree_depth}, lut_rank={self.lut_rank}, "
                f"connections={self.connections_kind!r}"
                + (f", channels_per_tree={per_tree}"
                   if (per_tree := getattr(self.connections, "channels_per_tree", None))
                   is not None else ""))
