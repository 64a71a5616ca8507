"""Per-flavour tables: how one support-reduced LUT is written in Verilog.

Two flavours of the same design, chosen by measurement (TOOLS.md and
``benchmarks/results/packed_inference.md``):

* ``plain`` -- for simulators and any synthesis tool: rank-1/2 LUTs as gate
  expressions (``GATES_1``/``GATES_2``); larger ones as a Shannon expansion
  into scalar wires: gate expressions of the last two inputs, then a tree of
  2:1 muxes over the others. Icarus, measured on a 5 x 1500 rank-4 net, runs
  this form 1.8x faster than a bit-select of a truth-table ``localparam``
  (6.6 s vs 11.8 s for 200 vectors) and 11x faster than sum-of-products.
* ``cells`` -- for yosys: each LUT is yosys's own ``$lut`` cell, read with
  ``read_verilog -icells``; yosys maps this form to LUT6 in seconds where
  behavioural LUTs take many minutes.

Both address MSB-first: the concatenation ``{in0, in1, ...}`` puts input 0 in
the most significant bit, exactly as in the netlist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from bitlogic.backends.lut_graph import Lut

# Rank-1 LUTs by truth table (bit v = output for input v); constants are rank 0.
GATES_1 = {0b00: "1'b0", 0b01: "~{a}", 0b10: "{a}", 0b11: "1'b1"}

# Rank-2 LUTs by truth table; bit (2a + b) is the output for inputs (a, b).
GATES_2 = {
    0b0000: "1'b0",
    0b0001: "~({a} | {b})",
    0b0010: "~{a} & {b}",
    0b0011: "~{a}",
    0b0100: "{a} & ~{b}",
    0b0101: "~{b}",
    0b0110: "{a} ^ {b}",
    0b0111: "~({a} & {b})",
    0b1000: "{a} & {b}",
    0b1001: "~({a} ^ {b})",
    0b1010: "{b}",
    0b1011: "~{a} | {b}",
    0b1100: "{a}",
    0b1101: "{a} | ~{b}",
    0b1110: "{a} | {b}",
    0b1111: "1'b1",
}


def table_literal(lut: Lut) -> str:
    """Sized binary literal of the truth table, e.g. ``4'b1000`` (bit 0 rightmost)."""
    width = 2**lut.rank
    return f"{width}'b{lut.table:0{width}b}"


def concat(args: list[str]) -> str:
    """MSB-first address expression of the inputs (input 0 first)."""
    return args[0] if len(args) == 1 else "{" + ", ".join(args) + "}"


def plain_lut(name: str, lut: Lut, args: list[str]) -> list[str]:
    """Declarations and assignment of ``wire name`` in plain Verilog."""
    if lut.rank == 0:
        return [f"wire {name} = 1'b{lut.table};"]
    if lut.rank == 1:
        return [f"wire {name} = {GATES_1[lut.table].format(a=args[0])};"]
    if lut.rank == 2:
        return [f"wire {name} = {GATES_2[lut.table].format(a=args[0], b=args[1])};"]
    rank = lut.rank
    lines, nodes = [], []
    for m in range(2 ** (rank - 2)):  # 4-entry slices: functions of the last two inputs
        gate = GATES_2[(lut.table >> (4 * m)) & 0b1111]
        nodes.append(f"{name}_{rank - 2}_{m}")
        lines.append(f"wire {nodes[-1]} = {gate.format(a=args[-2], b=args[-1])};")
    for j in range(rank - 3, -1, -1):  # input j selects between slice pairs
        merged = [name if j == 0 else f"{name}_{j}_{m}" for m in range(len(nodes) // 2)]
        lines += [
            f"wire {out} = {args[j]} ? {nodes[2 * m + 1]} : {nodes[2 * m]};"
            for m, out in enumerate(merged)
        ]
        nodes = merged
    return lines


def cell_lut(name: str, lut: Lut, args: list[str]) -> list[str]:
    """Declarations and the yosys ``$lut`` cell driving ``wire name``."""
    if lut.rank == 0:
        return [f"wire {name} = 1'b{lut.table};"]
    return [
        f"wire {name};",
        f"\\$lut #(.WIDTH({lut.rank}), .LUT({table_literal(lut)})) "
        f"u_{name} (.A({concat(args)}), .Y({name}));",
    ]


LUT_FLAVOURS: dict[str, Callable[[str, Lut, list[str]], list[str]]] = {
    "plain": plain_lut,
    "cells": cell_lut,
}


def popcount_table(inputs: int, bit: int) -> int:
    """Truth table of bit ``bit`` of the number of ones among ``inputs`` bits."""
    return counter_table([0] * inputs, bit)


def counter_table(weights: list[int], bit: int) -> int:
    """Truth table of bit ``bit`` of ``sum(x[i] << weights[i])``, input 0 the address MSB.

    With every weight 0 this is a plain counter; mixed weights make a
    generalized parallel counter (GPC), whose inputs span several columns.
    """
    return _counter_table(tuple(weights), bit)


@functools.cache
def _counter_table(weights: tuple[int, ...], bit: int) -> int:
    k = len(weights)
    table = 0
    for a in range(2**k):
        total = sum(1 << w for i, w in enumerate(weights) if (a >> (k - 1 - i)) & 1)
        table |= ((total >> bit) & 1) << a
    return table


def plain_counter(name: str, args: list[str], width: int,
                  weights: list[int] | None = None) -> list[str]:
    """``wire [width-1:0] name``: ``sum(args[i] << weights[i])`` (all weights 0 by
    default: the number of ones) modulo ``2**width``, as a width-clean sum."""
    terms = []
    for a, w in zip(args, weights or [0] * len(args), strict=True):
        parts = ([f"{width - 1 - w}'b0"] if width - 1 - w else []) + [a]
        parts += [f"{w}'b0"] if w else []
        terms.append(parts[0] if len(parts) == 1 else "{" + ", ".join(parts) + "}")
    return [f"wire [{width - 1}:0] {name} = {' + '.join(terms)};"]


def cell_counter(name: str, args: list[str], width: int,
                 weights: list[int] | None = None) -> list[str]:
    """The same counter as one yosys ``$lut`` cell per output bit."""
    k, weights = len(args), weights or [0] * len(args)
    lines = [f"wire [{width - 1}:0] {name};"]
    for bit in range(width):
        table = f"{2**k}'b{counter_table(weights, bit):0{2**k}b}"
        lines.append(f"\\$lut #(.WIDTH({k}), .LUT({table})) u_{name}_{bit} "
                     f"(.A({concat(args)}), .Y({name}[{bit}]));")
    return lines


COUNTER_FLAVOURS: dict[str, Callable[[str, list[str], int, list[int] | None], list[str]]] = {
    "plain": plain_counter,
    "cells": cell_counter,
}
