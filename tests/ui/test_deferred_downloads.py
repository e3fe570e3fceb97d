"""A deferred download's file outlives the other sessions' runs until its browser has fetched it (`ui.serve`).

Streamlit stores the file a deferred download button makes on a click under no session, so the cleanup that ends
every script run — any session's — marks it on its first pass and deletes it on the second. Under sixty sessions two
runs ended between the click's answer and the browser's fetch: "404". These tests drive Streamlit's own media file
manager and storage, as the server does.
"""

from __future__ import annotations

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from geo.errors import GridAtlasError
from geo.users import AccessDenied
from i18n import error_text
from tests.ownloop import run_on_own_loop
from ui.serve import DEFERRED_KEEP_S, _DeferredFiles, keep_deferred_downloads

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _clicked(mgr: MediaFileManager, body: bytes = b"PK-the-file") -> tuple[str, str]:
    """A deferred button drawn (as a run draws it), then clicked: (the file's address, its id in the storage)."""
    placeholder = mgr.add_deferred(lambda: body, XLSX, coordinates="1.2.3", file_name="逾期清单.xlsx")
    url = mgr.execute_deferred(placeholder)
    return url, url.rsplit("/", 1)[-1].split(".", 1)[0]


def _other_sessions_finish_runs(mgr: MediaFileManager, n: int = 2) -> None:
    for _ in range(n):
        mgr.remove_orphaned_files()


def _served(storage: MemoryMediaFileStorage, file_id: str) -> bytes | None:
    try:
        return storage.get_file(file_id).content
    except MediaFileStorageError:
        return None


def test_without_the_hold_two_other_runs_delete_the_file_before_its_fetch():
    storage = MemoryMediaFileStorage("/media")
    mgr = MediaFileManager(storage)
    _, made = _clicked(mgr)
    assert _served(storage, made) == b"PK-the-file"
    _other_sessions_finish_runs(mgr)
    assert _served(storage, made) is None  # what the browser met: 404


def test_the_hold_keeps_the_file_until_its_time_is_up_then_the_usual_cleanup_takes_it():
    storage = MemoryMediaFileStorage("/media")
    mgr = MediaFileManager(storage)
    held = keep_deferred_downloads(mgr, keep_s=3600)
    assert isinstance(held, _DeferredFiles) and keep_deferred_downloads(mgr) is held  # once per manager
    url, made = _clicked(mgr)
    assert url == f"/media/{made}.xlsx"
    _other_sessions_finish_runs(mgr, 5)
    assert _served(storage, made) == b"PK-the-file"
    # the same file made for a second session: each click holds it for itself
    _, again = _clicked(mgr)
    assert again == made
    coords = sorted(mgr._files_by_session_and_coord["gridatlas-deferred-downloads"])
    assert coords == [f"{made}#1", f"{made}#2"]
    held.release(coords[0])
    _other_sessions_finish_runs(mgr, 3)
    assert _served(storage, made) == b"PK-the-file"  # still held by the second click
    held.release(coords[1])
    assert "gridatlas-deferred-downloads" not in mgr._files_by_session_and_coord
    _other_sessions_finish_runs(mgr, 2)
    assert _served(storage, made) is None
    assert DEFERRED_KEEP_S >= 60  # long enough for a browser on a busy server to fetch it


def test_a_manager_unlike_streamlits_is_left_alone(caplog):
    class Other:
        def execute_deferred(self, file_id):
            return file_id

    other = Other()
    assert keep_deferred_downloads(other) is None
    assert other.execute_deferred("x") == "x"
    assert "deferred downloads are not held" in caplog.text


def test_the_held_file_is_released_by_its_timer():
    import time

    storage = MemoryMediaFileStorage("/media")
    mgr = MediaFileManager(storage)
    keep_deferred_downloads(mgr, keep_s=0.2)
    _, made = _clicked(mgr)
    _other_sessions_finish_runs(mgr)
    assert _served(storage, made) == b"PK-the-file"
    deadline = time.monotonic() + 10
    while "gridatlas-deferred-downloads" in mgr._files_by_session_and_coord and time.monotonic() < deadline:
        time.sleep(0.05)
    _other_sessions_finish_runs(mgr)
    assert _served(storage, made) is None


@pytest.mark.parametrize("body", [b"", b"x" * 10])
def test_the_bytes_served_are_the_callables(body):
    storage = MemoryMediaFileStorage("/media")
    mgr = MediaFileManager(storage)
    keep_deferred_downloads(mgr, keep_s=3600)
    _, made = _clicked(mgr, body)
    assert _served(storage, made) == body


def test_without_a_runtime_nothing_is_held_and_nothing_fails(monkeypatch):
    from streamlit.runtime import Runtime

    monkeypatch.setattr(Runtime, "_instance", None)  # no server: a test, a script (the warm-up's own tests)
    assert not Runtime.exists()
    assert keep_deferred_downloads() is None


def _answer(mgr: MediaFileManager, file_id: str) -> str:
    """What Streamlit's handler of a click's request answers (its ``error_msg``; empty when the file was made)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler

    request = BackMsg().backend_operation_request
    request.request_id, request.deferred_file.file_id = "r1", file_id
    return run_on_own_loop(lambda: DeferredFileHandler(lambda: mgr).handle(request, "no-such-session")).error_msg


def _refused() -> bytes:
    raise AccessDenied("逾期清单.xlsx: download needs sign-in")


def _no_room() -> bytes:
    raise GridAtlasError("disk full", code="storage.not_writable", params={"path": "/srv/x", "reason": "disk full"})


def _bug() -> bytes:
    raise ValueError("a bug")


@pytest.mark.parametrize(("make", "expected"), [
    (_refused, "未下载：此下载需要登录，而您的登录已失效或账号已变更。请重新登录后再下载。"),
    (_no_room, "文件未能生成：" + error_text(GridAtlasError("x", code="storage.not_writable",
                                                          params={"path": "/srv/x", "reason": "disk full"}),
                                               lang="zh")),
    (_bug, "文件未能生成：服务器出错，已记入日志。请稍后重试，或联系管理员。"),
    (None, "未下载：此页面已过期。请刷新页面后再下载。"),  # no such button any more
])
def test_a_failed_click_says_why_in_the_page_language(make, expected):
    """Streamlit's own answer is "Failed to generate file for download" for every cause."""
    mgr = MediaFileManager(MemoryMediaFileStorage("/media"))
    keep_deferred_downloads(mgr, keep_s=3600)
    file_id = "gone" if make is None else mgr.add_deferred(make, XLSX, coordinates="1.2.3", file_name="逾期清单.xlsx")
    assert _answer(mgr, file_id) == expected
    ok = mgr.add_deferred(lambda: b"PK", XLSX, coordinates="1.2.4", file_name="t.xlsx")
    assert _answer(mgr, ok) == ""  # a file made: no error


def test_a_failed_click_speaks_english_to_an_english_page(monkeypatch):
    monkeypatch.setattr("ui.serve._session_lang", lambda session_id: "en")
    mgr = MediaFileManager(MemoryMediaFileStorage("/media"))
    keep_deferred_downloads(mgr, keep_s=3600)
    refused = mgr.add_deferred(_refused, XLSX, coordinates="1.2.3", file_name="逾期清单.xlsx")
    assert _answer(mgr, refused) == ("Not downloaded: this download needs you to be signed in, and your session has "
                                     "ended or your account has changed. Sign in again, then download.")
    assert _answer(mgr, "gone") == "Not downloaded: this page has expired. Reload the page, then download."
