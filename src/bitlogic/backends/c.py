"""Emit a netlist as standalone C99 (``bitlogic_net.c`` + ``bitlogic_net.h``).

The generated code is data plus one generic loop: per LUT its input indices
and truth table, in the smallest integer types that hold them. That keeps
the source linear in the net's size, compiles in a second even for 48K LUTs,
and needs nothing at run time but ``<stdint.h>``. See the header's comment
for the input bit order and the outputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bitlogic.backends._template import render_template
from bitlogic.backends.packed_program import truth_table_bits
from bitlogic.netlist.ir import LogicNetlist

_PER_LINE = 16

# Smallest unsigned C type holding a truth table of 2**rank bits, by max rank.
TABLE_TYPES = {1: "uint8_t", 2: "uint8_t", 3: "uint8_t", 4: "uint16_t", 5: "uint32_t",
               6: "uint64_t"}
_TABLE_SUFFIX = {"uint8_t": "u", "uint16_t": "u", "uint32_t": "ul", "uint64_t": "ull"}


def emit_c(netlist: LogicNetlist, out_dir: str | Path) -> list[Path]:
    """Write ``bitlogic_net.c`` and ``bitlogic_net.h`` into ``out_dir``.

    The C API (see the header): ``bitlogic_net_eval_bits(const uint8_t *bits,
    uint32_t *counts)``, ``bitlogic_net_scores_bits``, ``bitlogic_net_predict_bits``
    on ``num_inputs`` bytes (bit ``i`` = input ``i``);
    ``bitlogic_net_eval_words(const uint64_t *words, uint32_t *counts)`` for 64
    samples at once (bit ``s`` of ``words[i]`` = input ``i`` of sample ``s``);
    with an encoding also ``bitlogic_net_encode`` and
    ``bitlogic_net_eval/_scores/_predict(const float *features, ...)``, where
    bit ``f * num_thresholds + t`` is ``features[f] > thresholds[f][t]``.

    Args:
        netlist: the network (validated here).
        out_dir: directory to write into (created if missing).

    Returns:
        Paths of the two files written, source first.
    """
    netlist.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source, header = out / "bitlogic_net.c", out / "bitlogic_net.h"
    source.write_text(render_c_source(netlist))
    header.write_text(render_c_header(netlist))
    return [source, header]


def render_c_header(netlist: LogicNetlist) -> str:
    """Text of ``bitlogic_net.h``."""
    enc = netlist.encoding
    if enc is None:
        order = "There is no input encoding: callers pass the bits themselves."
        encoding_api = ""
    else:
        order = (
            f"With the encoding, bit f * {enc.num_thresholds} + t is "
            "features[f] > threshold[f][t] (bitlogic_net_encode)."
        )
        encoding_api = render_template(
            "bitlogic_net_encoding.h.tmpl",
            num_features=enc.num_features,
            num_thresholds=enc.num_thresholds,
        )
    return render_template(
        "bitlogic_net.h.tmpl",
        bit_order_doc=order,
        num_inputs=netlist.num_inputs,
        num_classes=netlist.num_classes,
        group_size=netlist.group_size,
        max_width=max(layer.n_out for layer in netlist.layers),
        tau=c_float_literal(netlist.tau),
        encoding_api=encoding_api,
    )


def render_c_source(netlist: LogicNetlist) -> str:
    """Text of ``bitlogic_net.c``."""
    max_rank = max(layer.rank for layer in netlist.layers)
    table_type = TABLE_TYPES[max_rank]
    widest_level = max(netlist.num_inputs, *(layer.n_out for layer in netlist.layers))
    index_type = "uint16_t" if widest_level <= 1 << 16 else "uint32_t"
    indices = np.concatenate([layer.indices.ravel() for layer in netlist.layers])
    tables = np.concatenate([truth_table_bits(layer.luts) for layer in netlist.layers])
    suffix = _TABLE_SUFFIX[table_type]
    summary = ", ".join(f"{n} rank-{r}" for r, n in netlist.lut_counts_by_rank().items())
    enc = netlist.encoding
    encoding_impl = "" if enc is None else render_template(
        "bitlogic_net_encoding.c.tmpl",
        thresholds=_rows(
            ("{" + ", ".join(c_float_literal(t) for t in row) + "}" for row in enc.thresholds),
            per_line=1,
        ),
    )
    return render_template(
        "bitlogic_net.c.tmpl",
        summary=f"{len(netlist.layers)} layers: {summary} LUTs; "
        f"{netlist.num_classes} classes of {netlist.group_size}.",
        num_layers=len(netlist.layers),
        index_type=index_type,
        table_type=table_type,
        layer_ranks=", ".join(str(layer.rank) for layer in netlist.layers),
        layer_widths=", ".join(f"{layer.n_out}u" for layer in netlist.layers),
        num_indices=indices.size,
        lut_inputs=_rows(f"{int(i)}u" for i in indices),
        num_luts=tables.size,
        lut_tables=_rows((f"0x{int(t):x}{suffix}" for t in tables), per_line=6),
        encoding_impl=encoding_impl,
    )


def c_float_literal(value: float) -> str:
    """Exact C99 hexadecimal float literal of ``float32(value)``, e.g. ``0x1.8p+0f``."""
    return f"{float(np.float32(value)).hex()}f"


def _rows(items: object, per_line: int = _PER_LINE) -> str:
    items = list(items)
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n".join("    " + line for line in lines)
