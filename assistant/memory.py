"""Give freed heap memory back to the operating system after a rebuild.

A build allocates a lot that it frees again (documents, passages, the model's working memory
for thousands of passages, the old index once the new one is swapped in), much of it on the
build's own thread, whose glibc malloc arena keeps the freed pages: the process's RSS stays at
its peak. ``malloc_trim(0)`` returns the free pages of every arena. A no-op where glibc is not
the C library.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger("assistant")


def release_freed_memory() -> bool:
    """Collect garbage and trim the malloc arenas; True when glibc trimmed anything."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))
