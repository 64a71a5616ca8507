"""GroupSum and argmax in Verilog: a counter tree per class, then a tournament.

Each class's count is reduced as a *bit heap*: columns of equally weighted
bits, column ``k`` of weight ``2**k``. Every counter reads at most six bits
and writes their weighted sum, each output bit one 6-input function, so one
LUT6 (one ``$lut`` cell in the ``"cells"`` flavour, a ``+`` of shifted bits
in ``"plain"``). A counter with ``i`` inputs and ``o`` outputs removes
``i - o`` bits for ``o`` LUTs; going from ``n`` bits to at most one per
column therefore costs ``n`` less the bits left (at most ``width``) LUTs, plus
``2 o - i`` for every counter. The
counters, in ``(a,b;o)`` notation (``a`` bits of column ``k + 1``, ``b`` of
column ``k``, ``o`` outputs; a ``Shape`` below lists the columns lowest first):

* FULL, the (6;3) counter: ``2 o - i = 0``;
* CHAIN, the (1,5;3) GPC (sum at most 7): also 0; it removes 4 bits of column
  ``k`` where FULL removes 5, so together they match any surplus but 1, 2, 3,
  6, 7 and 11;
* at most one finisher per column for the rest: any other GPC of at most 6
  inputs over up to 3 columns, at least 2 from the lowest, sum at most 15,
  e.g. (2,3;3), (1,4;3) (``2 o - i = 1``) or (2,2;3) (2).

Output bits past the count's width are provably zero (the count never exceeds
the group size) and are not built, so counters in the top columns cost less
than the bits they remove (six bits in the top column: one LUT for their
parity). :func:`counter_plan` picks, column by column from the lowest, how
many FULL and CHAIN counters and which finisher leave at most one bit, with
the fewest LUTs over all columns (a memoized search over the columns'
heights). There is no separate carry-propagate adder: the top of each
column's tree takes the carries of the columns below, so the last stage is a
ripple of these same counters, one LUT level per column; :func:`popcount`
schedules the counters on the earliest bits to keep the levels down.

Measured with ``synth_report(net, "lut6")`` (yosys 0.23 ``abc -fast -lut 6``,
which keeps every cell as one LUT6) on 10 classes of ``g`` bits, every bit a
non-constant LUT, against the previous tree (6:3 counters only, level by
level, then a ``+`` of the last two rows):

====  ==================  ==================
g     before: LUT6/bit    after: LUT6/bit
      (GroupSum depth)    (GroupSum depth)
====  ==================  ==================
50    1.04 (5)            0.90 (6)
100   1.10 (6)            0.93 (7)
200   1.02 (7)            0.96 (8)
800   1.025 (9)           0.9875 (12)
====  ==================  ==================

yosys (GroupSum and argmax) needs about 24 CPU seconds for g = 800 (26
before). The plan costs at most one LUT per bit for every n up to 1300
(``counter_luts``; at most 0.993 from n = 3 on).

The argmax is a tournament over (count, class) pairs in which the right
(higher) class wins only with a strictly larger count, so ties go to the
lower class index as everywhere else.
"""

from __future__ import annotations

import bisect
import functools
import math

from bitlogic.backends.verilog_luts import COUNTER_FLAVOURS
from bitlogic.netlist.ir import LogicNetlist

MAX_COUNTER_INPUTS = 6
SPAN = 4  # columns a counter's outputs can reach: every counter's value is at most 15

Shape = tuple[int, ...]  # bits a counter takes from columns k, k+1, ... (lowest first)
FULL: Shape = (6,)  # 6:3 counter
CHAIN: Shape = (5, 1)  # (1,5;3) GPC: five bits of weight 1 and one of weight 2, sum <= 7
# every other counter of at most 6 inputs over up to 3 columns, at least 2 bits
# from the lowest and a sum of at most 15: the one finisher a column may use
FINISHERS: tuple[Shape, ...] = tuple(
    shape
    for c0 in range(2, MAX_COUNTER_INPUTS + 1)
    for c1 in range(MAX_COUNTER_INPUTS + 1 - c0)
    for c2 in range(MAX_COUNTER_INPUTS + 1 - c0 - c1)
    for shape in [(c0, c1, c2)[: 3 if c2 else 2 if c1 else 1]]
    if c0 + 2 * c1 + 4 * c2 < 2**SPAN and shape not in (FULL, CHAIN)
)
B_CHOICES = 3  # how many splits of a column between FULL and CHAIN the plan tries


def group_sum(netlist: LogicNetlist, leaves: list[str], flavour: str, pw: int,
              scores: str = "scores", pred: str = "pred") -> list[str]:
    """Lines assigning ``scores`` (class 0 lowest) and ``pred`` from the last layer's bits.

    Args:
        netlist: the network (for classes and group size).
        leaves: names of the last layer's 1-bit signals, in layer order.
        flavour: ``"plain"`` or ``"cells"`` (how counters are written).
        pw: width of ``pred``.
        scores, pred: the declared signals to assign.
    """
    g, width = netlist.group_size, netlist.group_size.bit_length()
    lines, roots = [], []
    for c in range(netlist.num_classes):
        root, tree = popcount(f"gs{c}", leaves[c * g : (c + 1) * g], width, flavour)
        lines += tree
        roots.append(root)
    lines.append(f"assign {scores} = {{{', '.join(reversed(roots))}}};")
    return lines + argmax(roots, width, pw, pred)


def popcount(prefix: str, leaves: list[str], width: int, flavour: str) -> tuple[str, list[str]]:
    """Count the ones among 1-bit ``leaves`` into a ``width``-bit wire ``<prefix>_count``.

    Builds :func:`counter_plan` column by column from the lowest. Within a
    column the next counter is the one whose inputs are ready at the lowest
    LUT level (the larger on a tie), on the earliest bits of its columns.

    Returns:
        ``(count wire name, declaration lines)``.
    """
    write = COUNTER_FLAVOURS[flavour]
    # pools[k]: (LUT level, order, signal) of the unsummed bits of weight 2**k, sorted
    pools: list[list[tuple[int, int, str]]] = [[] for _ in range(width + SPAN)]
    pools[0] = [(0, i, leaf) for i, leaf in enumerate(leaves)]
    order, lines = len(leaves), []
    for k, (full, chain, finisher) in enumerate(counter_plan(len(leaves), width)):
        todo = {FULL: full, CHAIN: chain, **({finisher: 1} if finisher else {})}
        for c in range(full + chain + bool(finisher)):
            shape = min((s for s, left in todo.items() if left),
                        key=lambda s: (_ready(pools, k, s), -sum(s)))
            todo[shape] -= 1
            args, weights, level = [], [], 0
            for j, count in enumerate(shape):
                for t, _, bit in pools[k + j][:count]:
                    args.append(bit)
                    weights.append(j)
                    level = max(level, t + 1)
                del pools[k + j][:count]
            outputs = _outputs(shape, k, width)
            name = f"{prefix}_c{k}_{c}"
            lines += write(name, args, outputs, weights)
            for j in range(outputs):
                bisect.insort(pools[k + j], (level, order, f"{name}[{j}]"))
                order += 1
    if any(len(pool) > 1 for pool in pools[:width]) or any(pools[width:]):
        raise AssertionError(f"popcount plan left bits over: {[len(p) for p in pools]}")
    bits = [pool[0][2] if pool else "1'b0" for pool in reversed(pools[:width])]
    root = f"{prefix}_count"
    value = bits[0] if width == 1 else "{" + ", ".join(bits) + "}"
    lines.append(f"wire [{width - 1}:0] {root} = {value};")
    return root, lines


def counter_luts(n: int, width: int) -> int:
    """LUT6 (``$lut`` cells) of the popcount of ``n`` bits into ``width`` bits."""
    return sum(full * _outputs(FULL, k, width) + chain * _outputs(CHAIN, k, width)
               + (_outputs(finisher, k, width) if finisher else 0)
               for k, (full, chain, finisher) in enumerate(counter_plan(n, width)))


def _ready(pools: list[list[tuple[int, int, str]]], k: int, shape: Shape) -> float:
    """LUT level at which counter ``shape`` at column ``k`` could start (inf: bits missing)."""
    level = 0
    for j, count in enumerate(shape):
        if count > len(pools[k + j]):
            return math.inf
        if count:
            level = max(level, pools[k + j][count - 1][0])
    return level


def _outputs(shape: Shape, k: int, width: int) -> int:
    """Output bits of counter ``shape`` at column ``k``: its sum's bits below ``width``."""
    most = sum(count << j for j, count in enumerate(shape))
    return min(most.bit_length(), width - k)


def _effect(shape: Shape, k: int, width: int) -> tuple[int, ...]:
    """How counter ``shape`` at column ``k`` changes the heights of columns ``k .. k+SPAN-1``."""
    outputs = _outputs(shape, k, width)
    return tuple(int(j < outputs) - (shape[j] if j < len(shape) else 0) for j in range(SPAN))


Plan = tuple[tuple[int, int, Shape | None], ...]


@functools.lru_cache(maxsize=256)
def counter_plan(n: int, width: int) -> Plan:
    """The counters that sum ``n`` bits into ``width`` columns with the fewest LUTs.

    Returns, for each column ``k`` from the lowest, ``(full, chain, finisher)``:
    ``full`` FULL and ``chain`` CHAIN counters, then one counter from FINISHERS
    (or ``None``), which together leave at most one bit in column ``k``.

    Column ``k``'s bits less one must be ``5 * full + 4 * chain`` plus what the
    finisher removes. The search tries every finisher and the ``B_CHOICES``
    splits between FULL and CHAIN with the most FULL (the carries a split
    leaves decide what the next columns cost) and keeps the cheapest plan of
    all columns, memoized on the heights of columns ``k .. k+SPAN-1``.
    """
    per_column = []
    for k in range(width):
        finishers = [(f, _effect(f, k, width), _outputs(f, k, width)) for f in FINISHERS
                     if k + len(f) <= width]
        per_column.append((_effect(FULL, k, width), _outputs(FULL, k, width),
                           _effect(CHAIN, k, width), _outputs(CHAIN, k, width),
                           k + 1 < width, finishers))
    memo: dict[tuple[int, tuple[int, ...]], tuple[int, Plan]] = {}

    def best(k: int, heights: tuple[int, ...]) -> tuple[int, Plan]:
        if k == width:
            return 0, ()
        key = (k, heights)
        if key in memo:
            return memo[key]
        e_full, o_full, e_chain, o_chain, chain_ok, finishers = per_column[k]
        h = heights[0]
        found: tuple[int, Plan] | None = None
        if h <= 1:
            cost, rest = best(k + 1, (*heights[1:], 0))
            found = (cost, ((0, 0, None), *rest))
        else:
            for finisher, e_fin, o_fin in [(None, (0,) * SPAN, 0), *finishers]:
                spare = h - 1 - (finisher[0] - 1 if finisher else 0)
                if spare < 0:
                    continue
                if chain_ok:  # spare = 5 full + 4 chain; full = spare (mod 4)
                    top = spare // 5 - (spare // 5 - spare) % 4
                    splits = range(top, max(top - 4 * B_CHOICES, -1), -4)
                else:
                    splits = range(spare // 5, spare // 5 + 1) if spare % 5 == 0 else range(0)
                for full in splits:
                    chain = (spare - 5 * full) // 4
                    # a CHAIN takes a bit of column k+1 and gives one back: one must be there
                    if chain and heights[1] + full * e_full[1] < 1:
                        continue
                    after = [heights[j] + full * e_full[j] + chain * e_chain[j]
                             for j in range(SPAN)]
                    if finisher and any(finisher[j] > after[j] for j in range(1, len(finisher))):
                        continue
                    cost = full * o_full + chain * o_chain + o_fin
                    if found is not None and cost >= found[0]:
                        continue
                    rest_cost, rest = best(k + 1, tuple(after[j] + e_fin[j]
                                                        for j in range(1, SPAN)) + (0,))
                    if found is None or cost + rest_cost < found[0]:
                        found = (cost + rest_cost, ((full, chain, finisher), *rest))
        if found is None:
            raise AssertionError(f"no counter plan for column {k} of {heights}")
        memo[key] = found
        return found

    return best(0, (n,) + (0,) * (SPAN - 1))[1]


def argmax(roots: list[str], sw: int, pw: int, pred: str = "pred") -> list[str]:
    """Tournament over (count, index) into ``pred``; on equal counts the left, lower index wins."""
    if len(roots) == 1:
        return [f"assign {pred} = 1'b0;"]
    nodes = [(root, f"{pw}'d{c}") for c, root in enumerate(roots)]
    lines: list[str] = []
    level = 0
    while len(nodes) > 1:
        merged = []
        for i in range(0, len(nodes) - 1, 2):
            (ls, li), (rs, ri) = nodes[i], nodes[i + 1]
            name = f"am{level}_{i // 2}"
            lines += [
                f"wire {name}_right = {rs} > {ls};",
                f"wire [{sw - 1}:0] {name}_count = {name}_right ? {rs} : {ls};",
                f"wire [{pw - 1}:0] {name}_class = {name}_right ? {ri} : {li};",
            ]
            merged.append((f"{name}_count", f"{name}_class"))
        if len(nodes) % 2:
            merged.append(nodes[-1])
        nodes = merged
        level += 1
    count, cls = nodes[0]
    # the winning count itself is not an output; Verilator ignores "unused*" names
    lines.append(f"wire unused_best = ^{count};")
    return [*lines, f"assign {pred} = {cls};"]
