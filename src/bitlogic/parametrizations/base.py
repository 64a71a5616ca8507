"""The :class:`LUTParametrization` base: shared constructor, eval lookup, residual init."""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod

import torch
from torch import nn

from ..functional.bases import (
    VALID_RANKS,
    check_contraction,
    corner_inputs,
    weighted_indicator_basis_sum,
)
from ..functional.fused import FusedSpec
from ..functional.sampling import Sampling

__all__ = ["LUTParametrization", "VALID_RANKS"]


class LUTParametrization(nn.Module, ABC):
    """Abstract base class for LUT parametrizations.

    A parametrization owns (1) the shape of the per-neuron weight tensor,
    (2) the training-only forward basis (:meth:`_forward_train`), (3)
    :meth:`get_lut`, which discretizes weights into ``{0, 1}`` truth tables
    for export and for the shared eval lookup, and (4) :meth:`fused_spec`,
    what the fused CPU kernels need to compute it.

    LUT entry ``k`` is the output for the input pattern in which input ``j``
    is bit ``lut_rank-1-j`` of ``k`` (input 0 is the MSB). ``get_lut``
    evaluates the discretized neuron at all ``2**lut_rank`` patterns, so it is
    an exact truth table for every basis.

    Class attributes:
        LUT_INFERENCE_SUPPORTED: True when the soft training output at every
            binary pattern rounds (``> 0.5``) to the corresponding
            ``get_lut`` entry. A test checks this round trip for every class
            that sets it.

    Args:
        lut_rank: inputs per neuron, one of ``{2, 4, 6}``.
        forward_sampling: training-time sampling (``"soft"``, ``"hard"``,
            ``"gumbel_soft"``, ``"gumbel_hard"``; subclasses may restrict).
        temperature: sigmoid / softmax temperature; lower is sharper.
        weight_init: ``"random"`` (standard Gaussian) or ``"residual"``
            (pass-through of input 0).
        residual_probability: probability with which a residual-initialized
            neuron outputs its identity target; sets the initial logit size.
        anchor_init: with residual init, keep the identity weight in the
            persistent buffer ``residual_anchor`` and start the trainable
            weight at zero (weight decay then pulls toward identity).

    Raises:
        ValueError: bad ``lut_rank``, ``weight_init``, ``temperature``,
            ``residual_probability`` or ``forward_sampling``.
    """

    LUT_INFERENCE_SUPPORTED: bool = True
    SAMPLING_MODES: tuple[Sampling, ...] = tuple(Sampling)
    # True when forward_sampling="hard" outputs the discrete table's value at binary
    # inputs (a deterministic round), so a hardened layer computes what the netlist does.
    HARD_IS_DISCRETE: bool = True

    def __init__(
        self,
        lut_rank: int,
        forward_sampling: str = "soft",
        temperature: float = 1.0,
        weight_init: str = "random",
        residual_probability: float = 0.951,
        anchor_init: bool = True,
    ):
        super().__init__()
        if lut_rank not in VALID_RANKS:
            raise ValueError(f"lut_rank must be one of {VALID_RANKS}, got {lut_rank}")
        if weight_init not in ("residual", "random"):
            raise ValueError(f"weight_init must be 'residual' or 'random', got {weight_init!r}")
        if isinstance(residual_probability, bool) or \
                not isinstance(residual_probability, numbers.Real) or \
                not 0.5 < residual_probability < 1.0:
            raise ValueError(
                f"residual_probability must be in (0.5, 1), got {residual_probability}"
            )
        self.lut_rank: int = int(lut_rank)
        self.lut_entries: int = 1 << self.lut_rank
        self.forward_sampling = forward_sampling
        self.temperature: float = 1.0
        self.update_temperature(temperature)
        self.weight_init: str = weight_init
        self.residual_probability: float = float(residual_probability)
        self.anchor_init: bool = bool(anchor_init)
        # Set by ``init_weights`` when residual + anchor_init is active.
        self.register_buffer("residual_anchor", None, persistent=True)

    @property
    def forward_sampling(self) -> Sampling:
        """The training-time :class:`~bitlogic.functional.sampling.Sampling` mode.

        Assigning a string (or member) validates it against ``SAMPLING_MODES``.
        """
        return self._forward_sampling

    @forward_sampling.setter
    def forward_sampling(self, value: Sampling | str) -> None:
        self._forward_sampling = Sampling.parse(value, "forward_sampling", self.SAMPLING_MODES)

    # ---- weights -------------------------------------------------------------
    @abstractmethod
    def init_weights(self, num_neurons: int, device: torch.device | str | None) -> torch.Tensor:
        """Return the initial weight tensor ``(num_neurons, num_basis)``."""

    def _residual_logit(self) -> float:
        """Logit whose sigmoid at the initial temperature is ``residual_probability``."""
        p = self.residual_probability
        return self.temperature * math.log(p / (1.0 - p))

    def _finish_init(self, identity: torch.Tensor, random: torch.Tensor) -> torch.Tensor:
        """Pick the residual or random weight and set up the anchor buffer."""
        if self.weight_init == "random":
            self.residual_anchor = None
            return random
        if self.anchor_init:
            self.residual_anchor = identity
            return torch.zeros_like(identity)
        self.residual_anchor = None
        return identity

    def effective_weight(self, weight: torch.Tensor) -> torch.Tensor:
        """Add the residual anchor (if any) to the trainable weight."""
        if self.residual_anchor is None:
            return weight
        return weight + self.residual_anchor

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The anchor exists only for residual layers; adopt it from the checkpoint
        # so a module built with a different init still loads it.
        key = prefix + "residual_anchor"
        if key in state_dict and self.residual_anchor is None:
            self.residual_anchor = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ---- forward ---------------------------------------------------------------
    def forward(
        self,
        x: torch.Tensor,
        weight: torch.Tensor,
        training: bool,
        contraction: str = "n,bn->bn",
    ) -> torch.Tensor:
        """Evaluate LUT outputs on gathered inputs.

        Args:
            x: ``(batch, lut_rank, num_neurons)`` gathered inputs.
            weight: effective weight ``(num_neurons, num_basis)``.
            training: soft/stochastic forward (True) or the discrete lookup (False).
            contraction: einsum pattern of the per-neuron reduction; the one
                implemented is ``"n,bn->bn"`` (one letter for the batch axis;
                any letter other than ``n`` names it), see
                :func:`~bitlogic.functional.bases.check_contraction`.

        Returns:
            ``(batch, num_neurons)``.

        Raises:
            ValueError: ``x`` is not ``(batch, lut_rank, neurons)``, or any
                other ``contraction``.
        """
        if x.dim() != 3 or x.shape[1] != self.lut_rank:
            raise ValueError(
                f"x must be (batch, lut_rank={self.lut_rank}, neurons), got {tuple(x.shape)}"
            )
        check_contraction(contraction, x.dim())
        if training:
            return self._forward_train(x, weight, contraction)
        luts = self.get_lut(weight).to(x.dtype)
        return weighted_indicator_basis_sum(x, luts, contraction, self.lut_rank)

    @abstractmethod
    def _forward_train(self, x: torch.Tensor, weight: torch.Tensor, contraction: str):
        """Soft / sampled forward used during training: ``(batch, neurons)``."""

    @abstractmethod
    def logits_at(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Deterministic decision value of each neuron at gathered inputs ``x``.

        The discretized neuron outputs 1 exactly where this is ``> 0``; at binary
        inputs the soft training output is above 0.5 exactly there too (for
        classes with ``LUT_INFERENCE_SUPPORTED``).

        Args:
            x: ``(batch, lut_rank, num_neurons)``.
            weight: effective weight.

        Returns:
            ``(batch, num_neurons)``.
        """

    # ---- fused kernels -----------------------------------------------------------
    def fused_spec(self, training: bool) -> FusedSpec | None:
        """What the fused CPU kernels need to compute :meth:`forward`, or ``None``.

        The base class describes the eval lookup (the ``get_lut`` table in an
        indicator fold; at binary inputs exactly the lookup, elsewhere the
        same interpolation as the reference) unless a subclass overrides
        :meth:`forward`. Training returns ``None`` (the layer runs
        :meth:`_forward_train`) unless a subclass describes its training
        forward; it should do so only while :meth:`_trains_as` holds, so
        that a further subclass that changes the math falls back.

        The spec is free of side effects; the layer calls
        ``spec.coefficients(weight)`` after routing its inputs, so random
        draws come in the reference's order.

        Args:
            training: describe the training forward (True) or the eval lookup.

        Returns:
            A :class:`~bitlogic.functional.fused.FusedSpec` or ``None``.
        """
        if training or type(self).forward is not LUTParametrization.forward:
            return None
        return FusedSpec.fold(self._lut_values)

    def _lut_values(self, weight: torch.Tensor) -> torch.Tensor:
        return self.get_lut(weight).to(weight.dtype)

    def _trains_as(self, owner: type[LUTParametrization]) -> bool:
        """True when this object's training forward is ``owner``'s own.

        False when a class below ``owner`` overrides :meth:`forward` or
        :meth:`_forward_train` (it may have changed the math, so ``owner``'s
        fused description no longer applies).
        """
        cls = type(self)
        return (cls.forward is LUTParametrization.forward
                and cls._forward_train is owner._forward_train)

    @torch.no_grad()
    def get_lut(self, weight: torch.Tensor) -> torch.Tensor:
        """Truth tables ``(num_neurons, 2**lut_rank)`` in ``{0, 1}``, MSB-first.

        Evaluates the discretized neuron at every binary input pattern.
        """
        corners = corner_inputs(self.lut_rank, weight.shape[0], weight.device, weight.dtype)
        return (self.logits_at(corners, weight) > 0).to(torch.uint8).T.contiguous()

    def update_temperature(self, temperature: float) -> None:
        """Scheduler hook: set the current softmax / sigmoid temperature."""
        if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
            raise TypeError(f"temperature must be a finite number > 0, got "
                            f"{type(temperature).__name__} {temperature!r}")
        if not temperature > 0 or not math.isfinite(temperature):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
        self.temperature = float(temperature)

    def extra_repr(self) -> str:
        return (
            f"lut_rank={self.lut_rank}, forward_sampling={self.forward_sampling.value!r}, "
            f"temperature={self.temperature:g}, weight_init={self.weight_init!r}"
        )
