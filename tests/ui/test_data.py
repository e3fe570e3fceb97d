"""The sidebar's dataset list: $GRIDATLAS_DATA first, the workspace (the demo's copy among it), cache/;
every spec once, every label distinct; the loader follows the current version: at once after a commit in this
process, at most `ui.data.BRIEF_S` later after another process's (the store's reads kept that long per server)."""

import shutil

import pytest

from geo.dataset import DEMO_PATH
from geo.workspace import GpkgStore, open_store
from ui import data
from ui.city import city_districts
from ui.data import dataset_choices, dataset_token, get_dataset


def test_env_dataset_first_and_labels_distinct(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    copy = tmp_path / DEMO_PATH.name
    shutil.copy(DEMO_PATH, copy)
    monkeypatch.setenv("GRIDATLAS_DATA", str(copy))
    choices = dataset_choices()
    assert choices[0].path == str(copy.resolve())
    assert choices[1].path == DEMO_PATH.stem  # the demo, as its copy in the workspace
    labels = [c.label for c in choices]
    assert len(set(labels)) == len(labels)
    assert str(tmp_path) in choices[0].label  # two files called shifeng_demo: the folder tells them apart


def test_env_naming_the_demo_lists_it_once(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDATLAS_DATA", str(DEMO_PATH))
    choices = dataset_choices()
    assert [c.path for c in choices].count(DEMO_PATH.stem) == 1
    assert choices[0].label == DEMO_PATH.stem


class _Clock:
    """`ui.data`'s monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = _Clock()
    monkeypatch.setattr(data, "_clock", c)
    return c


def _pointer_reads(monkeypatch) -> list[int]:
    """Counts the reads of a workspace dataset's version pointer (the file `token` reads)."""
    seen: list[int] = []
    real = GpkgStore._pointer

    def counted(self):
        seen.append(1)
        return real(self)

    monkeypatch.setattr(GpkgStore, "_pointer", counted)
    return seen


def test_an_import_in_this_process_is_seen_at_once(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    token = dataset_token("shifeng_demo")
    ds = get_dataset("shifeng_demo")
    assert get_dataset("shifeng_demo") is ds  # loaded once per version
    store = open_store("shifeng_demo")
    fac = ds.facilities
    info = store.import_layer("facilities", fac[fac["type"] == "day_care"], source="day_care.csv")
    data.version_committed()  # what the 数据管理 page and the siting page call after their commit
    assert dataset_token("shifeng_demo") == f"{store.location}@v{info.id}:{info.checksum[:16]}" != token
    new = get_dataset("shifeng_demo")
    assert len(new.facilities) == int((fac["type"] == "day_care").sum()) < len(fac)


def test_another_processes_import_is_seen_once_the_window_is_over(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    token = dataset_token("shifeng_demo")
    assert token.endswith(f"@v1:{open_store('shifeng_demo').current().checksum[:16]}")
    ds = get_dataset("shifeng_demo")
    # another process (the CLI) makes a new version: its pointer changes on disk, nobody here is told
    fac = ds.facilities
    info = open_store("shifeng_demo").import_layer("facilities", fac[fac["type"] == "day_care"], source="cli.csv")
    assert info.id == 2
    clock.now += data.BRIEF_S - 0.01
    assert dataset_token("shifeng_demo") == token and get_dataset("shifeng_demo") is ds  # still within the window
    clock.now += 0.01
    assert dataset_token("shifeng_demo").split("@")[1] == f"v2:{info.checksum[:16]}"
    assert len(get_dataset("shifeng_demo").facilities) == int((fac["type"] == "day_care").sum())


def _sidebar_run() -> None:
    """What each run's sidebar asks the store (ui.sidebar.render_sidebar)."""
    choices = dataset_choices()
    assert city_districts(choices[0].path) == ()
    get_dataset(choices[0].path)
    dataset_token(choices[0].path)


def test_thirty_runs_in_one_second_read_the_pointer_once(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    _sidebar_run()  # the first visit: the demo taken into the workspace, loaded, its districts looked up
    clock.now += data.BRIEF_S
    reads = _pointer_reads(monkeypatch)
    _sidebar_run()
    first = len(reads)
    assert first >= 2  # the window is over: the first run reads the pointer (exists, then the token) again
    for _ in range(29):
        clock.now += 0.03
        _sidebar_run()
    assert clock.now - 1000.0 < 2 * data.BRIEF_S and len(reads) == first  # the other 29 runs read nothing
    clock.now += data.BRIEF_S
    _sidebar_run()
    assert len(reads) == 2 * first  # the window is over: read again, once
    reads.clear()
    with monkeypatch.context() as m:
        m.setattr(data, "BRIEF_S", 0.0)  # nothing kept: each run reads the pointer again, several times
        for _ in range(30):
            _sidebar_run()
    assert len(reads) >= 30 * first


def test_a_reading_begun_before_a_commit_is_not_kept(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    calls: list[str] = []

    def stale() -> str:
        data.version_committed()  # another session's import commits while this one reads the old pointer
        calls.append("old")
        return "old"

    assert data.briefly(("probe",), stale) == "old"  # its caller gets what it read
    assert data.briefly(("probe",), lambda: "new") == "new"  # but the next run reads again
    assert data.briefly(("probe",), lambda: "newer") == "new"  # and that is kept
    assert calls == ["old"]


def test_a_restore_on_the_data_page_is_seen_at_once(home, clock):
    """Through the page itself: its restore calls `ui.data.version_committed` (the clock never moves here)."""
    from streamlit.testing.v1 import AppTest

    from tests.e2e.conftest import ROOT

    store = open_store("shifeng_demo")
    fac = store.load().facilities
    store.import_layer("facilities", fac[fac["type"] == "day_care"], source="day_care.csv")
    assert dataset_token("shifeng_demo").split("@")[1].startswith("v2:")  # kept by this server from now on
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="data_restore_choice").value.id == 1
    at.button(key="data_restore").click().run()  # the confirmation opens
    # its OK button is a fragment's (the dialog's) in the browser, rerun alone; AppTest reruns the whole page, so the
    # click that opened the dialog is sent again with it
    at.button(key="data_restore").click()
    at.button(key="data_restore_ok").click().run()
    assert not at.exception, [e.value for e in at.exception]
    info = store.current()
    assert (info.id, info.restored_from) == (3, 1)
    assert dataset_token("shifeng_demo").split("@")[1] == f"v3:{info.checksum[:16]}"
    assert len(get_dataset("shifeng_demo").facilities) == len(fac)
