"""Emit a netlist as standalone C99: ``<name>.c`` + ``<name>.h``.

The generated code is data plus generic loops, laid out as the packed engine
lays its program out (:func:`~bitlogic.backends.packed_program.build_program`:
rank-1/2 LUTs sorted into runs of one function, indices remapped to that
order). That keeps the source linear in the net's size and quick to compile
even for 48K LUTs. ``<name>_eval_batch`` bit-slices 512 samples per vector
(GCC/clang vector extension; ``-DBITLOGIC_SCALAR`` for plain 64-bit words);
``<name>_eval_bits`` runs one sample without allocating. With an encoding,
``<name>_encode`` and the ``float`` entry points take the features the netlist
takes (raw ones when its encoding stores the input scaling). See the
header's comment for the input bit order and the outputs.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from bitlogic.backends._template import render_template
from bitlogic.backends.design_name import DEFAULT_DESIGN_NAME, validate_design_name
from bitlogic.backends.packed_program import PackedProgram, build_program
from bitlogic.netlist.ir import InputEncoding, LogicNetlist

_PER_LINE = 16

# Smallest unsigned C type holding a truth table of 2**rank bits, by max rank.
TABLE_TYPES = {1: "uint8_t", 2: "uint8_t", 3: "uint8_t", 4: "uint16_t", 5: "uint32_t",
               6: "uint64_t"}
_TABLE_SUFFIX = {"uint8_t": "u", "uint16_t": "u", "uint32_t": "ul", "uint64_t": "ull"}


def emit_c(netlist: LogicNetlist, out_dir: str | Path, *, name: str = DEFAULT_DESIGN_NAME,
           simplify: bool = True) -> list[Path]:
    """Write ``<name>.c`` and ``<name>.h`` into ``out_dir``.

    The C API (see the header), every symbol prefixed with ``name``:
    ``int <name>_eval_batch(const uint8_t *bits, size_t n, uint32_t *counts)``
    (row-major ``n x NUM_INPUTS`` bytes in, ``n x NUM_CLASSES`` counts out,
    single-threaded, any ``n``); per sample ``<name>_eval_bits``,
    ``<name>_scores_bits``, ``<name>_predict_bits``; with an encoding also
    ``<name>_encode`` and ``<name>_eval/_scores/_predict(const float
    *features, ...)`` and ``<name>_eval_batch_features``, where bit
    ``f * num_thresholds + t`` is ``features[f] > raw_threshold[f][t]``.
    Macros are prefixed with ``name.upper()`` (``JET_TAGGER_NUM_INPUTS``).

    Args:
        netlist: the network (validated here).
        out_dir: directory to write into (created if missing).
        name: the design name: file names and C symbol prefix; an identifier
            (see :func:`~bitlogic.backends.design_name.validate_design_name`).
        simplify: emit :meth:`LogicNetlist.simplify`'s equivalent, smaller netlist.

    Returns:
        Paths of the two files written, source first.

    Raises:
        TypeError, ValueError: ``name`` is not a valid identifier.
    """
    name = validate_design_name(name)
    netlist = netlist.simplify()[0] if simplify else netlist.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source, header = out / f"{name}.c", out / f"{name}.h"
    source.write_text(render_c_source(netlist, name))
    header.write_text(render_c_header(netlist, name))
    return [source, header]


def render_c_header(netlist: LogicNetlist, name: str = DEFAULT_DESIGN_NAME) -> str:
    """Text of ``<name>.h``."""
    enc = netlist.encoding
    if enc is None:
        order = "There is no input encoding: callers pass the bits themselves."
        encoding_api = ""
    else:
        order = (f"With the encoding, bit f * {enc.num_thresholds} + t is "
                 f"features[f] > raw_threshold[f][t] ({name}_encode).")
        encoding_api = render_template(
            "c_encoding.h.tmpl", design=name, DESIGN=name.upper(), num_features=enc.num_features,
            num_thresholds=enc.num_thresholds, scaling_doc=_scaling_doc(enc),
        )
    return render_template(
        "c_net.h.tmpl",
        design=name,
        DESIGN=name.upper(),
        bit_order_doc=order,
        num_inputs=netlist.num_inputs,
        num_classes=netlist.num_classes,
        group_size=netlist.group_size,
        max_width=max(netlist.num_inputs, *(layer.n_out for layer in netlist.layers)),
        tau=c_float_literal(netlist.tau),
        encoding_api=encoding_api,
    )


def render_c_source(netlist: LogicNetlist, name: str = DEFAULT_DESIGN_NAME) -> str:
    """Text of ``<name>.c``."""
    program = build_program(netlist)
    table_type = TABLE_TYPES[int(program.ranks.max())]
    index_type = "uint16_t" if program.max_width <= 1 << 16 else "uint32_t"
    suffix = _TABLE_SUFFIX[table_type]
    luts_by_rank: Counter[int] = Counter()
    for layer in netlist.layers:
        luts_by_rank[layer.rank] += layer.n_out
    summary = ", ".join(f"{n} rank-{r}" for r, n in sorted(luts_by_rank.items()))
    runs = program.runs if program.runs.shape[0] else np.zeros((1, 3), np.int32)
    enc = netlist.encoding
    encoding_impl = "" if enc is None else render_template(
        "c_encoding.c.tmpl",
        design=name,
        DESIGN=name.upper(),
        thresholds=_rows(
            ("{" + ", ".join(c_float_literal(t) for t in row) + "}" for row in enc.raw_thresholds),
            per_line=1,
        ),
    )
    return render_template(
        "c_net.c.tmpl",
        design=name,
        DESIGN=name.upper(),
        summary=f"{len(netlist.layers)} layers: {summary} LUTs; "
        f"{netlist.num_classes} classes of {netlist.group_size}.",
        num_layers=len(netlist.layers),
        count_bits=max(1, int(netlist.group_size).bit_length()),
        index_type=index_type,
        table_type=table_type,
        layers=_rows(_layer_rows(program), per_line=1),
        num_indices=program.idx.size,
        lut_inputs=_rows(f"{int(i)}u" for i in program.idx),
        num_luts=program.tt.size,
        lut_tables=_rows((f"0x{int(t):x}{suffix}" for t in program.tt), per_line=6),
        num_runs=runs.shape[0],
        runs=_rows((f"{{{c}u, {s}u, {e}u}}" for c, s, e in runs.tolist()), per_line=6),
        batch_kernels=render_template("c_batch.c.tmpl", design=name),
        encoding_impl=encoding_impl,
    )


def c_float_literal(value: float) -> str:
    """Exact C99 literal of ``float32(value)``: hexadecimal (``0x1.8p+0f``) or ``INFINITY``."""
    v = float(np.float32(value))
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return f"{v.hex()}f"


def _layer_rows(program: PackedProgram) -> list[str]:
    """``{rank, width, first_lut, inputs_at, first_run, num_runs}`` per layer."""
    rows = []
    for layer in range(program.ranks.size):
        first_run, end_run = program.run_off[layer], program.run_off[layer + 1]
        rows.append(f"{{{program.ranks[layer]}u, {program.widths[layer]}u, "
                    f"{program.lut_off[layer]}u, {program.idx_off[layer]}u, "
                    f"{first_run}u, {end_run - first_run}u}}")
    return rows


def _scaling_doc(enc: InputEncoding) -> str:
    """What the features are, for the header."""
    scaling = enc.scaling
    if scaling is None:
        return ("Scaled features: this netlist stores no input scaling, so pass the features\n"
                " * the model was trained on (after the data loader's scaling).")
    clip = "clip((x - offset) * scale, 0, 1)" if scaling.clip else "(x - offset) * scale"
    return (f"Raw features: the thresholds include the input scaling ({scaling.kind}:\n"
            f" * {clip}), so pass the features as the data loader read them.")


def _rows(items: object, per_line: int = _PER_LINE) -> str:
    items = list(items)
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n".join("    " + line for line in lines)
