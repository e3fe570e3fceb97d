"""A session whose browser left is let go once its reconnect time is up (`ui.serve`).

Streamlit keeps the session of a closed tab for a reconnect
(``server.disconnectedSessionTTL``). Its own store drops an expired session
only when it next stores another one (the next browser to leave), and does not
shut it down: the files the session's download buttons offered stay in the
server's memory until Python's collector finds the session. Seen from outside,
while nobody else leaves: a download's URL keeps answering 200. With
`ui.serve` a timer drops expired sessions and the store shuts each one down, so
the URL answers 404 within the timer's period; a live session keeps its files.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bench.server import start_server
from bench.st_session import StSession, _http_get
from geo.dataset import read_dataset
from tests.e2e.conftest import ROOT
from ui.serve import REAP_EVERY_S

TTL_S = 2
DEMO = ROOT / "data" / "shifeng_demo.gpkg"


@pytest.fixture(scope="module")
def short_ttl_app(tmp_path_factory):
    server = start_server(DEMO, log_dir=tmp_path_factory.mktemp("expiry"), timeout_s=90,
                          env_extra={"GRIDATLAS_HOME": str(tmp_path_factory.mktemp("home"))},  # no users: open
                          args=("--server.disconnectedSessionTTL", str(TTL_S)))
    yield server.url
    server.stop()


async def _download_url(url: str, *, street: str | None = None) -> tuple[StSession, str]:
    """A session on the coverage page (of one street when given), and the URL of the file its Excel button offers."""
    s = StSession(url, timeout_s=180)
    (await s.open("")).raise_for_errors()
    if street is not None:
        (await s.select("街道", street, sidebar=True)).raise_for_errors()
    (await s.switch_page("coverage")).raise_for_errors()
    p = s.find("download_button", "下载 Excel").proto
    return s, (p.url if p.url.startswith("http") else f"{url}{p.url}")


def _run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run an async test body on an event loop of its own, in a thread: the browser tests' Playwright (its sync
    API, kept for the whole session) holds an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(body())).result()


def _status(url: str) -> int:
    try:
        return _http_get(url, timeout_s=30)[0]
    except urllib.error.HTTPError as err:
        return err.code


def test_a_closed_sessions_files_are_released_once_its_reconnect_time_is_up(short_ttl_app):
    async def go() -> None:
        gone, file_url = await _download_url(short_ttl_app)
        assert _status(file_url) == 200  # the file the button offers, while the session lives
        # someone who stays: no other session connects or leaves meanwhile, and Streamlit's store drops expired
        # sessions only when one is next stored (a browser leaving), so only the server's timer can drop it
        async with StSession(short_ttl_app, timeout_s=180) as other:
            (await other.open("")).raise_for_errors()
            await gone.close()
            await asyncio.sleep(0.5)
            assert _status(file_url) == 200  # kept for a reconnect at first
            deadline = time.monotonic() + TTL_S + 3 * REAP_EVERY_S
            while _status(file_url) == 200:
                assert time.monotonic() < deadline, "the closed session's download is still served: never shut down"
                # a download no session refers to any more is marked by one clean-up and deleted by the next
                # (Streamlit keeps it through one rerun, for the click that may cause one); one follows every run
                (await other.open("")).raise_for_errors()
                await asyncio.sleep(1)
            assert _status(file_url) == 404

    _run(go)


def test_a_live_session_keeps_its_files_while_others_expire(short_ttl_app):
    async def go() -> None:
        live, live_url = await _download_url(short_ttl_app)
        # the closed session's file differs from the live one's (one street's table), so it can be seen to go
        gone, gone_url = await _download_url(short_ttl_app, street=read_dataset(DEMO).streets[0])
        assert gone_url != live_url and _status(gone_url) == _status(live_url) == 200
        await gone.close()
        deadline = time.monotonic() + TTL_S + 3 * REAP_EVERY_S
        while _status(gone_url) == 200:  # only the server's timer drops it: nobody else leaves meanwhile
            assert time.monotonic() < deadline, "the closed session's download is still served: never shut down"
            (await live.switch_page("coverage")).raise_for_errors()  # the live session's runs drive the clean-ups
            await asyncio.sleep(1)
        assert _status(gone_url) == 404
        assert _status(live_url) == 200  # the live session's file is still served meanwhile
        (await live.switch_page("coverage")).raise_for_errors()  # and the live session still runs pages
        assert _status(live_url) == 200
        await live.close()

    _run(go)
