"""Semantics of every parametrization x rank x sampling mode."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bitlogic.functional.bases import (
    corner_inputs,
    indicator_fold,
    walsh_fold,
    weighted_indicator_basis_sum,
)
from bitlogic.functional.sampling import (
    VALID_SAMPLING,
    Sampling,
    add_gumbel,
    relaxed_argmax,
    sample_softmax,
)
from bitlogic.parametrizations import (
    DiffLogicLUT,
    DwnLUT,
    LightLUT,
    NeuralLUT,
    PolyLUT,
    list_parametrizations,
    setup_parametrization,
)
from bitlogic.parametrizations.dwn import build_efd_coefficients

ALL = ["light", "warp", "linear", "polylut", "neurallut", "dwn", "difflogic"]


def ranks_of(name):
    return [2] if name == "difflogic" else [2, 4, 6]


CASES = [(n, r) for n in ALL for r in ranks_of(n)]
CASES_WITH_MODES = [(n, r, m) for (n, r) in CASES for m in VALID_SAMPLING]


def make(name, rank, n=37, **kw):
    p = setup_parametrization(name, lut_rank=rank, **kw)
    w = torch.nn.Parameter(p.init_weights(n, None))
    return p, w


def binary_inputs(batch, rank, n):
    return torch.randint(0, 2, (batch, rank, n)).float()


def address(x):
    rank = x.shape[1]
    shifts = torch.tensor([1 << (rank - 1 - j) for j in range(rank)]).view(1, rank, 1)
    return (x.long() * shifts).sum(1)


def test_registry_lists_all_seven():
    assert list_parametrizations() == sorted(ALL)


def test_unknown_name_is_keyerror_listing_valid_names():
    with pytest.raises(KeyError, match="warp"):
        setup_parametrization("nand", lut_rank=2)


@pytest.mark.parametrize("name,rank,mode", CASES_WITH_MODES)
def test_eval_is_msb_lookup_of_get_lut(name, rank, mode):
    p, w = make(name, rank, forward_sampling=mode)
    x = binary_inputs(53, rank, 37)
    out = p(x, p.effective_weight(w), training=False)
    lut = p.get_lut(p.effective_weight(w))
    assert lut.dtype == torch.uint8 and lut.shape == (37, 1 << rank)
    assert set(lut.unique().tolist()) <= {0, 1}
    expected = lut.T.gather(0, address(x)).float()
    assert torch.equal(out, expected)


ROUND_TRIP = [(n, r) for (n, r) in CASES if setup_parametrization(n, r).LUT_INFERENCE_SUPPORTED]


def test_round_trip_flag_is_set_on_all_but_difflogic():
    assert sorted({n for n, _ in ROUND_TRIP}) == sorted(set(ALL) - {"difflogic"})


@pytest.mark.parametrize(
    "name,rank,weight_init",
    [(n, r, i) for (n, r) in ROUND_TRIP for i in ("random", "residual")
     if not (n == "neurallut" and i == "residual")],  # NeuralLUT has no residual init
)
def test_soft_training_output_rounds_to_lut(name, rank, weight_init):
    p, w = make(name, rank, weight_init=weight_init, anchor_init=False)
    with torch.no_grad():
        w.add_(torch.randn_like(w))
    corners = corner_inputs(rank, 37)
    soft = p(corners, p.effective_weight(w), training=True)  # (2**rank, n)
    lut = p.get_lut(p.effective_weight(w)).T.float()
    assert torch.equal((soft > 0.5).float(), lut)


def test_difflogic_flag_is_truthful_and_hard_mode_trains_the_argmax_gate():
    # A neuron split between AND and OR: soft output at (0,1) is 0.5-ish, argmax is AND.
    p = DiffLogicLUT()
    w = torch.zeros(1, 16)
    w[0, 1], w[0, 7], w[0, 3] = 1.0, 0.9, 0.8
    corners = corner_inputs(2, 1)
    soft = p(corners, w, training=True)
    assert not torch.equal((soft > 0.5).float().T, p.get_lut(w).float())
    assert DiffLogicLUT.LUT_INFERENCE_SUPPORTED is False
    hard = DiffLogicLUT(forward_sampling="hard")
    assert torch.equal(hard(corners, w, training=True).T, p.get_lut(w).float())
    assert p.get_lut(w).tolist() == [[0, 0, 0, 1]]  # AND


@pytest.mark.parametrize("name,rank", [c for c in CASES if c[0] != "neurallut"])
def test_residual_init_passes_input_zero_through(name, rank):
    p, w = make(name, rank, weight_init="residual")
    assert p.residual_anchor is not None and torch.count_nonzero(w) == 0
    x = binary_inputs(64, rank, 37)
    out = p(x, p.effective_weight(w), training=False)
    assert torch.equal(out, x[:, 0])
    soft = p(x, p.effective_weight(w), training=True)
    target = x[:, 0]
    prob_right = torch.where(target == 1, soft, 1 - soft)
    if name not in ("difflogic",):
        assert torch.allclose(prob_right, torch.full_like(prob_right, 0.951), atol=1e-4)
    else:
        assert (prob_right > 0.9).all()


@pytest.mark.parametrize("name,rank", [("light", 4), ("warp", 2), ("dwn", 6)])
def test_residual_without_anchor_puts_identity_in_the_weight(name, rank):
    p, w = make(name, rank, weight_init="residual", anchor_init=False)
    assert p.residual_anchor is None and torch.count_nonzero(w) > 0
    x = binary_inputs(16, rank, 37)
    assert torch.equal(p(x, w, training=False), x[:, 0])


def test_neurallut_rejects_residual():
    with pytest.raises(ValueError, match="residual"):
        NeuralLUT(lut_rank=2, weight_init="residual")


@pytest.mark.parametrize("name,rank,mode", CASES_WITH_MODES)
def test_gradients_reach_weights_and_inputs(name, rank, mode):
    p, w = make(name, rank, forward_sampling=mode, temperature=2.0)
    x = torch.rand(19, rank, 37, requires_grad=True)
    out = p(x, p.effective_weight(w), training=True)
    assert out.shape == (19, 37)
    (out * torch.randn_like(out)).sum().backward()
    for g in (w.grad, x.grad):
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0


@pytest.mark.parametrize("name,rank", CASES)
def test_state_dict_round_trip(name, rank):
    p, w = make(name, rank, weight_init="random" if name == "neurallut" else "residual")
    state = p.state_dict()
    if name != "neurallut":
        assert "residual_anchor" in state
    q = setup_parametrization(name, lut_rank=rank)  # random init: no anchor yet
    q.load_state_dict(state)
    assert torch.equal(q.get_lut(q.effective_weight(w)), p.get_lut(p.effective_weight(w)))
    if name == "dwn":
        assert "_efd_coeff" not in state and "alpha" in state


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(lut_rank=3), "lut_rank"),
        (dict(lut_rank=2, weight_init="zeros"), "weight_init"),
        (dict(lut_rank=2, forward_sampling="gumbel"), "forward_sampling"),
        (dict(lut_rank=2, temperature=0.0), "temperature"),
        (dict(lut_rank=2, residual_probability=1.5), "residual_probability"),
    ],
)
@pytest.mark.parametrize("name", ALL)
def test_documented_errors(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        setup_parametrization(name, **kwargs)


def test_class_specific_errors():
    with pytest.raises(ValueError, match="lut_rank == 2"):
        DiffLogicLUT(lut_rank=4)
    with pytest.raises(ValueError, match="activation"):
        NeuralLUT(lut_rank=2, activation="gelu")
    with pytest.raises(ValueError, match="degree"):
        PolyLUT(lut_rank=2, degree=0)
    with pytest.raises(ValueError, match="estimator"):
        LightLUT(lut_rank=2, estimator="cos")
    with pytest.raises(ValueError, match="contraction"):
        p, w = make("light", 2)
        p(binary_inputs(2, 2, 37), w, training=False, contraction="bn,n->b")


def test_polylut_monomial_count():
    assert PolyLUT(lut_rank=6).num_monomials == 28  # C(8, 2)
    assert PolyLUT(lut_rank=4, degree=3).num_monomials == 35  # C(7, 3)


def test_dwn_defaults():
    for rank in (2, 4, 6):
        assert float(DwnLUT(lut_rank=rank).alpha) == pytest.approx(0.5 * 0.75 ** (rank - 1))
    assert DwnLUT(lut_rank=6)._efd_coeff.shape == (64, 64, 6)
    assert DwnLUT(lut_rank=6)._efd_coeff.numel() * 4 == 96 * 1024


def brute_force_efd(table, addr, rank, alpha, efd):
    """d y / d x_j by the paper's formula, one neuron at a time."""
    grads = torch.zeros(rank)
    for j in range(rank):
        bit = 1 << (rank - 1 - j)
        total = 0.0
        for k in range(1 << rank):
            sign = 1.0 if k & bit else -1.0
            hamming = bin((k ^ addr) & ~bit).count("1")
            if efd:
                total += sign * float(table[k]) / (hamming + 1)
            elif hamming == 0:
                total += sign * float(table[k])
        grads[j] = alpha * total
    return grads


@pytest.mark.parametrize("rank", [2, 4, 6])
@pytest.mark.parametrize("efd", [True, False])
def test_efd_matches_brute_force(rank, efd):
    p = DwnLUT(lut_rank=rank, efd=efd)
    n = 5
    w = torch.randn(n, 1 << rank, requires_grad=True)
    x = torch.rand(7, rank, n, requires_grad=True)
    out = p(x, w, training=True)
    out.sum().backward()
    table = torch.sigmoid(w.detach())
    addr = address((x.detach() > 0.5).float())
    for b in range(7):
        for neuron in range(n):
            expected = brute_force_efd(table[neuron], int(addr[b, neuron]), rank,
                                       float(p.alpha), efd)
            assert torch.allclose(x.grad[b, :, neuron], expected, atol=1e-5)
    # weight gradient flows to the looked-up entry only: sigmoid'(w) at that entry
    assert torch.allclose(out, table.T.gather(0, addr))


def test_efd_coefficients_hamming_one_is_plain_finite_difference():
    c = build_efd_coefficients(2, efd=False)
    # address 0b10 (x0=1, x1=0): input 0 -> A[10] - A[00]; input 1 -> A[11] - A[10]
    assert c[2, :, 0].tolist() == [-1.0, 0.0, 1.0, 0.0]
    assert c[2, :, 1].tolist() == [0.0, 0.0, -1.0, 1.0]


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(ALL),
    rank_index=st.integers(0, 2),
    batch=st.integers(1, 70),
    neurons=st.integers(1, 40),
)
def test_random_shapes_eval_lookup(name, rank_index, batch, neurons):
    rank = ranks_of(name)[min(rank_index, len(ranks_of(name)) - 1)]
    p, w = make(name, rank, n=neurons)
    x = binary_inputs(batch, rank, neurons)
    out = p(x, p.effective_weight(w), training=False)
    assert out.shape == (batch, neurons)
    assert torch.equal(out, p.get_lut(p.effective_weight(w)).T.gather(0, address(x)).float())


def test_folds_match_explicit_bases():
    rank, n = 4, 6
    x = torch.rand(5, rank, n)
    coeffs = torch.randn(n, 1 << rank)
    # explicit Kronecker indicator and Walsh bases, MSB-first
    ind = torch.ones(5, 1, n)
    wal = torch.ones(5, 1, n)
    for j in range(rank):
        xj = x[:, j : j + 1]
        ind = torch.stack([ind * (1 - xj), ind * xj], dim=2).flatten(1, 2)
        wal = torch.stack([wal, wal * (2 * xj - 1)], dim=2).flatten(1, 2)
    assert torch.allclose(indicator_fold(coeffs, x), torch.einsum("bkn,nk->bn", ind, coeffs),
                          atol=1e-5)
    assert torch.allclose(walsh_fold(coeffs, x), torch.einsum("bkn,nk->bn", wal, coeffs),
                          atol=1e-5)


def test_light_sin_estimator_and_heavy_tail():
    p = LightLUT(lut_rank=2, estimator="sin", heavy_tail_init=True, weight_init="residual",
                 anchor_init=False)
    w = p.init_weights(2000, None)
    signs = torch.tensor([-1.0, -1.0, 1.0, 1.0])
    assert ((w * signs) > 0).float().mean() > 0.99
    assert (w * signs).mean().item() == pytest.approx(1.2, abs=0.03)
    assert (w * signs).std().item() == pytest.approx(0.25, abs=0.03)
    corners = corner_inputs(2, 2000)
    soft = p(corners, w, training=True)
    assert torch.allclose(soft.T, 0.5 + 0.5 * torch.sin(w))
    assert torch.equal((soft > 0.5).T.to(torch.uint8), p.get_lut(w))


def test_update_temperature_changes_sharpness():
    p, w = make("warp", 2)
    x = corner_inputs(2, 37)
    a = p(x, w, training=True)
    p.update_temperature(0.1)
    b = p(x, w, training=True)
    assert ((b - 0.5).abs() >= (a - 0.5).abs() - 1e-6).all()
    with pytest.raises(ValueError, match="temperature"):
        p.update_temperature(-1)


def test_corner_inputs_are_msb_first():
    c = corner_inputs(3, 1)[:, :, 0]
    assert c.tolist() == [list(map(float, bits)) for bits in itertools.product([0, 1], repeat=3)]


# ---- sampling modes ------------------------------------------------------------------------


def test_sampling_enum_takes_plain_strings():
    assert [m.value for m in Sampling] == list(VALID_SAMPLING)
    assert Sampling.parse("gumbel_soft") is Sampling.GUMBEL_SOFT
    assert Sampling.parse(Sampling.HARD) is Sampling.HARD and Sampling.HARD == "hard"
    assert [m.uses_gumbel for m in Sampling] == [False, False, True, True]
    assert [m.is_hard for m in Sampling] == [False, True, False, True]
    assert str(Sampling.SOFT) == "soft" and f"{Sampling.GUMBEL_HARD}" == "gumbel_hard"
    with pytest.raises(ValueError, match=r"connection_sampling must be one of \('soft', 'hard'"):
        Sampling.parse("gumbel", "connection_sampling")
    with pytest.raises(ValueError, match=r"must be one of \('soft',\), got 'hard'"):
        Sampling.parse("hard", allowed=("soft",))


def test_forward_sampling_is_an_enum_validated_on_assignment():
    p = LightLUT(lut_rank=2, forward_sampling="hard")
    assert p.forward_sampling is Sampling.HARD and "forward_sampling='hard'" in repr(p)
    p.forward_sampling = "gumbel_soft"
    assert p.forward_sampling is Sampling.GUMBEL_SOFT
    with pytest.raises(ValueError, match="forward_sampling"):
        p.forward_sampling = "sometimes"


def test_subclasses_may_restrict_the_sampling_modes():
    class SoftOnly(LightLUT):
        SAMPLING_MODES = ("soft",)

    assert SoftOnly(lut_rank=2).forward_sampling is Sampling.SOFT
    with pytest.raises(ValueError, match=r"forward_sampling must be one of \('soft',\)"):
        SoftOnly(lut_rank=2, forward_sampling="hard")


@pytest.mark.parametrize("mode", VALID_SAMPLING)
def test_relaxed_argmax_is_the_one_argmax_straight_through(mode):
    torch.manual_seed(0)
    logits = torch.randn(5, 7, requires_grad=True)
    noise = torch.randn(5, 7)
    sample = relaxed_argmax(logits, 0.3, mode, dim=0, noise=noise)
    z = logits + noise if Sampling(mode).uses_gumbel else logits
    assert torch.equal(sample.index, z.argmax(0, keepdim=True))
    assert torch.equal(sample.one_hot.sum(0), torch.ones(7))
    assert torch.allclose(sample.soft, torch.softmax(z / 0.3, dim=0))
    st = sample.straight_through()
    assert torch.equal(st, sample.one_hot)
    (g,) = torch.autograd.grad((st * torch.arange(35.0).view(5, 7)).sum(), logits,
                               retain_graph=True)
    (want,) = torch.autograd.grad((sample.soft * torch.arange(35.0).view(5, 7)).sum(), logits)
    assert torch.allclose(g, want)
    expected = st if Sampling(mode).is_hard else sample.soft
    assert torch.equal(sample_softmax(logits, 0.3, mode, dim=0, noise=noise), expected)


def test_add_gumbel_checks_the_noise_shape():
    x = torch.zeros(2, 3)
    assert add_gumbel(x, "hard") is x
    with pytest.raises(ValueError, match=r"noise must have shape \(2, 3\)"):
        add_gumbel(x, "gumbel_hard", torch.zeros(3, 2))


# ---- contraction ---------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_contraction_accepts_the_implemented_pattern_only(training):
    p, w = make("warp", 2)
    x = binary_inputs(5, 2, 37)
    want = p(x, w, training=False)
    for same in ("n,bn->bn", " n , an -> an "):
        if not training:
            assert torch.equal(p(x, w, training=False, contraction=same), want)
        else:
            assert p(x, w, training=True, contraction=same).shape == (5, 37)
    for bad in ("n,bhn->bhn", "n,n->n", "bn,n->b", "n,bn->b", "n,bbn->bbn"):
        with pytest.raises(ValueError, match="contraction"):
            p(x, w, training=training, contraction=bad)
    with pytest.raises(ValueError, match="x must be"):
        p(x[..., None], w, training=training)


def test_functional_lookup_contraction_names_the_extra_axes():
    luts = torch.randint(0, 2, (6, 4)).float()
    x = binary_inputs(3, 2, 6)
    x4 = torch.stack([x, 1 - x], dim=2)  # (batch, rank, 2, neurons)
    out = weighted_indicator_basis_sum(x4, luts, "n,bhn->bhn", 2)
    assert torch.equal(out[:, 0], weighted_indicator_basis_sum(x, luts, "n,bn->bn", 2))
    with pytest.raises(ValueError, match="'n,bcn->bcn'"):
        weighted_indicator_basis_sum(x4, luts, "n,bn->bn", 2)


# ---- PolyLUT exponents ---------------------------------------------------------------------


def test_polylut_exponents_are_not_saved_and_old_checkpoints_load():
    p = PolyLUT(lut_rank=4, degree=3, weight_init="residual")
    p.init_weights(5, None)  # sets the residual anchor
    state = p.state_dict()
    assert not any(k.startswith("exponent_matrix") for k in state)
    assert p.exponent_matrix.dtype == torch.int64 and p.exponent_matrix.shape == (35, 4)
    old = dict(state, exponent_matrix=p.exponent_matrix.float(),
               exponent_matrix_long=p.exponent_matrix.clone())
    q = PolyLUT(lut_rank=4, degree=3)
    q.load_state_dict(old)  # strict: the legacy keys are consumed, not unexpected
    assert torch.equal(q.residual_anchor, p.residual_anchor)
    with pytest.raises(RuntimeError, match="another degree"):
        PolyLUT(lut_rank=4, degree=2).load_state_dict(old)
