"""fused_lookup against dwn_forward (binarised lookup, EFD backward)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_checks import MODES, RANKS, batches, compare_paths, random_indices, seeds, widths

from bitlogic.functional.sampling import logistic_noise, sample_sigmoid
from bitlogic.kernels import fixed_routing, fused_lookup
from bitlogic.parametrizations.dwn import build_efd_coefficients, dwn_forward


@settings(max_examples=40, deadline=None)
@given(batch=batches, in_dim=widths, out_dim=widths, rank=st.sampled_from(RANKS), seed=seeds,
       mode=st.sampled_from(MODES), efd=st.booleans())
def test_lookup_matches_dwn_forward(batch, in_dim, out_dim, rank, seed, mode, efd):
    gen = torch.Generator().manual_seed(seed)
    idx = random_indices(in_dim, rank, out_dim, gen)
    x = torch.rand(batch, in_dim, generator=gen)
    w = torch.randn(out_dim, 1 << rank, generator=gen)
    noise = logistic_noise((out_dim, 1 << rank), generator=gen)
    coeff, alpha = build_efd_coefficients(rank, efd), torch.tensor(0.3)
    routing = fixed_routing(idx, in_dim)

    def kernel(x, w):
        return fused_lookup(x, sample_sigmoid(w, 0.8, mode, noise), routing, coeff, alpha)

    def reference(x, w):
        return dwn_forward(x[:, idx], w, 0.8, mode, coeff, alpha, noise)

    compare_paths(kernel, reference, [x, w], ["x", "weight"], seed)


def test_inputs_binarise_strictly_above_one_half():
    idx = torch.tensor([[0], [1]])
    table = torch.arange(4.0).view(1, 4)
    x = torch.tensor([[0.5, 0.5000001], [0.4999, 1.0], [1.0, 0.0]])
    y = fused_lookup(x, table, fixed_routing(idx, 2), build_efd_coefficients(2), 1.0)
    assert y.flatten().tolist() == [1.0, 1.0, 2.0]  # addresses 01, 01, 10


def test_coefficient_shape_is_checked():
    routing = fixed_routing(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match="coeff must have shape"):
        fused_lookup(torch.rand(3, 2), torch.rand(1, 4), routing, build_efd_coefficients(4), 1.0)
