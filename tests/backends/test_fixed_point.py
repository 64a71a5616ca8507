"""On-chip encoding math: fixed-point formats and the integer comparisons, checked exhaustively."""

from __future__ import annotations

import numpy as np
import pytest
from differential import random_netlist

from bitlogic.backends import fixed_point
from bitlogic.backends.fixed_point import (
    AT_LEAST,
    AT_MOST,
    CONST0,
    CONST1,
    FixedPoint,
    fixed_point_thresholds,
)
from bitlogic.netlist import InputEncoding, LogicNetlist, NetlistLayer
from bitlogic.netlist.reference import encode_inputs
from bitlogic.netlist.scaling import InputScaling

FORMATS = [FixedPoint(8, 5), FixedPoint(6, 2, signed=False), FixedPoint(10, 0),
           FixedPoint(4, 9)]


def _every_value(fmt: FixedPoint, features: int) -> np.ndarray:
    """int64 ``(2**width, features)``: every integer of the format in every feature."""
    return np.repeat(np.arange(fmt.min_int, fmt.max_int + 1)[:, None], features, axis=1)


@pytest.mark.parametrize("fmt", FORMATS, ids=FixedPoint.describe)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_comparisons_equal_the_netlist_on_every_value(fmt, seed):
    netlist = random_netlist(seed, [6], [2], num_classes=2, encoding=(7, 4))
    rule = fixed_point_thresholds(netlist, fmt)
    q = _every_value(fmt, 7)
    expected = encode_inputs(netlist, fmt.dequantize(q))
    np.testing.assert_array_equal(rule.apply(q), expected, err_msg=f"seed {seed}, {fmt}")


def _one_feature_netlist(thresholds: list[float]) -> LogicNetlist:
    enc = InputEncoding(np.array([thresholds], dtype=np.float32))
    indices = np.zeros((1, 1), dtype=np.int32)
    layer = NetlistLayer(indices, np.array([[0, 1]], dtype=np.uint8))
    return LogicNetlist(len(thresholds), [layer], num_classes=1, tau=1.0, encoding=enc)


def test_bounds_and_thresholds_outside_the_range():
    # signed 8-bit with 4 fraction bits covers [-8, 7.9375]
    netlist = _one_feature_netlist([-100.0, -8.0, 0.3, 7.9375, 50.0])
    rule = fixed_point_thresholds(netlist, FixedPoint(8, 4))
    assert rule.op.tolist() == [CONST1, AT_LEAST, AT_LEAST, CONST0, CONST0]
    # x > -8 is q >= -127; x > 0.3 is q > 4.8, so q >= 5; x > 7.9375 never holds
    assert rule.bound.tolist()[1:3] == [-127, 5]


def test_a_falling_input_path_gives_at_most(monkeypatch):
    """Bits that fall as the feature rises (a negative input scaling) compare with <=."""
    netlist = _one_feature_netlist([-1.0, 0.5])

    def negated(net, x):
        return encode_inputs(net, -np.asarray(x))

    monkeypatch.setattr(fixed_point, "encode_inputs", negated)
    fmt = FixedPoint(6, 3)
    rule = fixed_point_thresholds(netlist, fmt)
    assert rule.op.tolist() == [AT_MOST, AT_MOST]
    q = _every_value(fmt, 1)
    np.testing.assert_array_equal(rule.apply(q), negated(netlist, fmt.dequantize(q)))


def test_a_path_that_is_not_monotone_is_refused(monkeypatch):
    netlist = _one_feature_netlist([0.0])
    monkeypatch.setattr(fixed_point, "encode_inputs",
                        lambda net, x: (np.abs(np.asarray(x)) > 0.5).astype(bool))
    with pytest.raises(ValueError, match="not monotone in feature 0"):
        fixed_point_thresholds(netlist, FixedPoint(6, 3))


def test_quantize_rounds_and_refuses_what_does_not_fit():
    fmt = FixedPoint(8, 2)
    np.testing.assert_array_equal(fmt.quantize(np.array([[0.125, 0.375, -32.0, 31.75]])),
                                  [[0, 2, -128, 127]])  # half to even
    with pytest.raises(ValueError, match=r"32\.0.*\[0, 1\].*-128\.\.127"):
        fmt.quantize(np.array([[1.0, 32.0]]))
    with pytest.raises(ValueError, match="nan"):
        fmt.quantize(np.array([[np.nan]]))
    assert fmt.literal(-1) == "8'shff" and FixedPoint(5, 0, signed=False).literal(3) == "5'h3"


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(width=1, frac_bits=0), r"feature_width must be an int in \[2, 24\]"),
    (dict(width=25, frac_bits=0), "feature_width"),
    (dict(width=0, frac_bits=0, signed=False), r"\[1, 24\]"),
    (dict(width=8, frac_bits=-1), "feature_frac_bits"),
    (dict(width=8.0, frac_bits=2), "feature_width"),
])
def test_format_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FixedPoint(**kwargs)


def test_a_netlist_without_encoding_has_nothing_to_encode():
    netlist = random_netlist(0, [4], [2], num_classes=2)
    with pytest.raises(ValueError, match="needs a netlist with an input encoding"):
        fixed_point_thresholds(netlist, FixedPoint(8, 4))


@pytest.mark.parametrize("scaling", ["divide", "minmax-clipped"])
def test_a_stored_input_scaling_is_folded_into_the_bounds(scaling):
    """Netlists that store their scaling take raw features: the bounds are raw integers."""
    netlist = random_netlist(4, [6], [2], num_classes=2, encoding=(5, 3))
    thr = netlist.encoding.thresholds
    netlist.encoding.thresholds = ((thr - thr.min()) / (thr.max() - thr.min())).astype(np.float32)
    if scaling == "divide":
        netlist.encoding.scaling = InputScaling.divide(5, 16.0)  # digits' pixel / 16
    else:
        offset, span = np.linspace(-3.0, 5.0, 5), np.linspace(10.0, 40.0, 5)
        netlist.encoding.scaling = InputScaling(offset, 1.0 / span, clip=True, kind="minmax")
    fmt = FixedPoint(7, 1)
    rule = fixed_point_thresholds(netlist, fmt)
    q = _every_value(fmt, 5)
    np.testing.assert_array_equal(rule.apply(q), encode_inputs(netlist, fmt.dequantize(q)))
    assert (rule.op == AT_LEAST).sum() >= 5, rule.op  # real comparisons, not constants
