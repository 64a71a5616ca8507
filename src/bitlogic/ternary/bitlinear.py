"""BitLinear: a linear layer with ternary weights and 8-bit activations (BitNet b1.58).

The layer keeps latent float weights and, on every forward, quantizes

* the input per token by absmax to ``activation_bits`` (after an optional
  parameter-free RMSNorm, as in the b1.58 recipe), and
* the weights by absmean to ``{-1, 0, +1}`` times one scale (per tensor, or per
  output row with ``per_channel=True``),

with straight-through gradients on both. The math lives in
:func:`bitlogic.ternary.integer.bitlinear_forward`; its value is the
exact integer computation, so ``layer.eval()(x)`` equals ``layer.pack()(x)``
bit for bit on float32 CPU inputs.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .integer import bitlinear_forward, rms_norm
from .kernel import MAX_NATIVE_BITS
from .packed import PackedBitLinear
from .packing import pack_ternary
from .quantize import weight_to_ternary

#: Most weights of one layer, refused before allocating: 2**32 float32 is 16 GiB.
MAX_WEIGHTS = 2**32


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1, else raise naming ``name``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def init_like_linear_(weight: nn.Parameter, bias: nn.Parameter | None) -> None:
    """``U(-1/sqrt(in), 1/sqrt(in))`` for ``weight [out, in]`` and ``bias``, as ``nn.Linear``."""
    bound = 1.0 / math.sqrt(weight.shape[1])
    nn.init.uniform_(weight, -bound, bound)
    if bias is not None:
        nn.init.uniform_(bias, -bound, bound)


def copy_linear_(layer: nn.Module, linear: nn.Linear) -> nn.Module:
    """Copy ``linear``'s weight and bias into ``layer`` (built with a matching bias); returns it."""
    with torch.no_grad():
        layer.weight.copy_(linear.weight)
        if linear.bias is not None:
            layer.bias.copy_(linear.bias)
    return layer


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is a bool, else raise naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool (True or False), got {value!r}")
    return value


class BitLinear(nn.Module):
    """Linear layer with ternary weights and per-token quantized activations.

    Args:
        in_features: Input width, ``>= 1``.
        out_features: Output width, ``>= 1``.
        bias: Learn an additive float bias.
        rms_norm: Apply parameter-free RMSNorm to the input before quantizing it.
        activation_bits: Activation bits, in ``[2, 8]`` (the packed kernel uses int8).
        per_channel: One weight scale per output row instead of one per tensor.
        device: Device of the parameters.
        dtype: Floating dtype of the latent parameters.

    Shape:
        ``[..., in_features] -> [..., out_features]``.

    Attributes:
        weight: Latent float weights ``[out_features, in_features]``.
        bias: ``[out_features]`` or ``None``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        rms_norm: bool = True,
        activation_bits: int = 8,
        per_channel: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        if in_features * out_features > MAX_WEIGHTS:
            raise ValueError(f"in_features * out_features must be <= {MAX_WEIGHTS} (16 GiB of "
                             f"float32 weights), got {in_features} * {out_features}")
        check_bool("bias", bias)
        self.rms_norm = check_bool("rms_norm", rms_norm)
        self.per_channel = check_bool("per_channel", per_channel)
        if not isinstance(activation_bits, int) or isinstance(activation_bits, bool):
            raise TypeError(f"activation_bits must be an int in [2, 8], got {activation_bits!r}")
        if not 2 <= activation_bits <= MAX_NATIVE_BITS:
            raise ValueError(
                f"activation_bits must be in [2, {MAX_NATIVE_BITS}], got {activation_bits}"
            )
        self.activation_bits = activation_bits
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating dtype, got {dtype}")
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(out_features, in_features, **factory))
        self.bias = nn.Parameter(torch.empty(out_features, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``U(-1/sqrt(in), 1/sqrt(in))`` for weight and bias, as ``nn.Linear`` does."""
        init_like_linear_(self.weight, self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Flatten before the norm so PackedBitLinear, which flattens too, reduces
        # over identically shaped tensors and stays bit-identical.
        if x.dim() == 0:
            raise ValueError(f"x must have shape [..., {self.in_features}], got a 0-dim tensor")
        flat = x.reshape(-1, x.shape[-1])
        if self.rms_norm:
            flat = rms_norm(flat)
        y = bitlinear_forward(flat, self.weight, self.bias, self.activation_bits, self.per_channel)
        return y.reshape(*x.shape[:-1], self.out_features)

    def ternary_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Current quantized weights ``(T [out, in], gamma)``; gamma 0-dim or ``[out]``."""
        with torch.no_grad():
            return weight_to_ternary(self.weight.detach(), self.per_channel)

    @classmethod
    def from_linear(cls, linear: nn.Linear, **kwargs: Any) -> BitLinear:
        """A BitLinear initialized with a copy of ``linear``'s weight and bias.

        Args:
            linear: Source ``nn.Linear`` (its device and dtype are kept).
            **kwargs: ``rms_norm``, ``activation_bits``, ``per_channel``.

        Raises:
            TypeError: ``linear`` is not an ``nn.Linear`` or an option is unknown.
        """
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"linear must be an nn.Linear, got {type(linear).__name__}")
        allowed = {"rms_norm", "activation_bits", "per_channel"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        layer = cls(
            linear.in_features,
            linear.out_features,
            bias=linear.bias is not None,
            device=linear.weight.device,
            dtype=linear.weight.dtype,
            **kwargs,
        )
        return copy_linear_(layer, linear)

    def pack(self) -> PackedBitLinear:
        """Freeze into an inference-only :class:`PackedBitLinear` (float32, CPU).

        The packed module computes exactly what this layer computes in float32.
        """
        T, gamma = self.ternary_weight()
        gamma = gamma.float().expand(self.out_features).contiguous()
        bias = None if self.bias is None else self.bias.detach().float()
        return PackedBitLinear(
            pack_ternary(T).cpu(),
            gamma.cpu(),
            None if bias is None else bias.cpu(),
            in_features=self.in_features,
            activation_bits=self.activation_bits,
            rms_norm=self.rms_norm,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, rms_norm={self.rms_norm}, "
            f"activation_bits={self.activation_bits}, per_channel={self.per_channel}"
        )
