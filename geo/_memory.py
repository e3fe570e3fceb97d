"""Giving freed memory back to the system between the steps of a large import.

Arrow's allocator (mimalloc) and glibc's malloc keep memory that was freed for reuse; a million-row import
frees a few hundred MB at each step (the CSV parser's buffers, the text columns turned into times, the
intermediate arrays of the checks) and the next step's allocations of another kind (shapely's points, numpy)
cannot reuse it, so the process's peak would be the sum. `give_back` returns it between steps (a few ms).
"""

from __future__ import annotations

import ctypes
import ctypes.util


def _trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOC_TRIM = _trim()


def give_back() -> None:
    """Return the memory Arrow's pool and malloc hold free to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
