"""yosys flows, the bundle's ``synth.ys`` and parsing what yosys prints (0.23 and 0.70)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bitlogic.backends._template import render_template
from bitlogic.registry import Registry

SCRIPT_FILE = "synth.ys"
STAT_FILE = "synth_stat.txt"
LTP_FILE = "synth_ltp.txt"


@dataclass(frozen=True)
class SynthFlow:
    """One yosys target: what runs between reading the design and the report.

    Attributes:
        passes: yosys passes, one per line, run with the hierarchy kept (each
            module is mapped alone); ``{top}`` is replaced by the top module.
        depth_cells: cell selection suffix for ``ltp`` (what depth is measured
            over; flip-flops and I/O buffers excluded); empty for all cells.
        lut_cells: regular expression of the cell types counted as LUTs.
        place_and_route: the place-and-route step after synthesis (``"ecp5"``),
            or empty for a synthesis-only report.
        whole: flatten before mapping, so abc sees the whole net at once (merges
            across part boundaries; no per-part counts; slow on big nets).
        count_layers: the LUT layers are counted
            (:mod:`~bitlogic.backends.synth.lut_count`, what the passes would
            give) instead of mapped; yosys maps the GroupSum and the argmax.
    """

    passes: str
    depth_cells: str = ""
    lut_cells: str = r"^(\$lut|LUT[1-6])$"
    place_and_route: str = ""
    whole: bool = False
    count_layers: bool = False


FLOWS: Registry[SynthFlow] = Registry("synth target", ValueError)
# Each part is already a net of LUTs of at most 6 inputs, so abc's fast script
# (no &fraig / dch / mfs2) maps it as well as the full one, in a fraction of the
# time (mnist-s, 39K LUTs: about 100 s in all; the full script was still in
# the GroupSum's abc after 3 minutes). A layer mapped alone is one LUT6 per
# distinct function, so it is counted, not mapped.
# "lut6-whole" is the slow reference: the full script over the flattened net,
# which may merge LUTs across layers.
FLOWS.register("lut6", SynthFlow("proc\nlut2mux\ntechmap\nabc -fast -lut 6\nopt_clean",
                                 count_layers=True))
FLOWS.register("lut6-whole", SynthFlow("proc\nlut2mux\ntechmap\nopt -fast\nabc -lut 6\nopt_clean",
                                       whole=True))
FLOWS.register("xilinx", SynthFlow(
    "proc\nlut2mux\nsynth_xilinx -top {top}\nopt_clean", " t:FD* t:*BUF* t:INV %u %u %n"))
FLOWS.register("ecp5", SynthFlow(
    "proc\nlut2mux\nsynth_ecp5 -top {top} -noflatten\nopt_clean", " t:TRELLIS_FF %n",
    lut_cells=r"^LUT4$", place_and_route="ecp5"))

FF_CELL = re.compile(r"^(\$_?s?dff\w*|\$_DFF\w*|FD\w+|TRELLIS_FF)$", re.IGNORECASE)


def render_synth_script(target: str = "lut6", design_file: str = "bitlogic_net_cells.v",
                        top: str = "bitlogic_net") -> str:
    """Text of the bundle's ``synth.ys`` for ``target`` (a name in ``FLOWS``).

    Args:
        target: the flow.
        design_file: the yosys-cells design the script reads (``read_verilog -icells``).
        top: its top module.

    Raises:
        ValueError: unknown ``target`` (the message lists the valid ones).
    """
    flow = FLOWS.get(target)
    return render_template(
        "synth.ys.tmpl",
        target=target,
        top=top,
        design_file=design_file,
        flow=flow.passes.format(top=top) + "\nflatten\nopt_clean",
        depth_cells=flow.depth_cells,
        stat_file=STAT_FILE,
        ltp_file=LTP_FILE,
    )


def parse_stat_modules(text: str) -> dict[str, dict[str, int]]:
    """Cell counts by type of every module in yosys ``stat`` output.

    Reads both layouts: yosys 0.23 (``Number of cells:`` then ``name count``)
    and 0.70 (``N cells`` then ``count   name``). The totals of a hierarchy are
    under ``"design hierarchy"``; submodule instances are not counted as cells.
    """
    modules: dict[str, dict[str, int]] = {}
    cells: dict[str, int] | None = None
    in_cells = False
    for line in text.splitlines():
        header = re.match(r"^\s*=== (.+) ===\s*$", line)
        if header:
            cells = modules.setdefault(header.group(1), {})
            in_cells = False
        elif cells is None:
            continue
        elif re.match(r"^\s*(Number of cells:\s+\d+|\d+ cells)\s*$", line):
            in_cells = True
        elif in_cells:
            old = re.match(r"^\s+([$\\\w.:]+)\s+(\d+)\s*$", line)
            new = re.match(r"^\s+(\d+)\s{3,}([$\\\w.:]+)\s*$", line)
            if new:
                cells[new.group(2)] = int(new.group(1))
            elif old:
                cells[old.group(1)] = int(old.group(2))
            else:
                in_cells = False
    for name, counts in modules.items():  # 0.23 lists submodule instances among the cells
        for sub in [c for c in counts if c in modules and c != name]:
            del counts[sub]
    return modules


def parse_stat(text: str) -> dict[str, int]:
    """Cell counts by type from yosys ``stat`` output (the last module listed)."""
    modules = parse_stat_modules(text)
    return list(modules.values())[-1] if modules else {}


def parse_ltp_modules(text: str) -> dict[str, int]:
    """Longest topological path length of every module in yosys ``ltp`` output."""
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"Longest topological path in (\S+) \(length=(\d+)\)", text)}


def parse_ltp(text: str) -> int:
    """Longest topological path length from yosys ``ltp`` output (the first module).

    Raises:
        ValueError: no ``length=`` figure in the text.
    """
    lengths = parse_ltp_modules(text)
    if not lengths:
        raise ValueError(f"no 'Longest topological path' line in yosys ltp output:\n{text}")
    return next(iter(lengths.values()))
