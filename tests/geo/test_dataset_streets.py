"""`Dataset.streets`: the grids' streets, sorted, worked out once per dataset and handed out as a new list."""

import pickle

import geopandas as gpd
from shapely.geometry import Point, box

from geo.dataset import Dataset

STREETS = ["田心", "东门", None, "田心", "北岭", "东门"]


def _dataset(streets: list[str | None]) -> Dataset:
    grids = gpd.GeoDataFrame({"grid_id": [f"G{i}" for i in range(len(streets))], "street": streets},
                             geometry=[box(113 + i / 100, 27.8, 113.01 + i / 100, 27.81) for i in range(len(streets))],
                             crs=4326)
    fac = gpd.GeoDataFrame({"facility_id": ["F1"]}, geometry=[Point(113.005, 27.805)], crs=4326)
    return Dataset(grids=grids, facilities=fac, name="测试区")


def _by_hand(streets: list[str | None]) -> list[str]:
    seen: list[str] = []
    for s in streets:
        if s is not None and s not in seen:
            seen.append(s)
    return sorted(seen)


def test_streets_are_the_distinct_named_streets_in_order():
    ds = _dataset(STREETS)
    assert _by_hand(STREETS) == ["东门", "北岭", "田心"]
    assert ds.streets == _by_hand(STREETS)
    assert ds.streets == _by_hand(STREETS)  # the kept answer is the same answer


def test_a_caller_changing_its_list_changes_nothing_kept():
    ds = _dataset(STREETS)
    mine = ds.streets
    mine.append("不存在的街道")
    mine.sort(reverse=True)
    assert ds.streets == ["东门", "北岭", "田心"]
    assert ds.streets is not ds.streets


def test_a_new_grids_layer_has_its_own_streets():
    ds = _dataset(STREETS)
    assert ds.streets == ["东门", "北岭", "田心"]
    other = _dataset(["南湖", "南湖"])
    changed = ds.with_layer("grids", other.grids)
    assert changed.streets == ["南湖"]
    assert ds.streets == ["东门", "北岭", "田心"]


def test_kept_streets_do_not_change_equality_or_pickling():
    a, b = _dataset(STREETS), _dataset(STREETS)
    _ = a.streets  # a keeps its answer, b has not worked it out yet
    assert a.name == b.name and a.grids.equals(b.grids)
    assert repr(a) == repr(b)
    again = pickle.loads(pickle.dumps(a))
    assert again.streets == ["东门", "北岭", "田心"]
