"""Process-wide settings for the compiled training loops.

They change global state of the whole process, so the trainer calls them
once, before its thread pools start (see ``bitlogic.train``);
:func:`prefer_passive_openmp_wait` must even run before torch is imported
(the command line does).
"""

from __future__ import annotations

import ctypes


def flush_denormals() -> None:
    """Flush subnormal floats to zero in this thread and in threads it starts later.

    Adam's moments of routing logits that stop receiving gradient decay into
    the subnormal range, where every multiply takes a microcode assist: the
    fused step over mnist-dwn's 28M logits went from 44 ms to 535 ms (2 threads).
    x86 threads inherit the flag from their creator, so this must run before
    the first parallel region creates the OpenMP pools. Needs torch (imported
    here, not at module import).
    """
    import torch

    torch.set_flush_denormal(True)


def keep_freed_memory() -> bool:
    """Ask glibc to serve every allocation from the heap and keep freed memory (training loops).

    Each training step frees and re-allocates the same activation buffers; with
    glibc's default trim/mmap thresholds those pages go back to the OS and
    fault in again every step (measured: ~12 ms of a 43 ms step on the wide
    rank-2 net). Raising the mmap threshold is not enough for convolutions:
    glibc caps it at 32 MiB, and a conv level's buffer is larger (cifar10-s's
    first block: 52 MB per level at batch 100), so mmap is turned off
    (``M_MMAP_MAX = 0``): the cifar10-s soft step went from 233 to 207 ms
    (1 thread, two interleaved pairs of ``benchmarks/profile_step.py`` runs
    while a training run shared the machine; idle figures with the kernel
    changes of the same day: ``benchmarks/results/profile_step_cifar10-s.md``).
    Results are unchanged; the process keeps its peak heap until it exits.
    Returns False where ``mallopt`` is unavailable (non-glibc).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4
    most = (1 << 31) - 1  # mallopt takes a C int
    return bool(mallopt(m_trim_threshold, most)) and bool(mallopt(m_mmap_max, 0))


#: How the trainer asks OpenMP (libgomp) to wait at a barrier: spin briefly,
#: then sleep. With the default long spin, a 2-thread region on a 2-core
#: machine that runs one other busy process stalls each time a thread is
#: descheduled, while its partner burns the core spinning. Measured with
#: ``benchmarks/train_step.py --contended`` (mnist-s net, 2026-12-02, the 16
#: interleaved rounds of the two runs on an otherwise idle machine, pooled;
#: see ``benchmarks/results/train_step_contended.md``): contended / alone 0.67
#: with 2000 spins against 0.37 for the default, and alone -0.6% (median)
#: against the default. 20000 spins gave 0.43; ``OMP_WAIT_POLICY=PASSIVE``
#: 0.70 but up to -8.6% alone (both in runs that shared the machine with
#: low-priority test jobs).
OPENMP_WAIT_ENV = {"GOMP_SPINCOUNT": "2000"}


def openmp_started() -> bool:
    """Whether an OpenMP runtime is already loaded in this process (then its settings are fixed).

    Reads ``/proc/self/maps`` (Linux); elsewhere, whether torch is imported.
    """
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        import sys

        return "torch" in sys.modules
    return any(name in maps for name in ("libgomp", "libiomp", "libomp"))


def prefer_passive_openmp_wait() -> dict[str, str]:
    """Set :data:`OPENMP_WAIT_ENV` for this process, before its OpenMP runtime starts.

    OpenMP reads its wait settings once, when the runtime loads (torch loads
    it on import), so the command line calls this before importing torch. A
    variable the user set is left alone, and nothing changes once a runtime is
    loaded.

    Returns:
        The variables this call set (empty when none).
    """
    import os

    if openmp_started():
        return {}
    applied = {k: v for k, v in OPENMP_WAIT_ENV.items() if k not in os.environ}
    os.environ.update(applied)
    return applied
