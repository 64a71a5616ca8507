"""LUT counts of netlist layers without a mapper: LUT6 exactly, ECP5 LUT4 from below.

A netlist LUT has at most six inputs (``netlist.ir.MAX_RANK``). Mapped alone,
a layer whose LUTs read only the layer's inputs has nothing to merge: each
distinct function needs its own single-output LUT and fits in one LUT6, a
pass-through is a wire and a constant is a tie-off. So a mapper's count for a
layer is the number of distinct functions that are neither (support-reduced,
the inputs sorted and the table permuted to match). ``abc -fast -lut 6`` maps
exactly that many where a layer has no duplicate functions, as every hidden
layer of a simplified net; of the duplicates that simplify keeps in the last
layer (GroupSum counts every position) it merges only some
(``tests/backends/test_synth_lut_count.py`` compares them).

Counting spares yosys a design that grows as ``2**rank`` cells per LUT after
``lut2mux``: yosys ran a 185K-LUT conv net out of 23 GB of memory. The LUT4
floor lets the ECP5 flow refuse a net no ECP5 holds before synthesizing it.
"""

from __future__ import annotations

from collections.abc import Iterable

from bitlogic.backends.lut_graph import Lut

_IDENTITY = 0b10  # rank 1: output 0 at address 0, 1 at address 1


def canonical_lut(lut: Lut) -> tuple[tuple[int, ...], int]:
    """``(inputs, table)`` with the inputs in ascending order and the table permuted to match."""
    k = lut.rank
    order = sorted(range(k), key=lambda t: lut.inputs[t])
    if order == list(range(k)):
        return lut.inputs, lut.table
    table = 0
    for b in range(1 << k):  # b: address over the sorted inputs, MSB first
        a = 0
        for t, j in enumerate(order):  # sorted position t holds original input j
            if (b >> (k - 1 - t)) & 1:
                a |= 1 << (k - 1 - j)
        table |= ((lut.table >> a) & 1) << b
    return tuple(lut.inputs[j] for j in order), table


def distinct_functions(luts: Iterable[Lut]) -> set[tuple[tuple[int, ...], int]]:
    """Canonical ``(inputs, table)`` of the LUTs that are neither wires nor constants."""
    return {canonical_lut(lut) for lut in luts
            if lut.rank > 1 or (lut.rank == 1 and lut.table != _IDENTITY)}


def layer_lut6(luts: Iterable[Lut]) -> int:
    """LUT6 cells of one layer mapped alone.

    Args:
        luts: the layer's live, support-reduced LUTs
            (:func:`bitlogic.backends.lut_graph.lut_graph`).
    """
    return len(distinct_functions(luts))


def lut4_floor(layers: Iterable[Iterable[Lut]]) -> int:
    """Fewest LUT4 that can hold the layers' distinct functions.

    A LUT4 adds at most three new inputs to a cone, so a function of ``r``
    inputs needs at least ``ceil((r - 1) / 3)`` LUT4 (1 up to 4 inputs, 2 for
    5 or 6); a mapper may need more (a general 6-input function takes four).

    Args:
        layers: per layer, its live support-reduced LUTs.
    """
    return sum(max(1, -(-(len(inputs) - 1) // 3))
               for luts in layers for inputs, _ in distinct_functions(luts))
