"""Degenerate values: eval mode's binary-input contract, NaN/inf in fit data and scalars,
absurd sizes that used to hang.

Findings covered: 6 (``LogicDense(16, 10**12)``, ``PolyLUT(degree=100)`` hung),
7 (eval mode accepted non-binary input), 10 (NaN in fit data, ``tau``/``high``/
``alpha`` = inf, float sizes).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from hostile import clear_error
from hypothesis import given, settings
from hypothesis import strategies as st

from bitlogic.backends import PackedLogicNet
from bitlogic.layers import DistributiveThermometer, GroupSum, LogicDense, Thermometer, to_netlist
from bitlogic.parametrizations import setup_parametrization

BINARY_MESSAGE = r"x must be binary \(0/1\)"
FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def _tiny_net(seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(LogicDense(16, 12, lut_rank=2), GroupSum(2, tau=1.0)).eval()


@pytest.mark.parametrize("value", [5.0, 0.5, -1.0, float("nan"), float("inf"), 2.0],
                         ids=lambda v: f"error-eval-input={v}")
def test_eval_mode_refuses_non_binary_input_like_the_packed_engine(value):
    net = _tiny_net()
    x = torch.zeros(3, 16)
    x[1, 7] = value
    err = clear_error(lambda: net(x), ValueError, BINARY_MESSAGE, r"\[1, 7\]")
    packed = PackedLogicNet(to_netlist(net))
    clear_error(lambda: packed.predict(x.numpy()), ValueError, BINARY_MESSAGE)
    assert "Thermometer" in str(err)  # says how to get bits


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bool],
                         ids=lambda d: f"ok-eval-binary-{d}")
def test_eval_mode_on_bits_equals_the_packed_engine(dtype):
    net = _tiny_net(1)
    x = (torch.rand(40, 16, generator=torch.Generator().manual_seed(3)) > 0.5)
    scores = net(x.to(dtype) if dtype != torch.bool else x.float())
    packed = PackedLogicNet(to_netlist(net)).predict(x.numpy())
    assert np.array_equal(scores.argmax(1).numpy(), packed)


def test_train_mode_still_takes_real_values():
    net = _tiny_net().train()
    assert torch.isfinite(net(torch.rand(4, 16))).all()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from([0.0, 1.0, 0.5, -2.0, 3.0, float("nan")]), min_size=16,
                max_size=16))
def test_eval_mode_input_contract_holds_for_any_row(row):
    net = _tiny_net()
    x = torch.tensor([row])
    if all(v in (0.0, 1.0) for v in row):
        assert net(x).shape == (1, 2)
    else:
        clear_error(lambda: net(x), ValueError, BINARY_MESSAGE)


@pytest.mark.parametrize("build, name", [
    (lambda: LogicDense(16, 10**12), "out_dim"),
    (lambda: LogicDense(10**12, 16), "in_dim"),
    (lambda: setup_parametrization("polylut", lut_rank=6, degree=100), "degree"),
    (lambda: Thermometer(10**9), "num_thresholds"),
], ids=["error-dense-10**12-neurons", "error-dense-10**12-inputs", "error-polylut-degree-100",
        "error-thermometer-10**9-thresholds"])
def test_absurd_sizes_are_refused_at_once(build, name):
    started = time.perf_counter()
    clear_error(build, ValueError, name, r"\[1, \d+\]")
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")],
                         ids=lambda v: f"error-fit-data-{v}")
@pytest.mark.parametrize("shape", [(50, 4), (20, 2, 3, 3)], ids=["table", "image"])
def test_one_non_finite_value_in_fit_data_is_refused(bad, shape):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    x.view(-1)[5] = bad
    clear_error(lambda: DistributiveThermometer(3).fit(x), ValueError, "finite", str(bad))


def test_fit_on_finite_data_gives_finite_thresholds():
    x = torch.rand(50, 4, generator=torch.Generator().manual_seed(0))
    t = DistributiveThermometer(3).fit(x).thresholds
    assert torch.isfinite(t).all() and t.shape == (4, 3)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False))
def test_groupsum_tau_is_finite_positive_or_refused(tau):
    if math.isfinite(tau) and tau > 0:
        assert GroupSum(2, tau=tau).tau == tau
    else:
        clear_error(lambda: GroupSum(2, tau=tau), ValueError, "tau", "finite number > 0")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False),
       st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False))
def test_thermometer_range_is_finite_and_ordered_or_refused(low, high):
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        clear_error(lambda: Thermometer(3, low=low, high=high), ValueError, "low|high")
    elif max(abs(low), abs(high)) < 1e38:
        t = Thermometer(3, low=low, high=high).thresholds
        assert t.shape == (3,) and torch.isfinite(t).all()
    else:  # near float32's limit: finite thresholds, or refused naming float32
        try:
            assert torch.isfinite(Thermometer(3, low=low, high=high).thresholds).all()
        except ValueError as err:
            assert "float32" in str(err)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False))
def test_dwn_alpha_is_finite_positive_or_refused(alpha):
    if math.isfinite(alpha) and 0 < alpha <= FLOAT32_MAX:  # kept as a float32 buffer
        assert float(setup_parametrization("dwn", lut_rank=2, alpha=alpha).alpha) == \
            pytest.approx(alpha)
    else:
        clear_error(lambda: setup_parametrization("dwn", lut_rank=2, alpha=alpha), ValueError,
                    "alpha", "finite number > 0")
