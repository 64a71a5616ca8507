"""BitLinear forward in the integer domain, with straight-through gradients.

The forward value of a BitLinear layer is defined *once*, here, as

    codes, step = quantize_activations(x, bits)      # per token, integer-valued
    T, gamma    = weight_to_ternary(W, per_channel)   # {-1, 0, +1} and scale
    acc         = codes @ T^T                          # exact integer sums
    y           = acc * (step * gamma) + bias          # three float ops, this order

``acc`` is computed in floating point but is exact: every partial sum is an
integer of magnitude at most ``in_features * qmax``, representable in float32
below ``2**24`` (float64 is used above that). So the training layer, its
``eval()`` mode and the packed C kernel (int32 accumulation, then the same
float ops) agree bit for bit.

Gradients are straight-through on both quantizers (BitNet b1.58):
``dL/dx = dL/dy @ (gamma * T)`` and ``dL/dW = dL/dy^T @ (codes * step)``,
i.e. each quantizer is treated as the identity.
"""

from __future__ import annotations

import torch

from .quantize import activation_qmax, quantize_activations, weight_to_ternary

#: Largest integer up to which float32 represents every integer exactly.
_FLOAT32_EXACT = 2**24


def rms_norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Parameter-free RMS normalization over the last dimension.

    Args:
        x: Tensor ``[..., features]``.
        eps: Added to the mean square before the square root.

    Returns:
        ``x / sqrt(mean(x**2) + eps)``, same shape and dtype.
    """
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)


def exact_ternary_matmul(codes: torch.Tensor, T: torch.Tensor, qmax: int) -> torch.Tensor:
    """``codes @ T^T`` for integer codes and ternary ``T``, exactly.

    Args:
        codes: Integer-valued ``[N, in_features]`` with ``|codes| <= qmax``.
        T: Ternary ``[out_features, in_features]``.
        qmax: Bound on ``|codes|``; decides whether float32 sums are exact.

    Returns:
        ``[N, out_features]`` in ``codes``' dtype, equal to the int32 sums
        converted to that dtype (round to nearest even above ``2**24`` in float32).
    """
    if codes.dtype == torch.float32 and codes.shape[-1] * qmax >= _FLOAT32_EXACT:
        return torch.matmul(codes.double(), T.double().t()).float()
    return torch.matmul(codes, T.to(codes.dtype).t())


def scale_accumulators(
    acc: torch.Tensor,
    step: torch.Tensor,
    gamma: torch.Tensor,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """``acc * (step * gamma) + bias`` -- the float epilogue shared with the C kernel.

    Args:
        acc: Accumulators ``[N, out_features]``.
        step: Activation steps ``[N, 1]``.
        gamma: Weight scale, 0-dim or ``[out_features]``.
        bias: ``[out_features]`` or ``None``.

    Returns:
        ``[N, out_features]``.
    """
    out = acc * (step * gamma)
    if bias is not None:
        out = out + bias
    return out


class _BitLinearSTE(torch.autograd.Function):
    """Exact quantized forward; identity (straight-through) quantizer gradients."""

    @staticmethod
    def forward(ctx, x, weight, bias, bits, per_channel):
        qmax = activation_qmax(bits)
        T, gamma = weight_to_ternary(weight, per_channel)
        codes, step = quantize_activations(x, bits)
        y = scale_accumulators(exact_ternary_matmul(codes, T, qmax), step, gamma, bias)
        ctx.save_for_backward(codes, step, T.to(torch.int8), gamma)
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, grad_y):
        codes, step, T, gamma = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            w_q = T.to(grad_y.dtype) * (gamma.unsqueeze(1) if gamma.dim() else gamma)
            grad_x = grad_y.matmul(w_q)
        if ctx.needs_input_grad[1]:
            grad_w = grad_y.t().matmul(codes * step)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_y.sum(dim=0)
        return grad_x, grad_w, grad_b, None, None


def bitlinear_forward(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation_bits: int = 8,
    per_channel: bool = False,
) -> torch.Tensor:
    """Quantized BitLinear ``y = Q_a(x) @ Q_w(W)^T + b`` with straight-through gradients.

    The value is bit-identical to the packed inference kernel on the same
    inputs (float32); see the module docstring for the exact definition.

    Args:
        x: Input ``[..., in_features]`` (already normalized if the layer uses RMSNorm).
        weight: Latent float weights ``[out_features, in_features]``.
        bias: Optional ``[out_features]``.
        activation_bits: Activation bits, in ``[2, 16]``.
        per_channel: Per-row weight scale instead of one per tensor.

    Returns:
        ``[..., out_features]`` in the promoted float dtype of ``x`` and
        ``weight`` (at least float32).

    Raises:
        TypeError: a tensor argument is not a floating tensor.
        ValueError: the shapes disagree or ``activation_bits`` is out of range.
    """
    for name, t in (("x", x), ("weight", weight)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating torch.Tensor, got {t!r:.60}")
    if weight.dim() != 2:
        raise ValueError(f"weight must be 2-D [out, in], got shape {tuple(weight.shape)}")
    if x.dim() < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x must have shape [..., {weight.shape[1]}], got {tuple(x.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    activation_qmax(activation_bits)
    dtype = torch.promote_types(torch.promote_types(x.dtype, weight.dtype), torch.float32)
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1]).to(dtype)
    b = None if bias is None else bias.to(dtype)
    y = _BitLinearSTE.apply(flat, weight.to(dtype), b, activation_bits, per_channel)
    return y.reshape(*lead, weight.shape[0])
