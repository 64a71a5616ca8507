"""Counted LUT6 layers against what yosys's ``abc -fast -lut 6`` maps, layer by layer."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest
from differential import random_netlist

from bitlogic.backends import synth_report
from bitlogic.backends.lut_graph import Lut, lut_graph
from bitlogic.backends.synth.ecp5 import ecp5_report
from bitlogic.backends.synth.lut_count import canonical_lut, layer_lut6, lut4_floor
from bitlogic.backends.synth.report import counted_layers, map_parts
from bitlogic.backends.synth.yosys import FLOWS
from bitlogic.netlist import LogicNetlist, NetlistLayer


def _with_special_luts(netlist: LogicNetlist, seed: int) -> LogicNetlist:
    """The netlist with NOTs, pass-throughs, constants, and exact and permuted duplicates."""
    rng = np.random.default_rng(seed)
    layers = []
    for layer in netlist.layers:
        indices, luts = layer.indices.copy(), layer.luts.copy()
        n, rank = indices.shape
        address = np.arange(2**rank)
        msb = (address >> (rank - 1)) & 1
        rows = rng.permutation(n)
        q = max(1, n // 8)
        luts[rows[:q]] = 1 - msb  # NOT of input 0
        luts[rows[q:2 * q]] = msb  # pass-through
        luts[rows[2 * q:3 * q]] = rng.integers(0, 2)  # constant
        for a, b in zip(rows[3 * q:4 * q], rows[4 * q:5 * q], strict=True):
            indices[b], luts[b] = indices[a], luts[a]  # exact duplicate
        if rank >= 2:
            for a, b in zip(rows[5 * q:6 * q], rows[6 * q:7 * q], strict=True):
                # the same function with inputs 0 and 1 swapped
                swapped = (address & ~(3 << (rank - 2))) | ((address >> 1) & (1 << (rank - 2))) \
                    | ((address << 1) & (1 << (rank - 1)))
                indices[b] = indices[a][[1, 0, *range(2, rank)]]
                luts[b] = luts[a][swapped]
        layers.append(NetlistLayer(indices, luts))
    return dataclasses.replace(netlist, layers=layers)


@pytest.mark.parametrize("rank", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("simplify", [True, False], ids=["simplified", "raw"])
def test_counted_layers_equal_yosys_mapping(yosys, rank, simplify):
    seed = 100 + rank
    base = random_netlist(seed, [48, 30, 24], [rank, rank, 2], num_classes=3, num_inputs=20)
    netlist = _with_special_luts(base, seed)
    mapped_flow = dataclasses.replace(FLOWS.get("lut6"), count_layers=False)
    with tempfile.TemporaryDirectory() as tmp:
        mapped = map_parts(netlist, mapped_flow, Path(tmp), yosys, None, simplify)
    counted = synth_report(netlist, "lut6", simplify=simplify)
    by_yosys = [row["luts"] for row in mapped["parts"]["layers"]["per_layer"]]
    by_count = [row["luts"] for row in counted["parts"]["layers"]["per_layer"]]
    # the count keeps one LUT6 per distinct function; abc -fast maps at least
    # that many and merges only some duplicates (at most one per live non-wire LUT)
    graph = lut_graph(netlist.simplify()[0] if simplify else netlist)
    functions = [[canonical_lut(lut) for lut in luts.values() if not _is_wire(lut)]
                 for luts in graph.layers]
    assert by_count == [len(set(f)) for f in functions], f"seed {seed}"
    for i, (f, n) in enumerate(zip(functions, by_yosys, strict=True)):
        assert len(set(f)) <= n <= len(f), f"seed {seed} layer {i}"
        if len(set(f)) == len(f):  # no duplicates: exactly what abc maps
            assert by_count[i] == n, f"seed {seed} layer {i}"
    if simplify:  # simplify merges the duplicates of hidden layers
        assert by_count[:-1] == by_yosys[:-1], f"seed {seed}"
    for part in ("groupsum", "argmax"):
        assert counted["parts"][part] == mapped["parts"][part], f"seed {seed}"
    assert counted["luts"] == sum(counted["parts"][p]["luts"]
                                  for p in ("layers", "groupsum", "argmax"))
    assert counted["counted_layers"] == [0, 1, 2]
    assert counted["cells"]["$lut"] == counted["luts"]


def _is_wire(lut: Lut) -> bool:
    return lut.rank == 0 or (lut.rank == 1 and lut.table == 0b10)


def test_canonical_lut_sorts_inputs_and_permutes_the_table():
    # a AND NOT b with a = input 5, b = input 2 (MSB-first address ab: only 10 -> 1)
    assert canonical_lut(Lut((5, 2), 0b0100)) == ((2, 5), 0b0010)
    assert canonical_lut(Lut((2, 5), 0b0100)) == ((2, 5), 0b0100)
    # rank 3: out = input 9 alone (the MSB); sorted last, it becomes the LSB
    table = sum(1 << a for a in range(8) if a >> 2)
    assert canonical_lut(Lut((9, 1, 4), table)) == ((1, 4, 9), 0b10101010)


def test_layer_lut6_skips_wires_and_constants_and_merges_duplicates():
    luts = [Lut((3,), 0b10), Lut((), 1), Lut((3,), 0b01), Lut((1, 2), 0b1000),
            Lut((2, 1), 0b1000), Lut((1, 2), 0b0111)]
    # NOT, AND(1,2) once for both orders, NAND(1,2)
    assert layer_lut6(luts) == 3


def test_counted_layers_are_the_live_luts():
    netlist = random_netlist(7, [30, 12], [4, 3], num_classes=2, num_inputs=16)
    counts = counted_layers(netlist)
    assert list(counts) == [0, 1]
    assert 0 < counts[1] <= 12 and 0 < counts[0] <= 30


def test_lut4_floor_counts_distinct_functions_by_inputs():
    rank5 = Lut((0, 1, 2, 3, 4), 0x6996_9669)
    rank6 = Lut((0, 1, 2, 3, 4, 5), 0x1234_5678_9ABC_DEF0)
    luts = [Lut((3,), 0b01), Lut((1, 2), 0b1000), Lut((2, 1), 0b1000), rank5, rank6,
            Lut((4,), 0b10), Lut((), 0)]
    assert lut4_floor([luts]) == 1 + 1 + 2 + 2
    assert lut4_floor([luts, [Lut((0, 1, 2, 3), 0x8000)]]) == 7


def test_ecp5_refuses_a_net_too_big_before_synthesis():
    # 14,000 rank-4 LUTs, a sixth of them constants or wires: over 85% of a 12k
    netlist = random_netlist(3, [14_000], [4], num_classes=4, num_inputs=400)
    with pytest.raises(ValueError, match=r"at least \d+ LUT4, more than 85% of the 12k"):
        ecp5_report(netlist, device="12k")
