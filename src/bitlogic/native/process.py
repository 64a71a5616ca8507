"""Process-wide settings for the compiled training loops.

Both change global state of the whole process, so the trainer calls them
once, before its thread pools start (see ``bitlogic.train``).
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
    """Ask glibc not to return freed heap memory to the OS (training loops).

    Each training step frees and re-allocates the same activation buffers; with
    glibc's default trim/mmap thresholds those pages go back to the OS and
    fault in again every step (measured: ~12 ms of a 43 ms step on the wide
    rank-2 net). Returns False where ``mallopt`` is unavailable (non-glibc).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    big = 1 << 30
    return bool(mallopt(m_trim_threshold, big)) and bool(mallopt(m_mmap_threshold, 1 << 25))
