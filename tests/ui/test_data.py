"""The sidebar's dataset list: $GRIDATLAS_DATA first, the demo, cache/; every label distinct."""

import shutil

from geo.dataset import DEMO_PATH
from ui.data import dataset_choices


def test_env_dataset_first_and_labels_distinct(tmp_path, monkeypatch):
    copy = tmp_path / DEMO_PATH.name
    shutil.copy(DEMO_PATH, copy)
    monkeypatch.setenv("GRIDATLAS_DATA", str(copy))
    choices = dataset_choices()
    assert choices[0].path == str(copy)
    assert any(c.path == str(DEMO_PATH) for c in choices)
    labels = [c.label for c in choices]
    assert len(set(labels)) == len(labels)
    assert str(tmp_path) in choices[0].label


def test_env_naming_the_demo_lists_it_once(monkeypatch):
    monkeypatch.setenv("GRIDATLAS_DATA", str(DEMO_PATH))
    choices = dataset_choices()
    assert [c.path for c in choices].count(str(DEMO_PATH)) == 1
    assert choices[0].label == DEMO_PATH.stem
