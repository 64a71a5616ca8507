"""Synthesis and place-and-route reports: LUTs, depth, Fmax and latency, part by part.

* :func:`synth_report` -- yosys ``abc -fast -lut 6`` part by part (``"lut6"``),
  the full ``abc -lut 6`` over the flattened net (``"lut6-whole"``),
  ``synth_xilinx`` (``"xilinx"``) or ``synth_ecp5`` + ``nextpnr-ecp5``
  (``"ecp5"``, :func:`ecp5_report`; :class:`RouteError` when nextpnr fails) on the
  simplified netlist;
* :data:`FLOWS` -- the registry of targets (:class:`SynthFlow`);
* :func:`render_synth_script` -- the ``synth.ys`` an HDL bundle carries.
"""

from bitlogic.backends.synth.design import render_part_design
from bitlogic.backends.synth.ecp5 import RouteError, ecp5_report
from bitlogic.backends.synth.report import synth_report
from bitlogic.backends.synth.tools import FPGA_EXTRA, find_nextpnr_ecp5, find_yosys
from bitlogic.backends.synth.yosys import (
    FLOWS,
    LTP_FILE,
    SCRIPT_FILE,
    STAT_FILE,
    SynthFlow,
    parse_ltp,
    parse_ltp_modules,
    parse_stat,
    parse_stat_modules,
    render_synth_script,
)

__all__ = [
    # reports
    "synth_report",
    "ecp5_report",
    "RouteError",
    # flows and the bundle's script
    "FLOWS",
    "SynthFlow",
    "render_synth_script",
    "render_part_design",
    "SCRIPT_FILE",
    "STAT_FILE",
    "LTP_FILE",
    # tools
    "FPGA_EXTRA",
    "find_yosys",
    "find_nextpnr_ecp5",
    # parsing yosys output
    "parse_stat",
    "parse_stat_modules",
    "parse_ltp",
    "parse_ltp_modules",
]
