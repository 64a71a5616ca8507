"""Inference throughput of the packed engine next to references measured in the same run.

Two random netlists (seeded; random connections and truth tables, which is
the hardest case for caches since trained nets are no more local):

* ``rank2``: 784 input bits -> 6 x 8000 rank-2 LUTs, GroupSum over 10 classes;
* ``rank6``: 784 input bits -> 2000 -> 1000 rank-6 LUTs, 10 classes.

Rows: the compiled packed engine on 1 and 2 threads, the engine's NumPy
fallback, and every entry of ``REFERENCES`` (the NumPy reference interpreter
today; eager PyTorch joins when a model is at hand -- add one function). Inputs
are bool ``(batch, 784)`` arrays, so the figures include reading the inputs
and packing them into bit planes. Throughput is batch / best wall time.
Also: engine setup time and yosys LUT6 counts for the rank-6 net.

Usage:
    python benchmarks/packed_inference.py                 # everything
    python benchmarks/packed_inference.py --no-synth --batch 65536 --repeats 10
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, machine_description  # noqa: E402

from bitlogic.backends import PackedLogicNet, synth_report  # noqa: E402
from bitlogic.netlist import LogicNetlist, NetlistLayer, evaluate_netlist  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "packed_inference.md"
NETS = {
    "rank2": ("784 -> 6 x 8000, rank 2, 10 classes", [8000] * 6, 2),
    "rank6": ("784 -> 2000 -> 1000, rank 6, 10 classes", [2000, 1000], 6),
}
NUM_INPUTS, NUM_CLASSES = 784, 10
REFERENCE_BATCH = 512  # the NumPy references are slow; time them on fewer samples


def random_netlist(widths: list[int], rank: int, seed: int = 0) -> LogicNetlist:
    """Random connections and truth tables, ``NUM_INPUTS`` bits in, ``NUM_CLASSES`` out."""
    rng = np.random.default_rng(seed)
    layers, width = [], NUM_INPUTS
    for n_out in widths:
        indices = rng.integers(0, width, size=(n_out, rank)).astype(np.int32)
        luts = rng.integers(0, 2, size=(n_out, 2**rank)).astype(np.uint8)
        layers.append(NetlistLayer(indices, luts))
        width = n_out
    return LogicNetlist(NUM_INPUTS, layers, NUM_CLASSES, tau=1.0)


# -- what is timed: each entry turns a netlist into a function of the input batch ---------


def packed_native(threads: int) -> Callable[[LogicNetlist], Callable[[np.ndarray], object]]:
    def build(netlist: LogicNetlist) -> Callable[[np.ndarray], object]:
        return PackedLogicNet(netlist, num_threads=threads, use_native=True).predict

    return build


def packed_numpy(netlist: LogicNetlist) -> Callable[[np.ndarray], object]:
    return PackedLogicNet(netlist, use_native=False).predict


def numpy_reference(netlist: LogicNetlist) -> Callable[[np.ndarray], object]:
    return lambda x: evaluate_netlist(netlist, x)


ENGINES = {"packed, 1 thread": packed_native(1), "packed, 2 threads": packed_native(2)}
REFERENCES = {"packed NumPy fallback": packed_numpy, "NumPy reference": numpy_reference}


def throughput(build, netlist: LogicNetlist, x: np.ndarray, repeats: int) -> float:
    """Samples per second of ``build(netlist)`` on ``x`` (best of ``repeats``)."""
    run = build(netlist)
    return len(x) / best_time(lambda: run(x), repeats=repeats, warmup=1)


def setup_seconds(netlist: LogicNetlist) -> float:
    """Wall time of ``PackedLogicNet(netlist)`` with the kernel already compiled."""
    PackedLogicNet(netlist)
    start = time.perf_counter()
    PackedLogicNet(netlist)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=65536)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-synth", action="store_true", help="skip the yosys report")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    machine = machine_description()
    engine_isa = PackedLogicNet(random_netlist([10], 2)).backend
    rng = np.random.default_rng(1)
    x = rng.random((args.batch, NUM_INPUTS)) < 0.5
    lines = [
        "# Packed inference throughput",
        "",
        f"Machine: {machine}. Engine build: `{engine_isa}`.",
        f"Inputs: bool (batch, {NUM_INPUTS}); engines timed on batch {args.batch}, "
        f"references on batch {REFERENCE_BATCH}; best of {args.repeats} runs.",
        "",
        "| net | LUTs | implementation | samples/s | vs NumPy reference |",
        "|---|---|---|---|---|",
    ]
    for key, (title, widths, rank) in NETS.items():
        netlist = random_netlist(widths, rank)
        rates = {name: throughput(build, netlist, x, args.repeats) for name, build in
                 ENGINES.items()}
        small = x[:REFERENCE_BATCH]
        rates |= {name: throughput(build, netlist, small, 3) for name, build in
                  REFERENCES.items()}
        base = rates["NumPy reference"]
        for name, rate in rates.items():
            lines.append(f"| {key}: {title} | {netlist.num_gates} | {name} | "
                         f"{rate:,.0f} | {rate / base:,.1f}x |")
        print("\n".join(lines[-len(rates):]), flush=True)
        lines_setup = f"Setup of PackedLogicNet for `{key}`: {setup_seconds(netlist):.3f} s."
        print(lines_setup, flush=True)
        lines.insert(4, lines_setup)
    if not args.no_synth:
        report = synth_report(random_netlist(*NETS["rank6"][1:]))
        lines += [
            "",
            f"yosys (`abc -lut 6`) on `rank6`: {report['luts']} LUT6, depth {report['depth']} "
            f"cells, {report['seconds']} s of yosys.",
        ]
        print(lines[-1])
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
