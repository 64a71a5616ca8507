"""Functional API for ternary (BitLinear) layers: reference math, no modules.

Ternary weights ``T`` hold only -1, 0 and +1 and are paired with float scales
``gamma``; ``gamma * T`` approximates a dense weight. The functions here are
the readable pure-PyTorch definitions that the layers and the packed kernel are
tested against:

* :func:`bitlinear_python` -- ``(x @ T^T) * gamma + bias``.
* :func:`greedy_ternary_decomposition` -- ``W ~= sum_i gamma_i * T_i`` by greedy
  residual ternarization (Network Sketching, Guo et al., CVPR 2017; Xu et al.,
  ICLR 2018), with an optional least-squares refit of the scales.
* :func:`multi_ternary_linear_python` -- forward pass of such a sum.
* :func:`activation_quant` -- per-token absmax activation quantization
  (BitNet b1.58), returned dequantized.
"""

from __future__ import annotations

import torch

from .quantize import quantize_activations, weight_to_ternary


def _check_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def _check_bias(bias: torch.Tensor | None, out_features: int) -> None:
    if bias is None:
        return
    _check_tensor("bias", bias)
    if tuple(bias.shape) != (out_features,):
        raise ValueError(f"bias must have shape ({out_features},), got {tuple(bias.shape)}")


def bitlinear_python(
    x: torch.Tensor,
    W: torch.Tensor,
    gamma: torch.Tensor,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reference BitLinear forward: ``(x @ W^T) * gamma + bias``.

    The matmul, the scaling and the bias are three separate float operations in
    this order; the packed kernel reproduces them exactly when ``x`` holds
    integer codes (see :mod:`bitlogic.ternary.kernel`).

    Args:
        x: Input of shape ``[..., in_features]``.
        W: Ternary weights of shape ``[out_features, in_features]`` (values in
            ``{-1, 0, +1}``; not checked, any weight works).
        gamma: Scale broadcastable against the output: 0-dim (per tensor),
            ``[out_features]`` (per channel), or e.g. ``[batch, out_features]``
            (per token and channel, as the packed path uses).
        bias: Optional bias of shape ``[out_features]``.

    Returns:
        Output of shape ``[..., out_features]``.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: ``W`` is not 2-D, or the shapes of ``x``, ``gamma`` or
            ``bias`` do not match ``W``.
    """
    _check_tensor("x", x)
    _check_tensor("W", W)
    _check_tensor("gamma", gamma)
    if W.dim() != 2:
        raise ValueError(f"W must be 2-D [out_features, in_features], got shape {tuple(W.shape)}")
    if x.dim() < 1 or x.shape[-1] != W.shape[1]:
        raise ValueError(f"x must have shape [..., {W.shape[1]}] to match W, got {tuple(x.shape)}")
    if gamma.dim() >= 1 and gamma.shape[-1] not in (1, W.shape[0]):
        raise ValueError(
            f"gamma's last dimension must be 1 or out_features={W.shape[0]}, "
            f"got shape {tuple(gamma.shape)}"
        )
    _check_bias(bias, W.shape[0])
    output = torch.matmul(x, W.t())
    output = output * gamma
    if bias is not None:
        output = output + bias
    return output


def _check_decomposition(W_ternary: torch.Tensor, gammas: torch.Tensor) -> None:
    _check_tensor("W_ternary", W_ternary)
    _check_tensor("gammas", gammas)
    if W_ternary.dim() != 3:
        raise ValueError(
            f"W_ternary must be 3-D [k, out_features, in_features], got {tuple(W_ternary.shape)}"
        )
    if tuple(gammas.shape) != tuple(W_ternary.shape[:2]):
        raise ValueError(
            f"gammas must have shape {tuple(W_ternary.shape[:2])} [k, out_features], "
            f"got {tuple(gammas.shape)}"
        )


def refit_ternary_gammas(
    W: torch.Tensor, W_ternary: torch.Tensor, gammas: torch.Tensor
) -> torch.Tensor:
    """Least-squares scales for fixed ternary components, row by row.

    For every output row ``o`` solves the ``k x k`` normal equations of
    ``min_g ||W[o] - sum_i g_i * W_ternary[i, o]||`` in float64 (minimum-norm
    solution when components are linearly dependent, e.g. all zero). Rows where
    the solve does not beat the given ``gammas`` keep them, so the residual
    never grows.

    Args:
        W: Dense weights ``[out_features, in_features]``.
        W_ternary: Components ``[k, out_features, in_features]``.
        gammas: Current scales ``[k, out_features]``.

    Returns:
        Refitted scales ``[k, out_features]`` in ``gammas``' dtype.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: the shapes disagree.
    """
    _check_decomposition(W_ternary, gammas)
    _check_tensor("W", W)
    if tuple(W.shape) != tuple(W_ternary.shape[1:]):
        raise ValueError(
            f"W must have shape {tuple(W_ternary.shape[1:])} to match W_ternary, "
            f"got {tuple(W.shape)}"
        )
    T = W_ternary.double()
    target = W.double()
    gram = torch.einsum("ior,jor->oij", T, T)
    rhs = torch.einsum("ior,or->oi", T, target)
    solution = torch.linalg.lstsq(gram, rhs.unsqueeze(-1), driver="gelsd").solution.squeeze(-1)
    # Compare the scales as returned: rounding to gammas' dtype must not make a row worse.
    solution = solution.to(gammas.dtype).double()

    def row_error(g: torch.Tensor) -> torch.Tensor:
        return (target - torch.einsum("oi,ior->or", g, T)).pow(2).sum(dim=1)

    old = gammas.double().t()
    better = row_error(solution) < row_error(old)
    return torch.where(better.unsqueeze(1), solution, old).t().to(gammas.dtype).contiguous()


def greedy_ternary_decomposition(
    W: torch.Tensor, k: int, refit: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy residual decomposition ``W ~= sum_{i<k} gammas[i, :, None] * W_ternary[i]``.

    Component ``i`` is the per-row absmean ternarization of the residual left by
    components ``0..i-1``. Each step can only shrink every residual entry: an
    entry is either left alone (``|r| < gamma / 2`` rounds to 0) or replaced by
    ``||r| - gamma| <= |r|``, so the error is non-increasing in ``k``.

    Args:
        W: Dense weights ``[out_features, in_features]`` (float).
        k: Number of ternary components, ``>= 1``.
        refit: After the greedy pass, re-solve all ``k`` scales of each row
            jointly by least squares (:func:`refit_ternary_gammas`).

    Returns:
        ``(W_ternary, gammas)`` of shapes ``[k, out_features, in_features]``
        (values in ``{-1, 0, +1}``) and ``[k, out_features]``, in ``W``'s dtype.

    Raises:
        TypeError: ``W`` is not a floating tensor, ``k`` not an int or
            ``refit`` not a bool.
        ValueError: ``W`` is not 2-D or ``k < 1``.
    """
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k must be an int >= 1, got {k!r}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not isinstance(refit, bool):
        raise TypeError(f"refit must be a bool, got {refit!r}")
    residual = W
    components, scales = [], []
    for _ in range(k):
        T, gamma = weight_to_ternary(residual, per_channel=True)
        components.append(T)
        scales.append(gamma)
        residual = residual - gamma.unsqueeze(1) * T
    W_ternary = torch.stack(components)
    gammas = torch.stack(scales)
    if refit:
        gammas = refit_ternary_gammas(W, W_ternary, gammas)
    return W_ternary, gammas


def decomposition_error(
    W: torch.Tensor, W_ternary: torch.Tensor, gammas: torch.Tensor
) -> torch.Tensor:
    """Relative Frobenius error ``||W - sum_i gammas_i T_i|| / ||W||`` (float64, 0-dim).

    Args:
        W: Dense weights ``[out_features, in_features]``.
        W_ternary: Components ``[k, out_features, in_features]``.
        gammas: Scales ``[k, out_features]``.
    """
    _check_decomposition(W_ternary, gammas)
    approx = torch.einsum("io,ior->or", gammas.double(), W_ternary.double())
    norm = W.double().norm().clamp(min=torch.finfo(torch.float64).tiny)
    return (W.double() - approx).norm() / norm


def multi_ternary_linear_python(
    x: torch.Tensor,
    W_ternary: torch.Tensor,
    gammas: torch.Tensor,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sum of ``k`` ternary linear maps: ``sum_i (x @ T_i^T) * gamma_i + bias``.

    Args:
        x: Input of shape ``[..., in_features]``.
        W_ternary: Components ``[k, out_features, in_features]``.
        gammas: Scales ``[k, out_features]``.
        bias: Optional bias ``[out_features]``.

    Returns:
        Output of shape ``[..., out_features]``.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: the shapes disagree.
    """
    _check_decomposition(W_ternary, gammas)
    _check_bias(bias, W_ternary.shape[1])
    output = bitlinear_python(x, W_ternary[0], gammas[0])
    for i in range(1, W_ternary.shape[0]):
        output = output + bitlinear_python(x, W_ternary[i], gammas[i])
    if bias is not None:
        output = output + bias
    return output


def activation_quant(x: torch.Tensor, bits: int = 8) -> torch.Tensor:
    """Per-token absmax activation quantization, returned dequantized.

    Equals ``codes * step`` from :func:`~bitlogic.ternary.quantize.quantize_activations`:
    every token (last dimension) is scaled by its absmax to ``bits``-bit
    symmetric integers and mapped back to floats. Like ``torch.round`` its
    gradient is zero almost everywhere; wrap it with
    :func:`bitlogic.functional.sampling.straight_through` for training.

    Args:
        x: Activations ``[..., features]`` (float).
        bits: Bits per code, in ``[2, 16]``.

    Returns:
        Tensor of ``x``'s shape and dtype holding at most ``2**bits - 1``
        distinct values per token.
    """
    codes, step = quantize_activations(x, bits)
    return codes * step

