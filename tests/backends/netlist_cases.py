"""Random netlists and inputs shared by the backend tests (plain functions + hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from bitlogic.netlist import InputEncoding, LogicNetlist, NetlistLayer

BATCH_SIZES = (1, 63, 64, 65, 1000)


def random_layer(rng: np.random.Generator, in_width: int, n_out: int, rank: int) -> NetlistLayer:
    """Random connections and truth tables; some LUTs constant or copying input 0."""
    indices = rng.integers(0, in_width, size=(n_out, rank)).astype(np.int32)
    luts = (rng.random((n_out, 2**rank)) < rng.uniform(0.2, 0.8)).astype(np.uint8)
    kind = rng.random(n_out)
    luts[kind < 0.08] = luts[kind < 0.08][:, :1]  # constants
    luts[kind > 0.92] = (np.arange(2**rank) >> (rank - 1)) & 1  # depend on input 0 only
    return NetlistLayer(indices, luts)


def random_netlist(
    seed: int,
    widths: list[int],
    ranks: list[int],
    num_classes: int,
    num_inputs: int = 16,
    encoding: tuple[int, int] | None = None,
    tau: float = 1.7,
) -> LogicNetlist:
    """A random valid netlist.

    Args:
        seed: random seed.
        widths, ranks: per layer; the last width must divide by ``num_classes``.
        num_classes: GroupSum classes.
        num_inputs: input bits without an encoding.
        encoding: ``(num_features, num_thresholds)`` to add a thermometer.
        tau: GroupSum temperature.
    """
    rng = np.random.default_rng(seed)
    enc = None
    if encoding is not None:
        features, thresholds = encoding
        # a coarse grid makes equal thresholds and inputs equal to a threshold likely
        grid = np.round(rng.normal(size=(features, thresholds)), 1).astype(np.float32)
        enc = InputEncoding(np.sort(grid, axis=1))
        num_inputs = features * thresholds
    layers, width = [], num_inputs
    for n_out, rank in zip(widths, ranks, strict=True):
        layers.append(random_layer(rng, width, n_out, rank))
        width = n_out
    return LogicNetlist(num_inputs, layers, num_classes, tau, enc, {"case": f"seed {seed}"})


def random_inputs(netlist: LogicNetlist, batch: int, seed: int = 0) -> np.ndarray:
    """Features on the thresholds' grid (plus NaN/inf) with an encoding, else bool bits."""
    rng = np.random.default_rng(seed)
    if netlist.encoding is None:
        return rng.random((batch, netlist.num_inputs)) < 0.5
    x = np.round(rng.normal(size=(batch, netlist.encoding.num_features)), 1).astype(np.float32)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0], dtype=np.float32)
    mask = rng.random(x.shape) < 0.02
    x[mask] = rng.choice(specials, size=int(mask.sum()))
    return x


@st.composite
def netlists(draw: st.DrawFn, max_layers: int = 4, max_width: int = 40) -> LogicNetlist:
    """Hypothesis strategy: 1..max_layers layers of ranks 1..6 (mostly 2/4/6), with or
    without an encoding, 1..10 classes."""
    num_layers = draw(st.integers(1, max_layers))
    rank = st.sampled_from([2, 4, 6, 2, 4, 6, 1, 3, 5])
    ranks = [draw(rank) for _ in range(num_layers)]
    num_classes = draw(st.integers(1, 10))
    group = draw(st.integers(1, 6))
    widths = [draw(st.integers(1, max_width)) for _ in range(num_layers - 1)]
    widths.append(num_classes * group)
    encoding = draw(st.none() | st.tuples(st.integers(1, 8), st.integers(1, 4)))
    return random_netlist(
        seed=draw(st.integers(0, 2**32 - 1)),
        widths=widths,
        ranks=ranks,
        num_classes=num_classes,
        num_inputs=draw(st.integers(1, 70)),
        encoding=encoding,
        tau=draw(st.sampled_from([1.0, 0.3, 2.5, 10.0])),
    )


def tie_netlist() -> LogicNetlist:
    """Two inputs (a, b), four classes of two LUTs built so that counts tie on purpose.

    Class counts for inputs (a, b): c0 = 0, c1 = a, c2 = a, c3 = a & b + b. So
    (1, 0) ties classes 1 and 2 (expect 1), (0, 0) ties all four (expect 0),
    (1, 1) gives counts (0, 1, 1, 2) (expect 3), (0, 1) gives (0, 0, 0, 1).
    """
    zero, ident_a = [0, 0, 0, 0], [0, 0, 1, 1]
    and_ab, ident_b = [0, 0, 0, 1], [0, 1, 0, 1]
    luts = [zero, zero, ident_a, zero, ident_a, zero, and_ab, ident_b]
    indices = np.tile(np.array([[0, 1]], dtype=np.int32), (8, 1))
    layer = NetlistLayer(indices, np.array(luts, dtype=np.uint8))
    return LogicNetlist(2, [layer], num_classes=4, tau=0.5)


TIE_INPUTS = np.array([[1, 0], [0, 0], [1, 1], [0, 1]], dtype=bool)
TIE_PREDICTIONS = np.array([1, 0, 3, 3])
