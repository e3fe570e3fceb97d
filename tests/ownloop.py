"""Run a coroutine to its end on an event loop of its own, in a thread of its own.

A test cannot call `asyncio.run` in its own thread when the browser tests' Playwright (its sync API, kept for the
whole session) already holds an event loop running there, as it does in CI's order; a coroutine left unawaited that
way fails later tests as "unraisable"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_on_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(make())`` in a fresh thread; its result, or its exception raised here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
