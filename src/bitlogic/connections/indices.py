"""Index initializers shared by fixed and learnable connections."""

from __future__ import annotations

import torch


def check_group_args(in_dim: int, out_dim: int, num_groups, group_bias) -> None:
    """Validate ``group-biased`` arguments; raises ``ValueError`` naming the bad one."""
    if num_groups is None or group_bias is None:
        raise ValueError("init_method='group-biased' needs both num_groups and group_bias")
    if not isinstance(num_groups, int) or not 1 <= num_groups <= min(in_dim, out_dim):
        raise ValueError(
            f"num_groups must be an integer in [1, min(in_dim, out_dim)={min(in_dim, out_dim)}],"
            f" got {num_groups!r}"
        )
    if not 0.0 <= float(group_bias) <= 1.0:
        raise ValueError(f"group_bias must be in [0, 1], got {group_bias!r}")


def random_indices(in_dim: int, slots: int, out_dim: int, device=None) -> torch.Tensor:
    """Uniform draws with replacement: ``(slots, out_dim)``."""
    return torch.randint(0, in_dim, (slots, out_dim), device=device)


def unique_indices(in_dim: int, slots: int, out_dim: int, device=None) -> torch.Tensor:
    """Distinct inputs per neuron, every input used about equally often.

    Fills the ``slots * out_dim`` positions from concatenated random
    permutations of the inputs (so coverage is even), then redraws any
    neuron whose slots collided.

    Raises:
        ValueError: if ``slots > in_dim`` (distinct inputs impossible).
    """
    if slots > in_dim:
        raise ValueError(
            f"random-unique needs lut_rank/num_candidates <= in_dim, got {slots} > {in_dim}"
        )
    total = slots * out_dim
    reps = -(-total // in_dim)
    flat = torch.cat([torch.randperm(in_dim, device=device) for _ in range(reps)])[:total]
    idx = flat.view(out_dim, slots)
    sorted_idx = idx.sort(dim=1).values
    bad = (sorted_idx[:, 1:] == sorted_idx[:, :-1]).any(dim=1).nonzero().flatten()
    if bad.numel():
        weights = torch.ones(bad.numel(), in_dim, device=device)
        idx[bad] = torch.multinomial(weights, slots, replacement=False)
    return idx.T.contiguous()


def group_biased_indices(
    in_dim: int, slots: int, out_dim: int, num_groups: int, group_bias: float, device=None
) -> torch.Tensor:
    """Each slot reads from its neuron's group with probability ``group_bias``.

    Inputs and outputs are split into ``num_groups`` contiguous chunks (as even
    as possible); neuron ``n`` in output chunk ``g`` draws a slot uniformly from
    input chunk ``g`` with probability ``group_bias``, otherwise uniformly
    from all inputs.
    """
    out_group = torch.arange(out_dim, device=device) * num_groups // out_dim
    bounds = [(g * in_dim) // num_groups for g in range(num_groups + 1)]
    starts = torch.tensor(bounds[:-1], device=device)[out_group]
    sizes = (torch.tensor(bounds[1:], device=device) - torch.tensor(bounds[:-1], device=device))
    sizes = sizes[out_group]
    in_group = starts + (torch.rand(slots, out_dim, device=device) * sizes).long()
    anywhere = random_indices(in_dim, slots, out_dim, device)
    keep = torch.rand(slots, out_dim, device=device) < group_bias
    return torch.where(keep, in_group, anywhere)


def build_indices(init_method, in_dim, slots, out_dim, num_groups=None, group_bias=None,
                  device=None) -> torch.Tensor:
    """Dispatch on ``init_method``; returns int64 ``(slots, out_dim)``."""
    if init_method == "random-unique":
        return unique_indices(in_dim, slots, out_dim, device)
    if init_method == "random":
        return random_indices(in_dim, slots, out_dim, device)
    check_group_args(in_dim, out_dim, num_groups, group_bias)
    return group_biased_indices(in_dim, slots, out_dim, num_groups, float(group_bias), device)
