"""Ternary quantizers and the functional BitLinear reference math."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bitlogic.functional.sampling import straight_through
from bitlogic.ternary.functional import (
    activation_quant,
    bitlinear_python,
    decomposition_error,
    greedy_ternary_decomposition,
    multi_ternary_linear_python,
    refit_ternary_gammas,
)
from bitlogic.ternary.quantize import quantize_activations, weight_to_ternary


def is_ternary(t: torch.Tensor) -> bool:
    return bool(((t == -1) | (t == 0) | (t == 1)).all())


# ---------------------------------------------------------------- weights ----


@pytest.mark.parametrize("per_channel", [False, True])
def test_weight_to_ternary_values_and_shapes(per_channel):
    W = torch.randn(13, 29)
    T, gamma = weight_to_ternary(W, per_channel=per_channel)
    assert T.shape == W.shape and T.dtype == W.dtype
    assert is_ternary(T)
    assert {-1.0, 0.0, 1.0} <= set(T.unique().tolist())
    if per_channel:
        assert gamma.shape == (13,)
        torch.testing.assert_close(gamma, W.abs().mean(dim=1))
        torch.testing.assert_close(T, torch.round(W / gamma[:, None]).clamp(-1, 1))
    else:
        assert gamma.dim() == 0
        torch.testing.assert_close(gamma, W.abs().mean())


@pytest.mark.parametrize("per_channel", [False, True])
def test_weight_to_ternary_all_zero_gives_zeros_not_nan(per_channel):
    T, gamma = weight_to_ternary(torch.zeros(4, 5), per_channel=per_channel)
    assert torch.equal(T, torch.zeros(4, 5))
    assert torch.isfinite(gamma).all() and (gamma > 0).all()


def test_weight_to_ternary_bad_arguments():
    with pytest.raises(ValueError, match="W must be 2-D"):
        weight_to_ternary(torch.randn(3))
    with pytest.raises(TypeError, match="floating dtype"):
        weight_to_ternary(torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        weight_to_ternary([[1.0]])
    with pytest.raises(TypeError, match="per_channel must be a bool"):
        weight_to_ternary(torch.randn(2, 2), per_channel=1)


# ------------------------------------------------------------ activations ----


@pytest.mark.parametrize("bits", [2, 4, 8, 16])
def test_quantize_activations_codes(bits):
    qmax = 2 ** (bits - 1) - 1
    x = torch.randn(3, 5, 40) * 4
    codes, step = quantize_activations(x, bits)
    assert codes.shape == x.shape and step.shape == (3, 5, 1)
    assert torch.equal(codes, codes.round())
    assert codes.abs().max() <= qmax
    # The absmax element of every token maps to exactly +-qmax.
    assert torch.equal(codes.abs().amax(dim=-1), torch.full((3, 5), float(qmax)))
    assert (codes * step - x).abs().max() <= step.max() / 2 * (1 + 1e-5)


def test_quantize_activations_zero_token_and_round_half_even():
    codes, step = quantize_activations(torch.zeros(2, 6))
    assert torch.equal(codes, torch.zeros(2, 6)) and torch.isfinite(step).all()
    # 0.5 / 127 * 127 rounds half to even -> 0, 1.5 -> 2 (with absmax 127).
    x = torch.tensor([[0.5, 1.5, 2.5, 127.0]])
    codes, _ = quantize_activations(x, 8)
    assert codes.tolist() == [[0.0, 2.0, 2.0, 127.0]]


def test_quantize_activations_bad_arguments():
    with pytest.raises(ValueError, match=r"bits must be in \[2, 16\], got 1"):
        quantize_activations(torch.randn(2, 3), bits=1)
    with pytest.raises(ValueError, match=r"bits must be in \[2, 16\], got 17"):
        quantize_activations(torch.randn(2, 3), bits=17)
    with pytest.raises(TypeError, match="bits must be an int"):
        quantize_activations(torch.randn(2, 3), bits=8.0)
    with pytest.raises(ValueError, match="at least 1 dimension"):
        quantize_activations(torch.tensor(1.0))


def test_activation_quant_is_dequantized_codes():
    x = torch.randn(4, 33)
    codes, step = quantize_activations(x, 4)
    q = activation_quant(x, bits=4)
    assert torch.equal(q, codes * step)
    for row in q:
        assert row.unique().numel() <= 2**4 - 1


def test_straight_through_value_and_identity_gradient():
    x = torch.randn(5, 7, requires_grad=True)
    q = activation_quant(x)
    y = straight_through(q, x)  # value of the quantizer, gradient of the identity
    assert torch.equal(y, q)
    upstream = torch.randn(5, 7)
    y.backward(upstream)
    assert torch.equal(x.grad, upstream)


# ---------------------------------------------------------- bitlinear ref ----


def test_bitlinear_python_matches_formula():
    x = torch.randn(2, 3, 10)
    T, gamma = weight_to_ternary(torch.randn(6, 10), per_channel=True)
    b = torch.randn(6)
    expected = torch.matmul(x, T.t()) * gamma + b
    assert torch.equal(bitlinear_python(x, T, gamma, b), expected)
    assert bitlinear_python(x, T, gamma.unsqueeze(0)).shape == (2, 3, 6)
    assert torch.equal(bitlinear_python(x, T, gamma.mean()), torch.matmul(x, T.t()) * gamma.mean())


def test_bitlinear_python_bad_shapes():
    T = torch.zeros(6, 10)
    with pytest.raises(ValueError, match=r"x must have shape \[\.\.\., 10\]"):
        bitlinear_python(torch.randn(2, 9), T, torch.ones(6))
    with pytest.raises(ValueError, match="gamma's last dimension"):
        bitlinear_python(torch.randn(2, 10), T, torch.ones(5))
    with pytest.raises(ValueError, match=r"bias must have shape \(6,\)"):
        bitlinear_python(torch.randn(2, 10), T, torch.ones(6), torch.ones(3))
    with pytest.raises(ValueError, match="W must be 2-D"):
        bitlinear_python(torch.randn(2, 10), torch.zeros(10), torch.ones(6))
    with pytest.raises(TypeError, match="gamma must be a torch.Tensor, got float"):
        bitlinear_python(torch.randn(2, 10), T, 1.0)


# ---------------------------------------------------------- decomposition ----


def test_greedy_decomposition_shapes_and_values():
    W = torch.randn(9, 21)
    W_t, g = greedy_ternary_decomposition(W, k=3)
    assert W_t.shape == (3, 9, 21) and g.shape == (3, 9)
    assert is_ternary(W_t)
    # Each component ternarizes the residual of the previous ones.
    T0, g0 = weight_to_ternary(W, per_channel=True)
    assert torch.equal(W_t[0], T0) and torch.equal(g[0], g0)
    T1, g1 = weight_to_ternary(W - g0[:, None] * T0, per_channel=True)
    assert torch.equal(W_t[1], T1) and torch.equal(g[1], g1)


@settings(max_examples=25, deadline=None)
@given(
    out=st.integers(1, 12),
    inp=st.integers(1, 40),
    seed=st.integers(0, 2**31 - 1),
    scale=st.sampled_from([1e-3, 1.0, 50.0]),
)
def test_greedy_residual_decreases_monotonically_in_k(out, inp, seed, scale):
    W = torch.randn(out, inp, generator=torch.Generator().manual_seed(seed)) * scale
    W_t, g = greedy_ternary_decomposition(W, k=6)
    # Elementwise: each greedy step never increases any residual entry.
    residual = W.double()
    errors = []
    for i in range(6):
        new = residual - g[i].double()[:, None] * W_t[i].double()
        assert (new.abs() <= residual.abs() + 1e-6 * scale).all()
        residual = new
        errors.append(decomposition_error(W, W_t[: i + 1], g[: i + 1]).item())
    assert all(b <= a + 1e-6 for a, b in zip(errors, errors[1:], strict=False))


def test_greedy_residual_strictly_decreases_for_gaussian_weights():
    W = torch.randn(64, 256, generator=torch.Generator().manual_seed(0))
    errors = [
        decomposition_error(W, *greedy_ternary_decomposition(W, k)).item() for k in range(1, 6)
    ]
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False)), errors
    assert errors[-1] < 0.5 * errors[0]


@settings(max_examples=25, deadline=None)
@given(
    out=st.integers(1, 10),
    inp=st.integers(1, 48),
    k=st.integers(1, 5),
    seed=st.integers(0, 2**31 - 1),
)
def test_refit_never_increases_the_residual(out, inp, k, seed):
    W = torch.randn(out, inp, generator=torch.Generator().manual_seed(seed))
    W_t, g = greedy_ternary_decomposition(W, k)
    W_r, g_r = greedy_ternary_decomposition(W, k, refit=True)
    assert torch.equal(W_t, W_r)
    assert decomposition_error(W, W_r, g_r) <= decomposition_error(W, W_t, g) * (1 + 1e-6)


def test_refit_is_the_least_squares_optimum():
    W = torch.randn(16, 128, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    W_t, g = greedy_ternary_decomposition(W, 3)
    g_r = refit_ternary_gammas(W, W_t, g)
    for o in range(16):
        design = W_t[:, o, :].t()  # [in, k]
        best = torch.linalg.lstsq(design, W[o].unsqueeze(1)).solution.squeeze(1)
        torch.testing.assert_close(g_r[:, o], best)
    # On Gaussian weights the joint refit helps measurably, not just by rounding.
    assert decomposition_error(W, W_t, g_r) < 0.97 * decomposition_error(W, W_t, g)


def test_refit_handles_all_zero_components():
    W = torch.zeros(3, 8)
    W[0, 0] = 1.0
    W_t, g = greedy_ternary_decomposition(W, 3, refit=True)
    assert torch.isfinite(g).all()
    assert decomposition_error(W, W_t, g) < 1e-6


def test_greedy_decomposition_bad_arguments():
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        greedy_ternary_decomposition(torch.randn(2, 2), 0)
    with pytest.raises(TypeError, match="k must be an int"):
        greedy_ternary_decomposition(torch.randn(2, 2), 2.0)
    with pytest.raises(TypeError, match="refit must be a bool"):
        greedy_ternary_decomposition(torch.randn(2, 2), 2, refit="yes")
    with pytest.raises(ValueError, match=r"gammas must have shape \(2, 3\)"):
        refit_ternary_gammas(torch.randn(3, 4), torch.zeros(2, 3, 4), torch.ones(3))
    with pytest.raises(ValueError, match=r"W must have shape \(3, 4\)"):
        refit_ternary_gammas(torch.randn(3, 5), torch.zeros(2, 3, 4), torch.ones(2, 3))


def test_multi_ternary_linear_python_sums_components():
    W = torch.randn(7, 19)
    W_t, g = greedy_ternary_decomposition(W, 3)
    x, b = torch.randn(4, 19), torch.randn(7)
    expected = sum(bitlinear_python(x, W_t[i], g[i]) for i in range(3)) + b
    torch.testing.assert_close(multi_ternary_linear_python(x, W_t, g, b), expected)
    # More components bring the layer closer to the dense one.
    dense = x @ W.t() + b
    gaps = [
        (multi_ternary_linear_python(x, *greedy_ternary_decomposition(W, k), b) - dense).norm()
        for k in (1, 4, 16)
    ]
    assert gaps[0] > gaps[1] > gaps[2]
    with pytest.raises(ValueError, match="W_ternary must be 3-D"):
        multi_ternary_linear_python(x, W_t[0], g)


# ------------------------------------------------------------ import paths ----


def test_seed_import_paths_reexport_the_ternary_package():
    import bitlogic.functional as functional
    import bitlogic.layers as layers
    import bitlogic.quantization as quantization
    import bitlogic.ternary as ternary

    for name in ("bitlinear_python", "greedy_ternary_decomposition",
                 "multi_ternary_linear_python", "activation_quant"):
        assert getattr(functional, name) is getattr(ternary, name)
    assert quantization.weight_to_ternary is ternary.weight_to_ternary
    for name in ("BitLinear", "MultiTernaryLinear", "PackedBitLinear", "quantize_model"):
        assert getattr(layers, name) is getattr(ternary, name)
