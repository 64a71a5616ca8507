"""Every parametrization's ``fused_spec`` says what its forward computes.

The specs are read here by a small pure-PyTorch interpreter (no compiled
kernels), which must reproduce ``param(x, weight, training)`` value for value
and gradient for gradient under the same seed; tests/kernels then check the
kernels against the same references.
"""

from __future__ import annotations

import pytest
import torch

from bitlogic.functional.bases import indicator_fold, walsh_fold
from bitlogic.functional.fused import FoldBasis, FusedKernel, FusedSpec
from bitlogic.functional.sampling import VALID_SAMPLING, sample_sigmoid
from bitlogic.parametrizations import LightLUT, PolyLUT, WarpLUT, setup_parametrization
from bitlogic.parametrizations.dwn import _EFDLookup, build_efd_coefficients
from bitlogic.parametrizations.linear import linear_logits

FUSED_IN_TRAINING = {
    "light": (FusedKernel.FOLD, FoldBasis.INDICATOR),
    "warp": (FusedKernel.FOLD, FoldBasis.WALSH),
    "linear": (FusedKernel.FOLD, FoldBasis.LINEAR),
    "dwn": (FusedKernel.LOOKUP, FoldBasis.INDICATOR),
    "difflogic": (FusedKernel.FOLD, FoldBasis.INDICATOR),
}
REFERENCE_ONLY_IN_TRAINING = ("polylut", "neurallut")
ALL = (*FUSED_IN_TRAINING, *REFERENCE_ONLY_IN_TRAINING)
_FOLDS = {FoldBasis.INDICATOR: lambda c, x: indicator_fold(c, x),
          FoldBasis.WALSH: lambda c, x: walsh_fold(c, x),
          FoldBasis.LINEAR: lambda c, x: linear_logits(x, c)}


def interpret(spec: FusedSpec, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """What the fused kernels compute for ``spec`` on gathered ``x`` ``(batch, rank, out)``."""
    coeffs = spec.coefficients(weight)
    if spec.kernel is FusedKernel.LOOKUP:
        return _EFDLookup.apply(x, coeffs, spec.efd_coeff, torch.as_tensor(spec.alpha))
    out = _FOLDS[spec.basis](coeffs, x)
    if spec.sampling is None:
        return out
    return sample_sigmoid(out, spec.temperature, spec.sampling,
                          bernoulli_hard=spec.bernoulli_hard)


def _rank(name):
    return 2 if name == "difflogic" else 4


def _setup(name, mode, seed=0, **kwargs):
    torch.manual_seed(seed)
    p = setup_parametrization(name, lut_rank=_rank(name), forward_sampling=mode,
                              temperature=0.6, **kwargs)
    w = p.init_weights(13, None)
    x = torch.rand(17, p.lut_rank, 13)
    return p, w, x


def _value_and_grads(fn, x, w, seed):
    x, w = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    torch.manual_seed(seed)
    out = fn(x, w)
    g = torch.linspace(-1, 1, out.numel()).view_as(out)
    dx, dw = torch.autograd.grad(out, (x, w), g)
    return out.detach(), dx, dw


@pytest.mark.parametrize("mode", VALID_SAMPLING)
@pytest.mark.parametrize("name", list(FUSED_IN_TRAINING))
def test_training_spec_reproduces_the_training_forward(name, mode):
    p, w, x = _setup(name, mode)
    spec = p.fused_spec(training=True)
    assert (spec.kernel, spec.basis) == FUSED_IN_TRAINING[name]
    got = _value_and_grads(lambda x, w: interpret(spec, x, w), x, w, seed=5)
    want = _value_and_grads(lambda x, w: p(x, w, training=True), x, w, seed=5)
    for a, b, what in zip(got, want, ("output", "grad of x", "grad of weight"), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=lambda m, w=what: f"{w}: {m}")


@pytest.mark.parametrize("name", REFERENCE_ONLY_IN_TRAINING)
def test_parametrizations_without_a_fused_training_form_say_so(name):
    p, _, _ = _setup(name, "soft")
    assert p.fused_spec(training=True) is None


@pytest.mark.parametrize("name", ALL)
def test_eval_spec_is_the_lookup_of_get_lut(name):
    p, w, _ = _setup(name, "gumbel_hard")
    spec = p.fused_spec(training=False)
    assert (spec.kernel, spec.basis, spec.sampling) == (FusedKernel.FOLD, FoldBasis.INDICATOR,
                                                        None)
    x = torch.randint(0, 2, (40, p.lut_rank, 13)).float()
    assert torch.equal(interpret(spec, x, w), p(x, w, training=False))
    assert torch.equal(spec.coefficients(w), p.get_lut(w).float())


def test_dwn_spec_carries_its_efd_coefficients_and_alpha():
    p = setup_parametrization("dwn", lut_rank=4, alpha=0.3, efd=False)
    spec = p.fused_spec(training=True)
    assert torch.equal(spec.efd_coeff, build_efd_coefficients(4, efd=False))
    assert float(spec.alpha) == pytest.approx(0.3)


def test_the_spec_is_free_of_side_effects():
    # Deciding whether to fuse must not draw random numbers: the routing draws first.
    p = setup_parametrization("light", lut_rank=4, forward_sampling="gumbel_soft")
    state = torch.get_rng_state()
    p.fused_spec(training=True)
    assert torch.equal(torch.get_rng_state(), state)


class _ChangedTraining(LightLUT):
    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        return super()._forward_train(x, weight, contraction) * 0.5


class _ChangedForward(WarpLUT):
    def forward(self, x, weight, training, contraction="n,bn->bn"):
        return super().forward(x, weight, training, contraction) * 0.5


class _PlainSubclass(PolyLUT):
    pass


def test_subclasses_that_change_the_math_fall_back():
    changed = _ChangedTraining(lut_rank=2)
    assert changed.fused_spec(training=True) is None
    assert changed.fused_spec(training=False) is not None  # get_lut still describes eval
    overridden = _ChangedForward(lut_rank=2)
    assert overridden.fused_spec(training=True) is None
    assert overridden.fused_spec(training=False) is None
    assert _PlainSubclass(lut_rank=2).fused_spec(training=False) is not None


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: FusedSpec("gather", None), "kernel"),
        (lambda: FusedSpec.fold(basis="fourier"), "basis"),
        (lambda: FusedSpec.fold(sampling="sometimes"), "sampling"),
        (lambda: FusedSpec.fold(temperature=0.0), "temperature"),
        (lambda: FusedSpec(FusedKernel.LOOKUP, None), "efd_coeff and alpha"),
        (lambda: FusedSpec(FusedKernel.LOOKUP, None, FoldBasis.WALSH, efd_coeff=torch.zeros(1),
                           alpha=1.0), "no basis or sampling"),
        (lambda: FusedSpec(FusedKernel.FOLD, None, alpha=1.0), "lookup specs only"),
    ],
)
def test_spec_validation(make, match):
    with pytest.raises(ValueError, match=match):
        make()
    with pytest.raises(TypeError, match="callable"):
        FusedSpec.fold(transform=3)
