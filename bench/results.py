"""Shared by the benchmarks: timing helpers and writing one section of bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
WUCHANG = ROOT / "cache" / "wuchang.gpkg"
DEMO = ROOT / "data" / "shifeng_demo.gpkg"


def median_s(fn: Callable[[], object], *, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in seconds over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def timed(fn: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    """Wall times of ``repeats`` calls of ``fn`` (seconds) and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def med(times: list[float]) -> float:
    return float(statistics.median(times))


def machine_line() -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {load} at the start, measured {time.strftime('%Y-%m-%d %H:%M')}")


def write_section(title: str, body: str) -> None:
    """Replace (or append) the ``## title`` section of RESULTS.md, leaving the others alone."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(text.rstrip() + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
