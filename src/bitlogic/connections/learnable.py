"""Learnable dense routing: a softmax over candidate inputs per slot, argmax forward."""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch import nn

from ..functional.fused import RoutingSpec
from ..functional.sampling import Sampling, relaxed_argmax, straight_through
from .base import Connections, check_dims
from .indices import build_indices


def select_candidates(
    candidates: torch.Tensor,
    logits: torch.Tensor,
    temperature: float,
    mode: Sampling | str,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Route the argmax candidate of every slot, with softmax gradients.

    Args:
        candidates: ``(batch, C, rank, out)`` candidate input values.
        logits: ``(C, rank, out)`` selection logits.
        temperature: softmax temperature of the backward weighting.
        mode: ``"soft"`` (gradients of the softmax mixture to logits and to
            every candidate input), ``"hard"`` (softmax gradient to the logits,
            input gradient to the selected candidate only), or their gumbel
            variants (Gumbel noise added to the logits first).
        noise: Gumbel noise ``(C, rank, out)``, drawn when ``None``.

    Returns:
        ``(batch, rank, out)``; its value is always the argmax candidate.
    """
    sample = relaxed_argmax(logits, temperature, mode, dim=0, noise=noise)
    if Sampling.parse(mode).is_hard:
        return (candidates * sample.straight_through()).sum(dim=1)
    mixed = (candidates * sample.soft).sum(dim=1)
    chosen = (candidates * sample.one_hot).sum(dim=1)
    return straight_through(chosen, mixed)


class LearnableDenseConnections(Connections):
    """Learnable dense routing via softmax over candidate inputs.

    Hard argmax in the forward (straight-through), softmax-weighted gradient
    in the backward. With ``num_candidates == -1`` every input is a candidate
    for every ``(slot, neuron)`` and the forward is one matmul; a positive
    ``num_candidates`` restricts each slot to a fixed pool drawn with
    ``init_method``. Inside a :class:`~bitlogic.layers.LogicDense` on the CPU
    both kinds train through the fused kernels (the all-inputs case through
    :func:`~bitlogic.kernels.dense_select`: a gather forward, one
    ``x^T g`` product and a column softmax backward).

    Args:
        in_dim: number of input features.
        out_dim: number of output neurons.
        lut_rank: inputs per neuron.
        temperature: softmax temperature for the backward weighting.
        num_candidates: candidate inputs per slot, or ``-1`` for all inputs.
        forward_sampling: ``"soft"``, ``"hard"``, ``"gumbel_soft"``,
            ``"gumbel_hard"`` (see :func:`select_candidates`).
        device: optional target device.
        init_method: candidate pool init (``"random-unique"``, ``"random"``,
            ``"group-biased"``); only consulted when ``num_candidates != -1``.
        num_groups: groups of ``"group-biased"`` init.
        group_bias: in-group probability of ``"group-biased"`` init.

    Buffers/parameters: ``weights`` float ``(num_candidates, lut_rank, out_dim)``;
    with a candidate pool also ``indices`` int64 ``(num_candidates, lut_rank, out_dim)``
    (with ``num_candidates=-1`` candidate ``c`` is input ``c`` and there is no buffer).

    Raises:
        ValueError: unknown ``forward_sampling`` / ``init_method``, bad
            ``num_candidates`` or ``temperature``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        lut_rank: int = 2,
        temperature: float = 0.001,
        num_candidates: int = -1,
        forward_sampling: str = "soft",
        device: torch.device | str | None = None,
        init_method: str = "random-unique",
        num_groups: int | None = None,
        group_bias: float | None = None,
        **kwargs: Any,
    ):
        Sampling.parse(forward_sampling)
        super().__init__(lut_rank=lut_rank, device=device, init_method=init_method, **kwargs)
        if num_candidates != -1 and not (isinstance(num_candidates, int) and num_candidates > 0
                                         and not isinstance(num_candidates, bool)):
            raise ValueError(f"num_candidates must be > 0 or -1, got {num_candidates!r}")
        in_dim, out_dim = check_dims(in_dim, out_dim)
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.temperature = 1.0
        self.update_temperature(temperature)
        self.forward_sampling = forward_sampling
        self.num_groups = num_groups
        self.group_bias = group_bias
        self._dense_identity = num_candidates == -1
        if self._dense_identity:
            # Candidate c is input c: no index buffer (it would be in_dim * rank * out
            # int64s in every checkpoint).
            num_candidates = in_dim
            indices = None
        else:
            per_slot = [
                build_indices(init_method, in_dim, num_candidates, out_dim, num_groups,
                              group_bias, device)
                for _ in range(lut_rank)
            ]
            indices = torch.stack(per_slot, dim=1).to(torch.int64)  # (C, rank, out)
        self.num_candidates = num_candidates
        self.register_buffer("indices", indices)
        self.weights = nn.Parameter(
            torch.empty(num_candidates, lut_rank, out_dim, dtype=torch.float32, device=device)
        )
        nn.init.xavier_uniform_(self.weights)

    @property
    def forward_sampling(self) -> Sampling:
        """The selection's :class:`~bitlogic.functional.sampling.Sampling` mode; set validates."""
        return self._forward_sampling

    @forward_sampling.setter
    def forward_sampling(self, value: Sampling | str) -> None:
        self._forward_sampling = Sampling.parse(value, "forward_sampling")

    def update_temperature(self, temperature: float) -> None:
        if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
            raise TypeError(f"temperature must be a finite number > 0, got "
                            f"{type(temperature).__name__} {temperature!r}")
        if not temperature > 0 or not math.isfinite(temperature):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature}")
        self.temperature = float(temperature)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x, self.in_dim)
        if not self.training:
            return x[:, self.selected_indices()]
        if self._dense_identity:
            return self._forward_dense(x)
        return select_candidates(x[:, self.indices], self.weights, self.temperature,
                                 self.forward_sampling)

    def _forward_dense(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        # All inputs are candidates: the routing is a (in_dim, rank * out) matrix.
        sample = relaxed_argmax(self.weights, self.temperature, self.forward_sampling, dim=0,
                                noise=noise)
        flat = lambda m: m.reshape(self.in_dim, -1)  # noqa: E731
        if self.forward_sampling.is_hard:
            out = x @ flat(sample.straight_through())
        else:
            out = straight_through(x @ flat(sample.one_hot), x @ flat(sample.soft))
        return out.view(x.shape[0], self.lut_rank, self.out_dim)

    def selected_indices(self) -> torch.Tensor:
        best = self.weights.argmax(dim=0, keepdim=True)  # (1, rank, out)
        if self._dense_identity:
            return best.squeeze(0)
        return self.indices.gather(0, best).squeeze(0)

    def routing(self) -> RoutingSpec | None:
        """The fused kernels' view of :meth:`forward` in the current mode.

        Eval: fixed routing over :meth:`selected_indices`. Training: the
        candidate pools (``indices`` and ``weights``), or all inputs with
        ``num_candidates=-1``.
        """
        if not self._routes_as(LearnableDenseConnections, "_forward_dense"):
            return super().routing()
        if not self.training:
            return RoutingSpec.fixed(self.selected_indices(), self.in_dim)
        if self._dense_identity:
            return RoutingSpec.all_inputs(self.weights, self.temperature, self.forward_sampling)
        return RoutingSpec.candidates(self.indices, self.weights, self.temperature,
                                      self.forward_sampling, self.in_dim)

    def extra_repr(self) -> str:
        return (f"in_dim={self.in_dim}, out_dim={self.out_dim}, lut_rank={self.lut_rank}, "
                f"num_candidates={self.num_candidates}, temperature={self.temperature:g}, "
                f"forward_sampling={self.forward_sampling.value!r}")
