"""Receptive-field wiring for convolutional logic layers.

A receptive field of ``in_channels`` channels and a ``kernel_size x
kernel_size`` window is flattened C-major, as :func:`torch.nn.functional.unfold`
orders it: offset ``c * k * k + kh * k + kw`` is channel ``c``, window row
``kh``, window column ``kw``. A convolution's leaves read such offsets; the
same offsets are valid at every output position (the weights are shared).
"""

from __future__ import annotations

from typing import Any

import torch

from .fixed import FixedDenseConnections


def receptive_field_indices(
    in_channels: int,
    kernel_size: int,
    leaves_per_tree: int,
    num_trees: int,
    device: torch.device | str | None = None,
    channels_per_tree: int | None = None,
) -> torch.Tensor:
    """Draw distinct receptive-field offsets for every tree, spread evenly over its channels.

    Each tree reads ``channels_per_tree`` channels (all of them when ``None``):
    the first ones of a random channel order per tree. Leaf ``i`` reads channel
    ``perm[i % channels_per_tree]``, so every chosen channel feeds ``floor`` or
    ``ceil`` of ``leaves_per_tree / channels_per_tree`` leaves; the window
    positions within a channel are distinct random draws, and the leaves are
    shuffled at the end. No offset repeats within a tree. Few channels per tree
    let a tree see a spatial pattern within a channel (LogicTreeNet restricts
    each tree to two); all channels let it mix many features at one place.
    Randomness comes from torch's global RNG; ``None`` and ``in_channels``
    draw the same offsets.

    Example:
        >>> idx = receptive_field_indices(3, 3, leaves_per_tree=8, num_trees=5)
        >>> idx.shape, bool((idx < 27).all())
        (torch.Size([5, 8]), True)

    Args:
        in_channels: channels ``C >= 1`` of the input.
        kernel_size: window side ``k >= 1``.
        leaves_per_tree: offsets per tree, ``1 <= leaves_per_tree <= C * k * k``.
        num_trees: trees ``>= 1`` (one per output channel).
        device: optional device of the result.
        channels_per_tree: channels each tree reads, ``1 <= channels_per_tree
            <= in_channels``; ``None``: all of them.

    Returns:
        int64 ``(num_trees, leaves_per_tree)`` offsets in ``[0, C * k * k)``.

    Raises:
        ValueError: a size below 1, ``channels_per_tree`` above ``in_channels``,
            or more leaves than the chosen channels' window positions.
    """
    for name, value in (("in_channels", in_channels), ("kernel_size", kernel_size),
                        ("leaves_per_tree", leaves_per_tree), ("num_trees", num_trees)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if channels_per_tree is None:
        channels_per_tree = in_channels
    elif (not isinstance(channels_per_tree, int) or isinstance(channels_per_tree, bool)
          or not 1 <= channels_per_tree <= in_channels):
        raise ValueError(f"channels_per_tree must be an integer in [1, in_channels={in_channels}] "
                         f"or None, got {channels_per_tree!r}")
    window = kernel_size * kernel_size
    field = channels_per_tree * window
    if leaves_per_tree > field:
        raise ValueError(
            f"fixed wiring cannot draw {leaves_per_tree} distinct leaves (lut_rank ** tree_depth) "
            f"from {channels_per_tree} channels of a {kernel_size}x{kernel_size} window "
            f"(channels_per_tree * kernel_size**2 = {field} positions); allowed at most {field}"
        )
    leaf = torch.arange(leaves_per_tree, device=device)
    channel_order = torch.rand(num_trees, in_channels, device=device).argsort(dim=1)
    channel = channel_order[:, leaf % channels_per_tree]  # (trees, leaves)
    positions = torch.rand(num_trees, in_channels, window, device=device).argsort(dim=2)
    slot = (leaf // channels_per_tree).expand(num_trees, -1)  # the slot-th leaf of its channel
    pos = positions.gather(2, slot.unsqueeze(1).expand(-1, in_channels, -1))  # (trees, C, leaves)
    pos = pos.gather(1, channel.unsqueeze(1)).squeeze(1)
    offsets = channel * window + pos
    shuffle = torch.rand(num_trees, leaves_per_tree, device=device).argsort(dim=1)
    return offsets.gather(1, shuffle).to(torch.int64)


class ReceptiveFieldConnections(FixedDenseConnections):
    """Fixed routing over a flattened receptive field, drawn by :func:`receptive_field_indices`.

    The level-0 nodes of tree ``t`` are ``t * nodes_per_tree ...``; node ``n``'s
    slot ``j`` reads leaf ``n * lut_rank + j`` of its tree, so no offset repeats
    within a tree. As a dense connection it maps ``(batch, C * k * k)`` patches
    to ``(batch, lut_rank, out_dim)``.

    Args:
        in_channels: input channels ``C``.
        kernel_size: window side ``k``.
        out_dim: level-0 nodes (``num_trees * nodes_per_tree``).
        lut_rank: inputs per node.
        num_trees: trees; ``out_dim`` must divide by it.
        device: optional device of the index buffer.
        channels_per_tree: channels each tree reads (see
            :func:`receptive_field_indices`); ``None``: all.

    The buffer ``indices`` is int64 ``(lut_rank, out_dim)``.

    Raises:
        ValueError: bad sizes, or more leaves per tree than receptive-field positions.
    """

    def __init__(self, in_channels: int, kernel_size: int, out_dim: int, lut_rank: int,
                 num_trees: int, device: torch.device | str | None = None,
                 channels_per_tree: int | None = None, **kwargs: Any):
        if not isinstance(num_trees, int) or num_trees < 1 or out_dim % num_trees:
            raise ValueError(f"num_trees must be a positive divisor of out_dim={out_dim}, "
                             f"got {num_trees!r}")
        # read by _build_indices, which the base constructor calls
        self.in_channels, self.kernel_size, self.num_trees = in_channels, kernel_size, num_trees
        self.channels_per_tree = channels_per_tree
        super().__init__(in_channels * kernel_size * kernel_size, out_dim, lut_rank, device,
                         **kwargs)

    def _build_indices(self) -> torch.Tensor:
        leaves = self.out_dim // self.num_trees * self.lut_rank
        offsets = receptive_field_indices(self.in_channels, self.kernel_size, leaves,
                                          self.num_trees, self.device, self.channels_per_tree)
        return offsets.reshape(self.out_dim, self.lut_rank).T.contiguous()

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, kernel_size={self.kernel_size}, "
                f"out_dim={self.out_dim}, lut_rank={self.lut_rank}, num_trees={self.num_trees}"
                + (f", channels_per_tree={self.channels_per_tree}"
                   if self.channels_per_tree is not None else ""))
