"""On-chip input encoding: fixed-point features compared in RTL, bit-exact in simulation."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from differential import assert_passed, random_netlist, simulate

from bitlogic.backends import emit_verilog, synth_report
from bitlogic.backends.fixed_point import FixedPoint, fixed_point_thresholds
from bitlogic.backends.verilog_testbench import input_words, random_inputs
from bitlogic.netlist.reference import encode_inputs
from bitlogic.netlist.scaling import InputScaling
from tests.conftest import require_path

SIMLIB = "/usr/share/yosys/simlib.v"
FORMATS = {"s8.5": (8, 5, True), "u6.2": (6, 2, False), "s16.12": (16, 12, True)}
EXTRA_FORMATS = {"u8.0": (8, 0, False)}


def _netlist(seed: int):
    return random_netlist(seed, [40, 18], [6, 3], num_classes=3, encoding=(9, 4))


def _onchip(fmt: str) -> dict:
    width, frac, signed = {**FORMATS, **EXTRA_FORMATS}[fmt]
    return dict(encoder="onchip", feature_width=width, feature_frac_bits=frac,
                feature_signed=signed)


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_icarus_is_bit_exact_with_the_quantized_thresholds(iverilog, tmp_path, fmt, pipeline):
    seed = 11 + len(fmt)
    netlist = _netlist(seed)
    emit_verilog(netlist, tmp_path, pipeline=pipeline, num_test_vectors=150, seed=seed,
                 **_onchip(fmt))
    assert "input  wire [" in (tmp_path / "bitlogic_net.v").read_text()
    assert_passed(simulate(iverilog, tmp_path))


@pytest.mark.parametrize("encoder", ["offchip", "onchip"])
def test_a_netlist_that_stores_its_scaling_takes_raw_features(iverilog, tmp_path, encoder):
    netlist = _netlist(8)
    thr = netlist.encoding.thresholds
    netlist.encoding.thresholds = ((thr - thr.min()) / np.ptp(thr)).astype(np.float32)
    netlist.encoding.scaling = InputScaling.divide(9, 255.0)  # raw 8-bit pixels
    onchip = encoder == "onchip"
    emit_verilog(netlist, tmp_path, num_test_vectors=100, seed=8,
                 **(_onchip("u8.0") if onchip else {}))
    fmt = FixedPoint(8, 0, signed=False) if onchip else None
    vectors = random_inputs(netlist, 100, seed=8, fixed_point=fmt)
    assert vectors.max() > 100  # raw pixel values, not the scaled [0, 1]
    assert_passed(simulate(iverilog, tmp_path))


def test_the_vectors_hold_integers_and_the_bits_of_the_quantized_thresholds():
    netlist, fmt = _netlist(3), FixedPoint(8, 5)
    x = random_inputs(netlist, 200, seed=3, fixed_point=fmt)
    q = fmt.quantize(x)
    words, bits = input_words(netlist, x, fmt)
    np.testing.assert_array_equal(bits, fixed_point_thresholds(netlist, fmt).apply(q))
    np.testing.assert_array_equal(bits, encode_inputs(netlist, x))  # x is exact in the format
    for word, row in zip(words, q, strict=True):  # feature f in bits [f*8 +: 8]
        fields = [(word >> (8 * f)) & 0xFF for f in range(len(row))]
        assert fields == [int(v) & 0xFF for v in row]
    edges = np.isin(q, fixed_point_thresholds(netlist, fmt).bound)
    assert edges.mean() > 0.1, "half the random vectors sit on a comparison bound"


def test_test_inputs_outside_the_format_are_refused(tmp_path):
    netlist = _netlist(1)
    x = np.full((2, 9), 100.0, dtype=np.float32)
    with pytest.raises(ValueError, match="does not fit the signed 8-bit, 5 fraction bits"):
        emit_verilog(netlist, tmp_path, test_inputs=x, **_onchip("s8.5"))


def test_a_netlist_without_encoding_cannot_encode_on_chip(tmp_path):
    netlist = random_netlist(0, [6], [2], num_classes=2)
    with pytest.raises(ValueError, match="needs a netlist with an input encoding"):
        emit_verilog(netlist, tmp_path, **_onchip("s8.5"))


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
def test_verilator_lint_is_clean(verilator, tmp_path, pipeline):
    emit_verilog(_netlist(5), tmp_path, pipeline=pipeline, **_onchip("u6.2"))
    proc = subprocess.run([verilator, "--lint-only", "-Wall", "bitlogic_net.v"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def test_cell_flavour_simulates_with_yosys_simlib(iverilog, tmp_path):
    simlib = require_path(__import__("pathlib").Path(SIMLIB), "yosys's simlib.v")
    emit_verilog(_netlist(7), tmp_path, pipeline=True, **_onchip("s8.5"))
    assert_passed(simulate(iverilog, tmp_path, "yosys/bitlogic_net_cells.v", [str(simlib)]))


def test_onchip_encoding_costs_luts(yosys, tmp_path):
    """The comparators are logic of their own: more LUTs than the off-chip design."""
    netlist = _netlist(9)
    emit_verilog(netlist, tmp_path / "off")
    emit_verilog(netlist, tmp_path / "on", **_onchip("s8.5"))
    off, on = synth_report(tmp_path / "off"), synth_report(tmp_path / "on")
    print(f"LUT6: off-chip {off['luts']}, on-chip {on['luts']}")
    assert on["luts"] > off["luts"]
