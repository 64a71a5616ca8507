"""Self-checking testbench for ``bitlogic_net`` and its vectors from the reference interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bitlogic.backends._template import render_template
from bitlogic.backends.verilog_design import pred_width, score_width
from bitlogic.netlist.ir import LogicNetlist
from bitlogic.netlist.reference import (
    encode_inputs,
    evaluate_layers,
    group_counts,
    predict_from_counts,
)

VECTORS_FILE = "bitlogic_net_vectors.hex"
TESTBENCH_FILE = "bitlogic_net_tb.v"

# (harness template, stimulus template) per design kind.
_HARNESS = {
    False: ("tb_combinational.v.tmpl", "tb_combinational_stimulus.v.tmpl"),
    True: ("tb_pipeline.v.tmpl", "tb_pipeline_stimulus.v.tmpl"),
}


def random_inputs(netlist: LogicNetlist, count: int, seed: int = 0) -> np.ndarray:
    """Test inputs for ``netlist``: features spread around the thresholds, or random bits.

    Returns:
        float32 ``(count, num_features)`` with an encoding, else bool
        ``(count, num_inputs)``.
    """
    rng = np.random.default_rng(seed)
    enc = netlist.encoding
    if enc is None:
        return rng.random((count, netlist.num_inputs)) < 0.5
    lo, hi = enc.thresholds.min(axis=1), enc.thresholds.max(axis=1)
    span = np.maximum(hi - lo, 1.0)
    u = rng.random((count, enc.num_features)) * 1.4 - 0.2
    return (lo + u * span).astype(np.float32)


def vector_lines(
    netlist: LogicNetlist, bits: np.ndarray, counts: np.ndarray, pred: np.ndarray
) -> str:
    """``$readmemh`` text: one hex word ``{x, scores, pred}`` per vector.

    Args:
        netlist: the network (for the field widths).
        bits: bool ``(n, num_inputs)`` input bits (bit ``i`` is ``x[i]``).
        counts: int ``(n, num_classes)``; class 0 ends up in the lowest bits.
        pred: int ``(n,)``.
    """
    sw, pw = score_width(netlist), pred_width(netlist)
    out_width = netlist.num_classes * sw + pw
    digits = -(-(netlist.num_inputs + out_width) // 4)
    lines = []
    for row_bits, row_counts, p in zip(bits, counts, pred, strict=True):
        x = int.from_bytes(np.packbits(row_bits, bitorder="little").tobytes(), "little")
        scores = sum(int(c) << (i * sw) for i, c in enumerate(row_counts))
        word = (x << out_width) | (scores << pw) | int(p)
        lines.append(f"{word:0{digits}x}")
    return "\n".join(lines) + "\n"


def render_testbench(netlist: LogicNetlist, num_vectors: int, pipeline: bool) -> str:
    """Text of ``bitlogic_net_tb.v`` for a design emitted with the same ``pipeline``."""
    sw, pw = score_width(netlist), pred_width(netlist)
    harness, stimulus = _HARNESS[pipeline]
    return render_template(
        "bitlogic_net_tb.v.tmpl",
        vectors_file=VECTORS_FILE,
        num_inputs=netlist.num_inputs,
        out_width=netlist.num_classes * sw + pw,
        num_vectors=num_vectors,
        latency=len(netlist.layers) if pipeline else 0,
        scores_width=netlist.num_classes * sw,
        pred_width=pw,
        harness=render_template(harness).rstrip("\n"),
        stimulus=render_template(stimulus).rstrip("\n"),
    )


def emit_testbench(
    netlist: LogicNetlist,
    out_dir: str | Path,
    inputs: np.ndarray,
    pipeline: bool = False,
) -> list[Path]:
    """Write the testbench and its vectors.

    The expected outputs come from the NumPy reference interpreter
    (:mod:`bitlogic.netlist.reference`), the semantics every backend matches.

    Args:
        netlist: the network.
        out_dir: directory holding the design.
        inputs: what the netlist takes: features with an encoding, else bits;
            ``(n, input_width)`` with ``n >= 1``.
        pipeline: must match the emitted design.

    Returns:
        ``[testbench path, vectors path]``.
    """
    netlist.validate()
    bits = encode_inputs(netlist, inputs)
    counts = group_counts(evaluate_layers(netlist, bits), netlist.num_classes)
    pred = predict_from_counts(counts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tb, vectors = out / TESTBENCH_FILE, out / VECTORS_FILE
    vectors.write_text(vector_lines(netlist, bits, counts, pred))
    tb.write_text(render_testbench(netlist, len(bits), pipeline))
    return [tb, vectors]
