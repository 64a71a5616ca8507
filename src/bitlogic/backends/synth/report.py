"""``synth_report``: map a netlist with yosys and report LUTs and depth, part by part.

A netlist is simplified (:meth:`LogicNetlist.simplify`), written as one
module per part (:mod:`bitlogic.backends.synth.design`) and each module
mapped alone; the ``lut6`` flow counts the LUT layers instead of mapping them
(:mod:`bitlogic.backends.synth.lut_count`). A folder from
``emit_verilog`` is synthesized with the ``synth.ys`` it carries (totals only).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from bitlogic.backends.lut_graph import lut_graph
from bitlogic.backends.synth.design import (
    ARGMAX,
    GROUPSUM,
    TOP,
    part_of_module,
    render_part_design,
)
from bitlogic.backends.synth.lut_count import layer_lut6
from bitlogic.backends.synth.tools import find_yosys, run_tool
from bitlogic.backends.synth.yosys import (
    FF_CELL,
    FLOWS,
    LTP_FILE,
    SCRIPT_FILE,
    STAT_FILE,
    SynthFlow,
    parse_ltp,
    parse_ltp_modules,
    parse_stat,
    parse_stat_modules,
)
from bitlogic.netlist.ir import LogicNetlist

DESIGN_FILE = "bl_parts.v"
PARTS_STAT_FILE, PARTS_LTP_FILE, JSON_FILE = "parts_stat.txt", "parts_ltp.txt", "net.json"


def synth_report(
    netlist_or_dir: LogicNetlist | str | Path,
    target: str = "lut6",
    timeout: float | None = None,
    *,
    simplify: bool = True,
    tool: str | None = None,
    **place_and_route: object,
) -> dict[str, object]:
    """Synthesize a netlist with yosys (and place and route it for ``"ecp5"``).

    Args:
        netlist_or_dir: a netlist, or a folder from :func:`emit_verilog` holding
            ``synth.ys`` (directly or in ``yosys/``).
        target: a name in ``FLOWS``: ``"lut6"`` (layers counted, GroupSum and
            argmax mapped by ``abc -fast -lut 6``), ``"lut6-whole"`` (the full
            ``abc -lut 6`` script over the flattened net: may merge across
            layers, slow on big nets, totals only), ``"xilinx"``
            (``synth_xilinx``) or ``"ecp5"`` (``synth_ecp5`` then
            ``nextpnr-ecp5``, see :func:`bitlogic.backends.synth.ecp5.ecp5_report`).
        timeout: seconds before each tool is stopped (``None``: no limit).
        simplify: map ``netlist.simplify()`` (same function, fewer LUTs).
        tool: ``"system"`` or ``"yowasp"`` yosys; ``None``: the system one if
            installed (faster, measured), except for ``"ecp5"`` (yowasp first).
        place_and_route: keyword arguments of ``ecp5_report`` (``designs``,
            ``device``, ``frequency_mhz``, ``seed``).

    Returns:
        ``{"target", "luts", "ffs", "depth", "cells", "seconds", ...}``: LUT
        cells after mapping, flip-flops, the longest combinational path in
        cells (``ltp -noff``; for ``"lut6"`` the sum over the parts, which
        are in series), every cell type's count and yosys's wall time.
        For a netlist also ``"parts"`` (``layers``, ``groupsum``, ``argmax``:
        ``luts``, ``depth``; ``layers`` also ``per_layer``), ``"neurons"``,
        ``"luts_per_neuron"``, ``"groupsum_luts_per_bit"`` and ``"simplify"``
        (the :class:`~bitlogic.netlist.optimize.SimplifyReport` as a dict);
        with ``"lut6-whole"`` the three part figures are ``None``.

    Raises:
        RuntimeError: a tool is missing (the message says what to install),
            failed (its output included) or ran past ``timeout``.
    """
    flow = FLOWS.get(target)
    if flow.place_and_route == "ecp5":
        from bitlogic.backends.synth.ecp5 import ecp5_report

        if not isinstance(netlist_or_dir, LogicNetlist):
            raise ValueError("target 'ecp5' needs a LogicNetlist, got a folder")
        return ecp5_report(netlist_or_dir, timeout=timeout, simplify=simplify, tool=tool,
                           **place_and_route)  # type: ignore[arg-type]
    if place_and_route:
        raise ValueError(f"target {target!r} takes no place-and-route arguments, "
                         f"got {sorted(place_and_route)}")
    yosys = find_yosys(tool or "auto")
    if not isinstance(netlist_or_dir, LogicNetlist):
        return _bundle_report(Path(netlist_or_dir), target, flow, yosys, timeout)
    with tempfile.TemporaryDirectory(prefix="bitlogic-synth-") as tmp:
        report = map_parts(netlist_or_dir, flow, Path(tmp), yosys, timeout, simplify)
    return {"target": target, **report}


def map_parts(netlist: LogicNetlist, flow: SynthFlow, work: Path, yosys: str,
              timeout: float | None, simplify: bool, registers: str = "none",
              write_json: bool = False) -> dict[str, object]:
    """Write the part design into ``work``, run ``flow`` and read the counts back.

    With ``flow.count_layers`` the LUT layers are counted and yosys maps the
    GroupSum and the argmax; the total and the depth are then the sums over
    the parts (they are in series). Otherwise every part is mapped and the
    parts are flattened for the total and the depth.
    """
    simplified = netlist.simplify() if simplify else (netlist.validate(), None)
    netlist, simplify_report = simplified
    counted = counted_layers(netlist) if flow.count_layers else {}
    depth = f"ltp -noff{flow.depth_cells}"
    if counted:
        (work / DESIGN_FILE).write_text(render_part_design(netlist, registers,
                                                           [GROUPSUM, ARGMAX]))
        script = [f"read_verilog -icells {DESIGN_FILE}", "hierarchy -check",
                  flow.passes.format(top=TOP), f"tee -q -o {PARTS_STAT_FILE} stat",
                  f"tee -q -o {PARTS_LTP_FILE} {depth}"]
    else:
        (work / DESIGN_FILE).write_text(render_part_design(netlist, registers))
        script = [f"read_verilog -icells {DESIGN_FILE}", f"hierarchy -check -top {TOP}"]
        if flow.whole:
            script += ["flatten", flow.passes.format(top=TOP)]
        else:
            script += [flow.passes.format(top=TOP), f"tee -q -o {PARTS_STAT_FILE} stat",
                       f"tee -q -o {PARTS_LTP_FILE} {depth}", "flatten", "opt_clean"]
        script += [f"tee -q -o {STAT_FILE} stat", f"tee -q -o {LTP_FILE} {depth}"]
    if write_json:
        script.append(f"write_json {JSON_FILE}")
    (work / SCRIPT_FILE).write_text("\n".join(script) + "\n")
    seconds, cpu_seconds = run_tool([yosys, "-q", SCRIPT_FILE], work, timeout, "yosys")
    lut = re.compile(flow.lut_cells)
    parts = None if flow.whole else _part_counts(work, lut, counted)
    if counted:
        cells = _summed_cells(parse_stat_modules((work / PARTS_STAT_FILE).read_text()))
        cells["$lut"] = cells.get("$lut", 0) + sum(counted.values())
        total_depth = sum(int(p["depth"]) for p in parts.values())  # type: ignore[union-attr,call-overload]
    else:
        cells = parse_stat((work / STAT_FILE).read_text())
        total_depth = parse_ltp((work / LTP_FILE).read_text())
    neurons = netlist.num_gates
    layer_luts = None if parts is None else parts["layers"]["luts"]
    gs_luts = None if parts is None else parts["groupsum"]["luts"]
    return {
        "luts": sum(n for c, n in cells.items() if lut.match(c)),
        "ffs": sum(n for c, n in cells.items() if FF_CELL.match(c)),
        "depth": total_depth,
        "parts": parts,
        "neurons": neurons,
        "luts_per_neuron": None if layer_luts is None else round(layer_luts / neurons, 4),
        "groupsum_luts_per_bit": None if gs_luts is None else round(
            gs_luts / netlist.layers[-1].n_out, 4),
        "cells": cells,
        "counted_layers": sorted(counted),
        "simplify": simplify_report.to_dict() if simplify_report is not None else None,
        "tool": yosys,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
    }


def counted_layers(netlist: LogicNetlist) -> dict[int, int]:
    """LUT6 of every layer mapped alone, by layer index."""
    return {i: layer_lut6(luts.values()) for i, luts in enumerate(lut_graph(netlist).layers)}


def _summed_cells(modules: dict[str, dict[str, int]]) -> dict[str, int]:
    """Cell counts by type over the ``bl_`` part modules."""
    total: dict[str, int] = {}
    for name, counts in modules.items():
        if name.startswith("bl_"):
            for cell, n in counts.items():
                total[cell] = total.get(cell, 0) + n
    return total


def _part_counts(work: Path, lut: re.Pattern[str],
                 counted: dict[int, int]) -> dict[str, dict[str, object]]:
    """LUTs and depth of ``layers`` (with ``per_layer``), ``groupsum`` and ``argmax``."""
    modules = parse_stat_modules((work / PARTS_STAT_FILE).read_text())
    depths = parse_ltp_modules((work / PARTS_LTP_FILE).read_text())
    parts: dict[str, dict[str, object]] = {p: {"luts": 0, "depth": 0}
                                           for p in ("layers", "groupsum", "argmax")}
    per_layer = []
    for i, n in counted.items():  # a counted layer is one LUT level (none if all wires)
        per_layer.append((i, n, 1 if n else 0))
        parts["layers"]["luts"] += n  # type: ignore[operator]
        parts["layers"]["depth"] += 1 if n else 0  # type: ignore[operator]
    for name in sorted(m for m in modules if m.startswith("bl_")):
        part = part_of_module(name)
        if part == "top":
            continue
        luts = sum(n for c, n in modules[name].items() if lut.match(c))
        parts[part]["luts"] += luts  # type: ignore[operator]
        parts[part]["depth"] += depths.get(name, 0)  # type: ignore[operator]  # parts in series
        if part == "layers":
            per_layer.append((int(name[len("bl_layer"):]), luts, depths.get(name, 0)))
    parts["layers"]["per_layer"] = [{"layer": i, "luts": n, "depth": d}
                                    for i, n, d in sorted(per_layer)]
    return parts


def _bundle_report(folder: Path, target: str, flow: SynthFlow, yosys: str,
                   timeout: float | None) -> dict[str, object]:
    """Totals of a folder from ``emit_verilog``, synthesized with the script for ``target``."""
    from bitlogic.backends.synth.yosys import render_synth_script

    script_dir = next((d for d in (folder, folder / "yosys") if (d / SCRIPT_FILE).is_file()),
                      None)
    if script_dir is None:
        raise FileNotFoundError(f"{folder} holds no {SCRIPT_FILE} (nor yosys/{SCRIPT_FILE}); "
                                "pass a netlist or a folder written by emit_verilog")
    with tempfile.TemporaryDirectory(prefix="bitlogic-synth-") as tmp:
        work = Path(tmp) / "bundle"
        shutil.copytree(script_dir, work)
        designs = sorted(work.glob("*_cells.v"))
        if target != "lut6" and designs:  # the bundle's own script maps to LUT6
            top = designs[0].name[: -len("_cells.v")]
            (work / SCRIPT_FILE).write_text(render_synth_script(target, designs[0].name, top))
        seconds, cpu_seconds = run_tool([yosys, "-q", SCRIPT_FILE], work, timeout, "yosys")
        cells = parse_stat((work / STAT_FILE).read_text())
        depth = parse_ltp((work / LTP_FILE).read_text())
    lut = re.compile(flow.lut_cells)
    return {
        "target": target,
        "luts": sum(n for c, n in cells.items() if lut.match(c)),
        "ffs": sum(n for c, n in cells.items() if FF_CELL.match(c)),
        "depth": depth,
        "cells": cells,
        "tool": yosys,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
    }
