"""Hostile arguments for every public constructor of the layers, parametrizations,
connections and ternary layers: wrong types, zero, negative, NaN, inf, huge, empty.

Each (constructor, value) case is a clear error naming the argument, or --
for the values listed in ``ACCEPTED`` -- a correct result. Huge sizes must be
refused before anything is allocated (finding 6: ``LogicDense(16, 10**12)``
ran for minutes), float sizes with a ``TypeError`` that names the argument
(finding 10).
"""

from __future__ import annotations

import time

import pytest
import torch
from hostile import HOSTILE_NUMBERS, clear_error

from bitlogic.connections import setup_connections
from bitlogic.layers import (
    BitLinear,
    DistributiveThermometer,
    GroupSum,
    LogicConv2d,
    LogicDense,
    MultiTernaryLinear,
    OrPool2d,
    Thermometer,
)
from bitlogic.parametrizations import list_parametrizations, setup_parametrization

# argument -> (constructor given the value, the name the error must mention)
CONSTRUCTORS = {
    "LogicDense.in_dim": (lambda v: LogicDense(v, 8), "in_dim"),
    "LogicDense.out_dim": (lambda v: LogicDense(16, v), "out_dim"),
    "LogicDense.lut_rank": (lambda v: LogicDense(16, 8, lut_rank=v), "lut_rank"),
    "LogicDense.temperature": (lambda v: LogicDense(16, 8, temperature=v), "temperature"),
    "LogicDense.num_candidates": (
        lambda v: LogicDense(16, 8, connections="learnable", num_candidates=v), "num_candidates"),
    "LogicDense.connection_temperature": (
        lambda v: LogicDense(16, 8, connections="learnable", num_candidates=4,
                             connection_temperature=v), "temperature"),
    "GroupSum.k": (lambda v: GroupSum(v), "k"),
    "GroupSum.tau": (lambda v: GroupSum(2, tau=v), "tau"),
    "Thermometer.num_thresholds": (lambda v: Thermometer(v), "num_thresholds"),
    "Thermometer.high": (lambda v: Thermometer(3, high=v), "high"),
    "Thermometer.low": (lambda v: Thermometer(3, low=v), "low"),
    "DistributiveThermometer.num_thresholds": (lambda v: DistributiveThermometer(v),
                                               "num_thresholds"),
    "LogicConv2d.in_channels": (lambda v: LogicConv2d(v, 4, kernel_size=3), "in_channels"),
    "LogicConv2d.out_channels": (lambda v: LogicConv2d(3, v, kernel_size=3), "out_channels"),
    "LogicConv2d.kernel_size": (lambda v: LogicConv2d(3, 4, kernel_size=v), "kernel_size"),
    "OrPool2d.kernel_size": (lambda v: OrPool2d(v), "kernel_size"),
    "BitLinear.in_features": (lambda v: BitLinear(v, 4), "in_features"),
    "BitLinear.out_features": (lambda v: BitLinear(4, v), "out_features"),
    "MultiTernaryLinear.in_features": (lambda v: MultiTernaryLinear(v, 4), "in_features"),
    "DwnLUT.alpha": (lambda v: setup_parametrization("dwn", lut_rank=6, alpha=v), "alpha"),
    "PolyLUT.degree": (lambda v: setup_parametrization("polylut", lut_rank=4, degree=v),
                       "degree"),
    "LightLUT.residual_probability": (
        lambda v: setup_parametrization("light", lut_rank=2, residual_probability=v),
        "residual_probability"),
    "setup_connections.in_dim": (lambda v: setup_connections("fixed", v, 8, 2), "in_dim"),
}
# (argument, value) pairs that are valid: a correct result, checked below.
ACCEPTED = {
    ("LogicDense.temperature", "huge"), ("LogicDense.temperature", "float"),
    ("LogicDense.connection_temperature", "huge"), ("LogicDense.connection_temperature", "float"),
    ("GroupSum.k", "huge"),  # only a divisor; the forward checks the width
    ("GroupSum.tau", "huge"), ("GroupSum.tau", "float"),
    ("Thermometer.high", "huge"), ("Thermometer.high", "float"),
    ("Thermometer.low", "zero"), ("Thermometer.low", "negative"),
    ("OrPool2d.kernel_size", "huge"),  # a window; the forward checks the image size
    ("DwnLUT.alpha", "huge"), ("DwnLUT.alpha", "float"),
    ("DwnLUT.alpha", "none"),  # None is the documented default
}
CASES = [(arg, name) for arg in CONSTRUCTORS for name in HOSTILE_NUMBERS]


def _id(case):
    arg, name = case
    return f"{'ok' if case in ACCEPTED else 'error'}-{arg}={name}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_constructor_argument(case):
    arg, name = case
    build, mentions = CONSTRUCTORS[arg]
    value = HOSTILE_NUMBERS[name]
    started = time.perf_counter()
    if case in ACCEPTED:
        module = build(value)
        assert isinstance(module, torch.nn.Module)
    else:
        clear_error(lambda: build(value), (ValueError, TypeError), rf"\b{mentions}\b")
    # Huge sizes are refused (or accepted) before anything big is allocated.
    assert time.perf_counter() - started < 10.0, f"{arg}={name} took too long"


def test_accepted_values_are_kept_exactly():
    assert GroupSum(2, tau=1e12).tau == 1e12
    assert Thermometer(3, low=-3.0, high=16.0).thresholds.tolist() == [1.75, 6.5, 11.25]
    assert float(setup_parametrization("dwn", lut_rank=6, alpha=16.0).alpha) == 16.0


@pytest.mark.parametrize("name", list_parametrizations(), ids=lambda n: f"error-{n}-bad-rank")
def test_every_parametrization_names_a_bad_rank(name):
    clear_error(lambda: setup_parametrization(name, lut_rank=3), ValueError, "lut_rank",
                r"\(2, 4, 6\)|supports lut_rank == 2")


@pytest.mark.parametrize("kind", ["nope", "", None, 3], ids=lambda k: f"error-kind={k!r}")
def test_unknown_family_names_list_the_valid_ones(kind):
    # KeyError for unknown names is the documented contract of setup_parametrization.
    clear_error(lambda: setup_parametrization(kind, lut_rank=2), KeyError, r"light")
    clear_error(lambda: LogicDense(16, 8, connections=kind), (ValueError, TypeError),
                r"fixed|learnable")
