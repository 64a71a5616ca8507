"""The :class:`Connections` base: which inputs feed each neuron."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

from ..functional.fused import RoutingSpec

INIT_METHODS = ("random-unique", "random", "group-biased")
#: Largest ``out_dim`` of one layer: 16.7M neurons already need gigabytes of
#: weights; a larger value is a typo, refused before anything is allocated.
MAX_NEURONS = 2**24
#: Largest ``in_dim``: index initialisation draws permutations of the inputs.
MAX_INPUTS = 2**24


def check_dims(in_dim: object, out_dim: object) -> tuple[int, int]:
    """``(in_dim, out_dim)`` as ints in ``[1, MAX_INPUTS]`` and ``[1, MAX_NEURONS]``.

    Raises:
        TypeError: not an integer (``16.0`` and ``True`` included).
        ValueError: out of range.
    """
    checked = []
    for name, value, maximum in (("in_dim", in_dim, MAX_INPUTS),
                                 ("out_dim", out_dim, MAX_NEURONS)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer in [1, {maximum}], got "
                            f"{type(value).__name__} {value!r}")
        if not 1 <= value <= maximum:
            raise ValueError(f"{name} must be an integer in [1, {maximum}], got {value}")
        checked.append(int(value))
    return checked[0], checked[1]


class Connections(nn.Module, ABC):
    """Abstract base for input-routing strategies.

    Maps ``(batch, in_dim)`` to the gathered ``(batch, lut_rank, out_dim)``
    that a :class:`~bitlogic.parametrizations.LUTParametrization` consumes,
    and describes that routing to the fused kernels (:meth:`routing`).

    Args:
        lut_rank: inputs per output neuron.
        device: optional target device for buffers and parameters.
        init_method: ``"random-unique"`` (default), ``"random"`` or
            ``"group-biased"``.

    Raises:
        ValueError: unknown ``init_method``.
    """

    def __init__(
        self,
        lut_rank: int = 2,
        device: torch.device | str | None = None,
        init_method: str = "random-unique",
        **_: Any,
    ):
        super().__init__()
        if init_method not in INIT_METHODS:
            raise ValueError(f"init_method must be one of {INIT_METHODS}, got {init_method!r}")
        if not isinstance(lut_rank, int) or lut_rank < 1:
            raise ValueError(f"lut_rank must be a positive integer, got {lut_rank!r}")
        self.lut_rank = lut_rank
        self.device = device
        self.init_method = init_method

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gather ``lut_rank`` inputs per neuron.

        Args:
            x: ``(batch, in_dim)``.

        Returns:
            ``(batch, lut_rank, out_dim)``.
        """

    @abstractmethod
    def selected_indices(self) -> torch.Tensor:
        """The input index each slot reads in eval mode: int64 ``(lut_rank, out_dim)``."""

    def routing(self) -> RoutingSpec | None:
        """The routing :meth:`forward` applies in the current mode, for the fused kernels.

        ``None`` (the base class's answer) means "not described": a layer
        then gathers through :meth:`forward`. A subclass that describes
        itself should do so only while :meth:`_routes_as` holds.

        Returns:
            A :class:`~bitlogic.functional.fused.RoutingSpec` or ``None``.
        """
        return None

    def _routes_as(self, owner: type[Connections], *methods: str) -> bool:
        """True when :meth:`forward` (and the named ``methods``) are ``owner``'s own.

        A class below ``owner`` that overrides them may route differently, so
        ``owner``'s :meth:`routing` no longer describes it.
        """
        cls = type(self)
        return all(getattr(cls, m) is getattr(owner, m) for m in ("forward", *methods))

    def update_temperature(self, temperature: float) -> None:
        """Scheduler hook; learnable variants override."""

    def _check_input(self, x: torch.Tensor, in_dim: int) -> None:
        if x.dim() != 2 or x.shape[1] != in_dim:
            raise ValueError(f"x must have shape (batch, in_dim={in_dim}), got {tuple(x.shape)}")
