"""emit_verilog: Icarus simulation equals the reference, Verilator lint is clean, yosys reports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from differential import (
    TIE_INPUTS,
    assert_backends_agree,
    assert_passed,
    random_inputs,
    random_netlist,
    simulate,
    sweep_netlist,
    tie_netlist,
)

from bitlogic.backends import emit_verilog, synth_report
from bitlogic.backends._template import TEMPLATES, render_template, template_slots
from bitlogic.backends.lut_graph import lut_graph
from bitlogic.backends.synth import parse_ltp, parse_stat
from bitlogic.backends.verilog_groupsum import counter_luts, popcount
from bitlogic.backends.verilog_luts import (
    COUNTER_FLAVOURS,
    GATES_1,
    GATES_2,
    counter_table,
    popcount_table,
)
from bitlogic.netlist import LogicNetlist, NetlistLayer
from bitlogic.netlist.reference import encode_inputs, evaluate_layers
from tests.conftest import require_path

SIMLIB = Path("/usr/share/yosys/simlib.v")

CASES = {
    "one-layer": dict(widths=[6], ranks=[2], num_classes=3),
    "mixed-ranks": dict(widths=[30, 24, 12], ranks=[6, 1, 4], num_classes=4),
    "encoded-ranks-3-5": dict(widths=[20, 10], ranks=[3, 5], num_classes=10, encoding=(5, 3)),
    "one-class": dict(widths=[16, 7], ranks=[2, 6], num_classes=1, num_inputs=70),
    "large-groups": dict(widths=[40, 150], ranks=[4, 2], num_classes=2, num_inputs=50),
}


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_icarus_matches_reference(iverilog, tmp_path, case, pipeline):
    netlist = random_netlist(len(case), **CASES[case])
    x = random_inputs(netlist, 65, seed=2)
    assert_backends_agree(netlist, x, seed=f"{len(case)} ({case})", iverilog=iverilog,
                          work=tmp_path, pipeline=pipeline)


@pytest.mark.parametrize("pipeline", [False, True], ids=["comb", "pipelined"])
def test_verilator_lint_is_clean(verilator, tmp_path, pipeline):
    netlist = random_netlist(5, [40, 30, 12], [6, 2, 4], num_classes=4, num_inputs=90)
    emit_verilog(netlist, tmp_path, pipeline=pipeline)
    proc = subprocess.run([verilator, "--lint-only", "-Wall", "bitlogic_net.v"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr




def test_ties_go_to_the_lower_class(iverilog, tmp_path):
    emit_verilog(tie_netlist(), tmp_path, test_inputs=TIE_INPUTS)
    text = (tmp_path / "bitlogic_net_vectors.hex").read_text()
    vectors = [line for line in text.splitlines() if not line.startswith("//")]
    assert [int(v, 16) & 0b11 for v in vectors] == [1, 0, 3, 3]  # pred is the low 2 bits
    assert_passed(simulate(iverilog, tmp_path))


def test_cell_flavour_simulates_with_yosys_simlib(iverilog, tmp_path):
    require_path(SIMLIB, "yosys's simlib.v")
    # groups of 40 make the compressor tree several counter levels deep
    netlist = random_netlist(8, [20, 120], [6, 3], num_classes=3, num_inputs=30)
    emit_verilog(netlist, tmp_path)
    assert_passed(simulate(iverilog, tmp_path, "yosys/bitlogic_net_cells.v", [str(SIMLIB)]))


EXHAUSTIVE_BITS = 14  # every n up to this: all 2**n inputs
RANDOM_BITS = {50: 501, 100: 1001, 200: 2001, 800: 8001, 1000: 10001}  # n: seed
RANDOM_VECTORS = 48


def _popcount_bench(flavour: str, work: Path) -> None:
    """``popcount.v`` (one module per n) and ``popcount_tb.v`` checking every count in ``work``."""
    design, bench = [], ["module popcount_tb;", f"reg [{EXHAUSTIVE_BITS - 1}:0] e;",
                         "integer i, failures;"]
    checks = []
    for n in [*range(1, EXHAUSTIVE_BITS + 1), *RANDOM_BITS]:
        w = n.bit_length()
        root, lines = popcount("p", [f"x[{i}]" for i in range(n)], w, flavour)
        design += [f"module pc{n} (input wire [{n - 1}:0] x, output wire [{w - 1}:0] y);",
                   *lines, f"assign y = {root};", "endmodule", ""]
        bench.append(f"wire [{w - 1}:0] y{n};")
        if n <= EXHAUSTIVE_BITS:
            bench.append(f"pc{n} u{n} (.x(e[{n - 1}:0]), .y(y{n}));")
            checks.append(f"if (y{n} !== $countones(e[{n - 1}:0])) begin failures += 1; "
                          f'$display("FAIL n={n} x=%b: got %0d", e[{n - 1}:0], y{n}); end')
            continue
        seed = RANDOM_BITS[n]
        rng = np.random.default_rng(seed)
        # densities from 0 to 1, so high counts (the top columns) are reached too
        x = rng.random((RANDOM_VECTORS, n)) < rng.random((RANDOM_VECTORS, 1))
        x[0], x[1] = True, False
        rows = [f"{int(''.join('1' if b else '0' for b in v[::-1]), 2):x}" for v in x]
        (work / f"xs{n}.hex").write_text("\n".join(rows) + "\n")
        (work / f"want{n}.hex").write_text("\n".join(f"{c:x}" for c in x.sum(1)) + "\n")
        bench += [f"reg [{n - 1}:0] x{n};", f"reg [{n - 1}:0] xs{n} [0:{RANDOM_VECTORS - 1}];",
                  f"reg [{w - 1}:0] want{n} [0:{RANDOM_VECTORS - 1}];",
                  f"pc{n} u{n} (.x(x{n}), .y(y{n}));"]
    bench += ["initial begin", "failures = 0;"]
    bench += [f'$readmemh("{m}{n}.hex", {m}{n});' for n in RANDOM_BITS
              for m in ("xs", "want")]
    bench += [f"for (i = 0; i < {2**EXHAUSTIVE_BITS}; i = i + 1) begin",
              "e = i; #1;", *checks, "end",
              f"for (i = 0; i < {RANDOM_VECTORS}; i = i + 1) begin"]
    bench += [f"x{n} = xs{n}[i];" for n in RANDOM_BITS]
    bench.append("#1;")
    for n, seed in RANDOM_BITS.items():
        bench.append(f"if (y{n} !== want{n}[i]) begin failures += 1; "
                     f'$display("FAIL n={n} seed={seed} vector %0d: got %0d, want %0d", '
                     f"i, y{n}, want{n}[i]); end")
    bench += ["end", 'if (failures == 0) $display("PASS");', "$finish;", "end", "endmodule"]
    (work / "popcount.v").write_text("\n".join(design) + "\n")
    (work / "popcount_tb.v").write_text("\n".join(bench) + "\n")


@pytest.mark.parametrize("flavour", ["plain", "cells"])
def test_popcount_counts_the_ones(iverilog, tmp_path, flavour):
    # every n up to 14 on all its inputs; 50 to 1000 bits on seeded random
    # inputs (seeds in RANDOM_BITS and in each FAIL line), all ones and all zeros
    _popcount_bench(flavour, tmp_path)
    # yosys's $lut is Y = LUT[A]; simlib.v's recursive $bmux compiles for minutes at
    # this size (test_cell_flavour_simulates_with_yosys_simlib checks it on a small net)
    (tmp_path / "lut.v").write_text(
        "module \\$lut #(parameter WIDTH = 1, parameter LUT = 0) "
        "(input wire [WIDTH-1:0] A, output wire Y);\nassign Y = LUT[A];\nendmodule\n")
    extra = ["lut.v"] if flavour == "cells" else []
    output = simulate(iverilog, tmp_path, "popcount.v", extra, name="popcount")
    assert_passed(output)


def test_popcount_needs_at_most_one_lut_per_bit():
    for n in [*range(1, 65), 100, 200, 800, 1000]:
        w = n.bit_length()
        luts = counter_luts(n, w)
        assert luts <= n, (n, luts)
        _, lines = popcount("p", [f"x{i}" for i in range(n)], w, "cells")
        assert sum(line.startswith("\\$lut") for line in lines) == luts


def test_synth_report_lut6(yosys, tmp_path):
    netlist = random_netlist(3, [40, 20], [6, 6], num_classes=2, num_inputs=50)
    report = synth_report(netlist)
    assert report["target"] == "lut6"
    assert 0 < report["luts"] == report["cells"]["$lut"]
    assert report["ffs"] == 0
    assert report["depth"] >= 2  # two LUT layers in series at least
    emit_verilog(netlist, tmp_path, pipeline=True)
    piped = synth_report(tmp_path)
    assert piped["ffs"] > 0 and piped["depth"] <= report["depth"]


def test_synth_report_timeout(yosys):
    with pytest.raises(RuntimeError, match="did not finish within 0.01 s"):
        synth_report(random_netlist(3, [400, 200], [6, 6], num_classes=2), timeout=0.01)


@pytest.mark.slow
def test_synth_report_xilinx(yosys):
    report = synth_report(random_netlist(3, [40, 20], [6, 6], num_classes=2), target="xilinx")
    assert report["luts"] == sum(n for c, n in report["cells"].items() if c.startswith("LUT"))
    assert report["depth"] >= 2


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12))
def test_icarus_random_sweep(iverilog, tmp_path, seed):
    netlist = sweep_netlist(seed, max_width=80, max_group=9, max_inputs=100,
                            max_encoding=(12, 5))
    emit_verilog(netlist, tmp_path, pipeline=bool(seed % 3 == 0), num_test_vectors=200, seed=seed)
    assert_passed(simulate(iverilog, tmp_path))


# -- pure pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "rank"), [(GATES_1, 1), (GATES_2, 2)])
def test_gate_tables_are_complete_and_correct(table, rank):
    assert sorted(table) == list(range(2 ** 2**rank))
    for code, expr in table.items():
        for address in range(2**rank):
            values = {"a": address >> (rank - 1) & 1, "b": address & 1}
            python = expr.format(**values).replace("1'b", "0b")
            assert eval(python) & 1 == (code >> address) & 1, (code, expr, address)  # noqa: S307


def test_popcount_tables():
    assert popcount_table(3, 0) == 0b10010110  # parity
    assert popcount_table(3, 1) == 0b11101000  # majority
    assert popcount_table(6, 2) == sum(1 << a for a in range(64) if bin(a).count("1") >= 4)
    assert sorted(COUNTER_FLAVOURS) == ["cells", "plain"]
    # a (1,5;3) GPC: input 0 weighs 2, the others 1
    assert counter_table([1, 0, 0, 0, 0, 0], 2) == sum(
        1 << a for a in range(64) if 2 * (a >> 5) + bin(a & 31).count("1") >= 4)


def test_repeated_inputs_fold():
    # xor(a, a) is constant 0; and(a, a) is a; or(b, a, a, b) reads two signals
    indices = np.array([[3, 3, 0, 0], [2, 2, 2, 2], [1, 3, 3, 1]], dtype=np.int32)
    xor = [bin(a >> 2).count("1") % 2 for a in range(16)]  # xor of inputs 0 and 1
    and4 = [int(a == 15) for a in range(16)]
    or4 = [int(a != 0) for a in range(16)]
    layer = NetlistLayer(indices, np.array([xor, and4, or4], dtype=np.uint8))
    netlist = LogicNetlist(4, [layer], num_classes=3, tau=1.0)
    luts = lut_graph(netlist).layers[0]
    assert (luts[0].inputs, luts[0].table) == ((), 0)
    assert (luts[1].inputs, luts[1].table) == ((2,), 0b10)
    assert (luts[2].inputs, luts[2].table) == ((1, 3), 0b1110)


def test_lut_graph_preserves_the_function():
    netlist = random_netlist(4, [60, 40, 20], [6, 4, 2], num_classes=5, num_inputs=40)
    graph = lut_graph(netlist)
    x = random_inputs(netlist, 300)
    level = encode_inputs(netlist, x)
    for luts in graph.layers:
        out = np.zeros((len(x), max(luts) + 1), dtype=bool)
        for n, lut in luts.items():
            address = np.zeros(len(x), dtype=np.int64)
            for i in lut.inputs:
                address = (address << 1) | level[:, i]
            out[:, n] = (np.uint64(lut.table) >> address.astype(np.uint64)) & np.uint64(1)
        level = out
    np.testing.assert_array_equal(level, evaluate_layers(netlist, encode_inputs(netlist, x)))
    assert all(lut.rank <= 6 for luts in graph.layers for lut in luts.values())


def test_templates_reject_missing_and_unknown_slots():
    names = sorted(p.name for p in TEMPLATES.iterdir())
    assert "design.v.tmpl" in names and "synth.ys.tmpl" in names
    slots = template_slots("synth.ys.tmpl")
    with pytest.raises(KeyError, match="unfilled"):
        render_template("synth.ys.tmpl", **{s: "" for s in sorted(slots)[1:]})
    with pytest.raises(KeyError, match="unknown slots \\['nope'\\]"):
        render_template("synth.ys.tmpl", nope="", **{s: "" for s in slots})


STAT = """
=== bitlogic_net ===

   Number of wires:               5311
   Number of wire bits:           6151
   Number of cells:               4930
     $_DFF_P_                       12
     $lut                         4918

"""


def test_parse_stat_and_ltp():
    assert parse_stat(STAT) == {"$_DFF_P_": 12, "$lut": 4918}
    assert parse_ltp("Longest topological path in bitlogic_net (length=20):\n  a\n") == 20
    with pytest.raises(ValueError, match="Longest topological path"):
        parse_ltp("nothing here")
