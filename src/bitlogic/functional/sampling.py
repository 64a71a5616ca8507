"""Relaxed Bernoulli / categorical samplers with straight-through variants.

Every sampler takes its noise as an optional argument so that tests and fused
kernels can replay exactly the same draw. Noise for the sigmoid samplers is
standard logistic noise ``L = log(u) - log(1 - u)``; for the softmax samplers
it is standard Gumbel noise ``G = -log(-log(u))``.

The four sampling modes are one :class:`Sampling` enum; it is a ``str`` enum,
so every function here also takes the plain strings ``"soft"``, ``"hard"``,
``"gumbel_soft"`` and ``"gumbel_hard"``.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

import torch

_EPS = 1e-6


class Sampling(str, Enum):
    """How a relaxed sample is drawn during training.

    * ``SOFT``: the relaxation itself (sigmoid / softmax).
    * ``HARD``: its discrete value (round / argmax) with the relaxation's
      gradient (straight-through).
    * ``GUMBEL_SOFT`` / ``GUMBEL_HARD``: the same after adding noise to the
      logits (logistic noise for sigmoids, Gumbel noise for softmaxes).

    Example:
        >>> Sampling.parse("gumbel_hard").uses_gumbel
        True
        >>> Sampling.HARD == "hard"
        True
    """

    SOFT = "soft"
    HARD = "hard"
    GUMBEL_SOFT = "gumbel_soft"
    GUMBEL_HARD = "gumbel_hard"

    @property
    def uses_gumbel(self) -> bool:
        """True for the modes that perturb the logits with noise."""
        return self in (Sampling.GUMBEL_SOFT, Sampling.GUMBEL_HARD)

    @property
    def is_hard(self) -> bool:
        """True for the modes whose forward value is discrete (straight-through)."""
        return self in (Sampling.HARD, Sampling.GUMBEL_HARD)

    @classmethod
    def parse(
        cls,
        value: str | Sampling,
        name: str = "forward_sampling",
        allowed: tuple[Sampling | str, ...] | None = None,
    ) -> Sampling:
        """``value`` as a :class:`Sampling` member.

        Args:
            value: a member or its string.
            name: the argument's name, for the error message.
            allowed: the accepted modes (default: all four).

        Raises:
            ValueError: ``value`` is not one of ``allowed``; the message names
                the argument and lists the allowed strings.
        """
        choices = tuple(cls(a) for a in allowed) if allowed is not None else tuple(cls)
        try:
            mode = cls(value)
        except ValueError:
            mode = None
        if mode is None or mode not in choices:
            raise ValueError(
                f"{name} must be one of {tuple(c.value for c in choices)}, got {value!r}"
            )
        return mode

    def __str__(self) -> str:
        return self.value


VALID_SAMPLING: tuple[str, ...] = tuple(m.value for m in Sampling)


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


def add_gumbel(
    logits: torch.Tensor, mode: Sampling | str, noise: torch.Tensor | None = None
) -> torch.Tensor:
    """``logits + G`` for the gumbel modes (``G`` drawn when ``noise`` is None), else ``logits``.

    Raises:
        ValueError: ``noise`` is not shaped like ``logits``.
    """
    if not Sampling.parse(mode).uses_gumbel:
        return logits
    if noise is None:
        noise = gumbel_noise(logits.shape, logits.device, logits.dtype)
    if noise.shape != logits.shape:
        raise ValueError(f"noise must have shape {tuple(logits.shape)}, got {tuple(noise.shape)}")
    return logits + noise


class RelaxedArgmax(NamedTuple):
    """The argmax of (perturbed) logits and its softmax relaxation, from :func:`relaxed_argmax`.

    Attributes:
        index: int64 argmax along the reduced dimension (kept, size 1).
        one_hot: the argmax as a one-hot tensor shaped like ``soft``.
        soft: ``softmax(logits / temperature)`` along the same dimension.
    """

    index: torch.Tensor
    one_hot: torch.Tensor
    soft: torch.Tensor

    def straight_through(self) -> torch.Tensor:
        """The one-hot argmax in value, the softmax's gradient."""
        return straight_through(self.one_hot, self.soft)


def relaxed_argmax(
    logits: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    dim: int = -1,
    noise: torch.Tensor | None = None,
) -> RelaxedArgmax:
    """Gumbel noise (gumbel modes) -> softmax -> argmax one-hot, along ``dim``.

    The one argmax straight-through shared by :func:`sample_softmax` and the
    learnable connections (reference and fused routing).

    Args:
        logits: any shape.
        temperature: softmax temperature, ``> 0``.
        mode: a :class:`Sampling` mode; the gumbel modes add Gumbel noise first.
        dim: the categorical dimension.
        noise: Gumbel noise shaped like ``logits``; drawn when ``None``.
    """
    logits = add_gumbel(logits, mode, noise)
    soft = torch.softmax(logits / temperature, dim=dim)
    index = logits.detach().argmax(dim=dim, keepdim=True)
    one_hot = torch.zeros_like(soft).scatter_(dim, index, 1.0)
    return RelaxedArgmax(index, one_hot, soft)


def sample_sigmoid(
    logits: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
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
        mode: a :class:`Sampling` mode.
        noise: logistic noise shaped like ``logits``; drawn when ``None`` and
            the mode needs it.
        bernoulli_hard: see ``hard``.
    """
    mode = Sampling.parse(mode)
    bernoulli = mode is Sampling.HARD and bernoulli_hard
    if (mode.uses_gumbel or bernoulli) and noise is None:
        noise = logistic_noise(logits.shape, logits.device, logits.dtype)
    if mode.uses_gumbel:
        logits = logits + noise
    soft = torch.sigmoid(logits / temperature)
    if not mode.is_hard:
        return soft
    if bernoulli:
        hard = (logits / temperature + noise > 0).to(soft.dtype)
    else:
        hard = (logits > 0).to(soft.dtype)
    return straight_through(hard, soft)


def sample_softmax(
    logits: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    dim: int = -1,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Categorical relaxation over ``dim``.

    ``soft``: softmax; ``hard``: one-hot argmax, softmax gradient;
    ``gumbel_*``: the same after adding Gumbel noise to the logits.
    """
    sample = relaxed_argmax(logits, temperature, mode, dim, noise)
    return sample.straight_through() if Sampling.parse(mode).is_hard else sample.soft
