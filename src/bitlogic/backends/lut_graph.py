"""The netlist as a graph of live, support-reduced LUTs (for the HDL emitters).

Hardware text should name only signals that matter: a LUT that ignores one of
its inputs must not mention it (linters flag the dangling wire) and a LUT
whose output nobody reads should not exist. This module reduces each LUT to
its *support* (the inputs its truth table depends on, in their original
order, so MSB-first addressing is preserved) and keeps only LUTs reachable
from the GroupSum outputs. The function computed is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bitlogic.netlist.ir import LogicNetlist, NetlistLayer


@dataclass(frozen=True)
class Lut:
    """One support-reduced LUT.

    Attributes:
        inputs: previous-level indices it depends on, input 0 (the MSB) first;
            empty for a constant.
        table: bit ``a`` is the output at MSB-first address ``a`` over ``inputs``.
    """

    inputs: tuple[int, ...]
    table: int

    @property
    def rank(self) -> int:
        """Number of inputs after reduction (0 for a constant)."""
        return len(self.inputs)


@dataclass(frozen=True)
class LutGraph:
    """Live LUTs of a netlist.

    Attributes:
        layers: per layer, the live LUTs keyed by their index in the layer
            (every LUT of the last layer is live: GroupSum reads them all).
        live_inputs: sorted input bits read by some live LUT.
    """

    layers: tuple[dict[int, Lut], ...]
    live_inputs: tuple[int, ...]


def support(layer: NetlistLayer) -> np.ndarray:
    """Which inputs each LUT depends on: bool ``(n_out, rank)``."""
    rank = layer.rank
    addresses = np.arange(2**rank)
    depends = np.empty((layer.n_out, rank), dtype=bool)
    for j in range(rank):
        flipped = addresses ^ (1 << (rank - 1 - j))
        depends[:, j] = np.any(layer.luts != layer.luts[:, flipped], axis=1)
    return depends


def fold_repeated_inputs(layer: NetlistLayer) -> NetlistLayer:
    """The same layer where a LUT reading one signal twice ignores the second read.

    Where ``indices[n, k] == indices[n, j]`` (``j < k``) both address bits are
    always equal, so entries whose bits differ are unreachable; copying the
    reachable value over them makes input ``k`` a don't-care that
    :func:`support` then drops.
    """
    rank, luts = layer.rank, layer.luts.copy()
    addresses = np.arange(2**rank)
    for k in range(1, rank):
        bit_k = 1 << (rank - 1 - k)
        for j in range(k):
            rows = np.flatnonzero(layer.indices[:, j] == layer.indices[:, k])
            if rows.size:
                bit_j = 1 << (rank - 1 - j)
                same = (addresses & ~bit_k) | np.where(addresses & bit_j, bit_k, 0)
                luts[rows] = luts[rows][:, same]
    return NetlistLayer(layer.indices, luts)


def reduce_layer(layer: NetlistLayer) -> list[Lut]:
    """Every LUT of ``layer`` reduced to its support, in layer order."""
    rank = layer.rank
    layer = fold_repeated_inputs(layer)
    depends = support(layer)
    pattern = depends @ (1 << np.arange(rank))  # one integer per support set
    reduced: list[Lut | None] = [None] * layer.n_out
    for value in np.unique(pattern):
        rows = np.flatnonzero(pattern == value)
        keep = [j for j in range(rank) if depends[rows[0], j]]
        k = len(keep)
        # full address of each reduced address b: bit t of b (MSB-first) sits at input keep[t]
        full = np.zeros(2**k, dtype=np.int64)
        for t, j in enumerate(keep):
            full |= ((np.arange(2**k) >> (k - 1 - t)) & 1) << (rank - 1 - j)
        tables = layer.luts[rows][:, full].astype(np.int64) @ (1 << np.arange(2**k, dtype=object))
        inputs = layer.indices[rows][:, keep]
        for r, row in enumerate(rows):
            reduced[row] = Lut(tuple(int(i) for i in inputs[r]), int(tables[r]))
    return reduced  # type: ignore[return-value]


def lut_graph(netlist: LogicNetlist) -> LutGraph:
    """Reduce every LUT to its support and keep those the outputs depend on."""
    netlist.validate()
    reduced = [reduce_layer(layer) for layer in netlist.layers]
    live = set(range(netlist.layers[-1].n_out))
    layers: list[dict[int, Lut]] = []
    for luts in reversed(reduced):
        kept = {n: luts[n] for n in sorted(live)}
        layers.append(kept)
        live = {i for lut in kept.values() for i in lut.inputs}
    return LutGraph(layers=tuple(reversed(layers)), live_inputs=tuple(sorted(live)))
