"""emit_c: the generated C (per-sample and batch paths, vector and scalar builds), compiled
with -Wall -Wextra -pedantic -Werror, equals the reference; design names."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from differential import (
    C_BUILDS,
    CFLAGS,
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
from bitlogic.netlist import InputScaling, evaluate_netlist

CASES = {
    "one-layer-rank2": dict(widths=[12], ranks=[2], num_classes=4),
    "one-layer-rank6-one-class": dict(widths=[5], ranks=[6], num_classes=1),
    "mixed-ranks": dict(widths=[40, 30, 20, 10], ranks=[1, 3, 5, 4], num_classes=5),
    "rank6-encoded": dict(widths=[50, 24], ranks=[6, 2], num_classes=3, encoding=(9, 4)),
    "wide-input": dict(widths=[70], ranks=[4], num_classes=10, num_inputs=300),
    # groups of 16+ take the carry-save tree; 12 classes of 37 need two count transposes
    "many-classes": dict(widths=[60, 444], ranks=[3, 2], num_classes=12, num_inputs=100),
    "one-wide-group": dict(widths=[300], ranks=[2], num_classes=1, num_inputs=130),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_c_matches_reference(cc, tmp_path, case):
    netlist = random_netlist(len(case), **CASES[case])
    x = random_inputs(netlist, 65, seed=1)
    assert_backends_agree(netlist, x, seed=f"{len(case)} ({case})", cc=cc, work=tmp_path,
                          c_builds=tuple(C_BUILDS))


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
    assert (c_float_literal(np.inf), c_float_literal(-np.inf)) == ("INFINITY", "-INFINITY")


# Two designs in one program: each name prefixes its own symbols and macros.
_TWO_NETS_MAIN = """
#include <stdio.h>
#include "jet_tagger.h"
#include "muon_id.h"
int main(void)
{
    uint8_t a[JET_TAGGER_NUM_INPUTS] = {1}, b[MUON_ID_NUM_INPUTS] = {1};
    uint32_t ca[JET_TAGGER_NUM_CLASSES], cb[MUON_ID_NUM_CLASSES];
    if (jet_tagger_eval_batch(a, 1, ca) != 0 || muon_id_eval_batch(b, 1, cb) != 0)
        return 1;
    printf("%u %u %d %d\\n", (unsigned)ca[0], (unsigned)cb[0], jet_tagger_predict_bits(a),
           muon_id_predict_bits(b));
    return 0;
}
"""


def test_named_designs_link_into_one_program(cc, tmp_path):
    nets = {"jet_tagger": random_netlist(3, [12, 6], [2, 4], num_classes=2),
            "muon_id": random_netlist(4, [9], [6], num_classes=3)}
    sources = []
    for name, net in nets.items():
        source, header = emit_c(net, tmp_path, name=name)
        assert (source.name, header.name) == (f"{name}.c", f"{name}.h")
        assert f"int {name}_eval_batch(const uint8_t *bits, size_t n, uint32_t *counts)" in \
            header.read_text()
        sources.append(str(source))
    (tmp_path / "main.c").write_text(_TWO_NETS_MAIN)
    subprocess.run([cc, *CFLAGS, "-I", str(tmp_path), str(tmp_path / "main.c"), *sources,
                    "-o", str(tmp_path / "both")], check=True, capture_output=True, text=True)
    printed = subprocess.run([str(tmp_path / "both")], check=True, capture_output=True,
                             text=True).stdout.split()
    x = {name: np.zeros((1, net.num_inputs), bool) for name, net in nets.items()}
    for name in x:
        x[name][0, 0] = True
    expected = [evaluate_netlist(net, x[name])[1] for name, net in nets.items()]
    assert printed == [str(expected[0][0, 0]), str(expected[1][0, 0]),
                       str(int(np.argmax(expected[0][0]))), str(int(np.argmax(expected[1][0])))]


@pytest.mark.parametrize("name", ["", "1net", "my-net", "int", "_private", "néт", 3])
def test_design_name_must_be_an_identifier(tmp_path, name):
    netlist = random_netlist(0, [4], [2], num_classes=2)
    with pytest.raises((TypeError, ValueError), match="name"):
        emit_c(netlist, tmp_path, name=name)
    assert not list(tmp_path.iterdir())


def test_header_says_whether_features_are_raw(tmp_path):
    netlist = random_netlist(0, [8], [2], num_classes=2, encoding=(3, 2))
    assert "Scaled features" in emit_c(netlist, tmp_path / "scaled")[1].read_text()
    netlist.encoding.scaling = InputScaling.divide(3, 255.0)
    assert "Raw features" in emit_c(netlist, tmp_path / "raw")[1].read_text()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_c_random_sweep(cc, tmp_path, seed):
    netlist = sweep_netlist(seed, max_width=200, max_group=20, max_inputs=400,
                            max_encoding=(30, 8))
    assert_backends_agree(netlist, random_inputs(netlist, 1000, seed), seed=seed, cc=cc,
                          work=tmp_path)
