"""Training-step throughput and peak memory of LogicDense nets: fused kernels vs reference.

Every configuration runs in a fresh subprocess. ``peak MB`` is the most
memory a step holds above what exists between steps. After the timed steps,
glibc is told to map every allocation of 64 KiB or more separately and to
return freed memory at once (``mallopt``, ``malloc_trim``), so the resident
set follows the live tensors; the kernel's high-water mark is reset
(``/proc/self/clear_refs``) and two more steps run; the figure is ``VmHWM``
minus ``VmRSS`` before those steps. Timing runs under the default allocator
settings.
A step is ``zero_grad -> forward -> cross-entropy -> backward`` (no optimizer).
Throughput is batch / median step time. The reference is the same model with
``bitlogic.kernels.use_kernels(False)``; ``--compile`` adds
``torch.compile(reference)``.

On a machine shared with other jobs, OpenMP's default spin-waiting makes
2-thread steps stall at every barrier (for PyTorch's operators and the
kernels alike); ``--passive-wait`` runs every configuration with
``OMP_WAIT_POLICY=PASSIVE``. ``--no-trim`` stops glibc from returning freed
heap memory to the system between steps (``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_``), which otherwise makes each step page-fault its
activations back in.

``--contended`` measures the trainer under contention instead: each
configuration runs alone, then next to one bounded CPU-bound busy-loop
process, with the OpenMP wait policy the trainer sets
(``bitlogic.native.OPENMP_WAIT_ENV``), with OpenMP's default (spinning) and
with any policy ``--waits`` adds, over ``--repeats`` interleaved rounds; it
prints the medians of samples/s alone and contended and their ratio (target:
contended >= 40% of alone, and the trainer's policy within 5% of the default
when alone). Throughput there is samples over the total time of the timed
steps, so stalls count.

Usage:
    python benchmarks/train_step.py                      # everything, 1 and 2 threads
    python benchmarks/train_step.py --contended          # mnist-s net, 2 threads, busy neighbour
    python benchmarks/train_step.py --contended --waits passive spin2000 --repeats 7
    python benchmarks/train_step.py --nets wide --threads 2 --params light dwn
    python benchmarks/train_step.py --compile --nets deep --params light
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import alone_and_contended, spawn_worker  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "train_step.md"
BATCH = 128
FUSED = ("light", "warp", "linear", "dwn", "difflogic")
GENERIC = ("polylut", "neurallut")
NETS = {
    "wide": {"title": "784 -> 6 x 8000, rank 2, fixed (random-unique)",
             "widths": [8000] * 6, "rank": 2, "connections": {}},
    "deep": {"title": "784 -> 2000 -> 1000, rank 6, fixed (random-unique)",
             "widths": [2000, 1000], "rank": 6, "connections": {}},
    "candidates": {"title": "784 -> 2000 -> 1000, rank 6, learnable, 8 candidates",
                   "widths": [2000, 1000], "rank": 6,
                   "connections": {"connections": "learnable", "num_candidates": 8}},
    "mnist-s": {"title": "784 -> 6 x 8000, rank 2, first layer learnable among 16 candidates "
                         "(the mnist-s preset's shape)",
                "widths": [8000] * 6, "rank": 2,
                "connections": {"connections": "learnable", "num_candidates": 16},
                "first_only": True},
    "dense": {"title": "2352 -> 2000 -> 1000, rank 6, first layer learnable over all 2352 "
                       "inputs (mnist-dwn's shape)",
              "inputs": 2352, "widths": [2000, 1000], "rank": 6,
              "connections": {"connections": "learnable", "num_candidates": -1},
              "first_only": True},
}
# (warmup, timed) steps; the reference at 8000 wide takes seconds per step.
STEPS = {"kernel": (3, 20), "reference": (1, 4), "compiled": (2, 10)}


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def peak_step_memory_mb(step) -> float:
    """Peak resident memory of ``step()`` above the resident set between steps (Linux, glibc)."""
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 64 * 1024)
    libc.mallopt(m_trim_threshold, 0)
    gc.collect()
    libc.malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS (Linux >= 4.0)
    baseline = _status_mb("VmRSS")
    for _ in range(2):
        step()
    return _status_mb("VmHWM") - baseline


def _build(net: str, param: str):
    import torch

    from bitlogic.layers import GroupSum, LogicDense

    spec = NETS[net]
    rank = 2 if param == "difflogic" else spec["rank"]  # difflogic is rank 2 only
    layers, width = [], spec.get("inputs", 784)
    for i, out in enumerate(spec["widths"]):
        wiring = spec["connections"] if i == 0 or not spec.get("first_only") else {}
        layers.append(LogicDense(width, out, parametrization=param, lut_rank=rank, **wiring))
        width = out
    return torch.nn.Sequential(*layers, GroupSum(10, tau=10.0)), rank


def worker(cfg: dict) -> dict:
    """Measure one configuration in this process; returns the figures."""
    import torch

    from bitlogic.kernels import kernels_enabled, use_kernels

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    model, rank = _build(cfg["net"], cfg["param"])
    x = (torch.rand(BATCH, model[0].in_dim) > 0.5).float()
    labels = torch.randint(0, 10, (BATCH,))
    use_kernels(cfg["path"] == "kernel")
    compile_s = 0.0
    if cfg["path"] == "compiled":
        started = time.perf_counter()
        model = torch.compile(model)
        model(x).sum().backward()
        compile_s = time.perf_counter() - started

    def step():
        model.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()

    warmup, timed = STEPS[cfg["path"]]
    timed = cfg.get("timed", timed)
    if cfg.get("quick"):
        warmup, timed = min(warmup, 1), min(timed, 3)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(timed):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    times.sort()
    median = times[len(times) // 2]
    peak = peak_step_memory_mb(step)
    return {"rank": rank, "step_ms": median * 1e3, "min_ms": times[0] * 1e3,
            "samples_per_s": BATCH / median, "throughput_per_s": BATCH * timed / sum(times),
            "peak_mb": peak,
            "fused": cfg["path"] == "kernel" and kernels_enabled(), "compile_s": compile_s}


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """Environment variables the options ask every worker to run with."""
    env = {}
    if args.passive_wait:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    if args.no_trim:
        env["MALLOC_TRIM_THRESHOLD_"] = env["MALLOC_MMAP_THRESHOLD_"] = str(2**31)
    return env


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    import torch
    return (f"{model}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
            f"torch {torch.__version__}; load average at start {load:.1f}")


def _targets(rows: list[dict]) -> list[str]:
    """The issue's targets, checked on the 2-thread rows (the 2-core machine)."""
    lines = []
    by = {(r["net"], r["param"], r["threads"], r["path"]): r for r in rows}
    threads = max(r["threads"] for r in rows)
    for r in rows:
        if r["path"] != "kernel" or r["threads"] != threads:
            continue
        ref = by.get((r["net"], r["param"], threads, "reference"))
        ratio = ref and r["samples_per_s"] / ref["samples_per_s"]
        if r["net"] == "wide" and r["param"] in FUSED:
            goal, ok = ">= 3000 samples/s", r["samples_per_s"] >= 3000
        elif r["net"] == "deep" and r["param"] in FUSED and ref:
            goal, ok = ">= 30x reference", ratio >= 30
        elif r["net"] == "candidates" and r["param"] in FUSED and ref:
            goal, ok = ">= 10x reference", ratio >= 10
        elif r["net"] == "dense" and ref:  # no target: report the ratio
            lines.append(f"     {r['net']:<10} {r['param']:<9} {r['samples_per_s']:.0f} "
                         f"samples/s, {ratio:.1f}x reference")
            continue
        else:
            continue
        lines.append(f"{'MET ' if ok else 'MISSED'} {r['net']:<10} {r['param']:<9} {goal}: "
                     f"{r['samples_per_s']:.0f} samples/s"
                     + (f", {ratio:.1f}x" if ratio else ""))
        if ref:
            mem_ok = r["peak_mb"] <= ref["peak_mb"]
            lines.append(f"{'MET ' if mem_ok else 'MISSED'} {r['net']:<10} {r['param']:<9} "
                         f"peak memory <= reference: {r['peak_mb']:.0f} MB vs "
                         f"{ref['peak_mb']:.0f} MB")
    return lines


def _table(rows: list[dict]) -> list[str]:
    out = ["| net | param | rank | threads | path | samples/s | step ms (median / min) | "
           "x reference | peak MB |", "|---|---|---|---|---|---|---|---|---|"]
    by = {(r["net"], r["param"], r["threads"], r["path"]): r for r in rows}
    for r in rows:
        ref = by.get((r["net"], r["param"], r["threads"], "reference"))
        ratio = f"{r['samples_per_s'] / ref['samples_per_s']:.1f}" if ref else ""
        path = r["path"] if r["path"] != "kernel" or r["fused"] else "kernel (generic)"
        out.append(f"| {r['net']} | {r['param']} | {r['rank']} | {r['threads']} | {path} | "
                   f"{r['samples_per_s']:.0f} | {r['step_ms']:.1f} / {r['min_ms']:.1f} | "
                   f"{ratio} | {r['peak_mb']:.0f} |")
    return out


# OpenMP wait settings ``--waits`` can name: the trainer's, OpenMP's default
# (spinning), sleeping at once, or ``spinN`` (``GOMP_SPINCOUNT=N``).
WAIT_POLICIES = {"trainer": None, "default": {}, "passive": {"OMP_WAIT_POLICY": "PASSIVE"}}
CONTENDED_STEPS = 40


def _wait_env(name: str) -> dict[str, str]:
    from bitlogic.native import OPENMP_WAIT_ENV

    if name.startswith("spin") and name[4:].isdigit():
        return {"GOMP_SPINCOUNT": name[4:]}
    if name not in WAIT_POLICIES:
        raise SystemExit(f"--waits: unknown policy {name!r}; use {sorted(WAIT_POLICIES)} "
                         "or spinN")
    env = WAIT_POLICIES[name]
    return dict(OPENMP_WAIT_ENV) if env is None else env


def contended_main(args: argparse.Namespace) -> None:
    """``--contended``: the trainer's throughput alone and next to one busy process."""
    nets = args.nets if args.nets != list(NETS) else ["mnist-s"]
    params = args.params if args.params != list(FUSED + GENERIC) else ["light"]
    threads = args.threads if args.threads != [1, 2] else [2]
    waits = list(dict.fromkeys(["trainer", "default", *args.waits]))
    repeats = 1 if args.quick else args.repeats
    machine = _machine()
    print(machine)
    lines = ["| net | param | threads | OpenMP wait | alone samples/s (median, range) "
             "| contended samples/s (median, range) | contended / alone |",
             "|---|---|---|---|---|---|---|"]
    targets = []
    for net in nets:
        for param in params:
            for n in threads:
                cfg = {"net": net, "param": param, "threads": n, "path": "kernel",
                       "quick": args.quick, "timed": args.steps}
                envs = {name: _wait_env(name) for name in waits}
                runs = alone_and_contended(__file__, cfg, envs, "throughput_per_s", repeats)
                medians = {}
                for name, env in envs.items():
                    alone, contended = runs[name]["alone"], runs[name]["contended"]
                    medians[name] = (statistics.median(alone), statistics.median(contended))
                    label = ", ".join(f"{k}={v}" for k, v in env.items()) or "OpenMP default"
                    lines.append(
                        f"| {net} | {param} | {n} | {label} ({name}) | {medians[name][0]:.0f} "
                        f"({min(alone):.0f}-{max(alone):.0f}) | {medians[name][1]:.0f} "
                        f"({min(contended):.0f}-{max(contended):.0f}) | "
                        f"{medians[name][1] / medians[name][0]:.2f} |")
                    print(lines[-1], flush=True)
                (ours_alone, ours_busy), (spin_alone, _) = medians["trainer"], medians["default"]
                ratio, drop = ours_busy / ours_alone, 1 - ours_alone / spin_alone
                targets += [
                    f"{'MET ' if ratio >= 0.4 else 'MISSED'} {net} {param} t{n}: "
                    f"contended / alone = {ratio:.2f} (>= 0.40)",
                    f"{'MET ' if drop <= 0.05 else 'MISSED'} {net} {param} t{n}: alone, "
                    f"trainer's policy vs default = {-drop:+.1%} (drop <= 5%)",
                ]
    print("\n".join(["", *targets]))
    output = args.output or RESULTS.with_name("train_step_contended.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        "# Training step under contention: alone vs one busy-loop neighbour\n\n"
        f"Machine: {machine}.\n\nCommand: `python benchmarks/train_step.py "
        f"{' '.join(sys.argv[1:])}`\n\n"
        + "\n".join(f"- `{k}`: {NETS[k]['title']}, batch {BATCH}" for k in nets)
        + f"\n\nsamples/s = {args.steps} steps x batch / their total time, fresh "
        f"process per figure; the neighbour is one Python busy loop. {repeats} interleaved "
        "rounds: each round measures every policy alone, then every policy next to the "
        "busy loop, rotating the order; the table gives the median and the range over the "
        "rounds, and the ratio of the medians.\n\n"
        + "\n".join(lines) + "\n\n```\n" + "\n".join(targets) + "\n```\n")
    print(f"\nwrote {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nets", nargs="+", default=list(NETS), choices=list(NETS))
    parser.add_argument("--params", nargs="+", default=list(FUSED + GENERIC))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--compile", action="store_true", help="add torch.compile(reference)")
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke run)")
    parser.add_argument("--passive-wait", action="store_true",
                        help="OMP_WAIT_POLICY=PASSIVE (for machines shared with other jobs)")
    parser.add_argument("--no-trim", action="store_true",
                        help="keep freed heap memory mapped between steps (glibc)")
    parser.add_argument("--contended", action="store_true",
                        help="alone vs next to a busy-loop process (default net: mnist-s, "
                             "2 threads, light)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="--contended: interleaved rounds (default 5)")
    parser.add_argument("--steps", type=int, default=CONTENDED_STEPS,
                        help=f"--contended: timed steps per figure (default {CONTENDED_STEPS})")
    parser.add_argument("--waits", nargs="*", default=[],
                        help="--contended: more OpenMP wait policies to compare "
                             "(passive, spinN); trainer and default always run")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    if args.contended:
        contended_main(args)
        return
    args.output = args.output or RESULTS
    machine = _machine()
    extra_env = _environment(args)
    if extra_env:
        machine += "; " + ", ".join(f"{k}={v}" for k, v in extra_env.items())
    print(machine)
    paths = ["kernel", "reference"] + (["compiled"] if args.compile else [])
    rows = []
    for net in args.nets:
        for param in args.params:
            if net in ("candidates", "dense") and param in GENERIC:
                continue  # the generic path is measured on the fixed nets
            for threads in args.threads:
                for path in paths:
                    cfg = {"net": net, "param": param, "threads": threads, "path": path,
                           "quick": args.quick}
                    row = {**cfg, **spawn_worker(__file__, cfg, extra_env)}
                    rows.append(row)
                    compiled = f"  (compile {row['compile_s']:.0f} s)" if row["compile_s"] else ""
                    print(f"{net:<10} {param:<9} r{row['rank']} t{threads} {path:<9} "
                          f"{row['samples_per_s']:8.1f} samples/s  {row['step_ms']:8.1f} ms  "
                          f"peak {row['peak_mb']:6.0f} MB{compiled}", flush=True)
    table, targets = _table(rows), _targets(rows)
    print("\n".join(["", *table, "", *targets]))
    nets = "\n".join(f"- `{k}`: {NETS[k]['title']}, batch {BATCH}" for k in args.nets)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        "# Training step: fused kernels vs pure-PyTorch reference\n\n"
        f"Machine: {machine}.\n\nCommand: `python benchmarks/train_step.py "
        f"{' '.join(sys.argv[1:])}`\n\n{nets}\n\n"
        "samples/s = batch / median step; peak MB = the most memory a step holds above "
        "what exists between steps (method in the script's docstring), fresh process "
        "per row. "
        "`kernel (generic)` = the kernels are on but the parametrization has no fused "
        "training path (reference code).\n\n"
        + "\n".join(table) + "\n\nTargets (at the highest thread count):\n\n```\n"
        + "\n".join(targets) + "\n```\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
