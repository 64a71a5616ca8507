"""Build scripts for vendor tools: Vivado (non-project, out of context) and Quartus.

Neither tool runs here; the scripts are tested by running them under plain
``tclsh`` with every vendor command recorded instead of executed
(``tests/backends/test_verilog_vendor.py``). The constraints time the design
at the clock period given at export: pipelined, on ``clk``; combinational, on
a virtual clock from the input ports to the output ports. XDC and SDC share
the same commands, so both files hold the same constraint text.
"""

from __future__ import annotations

import math
from pathlib import Path

from bitlogic.backends._template import render_template
from bitlogic.backends.hdl_bundle import HdlBundle
from bitlogic.backends.verilog_interface import file_header

DEFAULT_CLOCK_NS = 5.0
VIVADO_PART = "xcvu9p-flga2104-2L-e"  # the part LUT-network papers report on
QUARTUS_FAMILY, QUARTUS_DEVICE = "Cyclone V", "5CSEMA5F31C6"


def check_clock_period(clock_period_ns: object) -> float:
    """Return the period as a float.

    Raises:
        ValueError: not a finite number > 0.
    """
    if (isinstance(clock_period_ns, bool) or not isinstance(clock_period_ns, (int, float))
            or not math.isfinite(clock_period_ns) or clock_period_ns <= 0):
        raise ValueError(f"clock_period_ns must be a finite number > 0, got {clock_period_ns!r}")
    return float(clock_period_ns)


def constraint_lines(pipeline: bool, input_port: str, period_ns: float) -> list[str]:
    """Timing constraints valid as XDC and as SDC."""
    inputs, outputs = [f"{input_port}[*]"], ["scores[*]", "pred[*]"]
    if pipeline:
        clock = "clk"
        lines = [f"create_clock -name clk -period {period_ns:.3f} [get_ports clk]"]
        inputs, outputs = ["rst", "in_valid", *inputs], [*outputs, "out_valid"]
    else:
        clock = "vclk"
        lines = ["# purely combinational: a virtual clock times inputs -> outputs",
                 f"create_clock -name vclk -period {period_ns:.3f}"]
    return [*lines,
            f"set_input_delay -clock {clock} 0.000 [get_ports {{{' '.join(inputs)}}}]",
            f"set_output_delay -clock {clock} 0.000 [get_ports {{{' '.join(outputs)}}}]"]


def emit_vendor_scripts(out_dir: str | Path, bundle: HdlBundle, pipeline: bool,
                        input_port: str, interface: list[str],
                        clock_period_ns: float = DEFAULT_CLOCK_NS) -> list[Path]:
    """Write the Vivado Tcl + XDC and the Quartus Tcl + SDC of ``bundle``.

    Args:
        out_dir: the bundle folder.
        bundle: the file names.
        pipeline: whether the design has ``clk`` (else a virtual clock).
        input_port: ``x`` or ``features``.
        interface: the design's header lines (ports, latency).
        clock_period_ns: the clock constraint.

    Returns:
        ``[vivado tcl, xdc, quartus tcl, sdc]``.
    """
    period = check_clock_period(clock_period_ns)
    constraints = "\n".join(constraint_lines(pipeline, input_port, period))
    scalars = ["rst", "in_valid", "out_valid"] if pipeline else []
    pins = [f"{{{p}[*]}}" for p in (input_port, "scores", "pred")] + scalars
    texts = {
        bundle.vivado_tcl: render_template(
            "vivado.tcl.tmpl",
            header=_header(bundle.vivado_tcl, [
                f"Vivado non-project, out-of-context build of {bundle.name} (synthesis, place,",
                "route, utilization and timing reports). Run from anywhere:",
                f"  vivado -mode batch -source {bundle.vivado_tcl} -tclargs [PART] [OUT_DIR]",
                f"PART defaults to {VIVADO_PART}; OUT_DIR to {bundle.name}_vivado/ here.",
                f"Constraints: {bundle.xdc} (clock period {period:.3f} ns, set at export).",
            ], interface),
            part=VIVADO_PART, module=bundle.name, design=bundle.design, xdc=bundle.xdc),
        bundle.xdc: render_template(
            "constraints.tmpl",
            header=_header(bundle.xdc, [
                f"Out-of-context timing constraints of {bundle.name} for Vivado "
                f"(read by {bundle.vivado_tcl}).",
                f"Clock period {period:.3f} ns (bitlogic export --clock-ns / "
                "emit_verilog(clock_period_ns=...)).",
            ], interface),
            constraints=constraints),
        bundle.quartus_tcl: render_template(
            "quartus.tcl.tmpl",
            header=_header(bundle.quartus_tcl, [
                f"Quartus build of {bundle.name} with its data ports as virtual pins "
                "(out of context). Run:",
                f"  quartus_sh -t {bundle.quartus_tcl} [FAMILY] [DEVICE] [OUT_DIR]",
                f"FAMILY/DEVICE default to \"{QUARTUS_FAMILY}\" {QUARTUS_DEVICE}; OUT_DIR to "
                f"{bundle.name}_quartus/ here.",
                f"Constraints: {bundle.sdc} (clock period {period:.3f} ns, set at export).",
            ], interface),
            family=QUARTUS_FAMILY, device=QUARTUS_DEVICE, module=bundle.name,
            design=bundle.design, sdc=bundle.sdc, virtual_pins=" ".join(pins)),
        bundle.sdc: render_template(
            "constraints.tmpl",
            header=_header(bundle.sdc, [
                f"Timing constraints of {bundle.name} for Quartus (read by "
                f"{bundle.quartus_tcl}).",
                f"Clock period {period:.3f} ns (bitlogic export --clock-ns / "
                "emit_verilog(clock_period_ns=...)).",
            ], interface),
            constraints=constraints),
    }
    out = Path(out_dir)
    paths = []
    for filename, text in texts.items():
        (out / filename).write_text(text)
        paths.append(out / filename)
    return paths


def _header(filename: str, purpose: list[str], interface: list[str]) -> str:
    return file_header(filename, purpose, interface, comment="#")
