"""Candidate-pool routing against select_candidates, and the index checks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_checks import MODES, RANKS, batches, compare_paths, seeds

from bitlogic.connections import select_candidates
from bitlogic.functional.bases import indicator_fold
from bitlogic.functional.sampling import gumbel_noise
from bitlogic.kernels import candidate_routing, fixed_routing, fused_fold, fused_lookup
from bitlogic.parametrizations.dwn import _EFDLookup, build_efd_coefficients


def _candidates(in_dim, pool, rank, out_dim, gen):
    return torch.randint(0, in_dim, (pool, rank, out_dim), generator=gen)


@settings(max_examples=40, deadline=None)
@given(batch=batches, in_dim=st.integers(1, 30), out_dim=st.integers(1, 20),
       pool=st.integers(1, 8), rank=st.sampled_from(RANKS), mode=st.sampled_from(MODES),
       temperature=st.sampled_from([0.001, 0.3, 2.0]), seed=seeds)
def test_candidate_fold_matches_select_candidates(batch, in_dim, out_dim, pool, rank, mode,
                                                  temperature, seed):
    gen = torch.Generator().manual_seed(seed)
    cand = _candidates(in_dim, pool, rank, out_dim, gen)
    x = torch.rand(batch, in_dim, generator=gen)
    logits = torch.randn(pool, rank, out_dim, generator=gen)
    table = torch.randn(out_dim, 1 << rank, generator=gen)
    noise = gumbel_noise((pool, rank, out_dim), generator=gen)

    def kernel(x, logits, table):
        routing, probs = candidate_routing(cand, logits, temperature, mode, in_dim, noise)
        return fused_fold(x, table, routing, probs=probs)

    def reference(x, logits, table):
        gathered = select_candidates(x[:, cand], logits, temperature, mode, noise)
        return indicator_fold(table, gathered)

    compare_paths(kernel, reference, [x, logits, table], ["x", "logits", "table"], seed)


@pytest.mark.parametrize("mode", MODES)
def test_candidate_lookup_matches_select_candidates(mode):
    gen = torch.Generator().manual_seed(1)
    in_dim, out_dim, pool, rank = 25, 12, 5, 4
    cand = _candidates(in_dim, pool, rank, out_dim, gen)
    x = torch.rand(21, in_dim, generator=gen)
    logits = torch.randn(pool, rank, out_dim, generator=gen)
    table = torch.rand(out_dim, 1 << rank, generator=gen)
    coeff, alpha = build_efd_coefficients(rank), torch.tensor(0.4)

    def kernel(x, logits, table):
        routing, probs = candidate_routing(cand, logits, 0.5, mode, in_dim)
        return fused_lookup(x, table, routing, coeff, alpha, probs=probs)

    def reference(x, logits, table):
        gathered = select_candidates(x[:, cand], logits, 0.5, mode)
        return _EFDLookup.apply(gathered, table, coeff, alpha)

    # The gumbel modes draw their own noise: the same seed gives both the same draw.
    compare_paths(_seeded(kernel), _seeded(reference), [x, logits, table],
                  ["x", "logits", "table"], 2)


def _seeded(fn, seed=9):
    def run(*args):
        torch.manual_seed(seed)
        return fn(*args)
    return run


def test_out_of_range_indices_raise_index_error():
    with pytest.raises(IndexError, match="index 7 is out of bounds"):
        fixed_routing(torch.tensor([[0, 7]]), 5)
    with pytest.raises(IndexError, match="index -1"):
        fixed_routing(torch.tensor([[-1, 2]]), 5)


def test_probs_must_match_the_routing():
    routing = fixed_routing(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match="probs must be given exactly"):
        fused_fold(torch.rand(3, 2), torch.rand(1, 4), routing, probs=torch.rand(2, 2, 1))


def test_pools_beyond_the_kernel_limit_are_rejected():
    gen = torch.Generator().manual_seed(0)
    cand = _candidates(10, 65, 2, 3, gen)
    routing, probs = candidate_routing(cand, torch.randn(65, 2, 3), 1.0, "soft", 10)
    with pytest.raises(ValueError, match="at most 64"):
        fused_fold(torch.rand(4, 10), torch.rand(3, 4), routing, probs=probs)
