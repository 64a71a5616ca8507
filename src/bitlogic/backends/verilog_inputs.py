"""The design's input stage: where the bits ``in_<i>`` that layer 0 reads come from.

* off-chip encoding (default): port ``x``, one bit per thermometer bit, the
  comparisons done where the features are produced;
* on-chip encoding: port ``features``, one fixed-point integer per feature
  (:mod:`bitlogic.backends.fixed_point`), every live bit one integer
  comparison with a constant. Pipelined, the comparisons get their own
  register stage so they do not lengthen layer 0's path.

Only live bits (read by some live LUT) are computed; the port keeps every bit
so the interface does not depend on the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from bitlogic.backends.fixed_point import (
    AT_LEAST,
    AT_MOST,
    CONST1,
    FixedPoint,
    FixedPointThresholds,
    fixed_point_thresholds,
)
from bitlogic.backends.lut_graph import LutGraph
from bitlogic.netlist.ir import LogicNetlist

_OPS = {AT_LEAST: ">=", AT_MOST: "<="}


@dataclass(frozen=True)
class InputStage:
    """How one design gets its input bits.

    Attributes:
        port_name: ``x`` or ``features``.
        port: its declaration, e.g. ``input  wire [9:0] x`` (no comma).
        all_bits_read: whether live logic reads every bit of the port.
        lines: body lines defining ``in_<i>`` for every live input bit.
    """

    port_name: str
    port: str
    all_bits_read: bool
    lines: tuple[str, ...]


def input_stage(netlist: LogicNetlist, graph: LutGraph, pipeline: bool,
                fixed_point: FixedPoint | None) -> InputStage:
    """The off-chip stage (``fixed_point`` None) or the on-chip one in that format."""
    if fixed_point is None:
        return offchip_stage(netlist, graph)
    rule = fixed_point_thresholds(netlist, fixed_point)
    return onchip_stage(netlist, graph, fixed_point, rule, pipeline)


def offchip_stage(netlist: LogicNetlist, graph: LutGraph) -> InputStage:
    """Port ``x [num_inputs-1:0]``; ``in_<i> = x[i]``."""
    port = f"input  wire [{netlist.num_inputs - 1}:0] x"
    used = len(graph.live_inputs) == netlist.num_inputs
    lines = tuple(f"wire in_{i} = x[{i}];" for i in graph.live_inputs)
    return InputStage("x", port, used, lines)


def onchip_stage(netlist: LogicNetlist, graph: LutGraph, fmt: FixedPoint,
                 rule: FixedPointThresholds, pipeline: bool) -> InputStage:
    """Port ``features [F*W-1:0]`` (feature ``f`` in ``[f*W +: W]``); comparisons inside."""
    w, per = fmt.width, rule.num_thresholds
    features = netlist.encoding.num_features
    compared = sorted({i // per for i in graph.live_inputs if rule.op[i] >= AT_LEAST})
    kind = "signed " if fmt.signed else ""
    lines = [f"wire {kind}[{w - 1}:0] feat_{f} = features[{f * w + w - 1}:{f * w}];"
             for f in compared]
    target = "th" if pipeline else "in"
    for i in graph.live_inputs:
        op = int(rule.op[i])
        if op < AT_LEAST:
            value = f"1'b{int(op == CONST1)}"
        else:
            value = f"feat_{i // per} {_OPS[op]} {fmt.literal(int(rule.bound[i]))}"
        lines.append(f"wire {target}_{i} = {value};")
    if pipeline and graph.live_inputs:
        lines += [f"reg in_{i};" for i in graph.live_inputs]
        lines.append("always @(posedge clk) begin")
        lines += [f"    in_{i} <= th_{i};" for i in graph.live_inputs]
        lines.append("end")
    port = f"input  wire [{features * w - 1}:0] features"
    return InputStage("features", port, len(compared) == features, tuple(lines))


def port_declaration(port: str, all_bits_used: bool) -> str:
    """``port`` with its comma; wrapped in a lint waiver when some of its bits are unread."""
    if all_bits_used:
        return port + ","
    # some bits feed no live logic: intended (the interface is fixed), tell the linter
    return (f"/* verilator lint_off UNUSEDSIGNAL */\n    {port},\n"
            "    /* verilator lint_on UNUSEDSIGNAL */")
