"""Relaxed Bernoulli / categorical samplers with straight-through variants.

Every sampler takes its noise as an optional argument so that tests and fused
kernels can replay exactly the same draw. Noise for the sigmoid samplers is
standard logistic noise ``L = log(u) - log(1 - u)``; for the softmax samplers
it is standard Gumbel noise ``G = -log(-log(u))``.
"""

from __future__ import annotations

import torch

VALID_SAMPLING = ("soft", "hard", "gumbel_soft", "gumbel_hard")
_EPS = 1e-6


def check_sampling(forward_sampling: str, allowed: tuple[str, ...] = VALID_SAMPLING) -> str:
    """Return ``forward_sampling`` or raise ``ValueError`` listing ``allowed``."""
    if forward_sampling not in allowed:
        raise ValueError(
            f"forward_sampling must be one of {allowed}, got {forward_sampling!r}"
        )
    return forward_sampling


def logistic_noise(shape, device=None, dtype=torch.float32, generator=None) -> torch.Tensor:
    """Standard logistic noise of ``shape``."""
    u = torch.rand(shape, device=device, dtype=dtype, generator=generator).clamp_(_EPS, 1 - _EPS)
    return torch.log(u) - torch.log1p(-u)


def gumbel_noise(shape, device=None, dtype=torch.float32, generator=None) -> torch.Tensor:
    """Standard Gumbel noise of ``shape``."""
    u = torch.rand(shape, device=device, dtype=dtype, generator=generator).clamp_(_EPS, 1 - _EPS)
    return -torch.log(-torch.log(u))


def straight_through(hard: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """Forward value of ``hard``, gradient of ``soft``.

    Written as ``hard.detach() + (soft - soft.detach())``: the added term is exactly
    zero, so the value is bit-identical to ``hard``.
    """
    return hard.detach() + (soft - soft.detach())


def sample_sigmoid(
    logits: torch.Tensor,
    temperature: float,
    mode: str,
    noise: torch.Tensor | None = None,
    bernoulli_hard: bool = False,
) -> torch.Tensor:
    """Squash logits to ``[0, 1]`` the way ``mode`` asks.

    * ``soft``: ``sigmoid(z / t)``.
    * ``hard``: the same, rounded to ``{0, 1}`` with a straight-through
      gradient; with ``bernoulli_hard`` the round is a Bernoulli draw
      ``z / t + L > 0`` instead of ``z > 0``.
    * ``gumbel_soft``: ``sigmoid((z + L) / t)``.
    * ``gumbel_hard``: ``gumbel_soft`` rounded with a straight-through gradient.

    Args:
        logits: any shape.
        temperature: positive scale.
        mode: one of :data:`VALID_SAMPLING`.
        noise: logistic noise shaped like ``logits``; drawn when ``None`` and
            the mode needs it.
        bernoulli_hard: see ``hard``.
    """
    needs_noise = mode.startswith("gumbel") or (mode == "hard" and bernoulli_hard)
    if needs_noise and noise is None:
        noise = logistic_noise(logits.shape, logits.device, logits.dtype)
    if mode.startswith("gumbel"):
        logits = logits + noise
    soft = torch.sigmoid(logits / temperature)
    if mode in ("soft", "gumbel_soft"):
        return soft
    if mode == "hard" and bernoulli_hard:
        hard = (logits / temperature + noise > 0).to(soft.dtype)
    else:
        hard = (logits > 0).to(soft.dtype)
    return straight_through(hard, soft)


def sample_softmax(
    logits: torch.Tensor,
    temperature: float,
    mode: str,
    dim: int = -1,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Categorical relaxation over ``dim``.

    ``soft``: softmax; ``hard``: one-hot argmax, softmax gradient;
    ``gumbel_*``: the same after adding Gumbel noise to the logits.
    """
    if mode.startswith("gumbel"):
        if noise is None:
            noise = gumbel_noise(logits.shape, logits.device, logits.dtype)
        logits = logits + noise
    soft = torch.softmax(logits / temperature, dim=dim)
    if mode in ("soft", "gumbel_soft"):
        return soft
    index = logits.argmax(dim=dim, keepdim=True)
    hard = torch.zeros_like(soft).scatter_(dim, index, 1.0)
    return straight_through(hard, soft)
