"""Shared helpers for the benchmark scripts: timing, workers, a machine description."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable


def machine_description() -> str:
    """CPU model, core count and the SIMD extensions that matter here."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("", platform.machine()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    simd = [f for f in ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
                                "avx512_vpopcntdq")
            if f in flags]
    return f"{model}, {os.cpu_count()} logical cores, SIMD: {' '.join(simd) or 'none detected'}"


def best_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1,
              budget_s: float = 30.0) -> float:
    """Best wall time of ``fn`` over ``repeats`` runs (stops early after ``budget_s``)."""
    for _ in range(warmup):
        fn()
    best, spent = float("inf"), 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget_s:
            break
    return best


def load_average() -> str:
    """The 1-minute load average, formatted (``n/a`` where the OS has none)."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def spawn_worker(script: str, cfg: dict, extra_env: dict[str, str]) -> dict:
    """Run ``script --worker JSON(cfg)`` in a fresh process; its last stdout line as JSON.

    A fresh process per measurement keeps the allocator and thread pools of one
    row from colouring the next; ``OMP_NUM_THREADS`` comes from ``cfg["threads"]``.
    """
    env = {**os.environ, **extra_env, "OMP_NUM_THREADS": str(cfg["threads"])}
    proc = subprocess.run([sys.executable, script, "--worker", json.dumps(cfg)], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {cfg} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


BUSY_LOOP = ("import sys, time\nend = time.monotonic() + float(sys.argv[1])\n"
             "while time.monotonic() < end:\n    pass\n")


def start_busy_loop(seconds: float) -> subprocess.Popen:
    """One CPU-bound process that stops by itself after ``seconds`` at the latest."""
    return subprocess.Popen([sys.executable, "-c", BUSY_LOOP, str(seconds)])


def alone_and_contended(script: str, cfg: dict, policies: dict[str, dict[str, str]],
                        key: str, repeats: int = 5, busy_s: float = 600.0) -> dict[str, dict]:
    """Each policy's figure ``key`` alone and next to one busy-loop process, interleaved.

    Every round measures each policy alone, then each next to one busy loop
    (started for that half of the round), each in a fresh :func:`spawn_worker`
    process; the order of the policies rotates from round to round. So a drift
    of the machine (another tenant, the clock) lands on every policy alike,
    instead of on whichever ran last.

    Args:
        policies: name -> environment variables the worker runs with.
        repeats: rounds.

    Returns:
        name -> ``{"alone": [...], "contended": [...]}``, one figure per round.
    """
    names = list(policies)
    out = {name: {"alone": [], "contended": []} for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            out[name]["alone"].append(spawn_worker(script, cfg, policies[name])[key])
        busy = start_busy_loop(busy_s)
        try:
            time.sleep(0.2)  # let the scheduler see the competitor before the warm-up
            for name in order:
                out[name]["contended"].append(spawn_worker(script, cfg, policies[name])[key])
        finally:
            busy.kill()
            busy.wait()
        print(f"  round {r + 1}/{repeats}: " + ", ".join(
            f"{n} {out[n]['alone'][-1]:.0f} / {out[n]['contended'][-1]:.0f}" for n in names),
            flush=True)
    return out
