"""Quantizers for ternary (BitNet b1.58 style) layers.

Two pure functions, shared by the training layers, the pure-PyTorch reference
paths and the packed inference engine so that all of them see the very same
integer values:

* :func:`weight_to_ternary` -- absmean weight quantization to ``{-1, 0, +1}``.
* :func:`quantize_activations` -- per-token absmax quantization to signed
  ``bits``-bit integers, returned as integer-valued floats plus the step size.

The float operations are spelled out in a fixed order (divide by the scale,
multiply by ``qmax``, round half to even, clamp) because the C kernel in
``csrc/ternary/ternary.c`` repeats them operation for operation and must reproduce the
same codes bit for bit.
"""

from __future__ import annotations

import torch

#: Lower bound for every quantization scale, so all-zero inputs give zeros, not NaN.
SCALE_EPS = 1e-5


def _check_float_tensor(name: str, value: object, min_dim: int) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype}")
    if value.dim() < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimension(s), got shape {tuple(value.shape)}"
        )
    return value


def weight_to_ternary(
    W: torch.Tensor, per_channel: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Absmean ternarization ``T = clamp(round(W / gamma), -1, 1)``.

    ``gamma = mean(|W|)`` over the whole tensor (the b1.58 recipe) or over each
    output row, clamped to at least ``1e-5`` so an all-zero ``W`` yields an
    all-zero ``T`` instead of NaN. ``gamma * T`` approximates ``W``.

    Args:
        W: Weight matrix of shape ``[out_features, in_features]`` (float).
        per_channel: One scale per output row instead of one for the tensor.

    Returns:
        ``(T, gamma)``: ``T`` has ``W``'s shape and dtype and holds only -1, 0
        and +1; ``gamma`` is a 0-dim tensor (per tensor) or has shape
        ``[out_features]`` (per channel), in ``W``'s dtype.

    Raises:
        TypeError: ``W`` is not a floating tensor or ``per_channel`` is not a bool.
        ValueError: ``W`` is not 2-D.
    """
    _check_float_tensor("W", W, 0)
    if W.dim() != 2:
        raise ValueError(f"W must be 2-D [out_features, in_features], got shape {tuple(W.shape)}")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    if per_channel:
        gamma = W.abs().mean(dim=1).clamp(min=SCALE_EPS)
        T = torch.round(W / gamma.unsqueeze(1)).clamp(-1, 1)
    else:
        gamma = W.abs().mean().clamp(min=SCALE_EPS)
        T = torch.round(W / gamma).clamp(-1, 1)
    return T, gamma


def activation_qmax(bits: int) -> int:
    """Largest code of symmetric signed ``bits``-bit quantization, ``2**(bits-1) - 1``.

    Raises:
        TypeError: ``bits`` is not an int.
        ValueError: ``bits`` is outside ``[2, 16]``.
    """
    if not isinstance(bits, int) or isinstance(bits, bool):
        raise TypeError(f"bits must be an int, got {bits!r}")
    if not 2 <= bits <= 16:
        raise ValueError(f"bits must be in [2, 16], got {bits}")
    return 2 ** (bits - 1) - 1


def quantize_activations(x: torch.Tensor, bits: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token absmax quantization to symmetric signed integers.

    ``scale = max(max|x|, 1e-5)`` over the last dimension,
    ``codes = clamp(round((x / scale) * qmax), -qmax, qmax)`` with
    ``qmax = 2**(bits-1) - 1`` and round-half-to-even, ``step = scale / qmax``.
    ``codes * step`` approximates ``x``.

    Args:
        x: Activations of shape ``[..., features]`` (float).
        bits: Bits per code, in ``[2, 16]`` (8 for BitNet b1.58).

    Returns:
        ``(codes, step)``: ``codes`` has ``x``'s shape and dtype with integer
        values in ``[-qmax, qmax]``; ``step`` has shape ``[..., 1]``.

    Raises:
        TypeError: ``x`` is not a floating tensor or ``bits`` is not an int.
        ValueError: ``x`` is 0-D or ``bits`` is outside ``[2, 16]``.
    """
    _check_float_tensor("x", x, 1)
    qmax = activation_qmax(bits)
    scale = x.abs().amax(dim=-1, keepdim=True).clamp(min=SCALE_EPS)
    codes = torch.round(x / scale * qmax).clamp(-qmax, qmax)
    return codes, scale / qmax
