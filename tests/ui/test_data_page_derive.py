"""The 数据管理 page shows, after a save, the warnings the import's derivation recorded (`geo.derive`)."""

from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import ROOT


def test_the_warnings_of_a_save_are_shown_once_after_the_rerun():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/data.py")
    note = "图层 小区，列 street: 1 个小区不在任何网格内 …"
    at.session_state["data_flash"] = "已保存为版本 2"
    at.session_state["data_flash_warnings"] = [note]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning if w.value == note] == [note]
    at.run()  # shown once: the next run has no such note
    assert note not in [w.value for w in at.warning]


def test_the_sidebar_says_how_a_derived_as_of_was_found(tmp_path, monkeypatch):
    from geo.storage import open_store
    from tests.geo.test_store_derive import required_only

    path = tmp_path / "区.gpkg"
    open_store(str(path)).import_dataset(required_only(), source="district.gpkg")
    monkeypatch.setenv("GRIDATLAS_DATA", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [c.value for c in at.sidebar.caption]
    assert "数据截至 2019-06-29" in captions and "（文件未给出截至日期，取最新事件的上报日）" in captions
