"""A CIFAR-sized convolutional logic net (> 1M LUTs): freeze, save, load, run packed.

The model (random init, seeded; the cost of a netlist does not depend on
training) is ``Thermometer(3) -> LogicConv2d(9, C1) -> OrPool2d(2) ->
LogicConv2d(C1, C2) -> OrPool2d(2) -> Flatten -> LogicDense x2 -> GroupSum``
on 3x32x32 inputs, every conv a rank-2 tree of depth 2 with padding 1.
Each stage reports its wall time and the process's peak resident memory;
the packed engine's samples/s is printed next to eager PyTorch
``model.eval()`` measured in the same run, after checking that both give the
same class scores on the timed batch.

Usage:
    python benchmarks/conv_netlist.py --output benchmarks/results/conv_netlist.md
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from common import machine_description  # noqa: E402

from bitlogic.backends import PackedLogicNet  # noqa: E402
from bitlogic.layers import (  # noqa: E402
    GroupSum,
    LogicConv2d,
    LogicDense,
    OrPool2d,
    Thermometer,
    to_netlist,
)
from bitlogic.netlist import LogicNetlist  # noqa: E402


def peak_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_model(c1: int, c2: int, dense: int) -> nn.Sequential:
    """The benchmark net for 3x32x32 inputs, in eval mode."""
    return nn.Sequential(
        Thermometer(3),
        LogicConv2d(9, c1, kernel_size=3, padding=1, tree_depth=2, lut_rank=2),
        OrPool2d(2),
        LogicConv2d(c1, c2, kernel_size=3, padding=1, tree_depth=2, lut_rank=2),
        OrPool2d(2),
        nn.Flatten(),
        LogicDense(c2 * 8 * 8, dense, lut_rank=2),
        LogicDense(dense, dense, lut_rank=2),
        GroupSum(k=10, tau=1.0),
    ).eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c1", type=int, default=256, help="channels of the first conv")
    parser.add_argument("--c2", type=int, default=512, help="channels of the second conv")
    parser.add_argument("--dense", type=int, default=8000, help="width of the dense layers")
    parser.add_argument("--batch", type=int, default=4096, help="samples for the packed engine")
    parser.add_argument("--eager-batch", type=int, default=64, help="samples for eager eval")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    rows: list[tuple[str, str, str]] = []

    def stage(name: str, fn):
        start = time.perf_counter()
        result = fn()
        rows.append((name, f"{time.perf_counter() - start:.2f} s", f"{peak_mib():.0f} MiB"))
        print(f"{name}: {rows[-1][1]}, peak {rows[-1][2]}", flush=True)
        return result

    model = stage("build model", lambda: build_model(args.c1, args.c2, args.dense))
    netlist = stage("to_netlist", lambda: to_netlist(model, input_shape=(3, 32, 32)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conv.netlist.safetensors"
        stage("save", lambda: netlist.save(path))
        size_mib = path.stat().st_size / 2**20
        loaded = stage("load (validated)", lambda: LogicNetlist.load(path))
    engine = stage("PackedLogicNet setup", lambda: PackedLogicNet(loaded, num_threads=args.threads))

    x = np.random.default_rng(0).random((args.batch, 3 * 32 * 32), dtype=np.float32)
    engine(x[:64])  # warm-up
    start = time.perf_counter()
    scores = engine(x)
    packed_s = time.perf_counter() - start
    rows.append(("packed engine run", f"{packed_s:.2f} s", f"{peak_mib():.0f} MiB"))

    xe = torch.from_numpy(x[: args.eager_batch]).view(-1, 3, 32, 32)
    with torch.no_grad():
        start = time.perf_counter()
        eager = model(xe).numpy()
        eager_s = time.perf_counter() - start
    if not np.array_equal(np.asarray(scores)[: args.eager_batch], eager):
        raise SystemExit("packed engine and model.eval() disagree")
    rows.append(("eager model.eval()", f"{eager_s:.2f} s", f"{peak_mib():.0f} MiB"))

    packed_rate, eager_rate = args.batch / packed_s, args.eager_batch / eager_s
    lines = [
        f"# Conv netlist: {netlist.num_gates:,} LUTs, {len(netlist.layers)} levels",
        "",
        f"Machine: {machine_description()}; {args.threads} threads. "
        f"Model: c1={args.c1}, c2={args.c2}, dense={args.dense}; file {size_mib:.1f} MiB. "
        f"LUTs by rank: {netlist.lut_counts_by_rank}.",
        "",
        "| stage | wall | peak RSS |",
        "|---|---|---|",
        *[f"| {name} | {wall} | {mem} |" for name, wall, mem in rows],
        "",
        f"Packed engine: **{packed_rate:,.0f} samples/s** (batch {args.batch}, float32 pixels "
        f"in); eager PyTorch model.eval(): {eager_rate:,.1f} samples/s (batch "
        f"{args.eager_batch}); ratio {packed_rate / eager_rate:,.0f}x. Scores equal.",
    ]
    print("\n".join(lines))
    if args.output:
        args.output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
