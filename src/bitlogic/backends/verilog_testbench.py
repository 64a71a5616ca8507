"""Self-checking testbench of a design and its vectors from the reference interpreter.

The testbench replays ``<name>_vectors.hex`` and checks every output
(``$fatal`` on any mismatch, so the simulator exits non-zero). Pipelined, it
sends one vector per cycle with bubbles and checks that each result comes
out, with ``out_valid``, exactly ``design_latency`` cycles after its input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bitlogic.backends._template import render_template
from bitlogic.backends.design_name import DEFAULT_DESIGN_NAME
from bitlogic.backends.fixed_point import FixedPoint, fixed_point_thresholds
from bitlogic.backends.hdl_bundle import HdlBundle
from bitlogic.backends.verilog_interface import (
    design_latency,
    file_header,
    input_port_width,
    interface_lines,
    pred_width,
    score_width,
)
from bitlogic.netlist.ir import LogicNetlist
from bitlogic.netlist.reference import (
    encode_inputs,
    evaluate_layers,
    group_counts,
    predict_from_counts,
)

# (harness template, stimulus template) per design kind.
_HARNESS = {
    False: ("tb_combinational.v.tmpl", "tb_combinational_stimulus.v.tmpl"),
    True: ("tb_pipeline.v.tmpl", "tb_pipeline_stimulus.v.tmpl"),
}


def simulator_commands(bundle: HdlBundle) -> dict[str, str]:
    """Shell commands, run in the bundle folder, that build and run the testbench.

    Headers quote them after a ``$`` prompt: a comment that starts with the
    word "verilator" is a Verilator directive.

    ``-g2012`` lets Icarus accept ``$fatal``; Verilator's ``--binary`` builds
    an executable with ``--timing`` for the testbench's delays.
    """
    sim = f"{bundle.name}_sim"
    return {
        "icarus": f"iverilog -g2012 -o {sim} -c files.f {bundle.testbench} && vvp -n {sim}",
        "verilator": (f"verilator --binary --top-module {bundle.testbench_module} -f files.f "
                      f"{bundle.testbench} && ./obj_dir/V{bundle.testbench_module}"),
    }


def random_inputs(netlist: LogicNetlist, count: int, seed: int = 0,
                  fixed_point: FixedPoint | None = None) -> np.ndarray:
    """Test inputs for ``netlist``: features around the thresholds, or random bits.

    With ``fixed_point``, the features are exact values of that format: half
    drawn uniformly over its range, half on or next to a comparison bound.

    Returns:
        float32 ``(count, num_features)`` with an encoding, else bool
        ``(count, num_inputs)``.
    """
    rng = np.random.default_rng(seed)
    enc = netlist.encoding
    if enc is None:
        return rng.random((count, netlist.num_inputs)) < 0.5
    if fixed_point is not None:
        rule = fixed_point_thresholds(netlist, fixed_point)
        lo, hi = fixed_point.min_int, fixed_point.max_int
        q = rng.integers(lo, hi, size=(count, enc.num_features), endpoint=True)
        bounds = rule.bound.reshape(enc.num_features, enc.num_thresholds)
        pick = rng.integers(0, enc.num_thresholds, size=q.shape)
        near = bounds[np.arange(enc.num_features), pick] + rng.integers(-1, 2, size=q.shape)
        edge = rng.random(q.shape) < 0.5
        q = np.where(edge, np.clip(near, lo, hi), q)
        return fixed_point.dequantize(q)
    # around the thresholds the caller's (raw) features meet; infinite ones mark constant bits
    thr = np.where(np.isfinite(enc.raw_thresholds), enc.raw_thresholds, np.nan)
    lo = np.nan_to_num(np.fmin.reduce(thr, axis=1))
    hi = np.nan_to_num(np.fmax.reduce(thr, axis=1))
    span = np.maximum(hi - lo, 1.0)
    u = rng.random((count, enc.num_features)) * 1.4 - 0.2
    return (lo + u * span).astype(np.float32)


def input_words(netlist: LogicNetlist, inputs: np.ndarray,
                fixed_point: FixedPoint | None) -> tuple[list[int], np.ndarray]:
    """The input field of each vector and the input bits the netlist sees.

    Off-chip encoding: the thermometer bits (bit ``i`` is ``x[i]``). On-chip:
    feature ``f``'s integer in bits ``[f*W +: W]`` (two's complement), and
    the bits of the dequantized features.

    Returns:
        ``(words, bits)``: one int per vector, bool ``(n, num_inputs)``.
    """
    if fixed_point is None:
        bits = encode_inputs(netlist, inputs)
        return [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little")
                for row in bits], bits
    q = fixed_point.quantize(inputs)
    bits = encode_inputs(netlist, fixed_point.dequantize(q))
    w, mask = fixed_point.width, (1 << fixed_point.width) - 1
    words = [sum((int(v) & mask) << (f * w) for f, v in enumerate(row)) for row in q]
    return words, bits


def vector_lines(netlist: LogicNetlist, words: list[int], counts: np.ndarray,
                 pred: np.ndarray, in_width: int) -> list[str]:
    """``$readmemh`` lines: one hex word ``{input, scores, pred}`` per vector.

    Args:
        netlist: the network (for the field widths).
        words: the input field of each vector (``in_width`` bits).
        counts: int ``(n, num_classes)``; class 0 ends up in the lowest bits.
        pred: int ``(n,)``.
        in_width: bits of the input field.
    """
    sw, pw = score_width(netlist), pred_width(netlist)
    out_width = netlist.num_classes * sw + pw
    digits = -(-(in_width + out_width) // 4)
    lines = []
    for x, row_counts, p in zip(words, counts, pred, strict=True):
        scores = sum(int(c) << (i * sw) for i, c in enumerate(row_counts))
        word = (x << out_width) | (scores << pw) | int(p)
        lines.append(f"{word:0{digits}x}")
    return lines


def render_testbench(netlist: LogicNetlist, num_vectors: int, pipeline: bool,
                     name: str = DEFAULT_DESIGN_NAME,
                     fixed_point: FixedPoint | None = None) -> str:
    """Text of ``<name>_tb.v`` for a design emitted with the same arguments."""
    bundle = HdlBundle(name)
    sw, pw = score_width(netlist), pred_width(netlist)
    harness, stimulus = _HARNESS[pipeline]
    commands = simulator_commands(bundle)
    purpose = [
        f"Self-checking testbench of {name}: replays {bundle.vectors}, one {{input, scores,",
        "pred} vector per line in hex computed by bitlogic's reference interpreter, prints",
        'one "FAIL vector ..." line per mismatch and ends with "PASS" (exit status 0) or',
        '$fatal (non-zero exit status).' + (" Pipelined: checks out_valid on every cycle"
                                           if pipeline else ""),
    ]
    if pipeline:
        purpose.append("and that each result appears exactly LATENCY cycles after its input.")
    purpose += ["Run from this folder (-g2012 lets Icarus take $fatal; --binary builds with "
                "--timing):", f"  $ {commands['icarus']}", f"  $ {commands['verilator']}"]
    port = "features" if fixed_point is not None else "x"
    return render_template(
        "testbench.v.tmpl",
        header=file_header(bundle.testbench, purpose,
                           interface_lines(netlist, bundle, pipeline, fixed_point)),
        tb_module=bundle.testbench_module,
        vectors_file=bundle.vectors,
        in_width=input_port_width(netlist, fixed_point),
        out_width=netlist.num_classes * sw + pw,
        num_vectors=num_vectors,
        latency=design_latency(netlist, pipeline, fixed_point),
        scores_width=netlist.num_classes * sw,
        pred_width=pw,
        harness=render_template(harness, module=name, input_port=port).rstrip("\n"),
        stimulus=render_template(stimulus).rstrip("\n"),
    )


def emit_testbench(
    netlist: LogicNetlist,
    out_dir: str | Path,
    inputs: np.ndarray,
    pipeline: bool = False,
    name: str = DEFAULT_DESIGN_NAME,
    fixed_point: FixedPoint | None = None,
) -> list[Path]:
    """Write ``<name>_tb.v`` and ``<name>_vectors.hex``.

    The expected outputs come from the NumPy reference interpreter
    (:mod:`bitlogic.netlist.reference`), the semantics every backend matches;
    with ``fixed_point``, on the dequantized features.

    Args:
        netlist: the network.
        out_dir: directory holding the design.
        inputs: what the netlist takes: features with an encoding, else bits;
            ``(n, input_width)`` with ``n >= 1``. With ``fixed_point`` they
            are quantized (round half to even; out of range raises).
        pipeline, name, fixed_point: must match the emitted design.

    Returns:
        ``[testbench path, vectors path]``.
    """
    netlist.validate()
    bundle = HdlBundle(name)
    words, bits = input_words(netlist, inputs, fixed_point)
    counts = group_counts(evaluate_layers(netlist, bits), netlist.num_classes)
    pred = predict_from_counts(counts)
    in_width = input_port_width(netlist, fixed_point)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tb, vectors = out / bundle.testbench, out / bundle.vectors
    comment = [f"// {bundle.vectors} -- generated by bitlogic: {len(words)} vectors for "
               f"{bundle.testbench}, one per line:",
               f"// {{input[{in_width - 1}:0], scores, pred}} in hex, expected outputs from "
               "the reference interpreter."]
    vectors.write_text("\n".join(comment + vector_lines(netlist, words, counts, pred, in_width))
                       + "\n")
    tb.write_text(render_testbench(netlist, len(words), pipeline, name, fixed_point))
    return [tb, vectors]
