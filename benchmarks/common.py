"""Shared helpers for the benchmark scripts: timing and a machine description."""

from __future__ import annotations

import os
import platform
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
