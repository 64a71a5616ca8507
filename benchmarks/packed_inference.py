"""Inference throughput of the packed engine next to references measured in the same run.

Two random netlists (seeded; random connections and truth tables, which is
the hardest case for caches since trained nets are no more local):

* ``rank2``: 784 input bits -> 6 x 8000 rank-2 LUTs, GroupSum over 10 classes;
* ``rank6``: 784 input bits -> 2000 -> 1000 rank-6 LUTs, 10 classes.

Rows: the compiled packed engine on 1 and 2 threads and the standalone C of
``emit_c`` (``bitlogic_net_eval_batch``, single-threaded, built with
``-O3 -march=native``), all on the full batch, then every entry of
``REFERENCES`` on a small one: the engine's NumPy fallback, the emitted C one
sample at a time, eager PyTorch and the NumPy reference interpreter. Inputs
are bool ``(batch, 784)`` arrays, so the figures include reading the inputs
and packing them into bit planes. Throughput is batch / best wall time. A
table puts the C batch path next to the engine on one thread (the ratio).
Also: engine setup time and yosys LUT6 counts for the rank-6 net. Every
engine and the C run with ``simplify=False``: the figures are for the whole
net as written (simplify would drop a random net's dead LUTs; see
``benchmarks/hardware.py`` for what it removes from trained nets).

Usage:
    python benchmarks/packed_inference.py                 # everything
    python benchmarks/packed_inference.py --no-synth --batch 65536 --repeats 10
    python benchmarks/packed_inference.py --c-vs-engine   # only the C / engine ratio
"""

from __future__ import annotations

import argparse
import ctypes
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import best_time, machine_description  # noqa: E402

from bitlogic.backends import PackedLogicNet, emit_c, synth_report  # noqa: E402
from bitlogic.netlist import LogicNetlist, NetlistLayer, evaluate_netlist  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "packed_inference.md"
NETS = {
    "rank2": ("784 -> 6 x 8000, rank 2, 10 classes", [8000] * 6, 2),
    "rank6": ("784 -> 2000 -> 1000, rank 6, 10 classes", [2000, 1000], 6),
}
NUM_INPUTS, NUM_CLASSES = 784, 10
REFERENCE_BATCH = 512  # the NumPy references are slow; time them on fewer samples

# Appended to the results: why the engine looks the way it does. The figures
# here come from one-off A/B runs (noted), the tables above from this script.
DESIGN_NOTES = """
## Design notes

The engine is `bitlogic/backends/packed.py` (Python setup) over one generic
kernel, `bitlogic/csrc/packed*.c`, compiled once per machine (3.5 s cold,
cached by source hash) and shared by every model. Choices and the one-off A/B
measurements behind them (single thread, process CPU time, 32768 samples; the
machine was shared with other jobs, so figures are +-10%):

- **Samples along words, 512 per block.** A signal of 512 samples is one
  64-byte vector (8 x uint64 = one zmm via GCC vector extensions; AVX2 or
  scalar code elsewhere). Activations of a level are width x 64 B, so an
  8000-wide level is 512 KiB and the gathers of the next layer hit L2.
  A 256-sample build is in the same library and is picked when two levels
  would fill more than half of L2 (block-size table above: at 8000 wide on
  this 2 MiB L2 the two are within 10%, 512 ahead in most runs; at 16000
  wide, where 512-sample levels fill all of L2, 256 wins by 15-25%; on a
  1 MiB-L2 Zen 4 the 8000-wide net gets the 256 build).
- **Rank-2 layers are L2-bandwidth bound.** Each LUT reads two random
  operand lines and writes one (plus its RFO): about 4 line transfers, ~2 ns
  per LUT and 512 samples, i.e. ~31 ns per sample for an 8000-wide layer.
  LUTs are sorted at setup into runs of one function (a fixed expression, one
  `vpternlog`, no branch or table per LUT) and, inside a run, by first input
  so that operand reads sweep memory in order (6 x 8000: 271 -> 259 ns per
  sample; 6 x 4000: 190 -> 151).
- **Ranks 3..6: Shannon mux trees** (one `vpternlog` per mux). Bottom level
  by rank, measured on 4000-wide layers: constant masks for ranks 3-4
  (rank 4: 232 vs 306 ns per sample), a lookup among the 16 functions of the
  last two inputs for ranks 5-6 (rank 6: 235 vs 893 ns).
- **GroupSum**: a Harley-Seal carry-save counter (15 CSAs per 16 LUT outputs,
  planes kept in registers) and one planes-to-integers conversion per block
  (`vpaddd` under a 16-bit mask); the argmax runs class-outer so it
  vectorises across samples. In the rank-2 net this took GroupSum from 21%
  of the engine's time (a generic per-vector counter and a per-sample
  argmax; perf) to 8%; the layers take ~60%, the input stage ~30%.
- **Input**: bool rows are read front to back (64 bytes -> one `vptestmb`
  mask), with software prefetch 8 rows ahead because rows cross 4 KiB pages
  where the hardware prefetcher stops (53 -> 47 ns per sample), then
  transposed 64 x 64 with vector shuffles (six rounds; the scalar version
  was 5x the operations). Reading 784 bytes per sample is memory-bound:
  ~47 ns of the rank-2 net's ~220 ns per sample per thread.
- **Threads**: OpenMP over blocks (dynamic schedule) with per-thread
  buffers; the tail block is zero-padded and only valid samples are written.
- **Fallback**: the same Shannon algorithm vectorised over all LUTs of a
  layer in NumPy (uint64 words), used when no C compiler is present.
- **Run-to-run spread**: this VM shares its host; on idle runs the rank-2
  net measured 3.2-4.0 M samples/s on 1 thread and 6.3-8.9 M on 2, and with
  another job on the machine 2 threads fall below 1 (three runnable threads
  on two cores evict each other's L2).
"""


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
        return PackedLogicNet(netlist, simplify=False, num_threads=threads, use_native=True).predict

    return build


def packed_numpy(netlist: LogicNetlist) -> Callable[[np.ndarray], object]:
    return PackedLogicNet(netlist, simplify=False, use_native=False).predict


def numpy_reference(netlist: LogicNetlist) -> Callable[[np.ndarray], object]:
    return lambda x: evaluate_netlist(netlist, x)


# A loop around the emitted C's per-sample entry point, so one ctypes call times only C;
# the batch entry point is called directly.
_C_BATCH = """
#include <stdint.h>
#include "bitlogic_net.h"
#define N BITLOGIC_NET_NUM_INPUTS
#define K BITLOGIC_NET_NUM_CLASSES
void per_sample(const uint8_t *x, int64_t n, uint32_t *counts) {
    for (int64_t i = 0; i < n; i++)
        bitlogic_net_eval_bits(x + i * N, counts + i * K);
}
"""


def emitted_c(entry: str) -> Callable[[LogicNetlist], Callable[[np.ndarray], object]]:
    """The standalone C of ``emit_c`` built with -O3 -march=native; ``entry`` is
    ``per_sample`` of ``_C_BATCH`` or ``bitlogic_net_eval_batch``."""

    def build(netlist: LogicNetlist) -> Callable[[np.ndarray], object]:
        work = Path(tempfile.mkdtemp(prefix="bitlogic-bench-c-"))
        emit_c(netlist, work, simplify=False)
        (work / "batch.c").write_text(_C_BATCH)
        subprocess.run(["cc", "-O3", "-march=native", "-shared", "-fPIC", "-I", str(work),
                        str(work / "batch.c"), str(work / "bitlogic_net.c"), "-o",
                        str(work / "net.so")], check=True)
        function = getattr(ctypes.CDLL(str(work / "net.so")), entry)

        def run(x: np.ndarray) -> np.ndarray:
            rows = np.ascontiguousarray(x, dtype=np.uint8)
            counts = np.empty((len(rows), netlist.num_classes), dtype=np.uint32)
            function(ctypes.c_void_p(rows.ctypes.data), ctypes.c_int64(len(rows)),
                     ctypes.c_void_p(counts.ctypes.data))
            return counts

        return run

    return build


def eager_pytorch(netlist: LogicNetlist) -> Callable[[np.ndarray], object]:
    """``model.eval()`` of a LogicDense model with this netlist's wiring and tables.

    Light logits of +-1 discretize to exactly the netlist's truth tables, so the
    model computes the same function as the engines (checked below).
    """
    import torch
    from torch import nn

    from bitlogic.layers import GroupSum, LogicDense

    layers, width = [], netlist.num_inputs
    for layer in netlist.layers:
        dense = LogicDense(width, layer.n_out, "light", layer.rank, init_method="random")
        with torch.no_grad():
            dense.connections.indices.copy_(torch.from_numpy(layer.indices.T.astype(np.int64)))
            dense.weight.copy_(torch.from_numpy(layer.luts.astype(np.float32) * 2 - 1))
        layers.append(dense)
        width = layer.n_out
    model = nn.Sequential(*layers, GroupSum(netlist.num_classes, netlist.tau)).eval()

    def run(x: np.ndarray):
        with torch.no_grad():
            return model(torch.from_numpy(np.asarray(x, dtype=np.float32))).argmax(1)

    probe = np.random.default_rng(1).integers(0, 2, (70, netlist.num_inputs)).astype(bool)
    expected = PackedLogicNet(netlist, simplify=False).predict(probe)
    if not np.array_equal(run(probe).numpy(), expected):
        raise AssertionError("eager model and packed engine disagree")
    return run


C_BATCH = "emitted C, bitlogic_net_eval_batch, 1 thread"
ENGINES = {"packed, 1 thread": packed_native(1), "packed, 2 threads": packed_native(2),
           C_BATCH: emitted_c("bitlogic_net_eval_batch")}
REFERENCES = {
    "packed NumPy fallback": packed_numpy,
    "emitted C, per sample, 1 thread": emitted_c("per_sample"),
    "eager PyTorch model.eval(), 2 threads": eager_pytorch,
    "NumPy reference": numpy_reference,
}


def throughput(build, netlist: LogicNetlist, x: np.ndarray, repeats: int) -> float:
    """Samples per second of ``build(netlist)`` on ``x`` (best of ``repeats``)."""
    run = build(netlist)
    return len(x) / best_time(lambda: run(x), repeats=repeats, warmup=1)


def c_vs_engine_rows(x: np.ndarray, repeats: int) -> list[str]:
    """The C batch path next to the engine on one thread, measured in turns, per net."""
    rows = ["", "Emitted C `bitlogic_net_eval_batch` vs the packed engine, both single-threaded "
            f"(batch {len(x)}, best of {repeats}, timed in alternation):", "",
            "| net | packed, 1 thread | C eval_batch | C / packed |", "|---|---|---|---|"]
    for key, (_, widths, rank) in NETS.items():
        netlist = random_netlist(widths, rank)
        runs = {name: ENGINES[name](netlist) for name in ("packed, 1 thread", C_BATCH)}
        expected = np.asarray(runs["packed, 1 thread"](x[:1000]))
        got = np.asarray(runs[C_BATCH](x[:1000])).argmax(1)  # counts: ties to the lower class
        if not np.array_equal(got, expected):
            raise AssertionError(f"{key}: emitted C and packed engine disagree")
        best = dict.fromkeys(runs, float("inf"))
        for run in runs.values():  # warm-up: page faults and caches are not inference
            run(x)
        for _ in range(repeats):  # alternate, so both see the same machine load
            for name, run in runs.items():
                best[name] = min(best[name], best_time(lambda r=run: r(x), repeats=1, warmup=0))
        engine, c = (len(x) / best[name] for name in runs)
        rows.append(f"| {key} | {engine:,.0f} | {c:,.0f} | {c / engine:.2f} |")
        print(rows[-1], flush=True)
    return rows


def setup_seconds(netlist: LogicNetlist) -> float:
    """Wall time of ``PackedLogicNet(netlist, simplify=False)`` with the kernel already compiled."""
    PackedLogicNet(netlist, simplify=False)
    start = time.perf_counter()
    PackedLogicNet(netlist, simplify=False)
    return time.perf_counter() - start


def block_size_rows(x: np.ndarray, repeats: int) -> list[str]:
    """Single-thread samples/s of 6 rank-2 layers at two widths with 512- and 256-sample blocks."""
    rows = ["", "Block size (1 thread, 784 -> 6 x W rank 2; `auto` is what PackedLogicNet picks):",
            "", "| W | 512-sample blocks | 256-sample blocks | auto |", "|---|---|---|---|"]
    for width in (8000, 16000):
        netlist = random_netlist([width] * 6, 2)
        rates = []
        for block in (512, 256):
            engine = PackedLogicNet(netlist, simplify=False, num_threads=1, block_samples=block)
            rates.append(len(x) / best_time(lambda e=engine: e.predict(x), repeats=repeats))
        auto = PackedLogicNet(netlist, simplify=False, num_threads=1).backend.rsplit("-", 1)[1]
        rows.append(f"| {width} | {rates[0]:,.0f} | {rates[1]:,.0f} | {auto} |")
        print(rows[-1], flush=True)
    return rows


def input_stage_row(x: np.ndarray, repeats: int) -> list[str]:
    """Throughput of a 10-LUT net: reading and packing the inputs dominates it."""
    engine = PackedLogicNet(random_netlist([10], 2), simplify=False, num_threads=1)
    rate = len(x) / best_time(lambda: engine.predict(x), repeats=repeats)
    line = (f"Input stage alone (784 -> 10 LUTs, 1 thread): {rate:,.0f} samples/s, i.e. "
            f"{1e9 / rate:.0f} ns per sample to read 784 bytes and transpose them into bit planes.")
    print(line, flush=True)
    return ["", line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=65536)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-synth", action="store_true", help="skip the yosys report")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--c-vs-engine", action="store_true",
                        help="only print the C / engine table (writes nothing)")
    args = parser.parse_args()
    if args.c_vs_engine:
        rng = np.random.default_rng(1)
        c_vs_engine_rows(rng.random((args.batch, NUM_INPUTS)) < 0.5, args.repeats)
        return

    rng = np.random.default_rng(1)
    x = rng.random((args.batch, NUM_INPUTS)) < 0.5
    engine_build = PackedLogicNet(random_netlist([10], 2), simplify=False).backend
    lines = [
        "# Packed inference throughput",
        "",
        f"Machine: {machine_description()}. Engine build: `{engine_build}`.",
        f"Inputs: bool (batch, {NUM_INPUTS}); engines timed on batch {args.batch}, "
        f"references on batch {REFERENCE_BATCH}; best of {args.repeats} runs. "
        "Written by `benchmarks/packed_inference.py`.",
        "",
        "| net | LUTs | implementation | samples/s | vs NumPy reference |",
        "|---|---|---|---|---|",
    ]
    setups = []
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
            print(lines[-1], flush=True)
        setups.append(f"`{key}` {setup_seconds(netlist) * 1e3:.1f} ms")
    lines += ["", f"Setup of PackedLogicNet (kernel already compiled): {', '.join(setups)}."]
    lines += c_vs_engine_rows(x, args.repeats)
    lines += input_stage_row(x, args.repeats)
    lines += block_size_rows(x[: args.batch // 2], max(3, args.repeats // 3))
    if not args.no_synth:
        report = synth_report(random_netlist(*NETS["rank6"][1:]))
        lines += [
            "",
            f"yosys (`abc -lut 6`) on `rank6`: {report['luts']} LUT6, depth {report['depth']} "
            f"cells, {report['seconds']} s of yosys.",
        ]
        print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n" + DESIGN_NOTES)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
