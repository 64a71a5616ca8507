"""Render a netlist as synthesizable Verilog: module ``bitlogic_net``.

Ports (see the generated header comment):

* ``x [num_inputs-1:0]``: input bit ``i`` is ``x[i]``. With an input encoding
  these are the thermometer bits (``x[f*T + t] = feature f > threshold t``);
  the comparison is done off-chip, where the features are produced.
* ``scores [K*SW-1:0]``: the GroupSum counts, class ``c`` in bits
  ``[c*SW +: SW]`` with ``SW = $clog2(group_size + 1)``.
* ``pred [PW-1:0]``: argmax of the counts, ties to the lower class,
  ``PW = max(1, $clog2(K))``.
* ``pipeline=True`` adds ``clk``, ``rst`` (synchronous, clears the valid
  chain), ``in_valid`` and ``out_valid``; every layer's outputs are
  registered, so results appear ``num_layers`` cycles after their inputs.

Every LUT output is a scalar wire (Icarus slows to a crawl on bit-selects of
wide vectors), LUTs are reduced to the inputs they depend on and dead LUTs
are dropped (:mod:`bitlogic.backends.lut_graph`), so the design is
``verilator --lint-only -Wall`` clean. GroupSum and the argmax are in
:mod:`bitlogic.backends.verilog_groupsum`.
"""

from __future__ import annotations

from pathlib import Path

from bitlogic.backends._template import render_template
from bitlogic.backends.lut_graph import LutGraph, lut_graph
from bitlogic.backends.verilog_groupsum import group_sum
from bitlogic.backends.verilog_luts import LUT_FLAVOURS
from bitlogic.netlist.ir import LogicNetlist

DESIGN_FILES = {"plain": "bitlogic_net.v", "cells": "bitlogic_net_cells.v"}


def score_width(netlist: LogicNetlist) -> int:
    """Bits per class count: ``$clog2(group_size + 1)``."""
    return netlist.group_size.bit_length()


def pred_width(netlist: LogicNetlist) -> int:
    """Bits of the class index: ``max(1, $clog2(num_classes))``."""
    return max(1, (netlist.num_classes - 1).bit_length())


def render_verilog(netlist: LogicNetlist, flavour: str = "plain", pipeline: bool = False) -> str:
    """Text of the design in one flavour.

    ``plain`` is one flat module. ``cells`` splits it into
    ``bitlogic_net_layers`` and ``bitlogic_net_groupsum`` under the top
    ``bitlogic_net`` so yosys maps each alone: flattened together, abc ran for
    over 5 minutes on a 5 x 500 rank-4 net; split, a 5 x 1500 one maps in
    30 s. The split is not used for simulation: the wide vector between the
    modules makes Icarus re-evaluate every bit-select on each change (97 s
    instead of 22 s for 1000 vectors of the 5 x 1500 net).

    Args:
        netlist: the network.
        flavour: ``"plain"`` (simulators, any tool) or ``"cells"`` (yosys
            ``$lut`` cells, read with ``read_verilog -icells``).
        pipeline: register every layer's outputs (latency ``num_layers``).
    """
    if flavour not in LUT_FLAVOURS:
        raise ValueError(f"flavour must be one of {sorted(LUT_FLAVOURS)}, got {flavour!r}")
    graph = lut_graph(netlist)
    sw, pw = score_width(netlist), pred_width(netlist)
    last, width = len(netlist.layers) - 1, netlist.layers[-1].n_out
    outputs = [_signal(last, n, pipeline) for n in range(width)]
    layers_body = _luts(graph, flavour, pipeline) + (_registers(graph) if pipeline else [])
    slots = {
        "description": _description(netlist, flavour, pipeline, sw, pw),
        "valid_chain": _indent(_valid_chain(len(netlist.layers)) if pipeline else []),
    }
    if flavour == "plain":
        return render_template(
            "bitlogic_net.v.tmpl",
            ports=_ports(netlist, graph, pipeline, sw, pw),
            layers_body=_indent(layers_body),
            groupsum_body=_indent(group_sum(netlist, outputs, flavour, pw)),
            **slots,
        )
    layers_body.append(f"assign y = {{{', '.join(reversed(outputs))}}};")
    scalars = [f"wire y_{n} = y[{n}];" for n in range(width)]
    return render_template(
        "bitlogic_net_cells.v.tmpl",
        layers_ports=_layers_ports(netlist, graph, pipeline),
        layers_body=_indent(layers_body),
        last_msb=width - 1,
        scores_msb=netlist.num_classes * sw - 1,
        pred_msb=pw - 1,
        groupsum_body=_indent(
            scalars + group_sum(netlist, [f"y_{n}" for n in range(width)], flavour, pw)
        ),
        ports=_ports(netlist, None, pipeline, sw, pw),
        layers_connections=".clk(clk), .x(x), .y(y)" if pipeline else ".x(x), .y(y)",
        **slots,
    )


def emit_design(
    netlist: LogicNetlist, out_dir: str | Path, pipeline: bool = False
) -> list[Path]:
    """Write both flavours (``bitlogic_net.v``, ``bitlogic_net_cells.v``) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for flavour, filename in DESIGN_FILES.items():
        path = out / filename
        path.write_text(render_verilog(netlist, flavour, pipeline))
        paths.append(path)
    return paths


def _signal(layer: int, n: int, pipeline: bool) -> str:
    """Name under which layer ``layer``'s output ``n`` is read; layer -1 is the input."""
    if layer < 0:
        return f"in_{n}"
    return f"{'q' if pipeline else 'l'}{layer}_{n}"


def _luts(graph: LutGraph, flavour: str, pipeline: bool) -> list[str]:
    write = LUT_FLAVOURS[flavour]
    lines = [f"wire in_{i} = x[{i}];" for i in graph.live_inputs]
    for layer, luts in enumerate(graph.layers):
        lines.append(f"// layer {layer}: {len(luts)} live LUTs")
        for n, lut in luts.items():
            args = [_signal(layer - 1, i, pipeline) for i in lut.inputs]
            lines += write(f"l{layer}_{n}", lut, args)
    return lines


def _registers(graph: LutGraph) -> list[str]:
    lines = []
    for layer, luts in enumerate(graph.layers):
        lines += [f"reg q{layer}_{n};" for n in luts]
        lines.append("always @(posedge clk) begin")
        lines += [f"    q{layer}_{n} <= l{layer}_{n};" for n in luts]
        lines.append("end")
    return lines


def _valid_chain(latency: int) -> list[str]:
    if latency == 1:
        shift, declare = "in_valid", "reg valid_q;"
        out = "valid_q"
    else:
        shift = f"{{valid_q[{latency - 2}:0], in_valid}}"
        declare = f"reg [{latency - 1}:0] valid_q;"
        out = f"valid_q[{latency - 1}]"
    return [
        declare,
        "always @(posedge clk) begin",
        f"    if (rst) valid_q <= {latency}'d0;",
        f"    else valid_q <= {shift};",
        "end",
        f"assign out_valid = {out};",
    ]


def _x_port(netlist: LogicNetlist, graph: LutGraph | None) -> str:
    x = f"input  wire [{netlist.num_inputs - 1}:0] x"
    if graph is not None and len(graph.live_inputs) < netlist.num_inputs:
        # some bits are read by no live LUT: intended, tell the linter
        return (
            f"/* verilator lint_off UNUSEDSIGNAL */\n    {x},\n"
            "    /* verilator lint_on UNUSEDSIGNAL */"
        )
    return x + ","


def _layers_ports(netlist: LogicNetlist, graph: LutGraph, pipeline: bool) -> str:
    ports = ["input  wire clk,"] if pipeline else []
    ports += [_x_port(netlist, graph), f"output wire [{netlist.layers[-1].n_out - 1}:0] y"]
    return "\n".join("    " + p for p in ports)


def _ports(
    netlist: LogicNetlist, graph: LutGraph | None, pipeline: bool, sw: int, pw: int
) -> str:
    """Top-level ports; ``graph`` given when x feeds LUTs in this module (lint of unused bits)."""
    ports = ["input  wire clk,", "input  wire rst,", "input  wire in_valid,"] if pipeline else []
    ports += [
        _x_port(netlist, graph),
        f"output wire [{netlist.num_classes * sw - 1}:0] scores,",
        f"output wire [{pw - 1}:0] pred" + ("," if pipeline else ""),
    ]
    if pipeline:
        ports.append("output wire out_valid")
    return "\n".join("    " + p for p in ports)


def _indent(lines: list[str]) -> str:
    return "\n".join("    " + line for line in lines)


def _description(netlist: LogicNetlist, flavour: str, pipeline: bool, sw: int, pw: int) -> str:
    enc = netlist.encoding
    lines = [
        f"{len(netlist.layers)} layers, LUTs by rank {netlist.lut_counts_by_rank()}, "
        f"{netlist.num_classes} classes of {netlist.group_size} (flavour: {flavour}).",
        f"x[{netlist.num_inputs - 1}:0]: input bit i is x[i].",
        f"scores: {netlist.num_classes} GroupSum counts of {sw} bits, class c in "
        f"scores[c*{sw} +: {sw}]; divide by tau = {netlist.tau!r} off-chip for scores.",
        f"pred[{pw - 1}:0]: argmax of the counts, ties to the lower class index.",
    ]
    if enc is not None:
        lines.append(
            f"x holds thermometer bits: x[f*{enc.num_thresholds} + t] = feature f > "
            "threshold t, computed off-chip (see bitlogic_net.h / the netlist)."
        )
    if pipeline:
        lines.append(
            f"Pipelined: one register stage per layer, latency {len(netlist.layers)} "
            "cycles from in_valid to out_valid; rst (synchronous) clears the valid chain."
        )
    else:
        lines.append("Purely combinational.")
    return "\n".join("// " + line for line in lines)
