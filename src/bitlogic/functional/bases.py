"""Basis folds shared by the LUT parametrizations.

A rank-``r`` LUT stores ``2**r`` coefficients in MSB-first order: coefficient
``k`` belongs to the input pattern (or Walsh character) in which input ``j``
is bit ``r-1-j`` of ``k``. Both folds below contract the coefficients with the
inputs one input at a time, starting from the least significant one, so the
largest intermediate is ``(..., neurons, 2**(r-1))`` instead of the
``(batch, 2**r, neurons)`` basis a direct einsum would materialise.
"""

from __future__ import annotations

import re

import torch

VALID_RANKS = (2, 4, 6)
_CONTRACTION = re.compile(r"^\s*n\s*,\s*([a-z]*)n\s*->\s*([a-z]*)n\s*$")


def check_contraction(contraction: str, ndim: int | None = None) -> None:
    """Validate the einsum pattern of the per-neuron reduction, ``"n,<dims>n-><dims>n"``.

    The folds compute exactly this pattern: one coefficient set per neuron
    (``n``) against the basis values at gathered inputs of shape
    ``(batch, lut_rank, ..., neurons)``. ``<dims>`` names the axes of the
    gathered input other than ``lut_rank`` (dim 1) and the neurons (last),
    which pass through unchanged; so ``"n,bn->bn"`` is the pattern for
    ``(batch, lut_rank, neurons)`` inputs.

    Args:
        contraction: the pattern.
        ndim: dimensions of the gathered input; when given the pattern must
            name ``ndim - 2`` pass-through axes.

    Raises:
        ValueError: any other pattern, or one that does not fit ``ndim``.
    """
    m = _CONTRACTION.match(contraction) if isinstance(contraction, str) else None
    if m is None or m.group(1) != m.group(2) or "n" in m.group(1) \
            or len(set(m.group(1))) != len(m.group(1)):
        raise ValueError(
            f"contraction must look like 'n,bn->bn' (neuron axis last, other axes kept), "
            f"got {contraction!r}"
        )
    if ndim is not None and len(m.group(1)) != ndim - 2:
        axes = "bcdefghijklm"[: max(ndim - 2, 0)]
        raise ValueError(
            f"contraction {contraction!r} names {len(m.group(1))} pass-through axes, but the "
            f"gathered input has {ndim} dimensions; use 'n,{axes}n->{axes}n'"
        )


def _fold(coeffs: torch.Tensor, x: torch.Tensor, walsh: bool) -> torch.Tensor:
    rank = x.shape[1]
    if coeffs.shape[-1] != 1 << rank:
        raise ValueError(
            f"coefficients have {coeffs.shape[-1]} entries per neuron, expected 2**{rank}"
        )
    cur = coeffs
    for j in range(rank - 1, -1, -1):
        pairs = cur.unflatten(-1, (-1, 2))
        lo, hi = pairs[..., 0], pairs[..., 1]
        xj = x[:, j].unsqueeze(-1)
        cur = lo + (2.0 * xj - 1.0) * hi if walsh else lo + xj * (hi - lo)
    return cur.squeeze(-1)


def indicator_fold(table: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Multilinear interpolation of MSB-first truth tables.

    For binary ``x`` this is exactly ``table[neuron, address(x)]``; for
    ``x`` in ``[0, 1]`` it is the expectation under independent Bernoulli
    inputs (the indicator basis).

    Args:
        table: ``(neurons, 2**rank)`` LUT values.
        x: ``(batch, rank, ..., neurons)`` gathered inputs.

    Returns:
        ``(batch, ..., neurons)``.
    """
    return _fold(table, x, walsh=False)


def walsh_fold(coeffs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Walsh–Hadamard expansion ``z = sum_S w_S prod_{j in S} (2 x_j - 1)``.

    Coefficient ``k`` multiplies the character over the inputs ``j`` whose bit
    ``rank-1-j`` is set in ``k`` (``k = 0`` is the constant term).

    Args:
        coeffs: ``(neurons, 2**rank)``.
        x: ``(batch, rank, ..., neurons)``.

    Returns:
        ``(batch, ..., neurons)``.
    """
    return _fold(coeffs, x, walsh=True)


def corner_inputs(rank: int, num_neurons: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """All ``2**rank`` binary input patterns as a gathered batch.

    Returns:
        ``(2**rank, rank, num_neurons)`` where row ``k`` holds input ``j`` =
        bit ``rank-1-j`` of ``k`` (MSB-first), broadcast over neurons.
    """
    k = torch.arange(1 << rank, device=device)
    shifts = torch.arange(rank - 1, -1, -1, device=device)
    bits = ((k[:, None] >> shifts[None, :]) & 1).to(dtype)
    return bits[:, :, None].expand(-1, -1, num_neurons)


def weighted_indicator_basis_sum(
    x: torch.Tensor, luts: torch.Tensor, contraction: str, lut_rank: int
) -> torch.Tensor:
    """Eval-mode lookup: contract discrete LUTs with the indicator basis.

    Args:
        x: ``(batch, lut_rank, ..., neurons)`` gathered inputs.
        luts: ``(neurons, 2**lut_rank)`` truth tables in ``{0, 1}``.
        contraction: einsum pattern naming the axes of ``x`` besides
            ``lut_rank`` and the neurons, see :func:`check_contraction`.
        lut_rank: inputs per neuron.

    Returns:
        ``(batch, ..., neurons)``; equals ``luts[n, address(x)]`` for binary ``x``.

    Raises:
        ValueError: a contraction that does not fit ``x``, or ``x`` without
            ``lut_rank`` inputs on dim 1.
    """
    check_contraction(contraction, x.dim())
    if x.shape[1] != lut_rank:
        raise ValueError(f"x must have lut_rank={lut_rank} inputs on dim 1, got {x.shape[1]}")
    return indicator_fold(luts, x)
