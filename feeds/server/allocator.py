"""Tuning of glibc's malloc for a process that keeps many large feed bodies in memory.

The feed cache holds bodies of 10–300 KB and replaces them as feeds change or are evicted.
glibc's defaults suit that badly: its mmap threshold rises each time a large block is freed,
so later bodies land in the heap, where freed space fragments instead of going back to the
system; and each thread may get an arena of its own. bench/memory_bench.py measured both
(see bench/README.md). Elsewhere than on glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's initial value, kept fixed
ARENA_MAX = 2


def tune_allocator() -> bool:
    """Fix glibc's mmap threshold and cap its arenas; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    fixed: bool = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    capped: bool = mallopt(M_ARENA_MAX, ARENA_MAX) == 1
    return fixed and capped
