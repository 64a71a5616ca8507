"""``emit_verilog``: one clean HDL bundle -- design, file list, testbench, build scripts.

The folder holds (names for ``name="bitlogic_net"``, see
:mod:`bitlogic.backends.hdl_bundle`):

* ``bitlogic_net.v`` -- the design in plain Verilog-2005, one module: what
  a simulator or a vendor project takes; ``files.f`` lists it;
* ``bitlogic_net_tb.v`` + ``bitlogic_net_vectors.hex`` -- a testbench that
  replays vectors from the reference interpreter, prints ``PASS`` or exits
  non-zero through ``$fatal``; runs under ``iverilog -g2012`` and
  ``verilator --binary`` (commands in its header);
* ``bitlogic_net_vivado.tcl`` + ``bitlogic_net_ooc.xdc``,
  ``bitlogic_net_quartus.tcl`` + ``bitlogic_net.sdc`` -- vendor builds;
* ``yosys/bitlogic_net_cells.v`` + ``yosys/synth.ys`` -- the same design as
  yosys ``$lut`` cells, mapped to 6-input LUTs in seconds.

Every file starts with a header giving its own name, the ports, the latency
and the bit order. Ports: :mod:`bitlogic.backends.verilog_design`.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import numpy as np

from bitlogic.backends.design_name import DEFAULT_DESIGN_NAME
from bitlogic.backends.fixed_point import FixedPoint
from bitlogic.backends.hdl_bundle import FILE_LIST, HdlBundle
from bitlogic.backends.synth import render_synth_script
from bitlogic.backends.verilog_design import emit_design
from bitlogic.backends.verilog_interface import interface_lines
from bitlogic.backends.verilog_testbench import emit_testbench, random_inputs, simulator_commands
from bitlogic.backends.verilog_vendor import DEFAULT_CLOCK_NS, emit_vendor_scripts
from bitlogic.netlist.ir import LogicNetlist


class InputEncoder(str, Enum):
    """Where the thermometer comparisons happen."""

    OFFCHIP = "offchip"  # the design takes the thermometer bits x
    ONCHIP = "onchip"  # the design takes fixed-point features and compares them itself


def emit_verilog(
    netlist: LogicNetlist,
    out_dir: str | Path,
    pipeline: bool = False,
    test_inputs: np.ndarray | None = None,
    num_test_vectors: int = 64,
    seed: int = 0,
    simplify: bool = True,
    *,
    name: str = DEFAULT_DESIGN_NAME,
    encoder: str | InputEncoder = InputEncoder.OFFCHIP,
    feature_width: int | None = None,
    feature_frac_bits: int | None = None,
    feature_signed: bool | None = None,
    clock_period_ns: float = DEFAULT_CLOCK_NS,
) -> list[Path]:
    """Write the HDL bundle of design ``name`` into ``out_dir``.

    Args:
        netlist: the network (validated here).
        out_dir: directory to write into (created if missing).
        pipeline: register every layer and the GroupSum/argmax outputs (ports
            ``clk``, ``rst``, ``in_valid``, ``out_valid``; latency
            ``len(layers) + 1`` cycles, + 1 with on-chip encoding).
        test_inputs: testbench inputs as the netlist takes them (features with
            an encoding, else bits), ``(n, input_width)``; default
            ``num_test_vectors`` random ones drawn with ``seed``.
        num_test_vectors: how many random vectors when ``test_inputs`` is None.
        seed: seed of the random vectors.
        simplify: emit :meth:`LogicNetlist.simplify`'s equivalent, smaller
            netlist (same ports and results).
        name: module, file-name and symbol prefix; an identifier.
        encoder: ``"offchip"`` (port ``x``: thermometer bits) or ``"onchip"``
            (port ``features``: fixed-point features compared on chip).
        feature_width, feature_frac_bits, feature_signed: the on-chip feature
            format (:class:`~bitlogic.backends.fixed_point.FixedPoint`; signed
            unless ``feature_signed=False``); width and fraction bits are
            required with ``"onchip"``, and all three refused otherwise.
        clock_period_ns: the clock constraint written into the XDC and SDC.

    Returns:
        Paths written: design, ``files.f``, testbench, vectors, the four
        vendor files, the yosys-cell design and ``yosys/synth.ys``.

    Raises:
        ValueError: a bad ``name``, ``encoder``, feature format or test input.

    Example:
        >>> import numpy as np, tempfile
        >>> from bitlogic.netlist import LogicNetlist, NetlistLayer
        >>> xor = NetlistLayer(np.array([[0, 1]], np.int32), np.array([[0, 1, 1, 0]], np.uint8))
        >>> net = LogicNetlist(2, [xor], num_classes=1, tau=1.0)
        >>> emit_verilog(net, tempfile.mkdtemp(), name="xor_net")[0].name
        'xor_net.v'
    """
    bundle = HdlBundle(name)
    fixed_point = _feature_format(encoder, feature_width, feature_frac_bits, feature_signed)
    netlist = netlist.simplify()[0] if simplify else netlist.validate()
    if test_inputs is None:
        if num_test_vectors < 1:
            raise ValueError(f"num_test_vectors must be >= 1, got {num_test_vectors}")
        test_inputs = random_inputs(netlist, num_test_vectors, seed, fixed_point)
    if len(test_inputs) < 1:
        raise ValueError("test_inputs must hold at least one vector")
    out = Path(out_dir)
    design, cells = emit_design(netlist, out, pipeline, name, fixed_point)
    files = out / FILE_LIST
    files.write_text(render_file_list(bundle))
    paths = [design, files]
    paths += emit_testbench(netlist, out, test_inputs, pipeline, name, fixed_point)
    interface = interface_lines(netlist, bundle, pipeline, fixed_point)
    port = "x" if fixed_point is None else "features"
    paths += emit_vendor_scripts(out, bundle, pipeline, port, interface, clock_period_ns)
    script = out / bundle.synth_script
    script.write_text(render_synth_script("lut6", Path(bundle.cells).name, name))
    return [*paths, cells, script]


def render_file_list(bundle: HdlBundle) -> str:
    """Text of ``files.f``: a comment header, then the RTL files, one per line."""
    commands = simulator_commands(bundle)
    lines = [
        f"// {FILE_LIST} -- generated by bitlogic: the RTL of {bundle.name}, in compile order.",
        "// Add these files to a project, or give the list to a simulator from this folder:",
        f"//   $ {commands['icarus']}",
        f"//   $ {commands['verilator']}",
        f"// The design's ports, latency and bit order are in the header of {bundle.design}.",
        *bundle.rtl_files,
    ]
    return "\n".join(lines) + "\n"


def _feature_format(encoder: str | InputEncoder, width: int | None, frac_bits: int | None,
                    signed: bool | None) -> FixedPoint | None:
    """The on-chip feature format, or None for off-chip encoding."""
    try:
        kind = InputEncoder(encoder)
    except ValueError:
        raise ValueError(f"encoder must be one of {[e.value for e in InputEncoder]}, "
                         f"got {encoder!r}") from None
    if kind is InputEncoder.OFFCHIP:
        if width is not None or frac_bits is not None or signed is not None:
            raise ValueError("feature_width, feature_frac_bits and feature_signed describe "
                             "on-chip features; pass them with encoder='onchip'")
        return None
    if width is None or frac_bits is None:
        raise ValueError("encoder='onchip' needs feature_width and feature_frac_bits "
                         f"(got {width!r} and {frac_bits!r})")
    return FixedPoint(width, frac_bits, True if signed is None else signed)
