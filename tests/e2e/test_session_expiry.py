"""A session whose browser left is let go once its reconnect time is up (`ui.serve`).

Streamlit keeps the session of a closed tab for a reconnect
(``server.disconnectedSessionTTL``). Its own store drops an expired session
only when it next stores another one (the next browser to leave), and does not
shut it down: what the session's download buttons offer stays in the server's
memory until Python's collector finds the session. The page's spreadsheets are
deferred downloads (`ui.auth.download_button`: written on the click), so what a
button offers is a callable holding its table, named by the button's
``deferred_file_id``; any session may ask the server to make that file (as the
browser does on a click: `bench.st_session.StSession.deferred_file_url`). Seen
from outside, while nobody else leaves: the closed session's file keeps being
made. With `ui.serve` a timer drops expired sessions and the store shuts each
one down, so the server answers that it has no such file within the timer's
period; a live session keeps its buttons.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bench.server import start_server
from bench.st_session import DeferredFileError, StSession, _http_get
from geo.dataset import read_dataset
from i18n import t
from tests.e2e.conftest import ROOT
from tests.ownloop import run_on_own_loop
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


async def _excel_button(url: str, *, street: str | None = None) -> tuple[StSession, str]:
    """A session on the coverage page (of one street when given), and the file id of its Excel button."""
    s = StSession(url, timeout_s=180)
    (await s.open("")).raise_for_errors()
    if street is not None:
        (await s.select("街道", street, sidebar=True)).raise_for_errors()
    (await s.switch_page("coverage")).raise_for_errors()
    p = s.find("download_button", "下载 Excel").proto
    assert p.deferred_file_id and not p.url and p.ignore_rerun  # written on the click; the click reruns nothing
    return s, p.deferred_file_id


async def _made(asker: StSession, file_id: str) -> bool:
    """Whether the server still makes the file of the button ``file_id`` (asked by ``asker``, as a click asks):
    True when it answers with a URL that serves a spreadsheet, False when it has no such button any more."""
    try:
        url = asker.file_url(await asker.deferred_file_url(file_id))
    except DeferredFileError as err:
        assert str(err) == t("download.expired", lang="zh")  # the answer for a button the server no longer has
        return False
    status, body, _ = await asyncio.to_thread(_http_get, url, timeout_s=30)
    assert status == 200 and body[:2] == b"PK", (status, body[:20])
    return True


def _run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run an async test body to its end (on an event loop of its own, `tests.ownloop`)."""
    run_on_own_loop(body)


def test_a_closed_sessions_files_are_released_once_its_reconnect_time_is_up(short_ttl_app):
    async def go() -> None:
        gone, file_id = await _excel_button(short_ttl_app)
        # someone who stays: no other session connects or leaves meanwhile, and Streamlit's store drops expired
        # sessions only when one is next stored (a browser leaving), so only the server's timer can drop it
        async with StSession(short_ttl_app, timeout_s=180) as other:
            (await other.open("")).raise_for_errors()
            assert await _made(other, file_id)  # the file the button offers, while the session lives
            await gone.close()
            await asyncio.sleep(0.5)
            assert await _made(other, file_id)  # kept for a reconnect at first
            deadline = time.monotonic() + TTL_S + 3 * REAP_EVERY_S
            while await _made(other, file_id):
                assert time.monotonic() < deadline, "the closed session's download is still made: never shut down"
                # a button no session refers to any more is let go by the clean-up that follows every run
                (await other.open("")).raise_for_errors()
                await asyncio.sleep(1)
            assert not await _made(other, file_id)

    _run(go)


def test_a_live_session_keeps_its_files_while_others_expire(short_ttl_app):
    async def go() -> None:
        live, live_id = await _excel_button(short_ttl_app)
        # the closed session's table differs from the live one's (one street's), so it can be seen to go
        gone, gone_id = await _excel_button(short_ttl_app, street=read_dataset(DEMO).streets[0])
        assert gone_id != live_id and await _made(live, gone_id) and await _made(live, live_id)
        await gone.close()
        deadline = time.monotonic() + TTL_S + 3 * REAP_EVERY_S
        while await _made(live, gone_id):  # only the server's timer drops it: nobody else leaves meanwhile
            assert time.monotonic() < deadline, "the closed session's download is still made: never shut down"
            (await live.switch_page("coverage")).raise_for_errors()  # the live session's runs drive the clean-ups
            live_id = live.find("download_button", "下载 Excel").proto.deferred_file_id  # each run draws it anew
            await asyncio.sleep(1)
        assert not await _made(live, gone_id)
        assert await _made(live, live_id)  # the live session's file is still made meanwhile
        (await live.switch_page("coverage")).raise_for_errors()  # and the live session still runs pages
        assert await _made(live, live.find("download_button", "下载 Excel").proto.deferred_file_id)
        await live.close()

    _run(go)
