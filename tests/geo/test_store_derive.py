"""Derived columns through the storage interface, on every backend (the ``store_url`` fixture: GeoPackage and
PostGIS): derived once at import and stored with the version, derived again when a later import changes what they
come from, and given to versions stored before the rules when those are opened. Hand-checked values from
tests/geo/test_derive.py's fixtures."""

from __future__ import annotations

import pandas as pd

from geo import derive
from geo.dataset import Dataset
from geo.storage import open_store
from tests.geo.test_derive import (
    WANT_COMMUNITY,
    WANT_STREET,
    cases2,
    estates7,
    facilities1,
    grids3,
)


def _by_id(frame: pd.DataFrame, column: str) -> dict[str, object]:
    return {str(k): (None if pd.isna(v) else v) for k, v in zip(frame["estate_id"], frame[column], strict=True)}


def required_only() -> Dataset:
    """Grids, facilities, estates with only their required columns (and E7's street), cases: no meta as_of."""
    return Dataset(grids=grids3(), facilities=facilities1(), estates=estates7(dates=False), cases=cases2(),
                   name="测试区")


STAGE_NONE = {"E1": "none", "E2": "none", "E3": None, "E4": "none", "E5": "none", "E6": None, "E7": "none"}


def test_a_whole_dataset_is_stored_with_its_derived_columns(store_url):
    store = open_store(store_url)
    store.import_dataset(required_only(), source="district.gpkg")
    ds = open_store(store.spec).load()
    assert _by_id(ds.estates, "street") == WANT_STREET
    assert _by_id(ds.estates, "community") == WANT_COMMUNITY
    assert _by_id(ds.estates, "governance_stage") == STAGE_NONE
    assert {k: v for k, v in ds.meta_dict.items() if k != "name"} == {
        "as_of": "2019-06-29", "as_of_derived": "cases", "governance_stage_derived": "stage_dates",
        "estates_outside_grids": "E5"}
    assert [w.code for w in derive.warnings(ds.meta_dict)] == ["data.estate_outside_grids"]
    assert store.derived().names() == []  # stored with the version, nothing derived when opened


def test_importing_layers_derives_again_what_they_change(store_url):
    store = open_store(store_url)
    store.import_dataset(Dataset(grids=grids3(), facilities=facilities1(), name="测试区"), source="base.gpkg")
    assert store.load().meta_dict["as_of_derived"] == "import_day"

    info = store.import_layer("estates", estates7(), source="小区.xlsx")  # with stage dates
    ds = store.load()
    assert (info.rows_added, info.rows_changed) == (7, 0)
    assert _by_id(ds.estates, "street") == WANT_STREET
    # no cases: as_of is the latest stage date (2019-08-01), where E1 has started collecting fees
    assert (ds.meta_dict["as_of"], ds.meta_dict["as_of_derived"]) == ("2019-08-01", "stage_dates")
    assert _by_id(ds.estates, "governance_stage") == {**STAGE_NONE, "E1": "fees_started", "E4": "managed"}

    store.import_layer("cases", cases2(), source="事件.csv")  # the cases bring an earlier as_of: stages follow it
    ds = store.load()
    assert (ds.meta_dict["as_of"], ds.meta_dict["as_of_derived"]) == ("2019-06-29", "cases")
    assert _by_id(ds.estates, "governance_stage") == {**STAGE_NONE, "E1": "rules_adopted", "E4": "managed"}
    assert store.load(2).meta_dict["as_of"] == "2019-08-01"  # the earlier version keeps its own

    again = store.import_layer("estates", estates7(), source="小区.xlsx")  # the same file again: nothing changes
    assert (again.rows_added, again.rows_changed, again.rows_removed) == (0, 0, 0)

    staged = estates7()
    staged["governance_stage"] = pd.array(["managed", None, None, None, None, None, None], dtype="string")
    store.import_layer("estates", staged, source="小区阶段.xlsx")  # the file's own stages are kept as they are
    ds = store.load()
    assert _by_id(ds.estates, "governance_stage") == {"E1": "managed", **{f"E{i}": None for i in range(2, 8)}}
    assert "governance_stage_derived" not in ds.meta_dict


def test_an_upsert_of_estates_gets_its_street_from_the_grid(store_url):
    store = open_store(store_url)
    store.import_dataset(Dataset(grids=grids3(), facilities=facilities1(), estates=estates7(), name="测试区",
                                 meta=(("as_of", "2019-06-30"),)), source="base.gpkg")
    more = estates7().iloc[[1]].copy()
    more["estate_id"] = pd.array(["E8"], dtype="string")
    store.import_layer("estates", more, mode="upsert", source="新小区.xlsx")
    ds = store.load()
    assert _by_id(ds.estates, "street")["E8"] == "清水塘" and _by_id(ds.estates, "community")["E8"] == "霞湾"
    assert _by_id(ds.estates, "governance_stage")["E8"] == "none"
    assert ds.meta_dict["as_of"] == "2019-06-30" and "as_of_derived" not in ds.meta_dict


def test_a_version_stored_before_the_rules_gets_them_when_opened(store_url, monkeypatch):
    """A version written the old way (no derivation at import) is not rewritten: its derived columns are computed
    once when it is first opened and kept beside it in its derived cache."""
    store = open_store(store_url)
    with monkeypatch.context() as m:  # the code before these rules stored what it was given
        m.setattr(derive, "derive_version",
                  lambda *, grids, estates, meta, latest_report, made_on, imported=None:
                  derive.Derivation(estates=estates, estates_changed=False, meta=dict(meta)))
        store.import_dataset(required_only(), source="old.gpkg")
        m.setattr(derive, "on_open", lambda ds, **kwargs: ds)
        raw = store.load()  # as stored
    assert "as_of" not in raw.meta_dict and "governance_stage" not in raw.estates.columns
    assert _by_id(raw.estates, "street") == {**{f"E{i}": None for i in range(1, 7)}, "E7": "金山"}
    before = store.current()
    assert store.derived().names() == []

    opened = open_store(store.spec).load()
    assert _by_id(opened.estates, "street") == WANT_STREET
    assert _by_id(opened.estates, "community") == WANT_COMMUNITY
    assert _by_id(opened.estates, "governance_stage") == STAGE_NONE
    assert opened.meta_dict["as_of"] == "2019-06-29" and opened.meta_dict["as_of_derived"] == "cases"
    assert store.derived().names() == [derive.CACHE_NAME]
    assert store.current() == before and [v.id for v in store.versions()] == [1]  # no new version, same checksum
    again = open_store(store.spec).load()  # a second open reads the kept values
    assert _by_id(again.estates, "street") == WANT_STREET and again.meta_dict == opened.meta_dict

    # the analyses see the campaign as on a dataset stored with the rules
    from analysis.estates import campaign_estates

    assert campaign_estates(opened.estates)["estate_id"].tolist() == ["E1", "E2", "E4", "E5", "E7"]


def test_a_complete_version_opens_without_deriving(store_url):
    from tests.storefixtures import small_dataset

    store = open_store(store_url)
    store.import_dataset(small_dataset(), source="src.gpkg")
    assert store.load().meta_dict == {"name": "测试区", "as_of": "2019-06-30"}
    assert store.derived().names() == []


def test_the_import_says_which_estates_lie_outside_every_grid(store_url):
    """What the CLI's import and the 数据管理 page print after an import: the current version's warnings."""
    from i18n import problem_text

    store = open_store(store_url)
    store.import_dataset(Dataset(grids=grids3(), facilities=facilities1(), name="测试区"), source="base.gpkg")
    store.import_layer("estates", estates7(), source="小区.xlsx")
    got = derive.import_warnings(store, "estates")
    assert [p.code for p in got] == ["data.estate_outside_grids"] and got[0].params["values"] == "E5"
    assert problem_text(got[0], lang="zh") == ("图层 小区，列 street: 1 个小区不在任何网格内，且距最近网格超过 50 米，"
                                              "街道和社区留空：E5 — 核对这些小区的位置，或填写它们的街道、社区列")
    assert derive.import_warnings(store, "grids") == got  # new grids may place the estates elsewhere
    assert derive.import_warnings(store, "cases") == ()


def test_an_older_version_opened_in_parts_gets_what_the_whole_version_derives(store_url, monkeypatch):
    """Chosen layers, or one district of a city, opened first: the values are derived from the whole version (the
    estates outside the part included) and laid over the part's estates by id; the district's meta is kept."""
    city_grids = grids3()
    city_grids["district"] = pd.array(["东区", "东区", "西区"], dtype="string")
    store = open_store(store_url)
    with monkeypatch.context() as m:
        m.setattr(derive, "derive_version",
                  lambda *, grids, estates, meta, latest_report, made_on, imported=None:
                  derive.Derivation(estates=estates, estates_changed=False, meta=dict(meta)))
        cases = cases2()  # the latest report in 西区 (G3)
        cases["reported_at"] = pd.to_datetime(pd.Series(["2019-06-29 23:59:59", "2019-07-15 08:00:00"]))
        cases["grid_id"] = pd.array(["G1", "G3"], dtype="string")
        store.import_dataset(Dataset(grids=city_grids, facilities=facilities1(), estates=estates7(dates=False),
                                     cases=cases, name="某市"), source="old.gpkg")
    east = store.load(district="东区")
    assert sorted(east.estates["estate_id"]) == ["E1", "E3", "E6", "E7"]  # their points lie in G1 and G2
    assert _by_id(east.estates, "street") == {k: WANT_STREET[k] for k in ("E1", "E3", "E6", "E7")}
    assert _by_id(east.estates, "governance_stage") == {"E1": "none", "E3": None, "E6": None, "E7": "none"}
    assert east.meta_dict["district"] == "东区" and east.meta_dict["city"] == "某市"
    assert east.meta_dict["as_of"] == "2019-07-15"  # from every case of the city, not the district's alone
    assert east.meta_dict["estates_outside_grids"] == "E5"
    chosen = store.load(layers=("estates",))
    assert _by_id(chosen.estates, "street") == WANT_STREET and chosen.cases is None
    assert store.derived().names() == [derive.CACHE_NAME]
