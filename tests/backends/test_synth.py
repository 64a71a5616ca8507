"""Synthesis reports: the part design simulates equal to the reference, yosys counts by part."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from differential import random_inputs, random_netlist

from bitlogic.backends import synth_report
from bitlogic.backends.synth import (
    FPGA_EXTRA,
    find_nextpnr_ecp5,
    find_yosys,
    parse_ltp_modules,
    parse_stat,
    parse_stat_modules,
    render_part_design,
)
from bitlogic.backends.synth import tools as synth_tools
from bitlogic.backends.synth.design import latency_cycles
from bitlogic.backends.synth.ecp5 import ecp5_report, parse_pnr_report, pick_device
from bitlogic.netlist import LogicNetlist
from bitlogic.netlist.reference import encode_inputs, evaluate_netlist, predict_from_counts

SIMLIB = Path("/usr/share/yosys/simlib.v")

_TB = """`timescale 1ns/1ps
module tb;
    reg clk = 0;
    reg [{n}:0] x;
    wire [{s}:0] scores;
    wire [{p}:0] pred;
    reg [{n}:0] mem [0:{v}];
    integer i;
    bl_top dut ({clk}.x(x), .scores(scores), .pred(pred));
    initial begin
        $readmemh("vectors.hex", mem);
        for (i = 0; i < {v} + 1 + {lat}; i = i + 1) begin
            x = mem[i <= {v} ? i : 0];
            #1 clk = 1; #1 clk = 0; #1;
            if (i >= {lat}) $display("%0d %h %h", i - {lat}, scores, pred);
        end
        $finish;
    end
endmodule
"""


def _simulate_parts(iverilog: str, netlist: LogicNetlist, x: np.ndarray, registers: str,
                    work: Path) -> tuple[np.ndarray, np.ndarray]:
    """Icarus run of the part design (``$lut`` cells from yosys's simlib): counts, pred."""
    bits = encode_inputs(netlist, x)
    (work / "parts.v").write_text(render_part_design(netlist, registers))
    digits = (netlist.num_inputs + 3) // 4
    rows = [f"{sum(int(b) << i for i, b in enumerate(row)):0{digits}x}" for row in bits]
    (work / "vectors.hex").write_text("\n".join(rows) + "\n")
    k, sw = netlist.num_classes, netlist.group_size.bit_length()
    pw = max(1, (k - 1).bit_length())
    lat = latency_cycles(netlist, registers)
    (work / "tb.v").write_text(_TB.format(n=netlist.num_inputs - 1, s=k * sw - 1, p=pw - 1,
                                          v=len(bits) - 1, lat=lat,
                                          clk="" if registers == "none" else ".clk(clk), "))
    subprocess.run([iverilog, "-g2012", "-o", "sim", "tb.v", "parts.v", str(SIMLIB)], cwd=work,
                   check=True, capture_output=True, text=True)
    out = subprocess.run(["vvp", "-n", "sim"], cwd=work, check=True, capture_output=True,
                         text=True).stdout.split("\n")
    rows = [line.split() for line in out if line[:1].isdigit()]
    assert [int(r[0]) for r in rows] == list(range(len(bits)))
    packed = [int(r[1], 16) for r in rows]
    counts = np.array([[(v >> (c * sw)) & ((1 << sw) - 1) for c in range(k)] for v in packed])
    return counts, np.array([int(r[2], 16) for r in rows])


@pytest.mark.parametrize("registers", ["none", "io", "pipeline"])
@pytest.mark.parametrize("seed", [0, 1])
def test_part_design_simulates_equal_to_the_reference(iverilog, tmp_path, registers, seed):
    if not SIMLIB.exists():
        pytest.skip(f"{SIMLIB} not found (comes with yosys)")
    netlist = random_netlist(seed, [24, 30, 3 * 7], [6, 2, 4], num_classes=3, num_inputs=20,
                             encoding=(5, 3) if seed else None)
    netlist = netlist.simplify()[0]
    x = random_inputs(netlist, 40, seed=seed)
    counts, pred = _simulate_parts(iverilog, netlist, x, registers, tmp_path)
    expected = evaluate_netlist(netlist, x)[1]
    np.testing.assert_array_equal(counts, expected, err_msg=f"seed {seed} {registers}")
    np.testing.assert_array_equal(pred, predict_from_counts(expected), err_msg=f"seed {seed}")


def test_lut6_report_is_broken_down_by_part(yosys):
    netlist = random_netlist(4, [60, 40], [6, 6], num_classes=4, num_inputs=60)
    report = synth_report(netlist)
    parts = report["parts"]
    assert report["luts"] == sum(parts[p]["luts"] for p in ("layers", "groupsum", "argmax"))
    assert [row["layer"] for row in parts["layers"]["per_layer"]] == [0, 1]
    assert parts["layers"]["depth"] == 2 and parts["groupsum"]["luts"] > 0
    assert report["neurons"] == report["simplify"]["luts_after"] <= 100
    assert report["luts_per_neuron"] <= 1.1  # a rank-6 LUT is one LUT6
    assert report["depth"] >= parts["layers"]["depth"] + parts["argmax"]["depth"]
    plain = synth_report(netlist, simplify=False)
    assert plain["simplify"] is None and plain["neurons"] == netlist.num_gates


def test_whole_net_flow_maps_across_layers_and_reports_totals_only(yosys):
    # Two rank-2 layers: the whole-net flow can merge a LUT with the two it
    # reads into one LUT4, which the per-part flow never does.
    netlist = random_netlist(5, [40, 20], [2, 2], num_classes=2, num_inputs=30)
    parts = synth_report(netlist, "lut6")
    whole = synth_report(netlist, "lut6-whole")
    assert whole["target"] == "lut6-whole" and whole["parts"] is None
    assert whole["luts_per_neuron"] is None and whole["groupsum_luts_per_bit"] is None
    assert 0 < whole["luts"] < parts["luts"]
    assert whole["depth"] < parts["depth"]


def test_flows_other_than_ecp5_take_no_place_and_route_arguments():
    with pytest.raises(ValueError, match="takes no place-and-route arguments"):
        synth_report(random_netlist(0, [4], [2], 2), device="25k")


STAT_0_23 = """
=== bl_layer0 ===

   Number of wires:                  2
   Number of cells:                  3
     $lut                            3

=== bl_top ===

   Number of cells:                  2
     $_DFF_P_                        1
     bl_layer0                       1
"""

STAT_0_70 = """
=== bl_top ===

        +----------Local Count, excluding submodules.
        |
        4 wires
        1 cells
        1   $_DFF_P_
        1 submodules
        1   bl_layer0

=== bl_layer0 ===

        +----------Local Count, excluding submodules.
        |
        2 wires
        3 cells
        3   $lut
"""


@pytest.mark.parametrize("text", [STAT_0_23, STAT_0_70], ids=["yosys-0.23", "yosys-0.70"])
def test_stat_of_both_yosys_versions(text):
    modules = parse_stat_modules(text)
    assert modules == {"bl_layer0": {"$lut": 3}, "bl_top": {"$_DFF_P_": 1}}
    assert parse_stat(text) == list(modules.values())[-1]


def test_ltp_of_every_module():
    text = ("Longest topological path in bl_layer0 (length=1):\n    0: \\x [3]\n"
            "Longest topological path in bl_groupsum (length=5):\n")
    assert parse_ltp_modules(text) == {"bl_layer0": 1, "bl_groupsum": 5}


def test_missing_tools_name_the_extra(monkeypatch):
    monkeypatch.setattr(synth_tools, "_command", lambda name: None)
    with pytest.raises(RuntimeError, match=r"pip install 'bitlogic\[fpga\]'"):
        find_nextpnr_ecp5()
    with pytest.raises(RuntimeError, match=r"pip install 'bitlogic\[fpga\]'"):
        find_yosys("yowasp")
    with pytest.raises(RuntimeError, match=r"pip install 'bitlogic\[fpga\]'"):
        ecp5_report(random_netlist(0, [4], [2], 2))
    assert "bitlogic[fpga]" in FPGA_EXTRA
    with pytest.raises(ValueError, match="tool must be one of"):
        find_yosys("vivado")


def test_device_choice_and_pnr_report():
    assert pick_device(100) == "12k" and pick_device(20000) == "25k"
    assert pick_device(70000) == "85k"
    with pytest.raises(ValueError, match="more than 85% of the largest ECP5"):
        pick_device(80000)
    text = json.dumps({"fmax": {"$glbnet$clk": {"achieved": 211.5, "constraint": 250.0}},
                       "utilization": {"TRELLIS_COMB": {"used": 9, "available": 24288},
                                       "DCCA": {"used": 0, "available": 56}}})
    assert parse_pnr_report(text) == {"fmax_mhz": 211.5, "utilization": {"TRELLIS_COMB": 9}}


def test_ecp5_rejects_unknown_router_and_cli_keeps_it_to_ecp5(tmp_path, capsys):
    from bitlogic.cli import EXIT_USAGE, main

    net = random_netlist(0, [4], [2], 2)
    with pytest.raises(ValueError, match=r"router must be one of \('router1', 'router2'\)"):
        ecp5_report(net, router="router3")
    path = net.save(tmp_path / "net.safetensors")
    assert main(["synth-report", str(path), "--router", "router1"]) == EXIT_USAGE
    assert "--work-dir are for --flow ecp5" in capsys.readouterr().err
    assert main(["synth-report", str(path), "--work-dir", str(tmp_path / "logs")]) == EXIT_USAGE
    assert "--work-dir are for --flow ecp5" in capsys.readouterr().err
    assert not (tmp_path / "logs").exists()


def test_part_design_rejects_unknown_registers():
    with pytest.raises(ValueError, match="registers must be one of"):
        render_part_design(random_netlist(0, [4], [2], 2), "always")
