"""Process-wide allocator settings the trainer makes (glibc only)."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

SCRIPT = r"""
import ctypes
from bitlogic.native import keep_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
size = 64 << 20  # above glibc's largest mmap threshold (32 MiB)

def mmapped_while_held():
    block = libc.malloc(size)
    held = libc.mallinfo2().hblkhd
    libc.free(block)
    return held

before = mmapped_while_held()
assert keep_freed_memory()
after = mmapped_while_held()
heap_kept = libc.mallinfo2().arena
print(before >= size, after < size, heap_kept >= size)
"""


def glibc_with_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(not glibc_with_mallinfo2(), reason="needs glibc >= 2.33 (mallinfo2)")
def test_keep_freed_memory_serves_large_blocks_from_the_heap_and_keeps_them():
    # A fresh process: the setting is process-wide and other tests may have made it already.
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True", "True"], out
