"""``emit_aiger``: the combinational design as an AIGER and-inverter graph, through yosys.

For ABC and formal tools. yosys reads the yosys-cell flavour of the design,
flattens it, turns every ``$lut`` into muxes and every gate into AND and NOT
(``lut2mux; techmap; aigmap``) and writes ``write_aiger``. AIGER input ``i``
is ``x[i]``; the outputs are the bits of ``scores`` (LSB first), then those of
``pred``, as in the Verilog ports (:mod:`bitlogic.backends.verilog_design`).
The map file says so line by line (``input <i> <bit> x``, ``output <i> <bit>
scores``); it is written here, after checking yosys's own map against that
order, because yosys leaves constant outputs out of its map.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bitlogic.backends._template import render_template
from bitlogic.backends.design_name import DEFAULT_DESIGN_NAME
from bitlogic.backends.hdl_bundle import HdlBundle
from bitlogic.backends.synth.tools import find_yosys, run_tool
from bitlogic.backends.verilog_design import render_verilog
from bitlogic.backends.verilog_interface import pred_width, score_width
from bitlogic.netlist.ir import LogicNetlist


def emit_aiger(
    netlist: LogicNetlist,
    out_dir: str | Path,
    name: str = DEFAULT_DESIGN_NAME,
    ascii: bool = False,
    simplify: bool = True,
    timeout: float | None = None,
) -> list[Path]:
    """Write ``<name>.aig`` (or ``.aag`` with ``ascii``) and ``<name>.aig.map``.

    Args:
        netlist: the network (validated here).
        out_dir: directory to write into (created if missing).
        name: the design name (an identifier), also the file stem.
        ascii: write the ASCII AIGER format (``aag``) instead of binary.
        simplify: convert :meth:`LogicNetlist.simplify`'s equivalent netlist.
        timeout: seconds before yosys is stopped (``None``: no limit).

    Returns:
        ``[AIGER file, map file]``.

    Raises:
        RuntimeError: yosys is missing, failed or ran past ``timeout``.
    """
    bundle = HdlBundle(name)
    netlist = netlist.simplify()[0] if simplify else netlist.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.{'aag' if ascii else 'aig'}"
    map_file = out / f"{name}.aig.map"
    yosys = find_yosys()
    with tempfile.TemporaryDirectory(prefix="bitlogic-aiger-") as tmp:
        work = Path(tmp)
        design = Path(bundle.cells).name
        (work / design).write_text(render_verilog(netlist, "cells", name=name))
        # yosys writes into the temporary folder: its script syntax has no quoting for paths
        (work / "aiger.ys").write_text(render_template(
            "aiger.ys.tmpl", module=name, design_file=design, ascii=" -ascii" if ascii else "",
            map_file=map_file.name, aiger_file=target.name))
        run_tool([yosys, "-q", "aiger.ys"], work, timeout, "yosys")
        expected = port_map(netlist)
        header = (work / target.name).read_bytes().split(b"\n", 1)[0].decode().split()
        inputs, outputs = int(header[2]), int(header[4])
        unexpected = set((work / map_file.name).read_text().splitlines()) - set(expected)
        if unexpected or inputs + outputs != len(expected) or inputs != netlist.num_inputs:
            # the documented order is what users rely on
            raise RuntimeError(f"yosys wrote {inputs} inputs and {outputs} outputs, ports "
                               f"{sorted(unexpected)} off the documented order")
        shutil.copyfile(work / target.name, target)
    map_file.write_text("\n".join(expected) + "\n")
    return [target, map_file]


def port_map(netlist: LogicNetlist) -> list[str]:
    """The map lines: every input bit of ``x``, then every bit of ``scores`` and ``pred``."""
    outputs = [("scores", b) for b in range(netlist.num_classes * score_width(netlist))]
    outputs += [("pred", b) for b in range(pred_width(netlist))]
    return ([f"input {i} {i} x" for i in range(netlist.num_inputs)]
            + [f"output {k} {bit} {port}" for k, (port, bit) in enumerate(outputs)])
