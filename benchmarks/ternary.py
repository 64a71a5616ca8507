"""Packed ternary linear (2-bit weights, int8 activations) vs float32 ``F.linear``.

For each shape (out x in), batch and thread count, both are timed in the same
run, interleaved round by round so that background load hits both alike:

* ``fp32``: ``torch.nn.functional.linear(x, W, b)`` with dense float32 weights.
* ``packed``: :func:`bitlogic.ternary.kernel.packed_ternary_linear`
  end to end (per-token int8 quantization of ``x`` in C, integer GEMM/GEMV,
  float scales, Python and ctypes overhead included).
* ``kernel``: the C GEMM call alone on pre-quantized activations.

Each round times a batch of calls; the table gives the median over rounds and,
after the slash, the best round (the least disturbed by other processes).

Usage:
    python benchmarks/ternary.py [--rounds 15] [--no-write]

Writes ``benchmarks/results/ternary.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from common import machine_description

from bitlogic.ternary import kernel as tk
from bitlogic.ternary.packing import pack_ternary
from bitlogic.ternary.quantize import weight_to_ternary

SHAPES = [(4096, 4096), (2048, 8192)]
BATCHES = [1, 32]
THREADS = [1, 2]
RESULTS = Path(__file__).parent / "results" / "ternary.md"
def time_calls(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def calls_for(fn, budget_s: float = 0.03) -> int:
    """Calls per round so that one round lasts about ``budget_s``."""
    fn()
    return max(1, int(budget_s / max(time_calls(fn, 3), 1e-7)))


def bench_case(lib, out_f: int, in_f: int, batch: int, threads: int, rounds: int) -> dict:
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(out_f, in_f, generator=gen) / in_f**0.5
    b = torch.randn(out_f, generator=gen)
    x = torch.randn(batch, in_f, generator=gen)
    T, gamma = weight_to_ternary(W, per_channel=True)
    packed = pack_ternary(T)
    codes, step, sums = tk.native_quantize(lib, x, 8, packed.shape[1], threads)
    y = torch.empty(batch, out_f)
    nblocks = packed.shape[1] // 64
    fns = {
        "fp32": lambda: F.linear(x, W, b),
        "packed": lambda: tk.packed_ternary_linear(x, packed, gamma, b, in_f, 8, threads),
        "kernel": lambda: lib.tern_gemm_f32(
            packed.data_ptr(),
            out_f,
            nblocks,
            codes.data_ptr(),
            sums.data_ptr(),
            step.data_ptr(),
            batch,
            gamma.data_ptr(),
            b.data_ptr(),
            y.data_ptr(),
            threads,
        ),
    }
    calls = {name: calls_for(fn) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(time_calls(fn, calls[name]))
    return {name: (statistics.median(s) * 1e6, min(s) * 1e6) for name, s in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args()
    lib = tk.load_ternary_library()
    if lib is None:
        raise SystemExit("the ternary C kernel is unavailable; nothing to benchmark")
    header = (
        "| out x in | batch | threads | fp32 F.linear (us) | packed end-to-end (us) "
        "| kernel only (us) | speedup end-to-end | speedup kernel only |"
    )
    rows = []
    print(header)
    for out_f, in_f in SHAPES:
        for batch in BATCHES:
            for threads in THREADS:
                r = bench_case(lib, out_f, in_f, batch, threads, args.rounds)
                fp, pk, kn = r["fp32"], r["packed"], r["kernel"]
                row = (
                    f"| {out_f}x{in_f} | {batch} | {threads} | {fp[0]:.0f} / {fp[1]:.0f} | "
                    f"{pk[0]:.0f} / {pk[1]:.0f} | {kn[0]:.0f} / {kn[1]:.0f} | "
                    f"{fp[0] / pk[0]:.1f}x / {fp[1] / pk[1]:.1f}x | "
                    f"{fp[0] / kn[0]:.1f}x / {fp[1] / kn[1]:.1f}x |"
                )
                rows.append(row)
                print(row, flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Packed ternary linear vs fp32",
        "",
        f"Machine: {machine_description()}.",
        f"Kernel path: {tk.simd_name(lib)}; torch {torch.__version__}; "
        f"1-min load average at the end: {load:.2f}.",
        "Weights 2 bits each (4 per byte), activations int8 per token, int32 accumulation. "
        f"Times: median / best of {args.rounds} interleaved rounds, microseconds per call.",
        "",
        header,
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(lines) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
