"""Candidate-pool routing against select_candidates, exclusive routing, and the index checks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_checks import (
    MODES,
    RANKS,
    batches,
    compare_paths,
    seeds,
    torch_threads,
    values_and_grads,
)

from bitlogic.connections import select_candidates
from bitlogic.functional.bases import indicator_fold
from bitlogic.functional.sampling import gumbel_noise
from bitlogic.kernels import (
    Routing,
    candidate_routing,
    exclusive_routing,
    fixed_routing,
    fused_fold,
    fused_lookup,
)
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


def _permutation(rank: int, out_dim: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randperm(rank * out_dim, generator=gen).view(rank, out_dim)


def _exclusive_against_fixed(kernel, idx, x, w, threads):
    in_dim = x.shape[1]
    with torch_threads(threads):
        got = values_and_grads(lambda x, w: kernel(x, w, exclusive_routing(idx, in_dim)), x, w)
        expected = values_and_grads(lambda x, w: kernel(x, w, fixed_routing(idx, in_dim)), x, w)
    # One reader per input: the fixed routing's sum of per-thread buffers adds
    # zeros to the one contribution, so the stored gradients agree bit for bit.
    for name, g, e in zip(["output", "grad of x", "grad of table"], got, expected, strict=True):
        assert torch.equal(g, e), name


@settings(max_examples=30, deadline=None)
@given(batch=batches, out_dim=st.integers(1, 30), rank=st.sampled_from(RANKS),
       threads=st.sampled_from([1, 2, 3]), seed=seeds)
def test_exclusive_routing_stores_the_fixed_routings_gradients(batch, out_dim, rank, threads,
                                                               seed):
    gen = torch.Generator().manual_seed(seed)
    idx = _permutation(rank, out_dim, gen)
    x = torch.rand(batch, rank * out_dim, generator=gen)
    w = torch.randn(out_dim, 1 << rank, generator=gen)
    _exclusive_against_fixed(lambda x, w, r: fused_fold(x, w, r, "walsh", "soft", 0.7),
                             idx, x, w, threads)
    coeff, alpha = build_efd_coefficients(rank), torch.tensor(0.4)
    _exclusive_against_fixed(lambda x, w, r: fused_lookup(x, w, r, coeff, alpha),
                             idx, x, w, threads)


def test_exclusive_routing_over_several_batch_tiles():
    # 16,000 inputs: bl_batch_tile cuts a batch of 150 into tiles of 128 and 22.
    gen = torch.Generator().manual_seed(8)
    idx = _permutation(2, 8000, gen)
    x, w = torch.rand(150, 16000, generator=gen), torch.randn(8000, 4, generator=gen)
    _exclusive_against_fixed(lambda x, w, r: fused_fold(x, w, r), idx, x, w, threads=2)


@pytest.mark.parametrize("indices, in_dim", [
    (torch.tensor([[0, 1], [1, 3]]), 4),  # 1 twice, 2 never
    (torch.tensor([[0, 1], [2, 3]]), 5),  # input 4 unread
    (torch.tensor([[0, 1], [2, 4]]), 4),  # out of range
    (torch.tensor([[0, -1], [2, 3]]), 4),  # negative
])
def test_exclusive_routing_rejects_indices_that_are_not_a_permutation(indices, in_dim):
    with pytest.raises(ValueError, match="exactly once"):
        exclusive_routing(indices, in_dim)


def test_routing_claimed_exclusive_is_checked():
    selected = torch.tensor([[0, 1], [1, 3]], dtype=torch.int32)
    with pytest.raises(ValueError, match="exactly once"):
        Routing(4, selected, exclusive=True)
    cand = torch.zeros(2, 2, 2, dtype=torch.int32)
    with pytest.raises(ValueError, match="fixed connections"):
        Routing(4, torch.tensor([[0, 1], [2, 3]], dtype=torch.int32), cand, exclusive=True)
