"""Netlist simplification: an equivalent, smaller :class:`LogicNetlist` for every backend.

One forward pass over the layers rewrites each LUT over the *simplified*
signals of the level before it, then a backward pass drops what no class
score reads:

* **constants fold**: a LUT whose table no longer depends on any input is a
  constant; its consumers read the constant into their tables;
* **support reduction**: each LUT keeps only the inputs its table depends on
  (an input read twice counts once), so a layer's rank drops to the largest
  support in it;
* **polarity**: a hidden LUT whose output is 1 at address 0 is stored
  inverted and its consumers absorb the NOT, so NOT chains become plain
  copies and a LUT and its complement are one LUT;
* **duplicates merge**: hidden LUTs with the same inputs and table (inputs
  sorted, so order does not matter) become one;
* **dead LUTs go**: hidden LUTs that no live LUT reads are removed.

What is kept, and why: the IR is levelled (layer ``i`` reads only layer
``i - 1``), so a pass-through that carries a signal across a level stays a
1-input copy; copies of one signal at one level merge. The last layer keeps
its width and order, because a class count is the number of ones in its
group: its LUTs are only rewritten (tables, inputs), never merged, inverted
or removed, and constant ones stay. A hidden layer left with no live LUT
keeps one constant placeholder, because a layer cannot be empty.

Example:
    >>> import numpy as np
    >>> from bitlogic.netlist import LogicNetlist, NetlistLayer
    >>> nots = NetlistLayer(np.array([[0], [0]], np.int32), np.array([[1, 0], [1, 0]], np.uint8))
    >>> out = NetlistLayer(np.array([[0, 1]], np.int32), np.array([[0, 0, 0, 1]], np.uint8))
    >>> small, report = simplify_netlist(LogicNetlist(1, [nots, out], 1, 1.0))
    >>> small.num_gates, report.duplicates, report.inverted
    (2, 1, 1)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from bitlogic.netlist.ir import LogicNetlist, NetlistLayer

_CHUNK = 1 << 16  # LUTs rewritten at once: bounds the (chunk, 2**rank) address arrays


@dataclass(frozen=True)
class SimplifyReport:
    """What :func:`simplify_netlist` removed and kept.

    Attributes:
        widths_before, widths_after: LUTs per layer.
        ranks_before, ranks_after: rank per layer.
        constants: hidden LUTs that were constant and folded into their consumers.
        duplicates: hidden LUTs equal to (or the complement of) an earlier LUT
            of their layer, merged into it.
        dead: hidden LUTs removed because no class score depends on them.
        inverted: kept hidden LUTs stored as their complement (consumers absorb the NOT).
        pass_throughs: kept LUTs that copy or invert one signal (kept by the
            levelled IR; a NOT in the last layer stays a NOT).
        placeholders: constant LUTs added to hidden layers left empty.
    """

    widths_before: tuple[int, ...]
    widths_after: tuple[int, ...]
    ranks_before: tuple[int, ...]
    ranks_after: tuple[int, ...]
    constants: int
    duplicates: int
    dead: int
    inverted: int
    pass_throughs: int
    placeholders: int

    @property
    def luts_before(self) -> int:
        """LUTs of the original netlist."""
        return sum(self.widths_before)

    @property
    def luts_after(self) -> int:
        """LUTs of the simplified netlist."""
        return sum(self.widths_after)

    @property
    def removed_fraction(self) -> float:
        """Share of the original LUTs removed, in [0, 1)."""
        return (self.luts_before - self.luts_after) / self.luts_before

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready fields plus the LUT totals and the removed fraction."""
        fields = {k: list(v) if isinstance(v, tuple) else v
                  for k, v in dataclasses.asdict(self).items()}
        return {**fields, "luts_before": self.luts_before, "luts_after": self.luts_after,
                "removed_fraction": round(self.removed_fraction, 6)}


@dataclass
class _Rewritten:
    """One layer over the simplified previous level.

    ``inputs`` int64 ``(m, rank)``: support first, sorted ascending, ``-1`` after;
    ``tables`` uint8 ``(m, 2**rank)`` depend only on the first ``support[i]``
    address bits (MSB-first), so any narrower rank is a strided slice.
    """

    inputs: np.ndarray
    tables: np.ndarray
    support: np.ndarray


def simplify_netlist(netlist: LogicNetlist) -> tuple[LogicNetlist, SimplifyReport]:
    """An equivalent netlist (same inputs, encoding, classes, tau, scores) and a report.

    Args:
        netlist: the network (validated here).

    Returns:
        ``(simplified, report)``; ``simplified`` gives the same GroupSum counts
        as ``netlist`` for every input, and simplifying it again changes nothing.
    """
    netlist.validate()
    # signals of the current level: new index (-1: constant) and polarity (the constant's value)
    source = np.arange(netlist.num_inputs, dtype=np.int64)
    polarity = np.zeros(netlist.num_inputs, dtype=np.uint8)
    rewritten: list[_Rewritten] = []
    inverted: list[np.ndarray] = []  # per hidden layer: kept LUT stores the complement
    constants = duplicates = 0
    last = len(netlist.layers) - 1
    for i, layer in enumerate(netlist.layers):
        parts = [_rewrite(layer.indices[s : s + _CHUNK], layer.luts[s : s + _CHUNK],
                          source, polarity) for s in range(0, layer.n_out, _CHUNK)]
        lut = _Rewritten(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))
        if i == last:  # GroupSum counts every position: rewrite only
            rewritten.append(lut)
            break
        lut, source, polarity, folded, merged, flipped = _merge_hidden(lut)
        rewritten.append(lut)
        inverted.append(flipped)
        constants += folded
        duplicates += merged
    layers, live, placeholders = _drop_dead(rewritten)
    hidden = list(zip(rewritten[:-1], live[:-1], inverted, strict=True))
    simplified = dataclasses.replace(netlist, layers=layers, metadata=dict(netlist.metadata))
    report = SimplifyReport(
        widths_before=tuple(layer.n_out for layer in netlist.layers),
        widths_after=tuple(layer.n_out for layer in layers),
        ranks_before=tuple(layer.rank for layer in netlist.layers),
        ranks_after=tuple(layer.rank for layer in layers),
        constants=constants,
        duplicates=duplicates,
        dead=sum(len(r.support) - int(m.sum()) for r, m, _ in hidden),
        inverted=sum(int(np.sum(inv[m])) for _, m, inv in hidden),
        pass_throughs=sum(int(np.sum(r.support[m] == 1))
                          for r, m in zip(rewritten, live, strict=True)),
        placeholders=placeholders,
    )
    return simplified.validate(), report


def _rewrite(indices: np.ndarray, luts: np.ndarray, source: np.ndarray,
             polarity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables over the new previous level, reduced to their support, inputs sorted."""
    n, rank = indices.shape
    address = np.arange(2**rank)
    src, pol = source[indices], polarity[indices]
    tables = luts.copy()
    for j in range(rank):
        bit = 1 << (rank - 1 - j)
        for rows, remap in (
            ((src[:, j] >= 0) & (pol[:, j] == 1), address ^ bit),       # absorb a NOT
            ((src[:, j] < 0) & (pol[:, j] == 0), address & ~bit),       # read constant 0
            ((src[:, j] < 0) & (pol[:, j] == 1), address | bit),        # read constant 1
        ):
            if rows.any():
                tables[rows] = tables[rows][:, remap]
    for k in range(1, rank):  # a signal read twice: the second read copies the first
        bit_k = 1 << (rank - 1 - k)
        for j in range(k):
            rows = (src[:, j] == src[:, k]) & (src[:, k] >= 0)
            if rows.any():
                bit_j = 1 << (rank - 1 - j)
                same = (address & ~bit_k) | np.where(address & bit_j, bit_k, 0)
                tables[rows] = tables[rows][:, same]
    depends = np.stack([np.any(tables != tables[:, address ^ (1 << (rank - 1 - j))], axis=1)
                        for j in range(rank)], axis=1)
    # support inputs first in ascending index order, the don't-cares after them
    order = np.argsort(np.where(depends, src, np.iinfo(np.int64).max), axis=1, kind="stable")
    full = np.zeros((n, 2**rank), dtype=np.int64)
    for t in range(rank):  # new address bit t (MSB-first) sits at old input order[:, t]
        full |= ((address >> (rank - 1 - t)) & 1)[None, :] << (rank - 1 - order[:, t : t + 1])
    tables = np.take_along_axis(tables, full, axis=1)
    support = depends.sum(axis=1)
    inputs = np.take_along_axis(src, order, axis=1)
    inputs[np.arange(rank)[None, :] >= support[:, None]] = -1
    return inputs, tables, support


def _merge_hidden(lut: _Rewritten):
    """Fold constants, normalise polarity, merge duplicates of one hidden layer.

    Returns:
        ``(kept LUTs, source, polarity, constants, duplicates, inverted)`` where
        ``source``/``polarity`` say how each original LUT reads in the next layer
        and ``inverted`` (bool per kept LUT) whether it stores the complement.
    """
    n = len(lut.support)
    constant = lut.support == 0
    value = lut.tables[:, 0].copy()
    invert = np.where(constant, 0, value).astype(np.uint8)
    tables = lut.tables ^ invert[:, None]  # now 0 at address 0 unless constant
    keep = np.flatnonzero(~constant)
    source = np.full(n, -1, dtype=np.int64)
    polarity = np.where(constant, value, invert).astype(np.uint8)
    if keep.size == 0:
        empty = _Rewritten(lut.inputs[:0], tables[:0], lut.support[:0])
        return empty, source, polarity, n, 0, np.zeros(0, dtype=bool)
    packed = np.packbits(tables[keep], axis=1, bitorder="little")
    key_bytes = np.concatenate(
        [np.ascontiguousarray(lut.inputs[keep].astype("<i8")).view(np.uint8), packed], axis=1)
    keys = np.ascontiguousarray(key_bytes).view(f"V{key_bytes.shape[1]}").ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")  # keep the layer's original order
    new_id = np.empty_like(by_first)
    new_id[by_first] = np.arange(len(first))
    source[keep] = new_id[inverse.ravel()]
    reps = keep[first[by_first]]
    kept = _Rewritten(lut.inputs[reps], tables[reps], lut.support[reps])
    return (kept, source, polarity, int(constant.sum()), int(keep.size - len(first)),
            invert[reps] == 1)


def _drop_dead(rewritten: list[_Rewritten]) -> tuple[list[NetlistLayer], list[np.ndarray], int]:
    """Keep LUTs a class score depends on; narrow each layer to its largest support."""
    live = [np.ones(len(r.support), dtype=bool) for r in rewritten]
    for i in range(len(rewritten) - 1, 0, -1):
        used = rewritten[i].inputs[live[i]]
        live[i - 1] = np.zeros(len(rewritten[i - 1].support), dtype=bool)
        live[i - 1][used[used >= 0]] = True
    layers, placeholders = [], 0
    remap = None  # previous level: old index -> new index
    for r, mask in zip(rewritten, live, strict=True):
        inputs, tables, support = r.inputs[mask], r.tables[mask], r.support[mask]
        if remap is not None and remap.size:  # an empty level feeds only constants
            inputs = np.where(inputs >= 0, remap[np.maximum(inputs, 0)], -1)
        if len(support) == 0:  # a layer cannot be empty: one constant nobody reads
            inputs = np.full((1, 1), -1, dtype=np.int64)
            tables, support = np.zeros((1, 2), dtype=np.uint8), np.zeros(1, dtype=np.int64)
            placeholders += 1
        rank = max(1, int(support.max()))
        tables = tables[:, :: tables.shape[1] >> rank]  # drop trailing don't-care bits
        inputs = inputs[:, :rank]
        pad = np.where(inputs[:, :1] >= 0, inputs[:, :1], 0)  # unread slots repeat input 0
        inputs = np.where(inputs >= 0, inputs, pad)
        layers.append(NetlistLayer(inputs.astype(np.int32), np.ascontiguousarray(tables)))
        remap = np.cumsum(mask) - 1
    return layers, live, placeholders

