"""PolyLUT: a sigmoid of a multivariate polynomial of total degree <= D per neuron.

Default degree 2: the smallest degree that models pairwise interactions,
which keeps rank 6 at C(8, 2) = 28 monomials per neuron; the PolyLUT paper
(Andronic & Constantinides, FPL 2023) reports its gains at degrees 2-4 and
higher degrees cost quadratically more parameters for no gain at binary
inputs (where ``x**2 == x``).
"""

from __future__ import annotations

import itertools
from typing import Any

import torch

from ..functional.sampling import sample_sigmoid
from .base import LUTParametrization
from .registry import register_parametrization

_DEFAULT_DEGREE = 2
#: Largest degree: at binary inputs ``x**2 == x``, so degrees above ``lut_rank`` add
#: nothing to the truth table, and the monomial table grows as ``(degree + 1)**lut_rank``.
MAX_DEGREE = 8


def _monomial_exponents(lut_rank: int, degree: int) -> list[tuple[int, ...]]:
    """Exponent tuples with total degree ``<= degree``, by degree then lexicographic."""
    exps = [e for e in itertools.product(range(degree + 1), repeat=lut_rank) if sum(e) <= degree]
    return sorted(exps, key=lambda e: (sum(e), tuple(-v for v in e)))


def poly_logits(x: torch.Tensor, weight: torch.Tensor, exponents: torch.Tensor) -> torch.Tensor:
    """``z = sum_a w_a prod_j x_j**a_j``.

    Args:
        x: ``(batch, rank, neurons)``.
        weight: ``(neurons, num_monomials)``.
        exponents: ``(num_monomials, rank)`` integer exponents.
    """
    max_exp = int(exponents.max()) if exponents.numel() else 0
    # powers[:, j, e] = x_j ** e, built by repeated products (no pow at 0**0).
    powers = [torch.ones_like(x)]
    for _ in range(max_exp):
        powers.append(powers[-1] * x)
    stack = torch.stack(powers, dim=2)  # (batch, rank, max_exp + 1, neurons)
    rank = x.shape[1]
    terms = stack[:, 0, exponents[:, 0]]  # (batch, monomials, neurons)
    for j in range(1, rank):
        terms = terms * stack[:, j, exponents[:, j]]
    return torch.einsum("bmn,nm->bn", terms, weight)


@register_parametrization("polylut")
class PolyLUT(LUTParametrization):
    """Multivariate-monomial LUT parametrization up to total degree ``degree``.

    ``y = sigmoid(sum_a w_a prod_j x_j**a_j / t)``; there are
    ``C(lut_rank + degree, degree)`` monomials (constant included) and the
    weight shape is ``(num_neurons, num_monomials)``. The buffer
    ``exponent_matrix``, int64 ``(num_monomials, lut_rank)``, holds the
    exponents of each monomial; it is rebuilt on construction and not saved.

    Args:
        lut_rank: inputs per neuron (``{2, 4, 6}``).
        degree: maximum total degree, an int in ``[1, 8]`` (:data:`MAX_DEGREE`).
        **kwargs: forwarded to :class:`LUTParametrization`.
    """

    def __init__(self, lut_rank: int, degree: int = _DEFAULT_DEGREE, **kwargs: Any):
        super().__init__(lut_rank, **kwargs)
        if not isinstance(degree, int) or isinstance(degree, bool) or not \
                1 <= degree <= MAX_DEGREE:
            raise ValueError(f"degree must be an integer in [1, {MAX_DEGREE}], got {degree!r}")
        self.degree = int(degree)
        exps = _monomial_exponents(self.lut_rank, self.degree)
        self.num_monomials = len(exps)
        # Rebuilt from (lut_rank, degree) on construction, so it is not saved.
        self.register_buffer("exponent_matrix", torch.tensor(exps, dtype=torch.long),
                             persistent=False)

    # Checkpoints written before the exponents became non-persistent hold them
    # (a float and an int64 copy); they are derived data, checked and dropped.
    _LEGACY_KEYS = ("exponent_matrix", "exponent_matrix_long")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        for name in self._LEGACY_KEYS:
            saved = state_dict.pop(prefix + name, None)
            if saved is not None and not torch.equal(saved.to(torch.long).cpu(),
                                                     self.exponent_matrix.cpu()):
                error_msgs.append(
                    f"{prefix}{name}: the checkpoint's monomial exponents "
                    f"{tuple(saved.shape)} differ from this PolyLUT's (lut_rank="
                    f"{self.lut_rank}, degree={self.degree}); was it saved with another degree?"
                )
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def init_weights(self, num_neurons: int, device=None) -> torch.Tensor:
        logit = self._residual_logit()
        identity = torch.zeros(num_neurons, self.num_monomials, device=device)
        identity[:, 0] = -logit  # constant term
        identity[:, 1] = 2 * logit  # x_0: first degree-1 monomial
        scale = self.num_monomials ** -0.5
        return self._finish_init(
            identity, torch.randn(num_neurons, self.num_monomials, device=device) * scale * 2
        )

    def _forward_train(self, x, weight, contraction="n,bn->bn"):
        z = poly_logits(x, weight, self.exponent_matrix)
        return sample_sigmoid(z, self.temperature, self.forward_sampling)

    def logits_at(self, x, weight):
        return poly_logits(x, weight, self.exponent_matrix)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", degree={self.degree}"
