"""The 数据管理 page says in one line that the QGIS copy of a version could not be written (why, when, that the
version is intact), its 重试 button writes it again in the background (a line says so while it runs), and the
notice is gone once the copy is written. The failed write is real (tests/writerfixtures.py)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import i18n
from tests.e2e.conftest import ROOT
from tests.writerfixtures import failed_write, wait_for_writer

FAILED = {
    "zh": "第 2 版的 QGIS 副本（GeoPackage）于 {when} 未能写出：{reason}。该版本本身完好，各页面照常使用；"
          "点“重试”在后台重新写出（下次导入也会重新写出）。",
    "en": "The QGIS copy (GeoPackage) of version 2 could not be written at {when}: {reason}. The version itself is "
          "intact and every page uses it; “Retry” writes the copy again in the background (the next import writes "
          "it too).",
}
RETRYING = {"zh": "正在后台重新写出第 2 版的 QGIS 副本（GeoPackage）……",
            "en": "Writing the QGIS copy (GeoPackage) of version 2 again in the background…"}
RETRY = {"zh": "重试", "en": "Retry"}


def _data_page(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.switch_page("pages/data.py")
    at.session_state["lang"] = lang  # what the sidebar's language switch keeps
    at.run()
    assert at.radio(key="lang").value == lang
    assert not at.exception, [e.value for e in at.exception]
    return at


def _notes(at: AppTest) -> list[str]:
    return [w.value for w in at.warning] + [i.value for i in at.info]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_data_page_shows_a_failed_copy_and_retries_it(home, tmp_path, monkeypatch, lang):
    store = failed_write(tmp_path / "ds", monkeypatch)
    failure = store.gpkg_failure()
    assert "File too large" in failure.reason
    monkeypatch.setenv("GRIDATLAS_DATA", store.location)
    at = _data_page(lang)
    # AppTest formats the page's other widgets' options (the admin tab's role list) in this thread, outside the
    # session: let `t` here speak the session's language, as the app's own language source (installed by the
    # first run) does in its thread
    monkeypatch.setattr(i18n, "_language_source", lambda: lang)
    line = FAILED[lang].format(when=failure.failed_at[:19].replace("T", " "), reason=failure.reason)
    assert [n for n in _notes(at) if "QGIS" in n] == [line]
    button = at.button(key="writer_retry")
    assert button.label == RETRY[lang]
    with store._lock():  # the retried writer writes its file, then waits here to switch it in
        button.click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert [n for n in _notes(at) if "QGIS" in n] == [RETRYING[lang]]
    assert wait_for_writer() == 0
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [n for n in _notes(at) if "QGIS" in n] == []
    assert "writer_retry" not in [b.key for b in at.button]
    assert store.gpkg_failure() is None and not store.gpkg_pending()


def test_a_killed_writer_is_said_in_the_page_language():
    from geo.workspace import GpkgFailure
    from ui.writer_notice import failure_reason

    killed = GpkgFailure(version=3, failed_at="2026-12-07T15:00:00+00:00", code="storage.gpkg_writer_killed",
                         reason="the writer process 42 ended before it finished (killed)")
    assert failure_reason(killed, lang="zh") == "写出进程在完成前被终止（内存不足、关机或 kill -9）"
    assert failure_reason(killed, lang="en") == \
        "the writing process was stopped before it finished (out of memory, a shutdown or kill -9)"
    full = GpkgFailure(version=3, failed_at="2026-12-07T15:00:00+00:00", code="storage.gpkg_write_failed",
                       reason="[Errno 28] No space left on device")
    assert failure_reason(full, lang="zh") == failure_reason(full, lang="en") == "[Errno 28] No space left on device"
