"""The sidebar's dataset list: $GRIDATLAS_DATA first, the workspace (the demo's copy among it), cache/;
every spec once, every label distinct; the loader follows the current version."""

import shutil

from geo.dataset import DEMO_PATH
from geo.workspace import open_store
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


def test_loader_follows_the_current_version(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDATLAS_HOME", str(tmp_path / "home"))
    token = dataset_token("shifeng_demo")
    ds = get_dataset("shifeng_demo")
    assert get_dataset("shifeng_demo") is ds  # loaded once per version
    store = open_store("shifeng_demo")
    fac = ds.facilities
    store.import_layer("facilities", fac[fac["type"] == "day_care"], source="day_care.csv")
    assert dataset_token("shifeng_demo") != token
    new = get_dataset("shifeng_demo")
    assert len(new.facilities) == int((fac["type"] == "day_care").sum()) < len(fac)
