"""Render a netlist as synthesizable Verilog: design ``<name>`` in two flavours.

Ports and latency are written into each file's header
(:mod:`bitlogic.backends.verilog_interface`); in short:

* ``x [num_inputs-1:0]`` (input bit ``i`` is ``x[i]``), or with on-chip
  encoding ``features [F*W-1:0]`` (:mod:`bitlogic.backends.verilog_inputs`);
* ``scores [K*SW-1:0]``: the GroupSum counts, class ``c`` in bits
  ``[c*SW +: SW]`` with ``SW = $clog2(group_size + 1)``;
* ``pred [PW-1:0]``: argmax of the counts, ties to the lower class,
  ``PW = max(1, $clog2(K))``;
* ``pipeline=True`` adds ``clk``, ``rst`` (synchronous, clears the valid
  chain), ``in_valid`` and ``out_valid``; every layer's outputs and the
  GroupSum/argmax outputs are registered (latency ``design_latency``).

Every LUT output is a scalar wire (Icarus slows to a crawl on bit-selects of
wide vectors), LUTs are reduced to the inputs they depend on and dead LUTs
are dropped (:mod:`bitlogic.backends.lut_graph`), so the design is
``verilator --lint-only -Wall`` clean. GroupSum and the argmax are in
:mod:`bitlogic.backends.verilog_groupsum`.
"""

from __future__ import annotations

from pathlib import Path

from bitlogic.backends._template import render_template
from bitlogic.backends.design_name import DEFAULT_DESIGN_NAME
from bitlogic.backends.fixed_point import FixedPoint
from bitlogic.backends.hdl_bundle import HdlBundle
from bitlogic.backends.lut_graph import LutGraph, lut_graph
from bitlogic.backends.verilog_groupsum import group_sum
from bitlogic.backends.verilog_inputs import InputStage, input_stage, port_declaration
from bitlogic.backends.verilog_interface import (
    design_latency,
    file_header,
    interface_lines,
    pred_width,
    score_width,
)
from bitlogic.backends.verilog_luts import LUT_FLAVOURS
from bitlogic.netlist.ir import LogicNetlist

PLAIN_PURPOSE = [
    "The design in plain Verilog-2005, one module: add it to any simulator or vendor",
    "project (files.f lists it). yosys/ holds the same design as yosys cells, for fast",
    "LUT mapping only.",
]
CELLS_PURPOSE = [
    "The same design as ../{design} with every LUT and counter a yosys $lut cell, split",
    "into {name}_layers and {name}_groupsum so yosys maps each alone (read with",
    "read_verilog -icells, see synth.ys; simulate with yosys's simlib.v). Not for vendor",
    "tools, which do not know $lut: give them ../{design}.",
]


def render_verilog(
    netlist: LogicNetlist,
    flavour: str = "plain",
    pipeline: bool = False,
    name: str = DEFAULT_DESIGN_NAME,
    fixed_point: FixedPoint | None = None,
) -> str:
    """Text of design ``name`` in one flavour.

    ``plain`` is one flat module. ``cells`` splits it into ``<name>_layers``
    and ``<name>_groupsum`` under the top ``<name>`` so yosys maps each alone:
    flattened together, abc ran for over 5 minutes on a 5 x 500 rank-4 net;
    split, a 5 x 1500 one maps in 30 s. The split is not used for simulation:
    the wide vector between the modules makes Icarus re-evaluate every
    bit-select on each change (97 s instead of 22 s for 1000 vectors of the
    5 x 1500 net).

    Args:
        netlist: the network.
        flavour: ``"plain"`` (simulators, any tool) or ``"cells"`` (yosys
            ``$lut`` cells, read with ``read_verilog -icells``).
        pipeline: register every layer's outputs and the GroupSum/argmax outputs.
        name: module name (validated as an identifier).
        fixed_point: the feature format for on-chip encoding; None takes
            thermometer bits ``x``.
    """
    if flavour not in LUT_FLAVOURS:
        raise ValueError(f"flavour must be one of {sorted(LUT_FLAVOURS)}, got {flavour!r}")
    bundle = HdlBundle(name)
    graph = lut_graph(netlist)
    stage = input_stage(netlist, graph, pipeline, fixed_point)
    sw, pw = score_width(netlist), pred_width(netlist)
    last, width = len(netlist.layers) - 1, netlist.layers[-1].n_out
    outputs = [_signal(last, n, pipeline) for n in range(width)]
    layers_body = [*stage.lines, *_luts(graph, flavour, pipeline)]
    layers_body += _registers(graph) if pipeline else []
    scores_msb = netlist.num_classes * sw - 1
    # pipelined, GroupSum drives scores_d/pred_d and a register stage drives the ports
    targets = ("scores_d", "pred_d") if pipeline else ("scores", "pred")
    outputs_body = _output_registers(scores_msb, pw) if pipeline else []
    outputs_body += _valid_chain(design_latency(netlist, pipeline, fixed_point)) if pipeline else []
    interface = interface_lines(netlist, bundle, pipeline, fixed_point)
    if flavour == "plain":
        declared = [f"wire [{scores_msb}:0] scores_d;", f"wire [{pw - 1}:0] pred_d;"]
        return render_template(
            "design.v.tmpl",
            header=file_header(bundle.design, PLAIN_PURPOSE, interface),
            module=name,
            ports=_ports(stage, stage.all_bits_read, pipeline, scores_msb, pw),
            layers_body=_indent(layers_body),
            groupsum_body=_indent((declared if pipeline else [])
                                  + group_sum(netlist, outputs, flavour, pw, *targets)),
            outputs_body=_indent(outputs_body),
        )
    layers_body.append(f"assign y = {{{', '.join(reversed(outputs))}}};")
    scalars = [f"wire y_{n} = y[{n}];" for n in range(width)]
    purpose = [line.format(design=bundle.design, name=name) for line in CELLS_PURPOSE]
    instances = [f"wire [{width - 1}:0] y;"]
    if pipeline:
        instances += [f"wire [{scores_msb}:0] scores_d;", f"wire [{pw - 1}:0] pred_d;"]
    clk = ".clk(clk), " if pipeline else ""
    instances += [
        f"{name}_layers u_layers ({clk}.{stage.port_name}({stage.port_name}), .y(y));",
        f"{name}_groupsum u_groupsum (.y(y), .scores({targets[0]}), .pred({targets[1]}));",
    ]
    return render_template(
        "design_cells.v.tmpl",
        header=file_header(bundle.cells, purpose, interface),
        module=name,
        layers_ports=_layers_ports(stage, pipeline, width),
        layers_body=_indent(layers_body),
        last_msb=width - 1,
        scores_msb=scores_msb,
        pred_msb=pw - 1,
        groupsum_body=_indent(
            scalars + group_sum(netlist, [f"y_{n}" for n in range(width)], flavour, pw)
        ),
        ports=_ports(stage, True, pipeline, scores_msb, pw),
        instances=_indent(instances),
        outputs_body=_indent(outputs_body),
    )


def emit_design(
    netlist: LogicNetlist,
    out_dir: str | Path,
    pipeline: bool = False,
    name: str = DEFAULT_DESIGN_NAME,
    fixed_point: FixedPoint | None = None,
) -> list[Path]:
    """Write ``<name>.v`` and ``yosys/<name>_cells.v`` into ``out_dir``; return both paths."""
    bundle = HdlBundle(name)
    out = Path(out_dir)
    paths = []
    for flavour, filename in (("plain", bundle.design), ("cells", bundle.cells)):
        path = out / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_verilog(netlist, flavour, pipeline, name, fixed_point))
        paths.append(path)
    return paths


def _signal(layer: int, n: int, pipeline: bool) -> str:
    """Name under which layer ``layer``'s output ``n`` is read; layer -1 is the input."""
    if layer < 0:
        return f"in_{n}"
    return f"{'q' if pipeline else 'l'}{layer}_{n}"


def _luts(graph: LutGraph, flavour: str, pipeline: bool) -> list[str]:
    write = LUT_FLAVOURS[flavour]
    lines = []
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


def _output_registers(scores_msb: int, pw: int) -> list[str]:
    """The register stage after GroupSum and the argmax (pipelined designs)."""
    return [
        f"reg [{scores_msb}:0] scores_q;",
        f"reg [{pw - 1}:0] pred_q;",
        "always @(posedge clk) begin",
        "    scores_q <= scores_d;",
        "    pred_q <= pred_d;",
        "end",
        "assign scores = scores_q;",
        "assign pred = pred_q;",
    ]


def _layers_ports(stage: InputStage, pipeline: bool, width: int) -> str:
    ports = ["input  wire clk,"] if pipeline else []
    ports += [port_declaration(stage.port, stage.all_bits_read),
              f"output wire [{width - 1}:0] y"]
    return "\n".join("    " + p for p in ports)


def _ports(stage: InputStage, all_bits_read: bool, pipeline: bool, scores_msb: int,
           pw: int) -> str:
    """Top-level ports; ``all_bits_read`` False wraps the input in a lint waiver."""
    ports = ["input  wire clk,", "input  wire rst,", "input  wire in_valid,"] if pipeline else []
    ports += [
        port_declaration(stage.port, all_bits_read),
        f"output wire [{scores_msb}:0] scores,",
        f"output wire [{pw - 1}:0] pred" + ("," if pipeline else ""),
    ]
    if pipeline:
        ports.append("output wire out_valid")
    return "\n".join("    " + p for p in ports)


def _indent(lines: list[str]) -> str:
    return "\n".join("    " + line for line in lines)
