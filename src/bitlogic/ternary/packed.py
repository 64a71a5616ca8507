"""PackedBitLinear: inference-only BitLinear on 2-bit packed weights.

Weights are stored 4 per byte in the layout documented in
:mod:`bitlogic.ternary.packing` (16x smaller than float32);
activations are quantized per token to int8 and multiplied with integer
accumulation by the C kernel in ``csrc/ternary/ternary.c``, or by the equivalent
PyTorch code when the kernel cannot be built. Both paths give results
bit-identical to ``BitLinear.eval()`` on float32 CPU input.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .integer import rms_norm
from .kernel import BACKENDS, MAX_NATIVE_BITS, packed_ternary_linear
from .packing import packed_row_bytes


class PackedBitLinear(nn.Module):
    """Frozen ternary linear layer with packed weights (CPU, float32 in and out).

    Usually built with :meth:`bitlogic.ternary.bitlinear.BitLinear.pack`.

    Args:
        packed: uint8 weights ``[out_features, ceil(in_features / 256) * 64]``.
        gamma: float32 weight scales ``[out_features]``.
        bias: float32 ``[out_features]`` or ``None``.
        in_features: Unpadded input width.
        activation_bits: Activation bits, in ``[2, 8]``.
        rms_norm: Apply parameter-free RMSNorm before quantizing activations.
        num_threads: Kernel threads; ``None`` follows ``torch.get_num_threads()``.
        backend: ``"auto"``, ``"native"`` or ``"torch"`` (see
            :func:`~bitlogic.ternary.kernel.packed_ternary_linear`).

    Shape:
        ``[..., in_features] -> [..., out_features]`` (float32).
    """

    def __init__(
        self,
        packed: torch.Tensor,
        gamma: torch.Tensor,
        bias: torch.Tensor | None,
        in_features: int,
        activation_bits: int = 8,
        rms_norm: bool = True,
        num_threads: int | None = None,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        row_bytes = packed_row_bytes(in_features)
        if not isinstance(packed, torch.Tensor) or packed.dtype != torch.uint8:
            raise TypeError(f"packed must be a uint8 torch.Tensor, got {packed!r:.60}")
        if packed.dim() != 2 or packed.shape[1] != row_bytes or packed.shape[0] < 1:
            raise ValueError(
                f"packed must have shape [out_features, {row_bytes}] for "
                f"in_features={in_features}, got {tuple(packed.shape)}"
            )
        out_features = packed.shape[0]
        for name, t in (("gamma", gamma), ("bias", bias)):
            if t is None and name == "bias":
                continue
            if not isinstance(t, torch.Tensor) or tuple(t.shape) != (out_features,):
                raise ValueError(
                    f"{name} must be a tensor of shape ({out_features},), got {t!r:.60}"
                )
        if not isinstance(activation_bits, int) or not 2 <= activation_bits <= MAX_NATIVE_BITS:
            raise ValueError(f"activation_bits must be an int in [2, 8], got {activation_bits!r}")
        if not isinstance(rms_norm, bool):
            raise TypeError(f"rms_norm must be a bool, got {rms_norm!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise ValueError(f"num_threads must be None or an int >= 1, got {num_threads!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.activation_bits = activation_bits
        self.rms_norm = rms_norm
        self.num_threads = num_threads
        self.backend = backend
        self.register_buffer("packed", packed.contiguous())
        self.register_buffer("gamma", gamma.detach().float().contiguous())
        self.register_buffer("bias", None if bias is None else bias.detach().float().contiguous())

    @classmethod
    def empty(
        cls, in_features: int, out_features: int, bias: bool = True, **kwargs: Any
    ) -> PackedBitLinear:
        """An all-zero-weight layer of the given size, e.g. to ``load_state_dict`` into.

        Args:
            in_features: Unpadded input width, ``>= 1``.
            out_features: Output width, ``>= 1``.
            bias: Whether the layer has a bias buffer.
            **kwargs: ``activation_bits``, ``rms_norm``, ``num_threads``, ``backend``.
        """
        if not isinstance(out_features, int) or isinstance(out_features, bool) or out_features < 1:
            raise ValueError(f"out_features must be an int >= 1, got {out_features!r}")
        # 0x55 packs the code 01 (weight 0) into all four fields of a byte.
        packed = torch.full((out_features, packed_row_bytes(in_features)), 0x55, dtype=torch.uint8)
        gamma = torch.ones(out_features)
        return cls(
            packed, gamma, torch.zeros(out_features) if bias else None, in_features, **kwargs
        )

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have shape [..., {self.in_features}], got {x!r:.60}")
        flat = x.reshape(-1, self.in_features).float()
        if self.rms_norm:
            flat = rms_norm(flat)
        y = packed_ternary_linear(
            flat,
            self.packed,
            self.gamma,
            self.bias,
            self.in_features,
            self.activation_bits,
            self.num_threads,
            self.backend,
        )
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, rms_norm={self.rms_norm}, "
            f"activation_bits={self.activation_bits}, backend={self.backend!r}"
        )
