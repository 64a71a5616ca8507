"""What a parametrization and a connection module tell the fused kernels about themselves.

:meth:`LUTParametrization.fused_spec <bitlogic.parametrizations.LUTParametrization.fused_spec>`
returns a :class:`FusedSpec` and :meth:`Connections.routing
<bitlogic.connections.Connections.routing>` a :class:`RoutingSpec`;
:mod:`bitlogic.kernels` reads only these two descriptions (no class checks, no
private attributes), so a new parametrization or connection kind reaches the
kernels by describing itself. Nothing here imports the kernels.

Example:
    >>> import torch
    >>> spec = FusedSpec.fold(torch.sigmoid)  # indicator fold of the table sigmoid(w)
    >>> spec.kernel, spec.basis
    (<FusedKernel.FOLD: 'fold'>, <FoldBasis.INDICATOR: 'indicator'>)
    >>> RoutingSpec.fixed(torch.zeros(2, 3, dtype=torch.long), in_dim=5).kind
    <RoutingKind.FIXED: 'fixed'>
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import torch

from .sampling import Sampling

__all__ = ["FoldBasis", "FusedKernel", "FusedSpec", "RoutingKind", "RoutingSpec"]


class FusedKernel(str, Enum):
    """The two fused LUT layers.

    * ``FOLD``: gather, basis fold of per-neuron coefficients, optional
      sigmoid sampling (:func:`bitlogic.kernels.fused_fold`).
    * ``LOOKUP``: gather, binarise at 0.5, table lookup; Extended Finite
      Difference input gradient (:func:`bitlogic.kernels.fused_lookup`).
    """

    FOLD = "fold"
    LOOKUP = "lookup"


class FoldBasis(str, Enum):
    """Basis of the fold kernel: coefficients per neuron ``2**rank`` (``rank + 1`` for linear).

    * ``INDICATOR``: multilinear interpolation of a MSB-first table
      (:func:`~bitlogic.functional.indicator_fold`).
    * ``WALSH``: Walsh characters of ``2x - 1`` (:func:`~bitlogic.functional.walsh_fold`).
    * ``LINEAR``: ``w . x + b`` with the bias in the last column.
    """

    INDICATOR = "indicator"
    WALSH = "walsh"
    LINEAR = "linear"


def _check_temperature(temperature: float) -> None:
    if not temperature > 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}")


@dataclass(frozen=True, eq=False)
class FusedSpec:
    """How one parametrization runs in a fused kernel.

    The description is free of side effects; the per-neuron tensor comes from
    :meth:`coefficients`, which the layer calls once per forward, after its
    connections are routed, so random draws happen in the reference's order.

    Attributes:
        kernel: which fused layer.
        transform: maps the effective weight ``(out, num_basis)`` to the
            tensor the kernel reads, computed in PyTorch (autograd, sampling
            noise), or ``None`` for the weight itself: a table
            ``(out, 2**rank)`` for the indicator fold and the lookup, fold
            coefficients ``(out, 2**rank)`` (Walsh) or ``(out, rank + 1)``
            (linear).
        basis: the fold's basis (``INDICATOR`` for the lookup).
        sampling: the sigmoid sampling after the fold, or ``None`` (the fold's
            value is the output).
        temperature: that sigmoid's temperature.
        bernoulli_hard: ``hard`` rounds by a Bernoulli draw ``z / t + L > 0``.
        efd_coeff: lookup only, ``(2**rank, 2**rank, rank)`` EFD coefficients.
        alpha: lookup only, the EFD backward scale.

    Raises:
        ValueError: an unknown kernel, basis or sampling mode, a bad
            temperature, or lookup fields missing (or given to a fold).
    """

    kernel: FusedKernel
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None
    basis: FoldBasis = FoldBasis.INDICATOR
    sampling: Sampling | None = None
    temperature: float = 1.0
    bernoulli_hard: bool = False
    efd_coeff: torch.Tensor | None = None
    alpha: torch.Tensor | float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            set_(self, "kernel", FusedKernel(self.kernel))
        except ValueError:
            raise ValueError(f"kernel must be one of {[k.value for k in FusedKernel]}, "
                             f"got {self.kernel!r}") from None
        try:
            set_(self, "basis", FoldBasis(self.basis))
        except ValueError:
            raise ValueError(f"basis must be one of {[b.value for b in FoldBasis]}, "
                             f"got {self.basis!r}") from None
        if self.sampling is not None:
            set_(self, "sampling", Sampling.parse(self.sampling, "sampling"))
        if self.transform is not None and not callable(self.transform):
            raise TypeError(f"transform must be None or callable (weight -> tensor), "
                            f"got {type(self.transform).__name__}")
        _check_temperature(self.temperature)
        is_lookup = self.kernel is FusedKernel.LOOKUP
        if is_lookup and (self.efd_coeff is None or self.alpha is None):
            raise ValueError("a lookup spec needs efd_coeff and alpha")
        if is_lookup and (self.basis is not FoldBasis.INDICATOR or self.sampling is not None):
            raise ValueError("a lookup spec takes no basis or sampling (its transform samples "
                             "the table)")
        if not is_lookup and (self.efd_coeff is not None or self.alpha is not None):
            raise ValueError("efd_coeff and alpha belong to lookup specs only")

    def coefficients(self, weight: torch.Tensor) -> torch.Tensor:
        """The tensor the kernel reads, from the effective weight ``(out, num_basis)``."""
        return weight if self.transform is None else self.transform(weight)

    @classmethod
    def fold(
        cls,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        basis: FoldBasis | str = FoldBasis.INDICATOR,
        sampling: Sampling | str | None = None,
        temperature: float = 1.0,
        bernoulli_hard: bool = False,
    ) -> FusedSpec:
        """``sample(fold(transform(weight), x[:, routing]))``."""
        return cls(FusedKernel.FOLD, transform, basis, sampling, float(temperature),
                   bool(bernoulli_hard))

    @classmethod
    def lookup(
        cls,
        table: Callable[[torch.Tensor], torch.Tensor],
        efd_coeff: torch.Tensor,
        alpha: torch.Tensor | float,
    ) -> FusedSpec:
        """``table(weight)[n, address(x[:, routing] > 0.5)]`` with EFD input gradients.

        ``table`` maps the effective weight to the LUT values ``(out, 2**rank)``.
        """
        return cls(FusedKernel.LOOKUP, table, efd_coeff=efd_coeff, alpha=alpha)


class RoutingKind(str, Enum):
    """How a connection module picks each slot's input.

    * ``FIXED``: one input per slot, ``indices`` ``(rank, out)``.
    * ``CANDIDATES``: the argmax of a softmax over a pool ``indices``
      ``(C, rank, out)`` with ``logits`` of the same shape.
    * ``ALL_INPUTS``: the argmax of a softmax over every input, ``logits``
      ``(in_dim, rank, out)``.
    """

    FIXED = "fixed"
    CANDIDATES = "candidates"
    ALL_INPUTS = "all_inputs"


@dataclass(frozen=True, eq=False)
class RoutingSpec:
    """Which input feeds every neuron slot, as the fused kernels read it.

    The value of a learnable routing is always the selected input; the
    gradient goes through ``softmax(logits / temperature)`` as
    :func:`~bitlogic.connections.select_candidates` describes for
    ``sampling``.

    Attributes:
        kind: see :class:`RoutingKind`.
        in_dim: input features the module reads.
        indices: int64 ``(rank, out)`` (fixed), ``(C, rank, out)``
            (candidates), or ``None`` (all inputs).
        logits: selection logits ``(C, rank, out)`` / ``(in_dim, rank, out)``,
            or ``None`` (fixed).
        temperature: the softmax temperature (learnable kinds).
        sampling: the selection's sampling mode (learnable kinds).

    Raises:
        ValueError: fields inconsistent with ``kind``.
    """

    kind: RoutingKind
    in_dim: int
    indices: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    temperature: float = 1.0
    sampling: Sampling | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RoutingKind(self.kind))
        fixed = self.kind is RoutingKind.FIXED
        needs_indices = self.kind is not RoutingKind.ALL_INPUTS
        if (self.indices is not None) != needs_indices:
            verb = "needs" if needs_indices else "takes no"
            raise ValueError(f"{self.kind.value} routing {verb} indices")
        if (self.logits is None) != fixed or (self.sampling is None) != fixed:
            verb = "takes no" if fixed else "needs"
            raise ValueError(f"{self.kind.value} routing {verb} logits and sampling")
        if fixed and self.indices.dim() != 2:
            raise ValueError(f"fixed indices must be (rank, out), got {tuple(self.indices.shape)}")
        if not fixed:
            object.__setattr__(self, "sampling", Sampling.parse(self.sampling))
            _check_temperature(self.temperature)
            if self.logits.dim() != 3:
                raise ValueError(f"logits must be (candidates, rank, out), "
                                 f"got {tuple(self.logits.shape)}")
        if self.kind is RoutingKind.CANDIDATES and self.indices.shape != self.logits.shape:
            raise ValueError(f"candidate indices {tuple(self.indices.shape)} and logits "
                             f"{tuple(self.logits.shape)} must have the same shape")
        if self.kind is RoutingKind.ALL_INPUTS and self.logits.shape[0] != self.in_dim:
            raise ValueError(f"all-inputs logits need {self.in_dim} rows, "
                             f"got {tuple(self.logits.shape)}")

    @classmethod
    def fixed(cls, indices: torch.Tensor, in_dim: int) -> RoutingSpec:
        """Slot ``j`` of neuron ``n`` reads input ``indices[j, n]``."""
        return cls(RoutingKind.FIXED, int(in_dim), indices)

    @classmethod
    def candidates(cls, indices: torch.Tensor, logits: torch.Tensor, temperature: float,
                   sampling: Sampling | str, in_dim: int) -> RoutingSpec:
        """Slot ``(j, n)`` reads ``indices[argmax_c logits[c, j, n], j, n]``."""
        return cls(RoutingKind.CANDIDATES, int(in_dim), indices, logits, float(temperature),
                   sampling)

    @classmethod
    def all_inputs(cls, logits: torch.Tensor, temperature: float,
                   sampling: Sampling | str) -> RoutingSpec:
        """Slot ``(j, n)`` reads input ``argmax_i logits[i, j, n]``."""
        return cls(RoutingKind.ALL_INPUTS, logits.shape[0], None, logits, float(temperature),
                   sampling)

    @property
    def rank(self) -> int:
        """Inputs per neuron."""
        return (self.indices if self.kind is RoutingKind.FIXED else self.logits).shape[-2]

    @property
    def out_dim(self) -> int:
        """Neurons."""
        return (self.indices if self.kind is RoutingKind.FIXED else self.logits).shape[-1]

    @property
    def num_candidates(self) -> int:
        """Inputs each slot chooses from (1 for fixed routing)."""
        return 1 if self.kind is RoutingKind.FIXED else self.logits.shape[0]
