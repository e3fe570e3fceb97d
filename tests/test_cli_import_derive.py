"""cli.py import: what the import derives (geo/derive.py) is stored, and an estate outside every grid is a warning
on stderr (exit 0), counted in the summary's ``warnings``."""

from __future__ import annotations

import json

import pandas as pd

from cli import main
from geo.dataset import Dataset
from geo.workspace import open_store
from tests.geo.test_derive import WANT_STREET, estates7, facilities1, grids3


def test_import_of_estates_derives_their_street_and_warns_of_the_one_outside(home, tmp_path, capsys):
    path = tmp_path / "区.gpkg"
    open_store(str(path)).import_dataset(Dataset(grids=grids3(), facilities=facilities1(), name="测试区"),
                                         source="base")
    src = tmp_path / "小区.geojson"
    estates7(dates=False).to_file(src, driver="GeoJSON")
    assert main(["--lang", "en", "import", "--data", str(path), "--layer", "estates", str(src)]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["warnings"] == 1 and out["version"]["id"] == 2
    assert captured.err.strip().splitlines() == [
        "warning: layer estates, column street: 1 estate(s) lie in no grid and more than 50 m from every grid, "
        "so their street and community stay empty: E5 — check their positions, or fill in their street and "
        "community columns"]
    ds = open_store(str(path)).load()
    got = {str(k): (None if pd.isna(v) else v) for k, v in zip(ds.estates["estate_id"], ds.estates["street"],
                                                                strict=True)}
    assert got == WANT_STREET and ds.meta_dict["estates_outside_grids"] == "E5"
