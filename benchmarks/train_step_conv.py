"""Training-step throughput of a LogicConv2d level: fused kernels vs dense vs reference.

Three paths, each in a fresh subprocess, measured in the same run:

* ``conv``: ``LogicConv2d`` on the fused CPU kernels (``bitlogic.kernels.conv``);
* ``dense``: ``LogicDense`` layers with the same LUT evaluations per sample,
  one layer per tree level with ``level_sizes[d] * H' * W'`` neurons, same
  parametrization and rank, fixed random-unique wiring over the flattened
  image (what the conv path costs next to the dense kernels it reuses);
* ``reference``: the same ``LogicConv2d`` with ``use_kernels(False)`` (the
  pure-PyTorch sliding-window gather).

A step is ``zero_grad -> forward -> backward`` of a fixed random cotangent
(no optimizer); by default the input requires a gradient (a conv level inside
a net; ``--no-input-grad`` for a first layer). samples/s = batch / median
step; LUT-evals/s counts every position of every node: ``sum(level_sizes) *
H' * W'`` per sample. ``peak MB`` is measured as in ``train_step.py``
(:func:`train_step.peak_step_memory_mb`). The targets: conv >= 0.8x dense,
conv >= 5x reference.

Usage:
    python benchmarks/train_step_conv.py      # 24 x 32 x 32 -> 64, k 3, depth 2, ranks 2 and 4
    python benchmarks/train_step_conv.py --ranks 6 --params light dwn --passive-wait
    python benchmarks/train_step_conv.py --in-channels 6 --size 8 --out-channels 8 --quick \\
        --output benchmarks/results/train_step_conv_smoke.md        # smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import load_average, machine_description, spawn_worker  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "train_step_conv.md"
PATHS = ("conv", "dense", "reference")
# (warmup, timed) steps; the reference takes seconds per step at full size.
STEPS = {"conv": (3, 15), "dense": (3, 15), "reference": (1, 4)}


def _build(cfg: dict):
    """The model of one path and its input ``(batch, ...)``."""
    import torch

    from bitlogic.layers import LogicConv2d, LogicDense

    c, size = cfg["in_channels"], cfg["size"]
    conv = LogicConv2d(c, cfg["out_channels"], kernel_size=cfg["kernel_size"],
                       stride=cfg["stride"], padding=cfg["padding"], tree_depth=cfg["depth"],
                       parametrization=cfg["param"], lut_rank=cfg["rank"])
    out_h, out_w = conv.output_size(size, size)
    positions = out_h * out_w
    x = (torch.rand(cfg["batch"], c, size, size) > 0.5).float()
    if cfg["path"] != "dense":
        return conv, x, conv.level_sizes, positions
    layers, width = [], c * size * size
    for nodes in conv.level_sizes:
        layers.append(LogicDense(width, nodes * positions, parametrization=cfg["param"],
                                 lut_rank=cfg["rank"]))
        width = nodes * positions
    return torch.nn.Sequential(*layers), x.flatten(1), conv.level_sizes, positions


def worker(cfg: dict) -> dict:
    """Measure one path in this process; returns its figures."""
    import torch
    from train_step import peak_step_memory_mb

    from bitlogic.kernels import kernels_enabled, use_kernels

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    model, x, level_sizes, positions = _build(cfg)
    x.requires_grad_(cfg["input_grad"])
    use_kernels(cfg["path"] != "reference")
    with torch.no_grad():
        cotangent = torch.randn_like(model(x))

    def step():
        model.zero_grad(set_to_none=True)
        x.grad = None
        torch.autograd.backward(model(x), cotangent)

    warmup, timed = STEPS[cfg["path"]]
    if cfg["quick"]:
        warmup, timed = 1, 3
    for _ in range(warmup):
        step()
    times = []
    for _ in range(timed):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    times.sort()
    median = times[len(times) // 2]
    evals = sum(level_sizes) * positions
    return {"step_ms": median * 1e3, "min_ms": times[0] * 1e3,
            "samples_per_s": cfg["batch"] / median,
            "lut_evals_per_s": cfg["batch"] * evals / median, "evals_per_sample": evals,
            "peak_mb": peak_step_memory_mb(step),
            "fused": cfg["path"] != "reference" and kernels_enabled()}


def _table(rows: list[dict]) -> list[str]:
    out = ["| param | rank | path | LUT evals / sample | samples/s | LUT-evals/s | "
           "step ms (median / min) | peak MB |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        path = r["path"] if r["fused"] or r["path"] == "reference" else f"{r['path']} (unfused)"
        out.append(f"| {r['param']} | {r['rank']} | {path} | {r['evals_per_sample']} | "
                   f"{r['samples_per_s']:.0f} | "
                   f"{r['lut_evals_per_s']:.3g} | {r['step_ms']:.1f} / {r['min_ms']:.1f} | "
                   f"{r['peak_mb']:.0f} |")
    return out


def _targets(rows: list[dict]) -> list[str]:
    by = {(r["param"], r["rank"], r["path"]): r for r in rows}
    lines = []
    for (param, rank, path), conv in by.items():
        if path != "conv":
            continue
        for other, goal in (("dense", 0.8), ("reference", 5.0)):
            ref = by.get((param, rank, other))
            if ref is None:
                continue
            ratio = conv["samples_per_s"] / ref["samples_per_s"]
            lines.append(f"{'MET ' if ratio >= goal else 'MISSED'} {param:<9} rank {rank} "
                         f"conv / {other:<9} = {ratio:5.2f}x (target >= {goal:g}x)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--in-channels", type=int, default=24,
                        help="C (default 24: 3 colour channels x 8 thermometer bits)")
    parser.add_argument("--size", type=int, default=32, help="image side H = W")
    parser.add_argument("--out-channels", type=int, default=64)
    parser.add_argument("--kernel-size", type=int, default=3)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--padding", type=int, default=1)
    parser.add_argument("--depth", type=int, default=2, help="tree_depth")
    parser.add_argument("--ranks", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--params", nargs="+", default=["light"])
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-input-grad", action="store_true",
                        help="the input needs no gradient (a first layer)")
    parser.add_argument("--quick", action="store_true", help="1 warmup + 3 timed steps (smoke)")
    parser.add_argument("--passive-wait", action="store_true",
                        help="OMP_WAIT_POLICY=PASSIVE (for machines shared with other jobs)")
    parser.add_argument("--note", default="", help="free text for the results file, e.g. "
                        "whether other jobs shared the machine")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    extra_env = {"OMP_WAIT_POLICY": "PASSIVE"} if args.passive_wait else {}
    load_start = load_average()
    machine = f"{machine_description()}; {args.threads} threads; load average at start {load_start}"
    if extra_env:
        machine += "; OMP_WAIT_POLICY=PASSIVE"
    print(machine)
    base = {"in_channels": args.in_channels, "size": args.size,
            "out_channels": args.out_channels, "kernel_size": args.kernel_size,
            "stride": args.stride, "padding": args.padding, "depth": args.depth,
            "batch": args.batch, "threads": args.threads, "input_grad": not args.no_input_grad,
            "quick": args.quick}
    rows = []
    for param in args.params:
        for rank in ([2] if param == "difflogic" else args.ranks):
            for path in args.paths:
                cfg = {**base, "param": param, "rank": rank, "path": path}
                row = {**cfg, **spawn_worker(__file__, cfg, extra_env)}
                rows.append(row)
                print(f"{param:<9} r{rank} {path:<9} {row['samples_per_s']:9.1f} samples/s  "
                      f"{row['lut_evals_per_s']:9.3g} LUT-evals/s  {row['step_ms']:8.1f} ms  "
                      f"peak {row['peak_mb']:6.0f} MB", flush=True)
    table, targets = _table(rows), _targets(rows)
    machine += f", at end {load_average()}"
    print("\n".join(["", *table, "", *targets]))
    level = (f"LogicConv2d({args.in_channels}, {args.out_channels}, kernel_size="
             f"{args.kernel_size}, stride={args.stride}, padding={args.padding}, "
             f"tree_depth={args.depth}) on {args.size} x {args.size} images, batch {args.batch}, "
             f"input {'without' if args.no_input_grad else 'with'} gradient")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        "# Training step of a conv level: fused conv vs equal-work dense vs reference\n\n"
        f"Machine: {machine}.{(' ' + args.note) if args.note else ''}\n\n"
        f"Command: `python benchmarks/train_step_conv.py {' '.join(sys.argv[1:])}`\n\n"
        f"Level: {level}. `dense` = one `LogicDense` per tree level with as many neurons "
        "as the level has node-positions; `reference` = `use_kernels(False)`. Forward + "
        "backward, fresh process per row; method in the script's docstring.\n\n"
        + "\n".join(table) + "\n\n```\n" + "\n".join(targets) + "\n```\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
