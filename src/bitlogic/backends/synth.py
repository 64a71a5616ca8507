"""yosys synthesis script and report: LUT count and logic depth of ``bitlogic_net``."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bitlogic.backends._template import render_template
from bitlogic.backends.verilog_design import DESIGN_FILES, emit_design
from bitlogic.netlist.ir import LogicNetlist
from bitlogic.registry import Registry

SCRIPT_FILE = "synth.ys"
STAT_FILE = "synth_stat.txt"
LTP_FILE = "synth_ltp.txt"


@dataclass(frozen=True)
class SynthFlow:
    """One yosys target: what runs between reading the design and the report.

    Attributes:
        passes: yosys passes, one per line.
        depth_cells: cell selection suffix for ``ltp`` (what depth is measured
            over; flip-flops and I/O buffers excluded); empty for all cells.
    """

    passes: str
    depth_cells: str = ""


FLOWS: Registry[SynthFlow] = Registry("synth target", ValueError)
# LUT layers and GroupSum are mapped as separate modules and flattened only for
# the report: mapped together, abc ran for many minutes on nets it otherwise
# maps in seconds.
FLOWS.register("lut6", SynthFlow(
    "proc\nlut2mux\ntechmap\nopt -fast\nabc -lut 6\nopt_clean\nflatten\nopt_clean"))
FLOWS.register("xilinx", SynthFlow(
    "proc\nlut2mux\nsynth_xilinx -top bitlogic_net\nflatten\nopt_clean",
    " t:FD* t:*BUF* t:INV %u %u %n"))

_LUT_CELL = re.compile(r"^(\$lut|LUT[1-6])$")
_FF_CELL = re.compile(r"^(\$_?s?dff\w*|\$_DFF\w*|FD\w+)$", re.IGNORECASE)


def render_synth_script(target: str = "lut6") -> str:
    """Text of ``synth.ys`` for ``target`` (a name in ``FLOWS``: ``"lut6"``, ``"xilinx"``).

    Raises:
        ValueError: unknown ``target`` (the message lists the valid ones).
    """
    flow = FLOWS.get(target)
    return render_template(
        "synth.ys.tmpl",
        target=target,
        design_file=DESIGN_FILES["cells"],
        flow=flow.passes,
        depth_cells=flow.depth_cells,
        stat_file=STAT_FILE,
        ltp_file=LTP_FILE,
    )


def parse_stat(text: str) -> dict[str, int]:
    """Cell counts by type from yosys ``stat`` output (the last module listed)."""
    cells: dict[str, int] = {}
    in_cells = False
    for line in text.splitlines():
        if re.match(r"^\s*===", line):
            cells, in_cells = {}, False
        elif re.match(r"^\s*Number of cells:", line):
            in_cells = True
        elif in_cells:
            match = re.match(r"^\s+(\S+)\s+(\d+)\s*$", line)
            if match:
                cells[match.group(1)] = int(match.group(2))
            elif line.strip():
                in_cells = False
    return cells


def parse_ltp(text: str) -> int:
    """Longest topological path length from yosys ``ltp`` output.

    Raises:
        ValueError: no ``length=`` figure in the text.
    """
    match = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", text)
    if match is None:
        raise ValueError(f"no 'Longest topological path' line in yosys ltp output:\n{text}")
    return int(match.group(1))


def synth_report(
    netlist_or_dir: LogicNetlist | str | Path,
    target: str = "lut6",
    timeout: float | None = None,
) -> dict[str, object]:
    """Synthesize ``bitlogic_net`` with yosys and report its size and depth.

    Args:
        netlist_or_dir: a netlist (emitted to a temporary directory), or a
            directory holding ``bitlogic_net_cells.v`` from :func:`emit_verilog`.
        target: a name in ``FLOWS``: ``"lut6"`` (generic ``abc -lut 6``
            mapping) or ``"xilinx"`` (``synth_xilinx``).
        timeout: seconds before yosys is stopped (``None``: no limit).

    Returns:
        ``{"target", "luts", "ffs", "depth", "cells", "seconds"}``: LUT cells
        after mapping, flip-flops, the longest combinational path in cells
        (yosys ``ltp -noff`` over logic cells: LUT levels of the layers, GroupSum
        and the argmax; with ``pipeline=True`` the longest register-to-register
        or register-to-output path),
        every cell type's count, and yosys's wall time.

    Raises:
        RuntimeError: yosys is not installed, failed (its output included) or
            ran past ``timeout``.
    """
    yosys = shutil.which("yosys")
    if yosys is None:
        raise RuntimeError("yosys not found on PATH (apt-get install yosys)")
    script = render_synth_script(target)
    with tempfile.TemporaryDirectory(prefix="bitlogic-synth-") as tmp:
        work = Path(tmp)
        if isinstance(netlist_or_dir, LogicNetlist):
            emit_design(netlist_or_dir, work)
        else:
            shutil.copy(Path(netlist_or_dir) / DESIGN_FILES["cells"], work)
        (work / SCRIPT_FILE).write_text(script)
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [yosys, "-q", SCRIPT_FILE], cwd=work, capture_output=True, text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"yosys did not finish within {timeout} s") from None
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"yosys failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        cells = parse_stat((work / STAT_FILE).read_text())
        depth = parse_ltp((work / LTP_FILE).read_text())
    return {
        "target": target,
        "luts": sum(n for name, n in cells.items() if _LUT_CELL.match(name)),
        "ffs": sum(n for name, n in cells.items() if _FF_CELL.match(name)),
        "depth": depth,
        "cells": cells,
        "seconds": round(seconds, 2),
    }
