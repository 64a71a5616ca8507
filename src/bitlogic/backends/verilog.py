"""``emit_verilog``: the Verilog design, its self-checking testbench and a yosys script.

Files written (see :mod:`bitlogic.backends.verilog_design` for the ports):

* ``bitlogic_net.v`` -- the design in plain Verilog, for simulators and any
  synthesis tool;
* ``bitlogic_net_cells.v`` -- the same design with every LUT as a yosys
  ``$lut`` cell, which ``synth.ys`` reads with ``read_verilog -icells``;
* ``bitlogic_net_tb.v`` + ``bitlogic_net_vectors.hex`` -- a testbench that
  replays vectors computed by the packed engine and prints ``PASS`` or
  ``FAIL <n>``;
* ``synth.ys`` -- maps the design to 6-input LUTs and writes ``stat``/``ltp``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bitlogic.backends.synth import SCRIPT_FILE, render_synth_script
from bitlogic.backends.verilog_design import emit_design
from bitlogic.backends.verilog_testbench import emit_testbench, random_inputs
from bitlogic.netlist.ir import LogicNetlist


def emit_verilog(
    netlist: LogicNetlist,
    out_dir: str | Path,
    pipeline: bool = False,
    test_inputs: np.ndarray | None = None,
    num_test_vectors: int = 64,
    seed: int = 0,
) -> list[Path]:
    """Write module ``bitlogic_net`` with its testbench and yosys script into ``out_dir``.

    Args:
        netlist: the network (validated here).
        out_dir: directory to write into (created if missing).
        pipeline: register every layer (ports ``clk``, ``rst``, ``in_valid``,
            ``out_valid``; latency ``len(netlist.layers)`` cycles).
        test_inputs: testbench inputs as the netlist takes them (features with
            an encoding, else bits), ``(n, input_width)``; default
            ``num_test_vectors`` random ones drawn with ``seed``.
        num_test_vectors: how many random vectors when ``test_inputs`` is None.
        seed: seed of the random vectors.

    Returns:
        Paths written: plain design, cell design, testbench, vectors, ``synth.ys``.

    Example:
        >>> import numpy as np, tempfile
        >>> from bitlogic.netlist import LogicNetlist, NetlistLayer
        >>> xor = NetlistLayer(np.array([[0, 1]], np.int32), np.array([[0, 1, 1, 0]], np.uint8))
        >>> net = LogicNetlist(2, [xor], num_classes=1, tau=1.0)
        >>> emit_verilog(net, tempfile.mkdtemp())[0].name
        'bitlogic_net.v'
    """
    netlist.validate()
    if test_inputs is None:
        if num_test_vectors < 1:
            raise ValueError(f"num_test_vectors must be >= 1, got {num_test_vectors}")
        test_inputs = random_inputs(netlist, num_test_vectors, seed)
    if len(test_inputs) < 1:
        raise ValueError("test_inputs must hold at least one vector")
    out = Path(out_dir)
    paths = emit_design(netlist, out, pipeline)
    paths += emit_testbench(netlist, out, test_inputs, pipeline)
    script = out / SCRIPT_FILE
    script.write_text(render_synth_script("lut6"))
    return [*paths, script]
