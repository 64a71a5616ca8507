"""Routing: which input feature feeds every neuron slot, in both directions.

Forward, each slot reads one feature (the selected candidate for learnable
connections). Backward, the neuron kernels add each slot's gradient to the
input gradient (and, for candidate pools, to the candidates' mixing
probabilities); :class:`RouteBuffers` holds those outputs. Activations cross
the kernels feature-major, ``x^T`` of shape ``(in_dim, batch)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..functional.sampling import Sampling, relaxed_argmax
from . import _library
from ._library import ptr


@dataclass(frozen=True)
class Routing:
    """Connections of one layer, as the kernels read them.

    Attributes:
        in_dim: input features.
        selected: int32 ``(rank, out)``: the feature read by slot ``j`` of neuron ``n``.
        candidates: int32 ``(C, rank, out)`` candidate pools, or ``None`` (fixed).
        spread: send input gradients to every candidate, weighted by its
            probability (the ``soft`` modes of
            :func:`~bitlogic.connections.select_candidates`), instead of to
            the selected one only.
        exclusive: every input feature is read by exactly one slot (checked
            on construction, ``ValueError`` otherwise; see
            :func:`exclusive_routing`); the backward then stores each input
            gradient row once instead of summing per-thread partial buffers.
    """

    in_dim: int
    selected: torch.Tensor
    candidates: torch.Tensor | None = None
    spread: bool = False
    exclusive: bool = False

    def __post_init__(self) -> None:
        if self.exclusive:  # a wrong claim would silently drop input gradients
            check_reads_each_input_once(self.selected, self.in_dim,
                                        has_candidates=self.candidates is not None)

    @property
    def rank(self) -> int:
        return self.selected.shape[0]

    @property
    def out_dim(self) -> int:
        return self.selected.shape[1]


def to_int32(indices: torch.Tensor, bound: int) -> torch.Tensor:
    """Contiguous int32 copy of int64 ``indices``, checked to lie in ``[0, bound)``.

    Raises:
        IndexError: for an index outside ``[0, bound)``, as PyTorch's gather does.
        ValueError: for indices that are not on the CPU.
    """
    if indices.device.type != "cpu":
        raise ValueError(f"indices must be on the CPU for the fused kernels, got {indices.device}")
    src = indices.to(torch.int64).contiguous()
    dst = torch.empty(src.shape, dtype=torch.int32)
    bad = _library.library().bl_index_to_i32(ptr(src), src.numel(), bound, ptr(dst))
    if bad >= 0:
        value = int(src.flatten()[bad])
        raise IndexError(f"index {value} is out of bounds for an input of size {bound}")
    return dst


def fixed_routing(indices: torch.Tensor, in_dim: int) -> Routing:
    """Routing of fixed connections.

    Args:
        indices: int64 ``(rank, out)``.
        in_dim: input features.
    """
    return Routing(in_dim, to_int32(indices, in_dim))


def check_reads_each_input_once(selected: torch.Tensor, in_dim: int,
                                has_candidates: bool = False) -> None:
    """Raise ``ValueError`` unless ``selected`` is a permutation of ``0 .. in_dim - 1``."""
    flat = selected.reshape(-1).to(torch.int64)
    in_range = flat.numel() == 0 or (int(flat.min()) >= 0 and int(flat.max()) < in_dim)
    if has_candidates or flat.numel() != in_dim or not in_range or not bool(
            torch.bincount(flat, minlength=in_dim).eq(1).all()):
        raise ValueError(f"an exclusive routing reads each of its {in_dim} inputs exactly once, "
                         f"through fixed connections; indices of shape "
                         f"{tuple(selected.shape)} do not")


def exclusive_routing(indices: torch.Tensor, in_dim: int) -> Routing:
    """Fixed connections that read every input feature exactly once (a tree level).

    Args:
        indices: int64 ``(rank, out)`` with ``rank * out == in_dim``, a
            permutation of ``0 .. in_dim - 1``.
        in_dim: input features.

    Raises:
        ValueError: when ``indices`` is not such a permutation.
    """
    try:
        selected = to_int32(indices, in_dim)
    except IndexError as err:  # out of range: not a permutation either
        raise ValueError(f"an exclusive routing reads each of its {in_dim} inputs exactly "
                         f"once; {err}") from None
    return Routing(in_dim, selected, exclusive=True)  # which checks the permutation


def candidate_routing(
    indices: torch.Tensor,
    logits: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    in_dim: int,
    noise: torch.Tensor | None = None,
) -> tuple[Routing, torch.Tensor]:
    """Routing of learnable connections with candidate pools, as ``select_candidates``.

    Args:
        indices: int64 ``(C, rank, out)`` candidate inputs.
        logits: ``(C, rank, out)`` selection logits.
        temperature: softmax temperature.
        mode: ``"soft"``, ``"hard"``, ``"gumbel_soft"`` or ``"gumbel_hard"``.
        in_dim: input features.
        noise: Gumbel noise ``(C, rank, out)`` for the gumbel modes; drawn when ``None``.

    Returns:
        The routing (argmax candidate per slot) and the softmax probabilities
        ``(C, rank, out)``, differentiable with respect to ``logits``.
    """
    mode = Sampling.parse(mode, "mode")
    sample = relaxed_argmax(logits, temperature, mode, dim=0, noise=noise)
    selected = indices.gather(0, sample.index).squeeze(0)
    routing = Routing(in_dim, to_int32(selected, in_dim), to_int32(indices, in_dim),
                      spread=not mode.is_hard)
    return routing, sample.soft


def feature_major(x: torch.Tensor) -> torch.Tensor:
    """``(batch, features)`` -> contiguous ``(features, batch)`` (free for fused outputs)."""
    xt = x.t()
    return xt if xt.is_contiguous() else xt.contiguous()


class RouteBuffers:
    """Outputs and scratch of one backward call, and the ``bl_route`` describing them.

    Attributes:
        dxT: ``(in_dim, batch)`` input gradient (feature-major), or ``None``.
        dprobs: ``(C, rank, out)`` candidate-probability gradient, or ``None``.
        struct: the ``bl_route`` to pass to the kernel (valid while this object lives).
    """

    def __init__(self, routing: Routing, batch: int, probs: torch.Tensor | None,
                 need_x: bool, need_probs: bool) -> None:
        threads = _library.num_threads()
        self.dxT = torch.empty(routing.in_dim, batch) if need_x else None
        scratch = None
        if need_x and threads > 1 and not routing.exclusive:
            scratch = _library.workspace((threads - 1) * routing.in_dim * batch)
        self.dprobs = torch.zeros(routing.candidates.shape) if need_probs else None
        cand = routing.candidates
        self._probs = probs.detach().contiguous() if probs is not None else None
        self.struct = _library.RouteStruct(
            dxT=ptr(self.dxT), scratch=ptr(scratch), cand=ptr(cand), probs=ptr(self._probs),
            dprobs=ptr(self.dprobs), num_candidates=0 if cand is None else cand.shape[0],
            spread=int(routing.spread), exclusive=int(routing.exclusive),
        )
        self._keep = scratch  # the struct points into it
