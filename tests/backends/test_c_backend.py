"""emit_c: the generated C, compiled with -Wall -Werror, equals the reference."""

from __future__ import annotations

import numpy as np
import pytest
from differential import (
    TIE_INPUTS,
    TIE_PREDICTIONS,
    assert_backends_agree,
    random_inputs,
    random_netlist,
    run_c,
    sweep_netlist,
    tie_netlist,
)

from bitlogic.backends import emit_c
from bitlogic.backends.c import c_float_literal

CASES = {
    "one-layer-rank2": dict(widths=[12], ranks=[2], num_classes=4),
    "one-layer-rank6-one-class": dict(widths=[5], ranks=[6], num_classes=1),
    "mixed-ranks": dict(widths=[40, 30, 20, 10], ranks=[1, 3, 5, 4], num_classes=5),
    "rank6-encoded": dict(widths=[50, 24], ranks=[6, 2], num_classes=3, encoding=(9, 4)),
    "wide-input": dict(widths=[70], ranks=[4], num_classes=10, num_inputs=300),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_c_matches_reference(cc, tmp_path, case):
    netlist = random_netlist(len(case), **CASES[case])
    x = random_inputs(netlist, 65, seed=1)
    assert_backends_agree(netlist, x, seed=f"{len(case)} ({case})", cc=cc, work=tmp_path)


def test_c_ties_go_to_the_lower_class(cc, tmp_path):
    _, pred, _ = run_c(cc, tie_netlist(), TIE_INPUTS, tmp_path)
    np.testing.assert_array_equal(pred, TIE_PREDICTIONS)


def test_header_documents_the_interface(tmp_path):
    netlist = random_netlist(0, [8], [2], num_classes=2, encoding=(3, 2), tau=0.3)
    source, header = emit_c(netlist, tmp_path)
    text = header.read_text()
    assert "#define BITLOGIC_NET_NUM_INPUTS 6" in text
    assert "bitlogic_net_eval(const float *features" in text
    assert f"#define BITLOGIC_NET_TAU {c_float_literal(0.3)}" in text
    plain = random_netlist(0, [8], [2], num_classes=2)
    assert "bitlogic_net_eval(" not in emit_c(plain, tmp_path / "p")[1].read_text()


def test_float_literals_are_exact():
    for value in (0.3, 1.0, 1e-7, 3.4e38, 0.0, -2.5):
        literal = c_float_literal(value)
        assert literal.endswith("f")
        assert np.float32(float.fromhex(literal[:-1])) == np.float32(value)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_c_random_sweep(cc, tmp_path, seed):
    netlist = sweep_netlist(seed, max_width=200, max_group=20, max_inputs=400,
                            max_encoding=(30, 8))
    assert_backends_agree(netlist, random_inputs(netlist, 1000, seed), seed=seed, cc=cc,
                          work=tmp_path)
