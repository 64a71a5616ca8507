"""An independent discrete reference of LogicConv2d (unfold + integer table lookups)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bitlogic.layers import LogicConv2d


def lookup(luts: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Tables ``(n, 2**r)`` at MSB-first addresses of ``bits`` ``(B, n, r, L)``: ``(B, n, L)``."""
    rank = bits.shape[2]
    address = sum(bits[:, :, j].long() << (rank - 1 - j) for j in range(rank))
    table = luts.long().unsqueeze(0).expand(bits.shape[0], -1, -1)
    return table.gather(2, address)


def conv_eval_reference(conv: LogicConv2d, x: torch.Tensor) -> torch.Tensor:
    """Binary ``(B, C, H, W)`` -> ``(B, out_channels, H', W')`` by explicit table lookups."""
    k, s, p, r = conv.kernel_size, conv.stride, conv.padding, conv.lut_rank
    out_h, out_w = conv.output_size(x.shape[2], x.shape[3])
    patches = F.unfold(F.pad(x, (p, p, p, p)), k, stride=s)  # (B, C*k*k, L)
    bits = patches[:, conv.export_leaf_indices()]  # (B, n0, r, L)
    for level, luts in enumerate(conv.export_luts()):
        if level:
            bits = bits.reshape(x.shape[0], -1, r, bits.shape[-1])
        bits = lookup(luts, bits)
    return bits.reshape(x.shape[0], conv.out_channels, out_h, out_w).float()
