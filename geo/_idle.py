"""The background GeoPackage writer's priority: only the CPU and disk time nobody else wants.

`lower()` is called by the writer itself, first thing, before it imports anything heavy (so every thread
pyarrow or GDAL starts later inherits it): on Linux ``SCHED_IDLE``, niceness 19 and the idle I/O class
(``ioprio_set`` through ``ctypes``, no dependency); where the platform lacks one of them, what it has (at
least niceness), silently. `raise_to_normal(pid)` puts every thread of a writer back to ``SCHED_OTHER``, the
caller's niceness and best-effort I/O, for a caller that waits for the file; without the right to
(``CAP_SYS_NICE``, or an ``RLIMIT_NICE`` that allows it) the kernel refuses with `PermissionError`, and
`geo.workspace` then stops the writer and writes the file in the caller. Nothing here imports more than the
standard library: the writer runs this before `geo.workspace` is imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import platform
from pathlib import Path

NICE = 19
IOPRIO_CLASS_SHIFT = 13
IOPRIO_CLASS_BE = 2
IOPRIO_CLASS_IDLE = 3
IOPRIO_WHO_PROCESS = 1
# (ioprio_set, ioprio_get) syscall numbers per machine
_IOPRIO_SYSCALLS = {"x86_64": (251, 252), "aarch64": (30, 31), "arm64": (30, 31), "i686": (289, 290),
                    "i386": (289, 290)}


def _syscall(index: int, *args: int) -> int:
    numbers = _IOPRIO_SYSCALLS.get(platform.machine()) if platform.system() == "Linux" else None
    if numbers is None:
        raise OSError(f"no ioprio syscall on {platform.system()} {platform.machine()}")
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(numbers[index], *(ctypes.c_int(a) for a in args))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(result)


def ioprio_set(tid: int, io_class: int, level: int = 0) -> None:
    """Linux ``ioprio_set(IOPRIO_WHO_PROCESS, tid, …)``: one thread's I/O class (0 = the calling thread)."""
    _syscall(0, IOPRIO_WHO_PROCESS, tid, (io_class << IOPRIO_CLASS_SHIFT) | level)


def ioprio_get(tid: int) -> tuple[int, int]:
    """Linux ``ioprio_get``: (class, level) of one thread."""
    value = _syscall(1, IOPRIO_WHO_PROCESS, tid)
    return value >> IOPRIO_CLASS_SHIFT, value & ((1 << IOPRIO_CLASS_SHIFT) - 1)


def lower() -> None:
    """The calling process at the lowest priority it can take: niceness 19, then ``SCHED_IDLE`` and idle I/O
    where the platform has them. Each step that the platform lacks or refuses is skipped."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, NICE)
    except (AttributeError, OSError):
        try:
            os.nice(NICE - os.nice(0))
        except OSError:
            pass
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass
    try:
        ioprio_set(0, IOPRIO_CLASS_IDLE)
    except (OSError, AttributeError, TypeError):
        pass


def announce(path: str, version: int) -> None:
    """Say who the writer is (``{"pid", "version"}``, written atomically at ``path``) once it has lowered itself,
    so that a caller that waits for it can raise it. A failure to write it only costs that."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"pid": os.getpid(), "version": version}, fh)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def threads(pid: int) -> list[int]:
    """The thread ids of process ``pid`` (Linux: ``/proc/PID/task``); ``[pid]`` where that is not known."""
    try:
        return sorted(int(p.name) for p in Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return [pid]


def raise_to_normal(pid: int) -> None:
    """Every thread of ``pid`` back to ``SCHED_OTHER``, the caller's niceness and best-effort I/O.

    `PermissionError` when the kernel refuses (an unprivileged caller cannot take a process out of
    ``SCHED_IDLE`` or lower its niceness); a thread that ended meanwhile is skipped."""
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    for tid in threads(pid):
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
            if hasattr(os, "sched_setscheduler"):
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
        except ProcessLookupError:
            continue
        try:
            ioprio_set(tid, IOPRIO_CLASS_BE, 4)
        except PermissionError:
            raise
        except OSError:
            pass
