"""The overview's figures and map are worked out once per version and read back from disk after a restart."""

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.e2e.conftest import ROOT

APP = str(ROOT / "app.py")


def test_the_overview_radius_is_the_day_care_default():
    from analysis.coverage import DEFAULT_RADIUS_M
    from ui.overview import DAY_CARE_RADIUS_M

    assert DAY_CARE_RADIUS_M == DEFAULT_RADIUS_M["day_care"]


def _metrics() -> dict[str, tuple[str, str]]:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_figures_and_map_are_kept_beside_the_version_and_read_back_after_a_restart(monkeypatch):
    import pickle

    import ui.layers
    import ui.overview
    from analysis.cases import CaseFilter, case_kpis, case_table_from_dataset
    from analysis.coverage import compute_coverage, district_totals, prepare_inputs
    from analysis.summary import district_summary
    from geo.storage import open_store
    from ui.data import default_data_path

    st.cache_resource.clear()
    first = _metrics()
    # the current version of the dataset the app opened (other tests may have left other datasets and streets)
    store = open_store(default_data_path())
    folder = store.derived().folder
    names = store.derived().names()
    assert any(n.startswith("overview_map.v1.") for n in names) and "overview_streets.v1" in names
    figs = []
    for n in names:
        if n.startswith("overview_figures.v1."):
            with open(folder / f"{n}.pkl", "rb") as fh:
                figs.append(pickle.load(fh))
    kept = next(f for f in figs if f.summary.street is None)  # the whole district, as the overview opens
    # the kept figures are the analyses' own answers, computed here without the page's caches
    ds = store.load()
    assert kept.summary == district_summary(ds, street=None)
    totals = district_totals(compute_coverage(prepare_inputs(ds), facility_types=("day_care",), radius_m=300.0,
                                              distance="euclidean", weight="elderly").grids)
    assert kept.day_care.covered_share == pytest.approx(totals.covered_share, abs=1e-12)
    assert kept.day_care.uncovered == pytest.approx(totals.uncovered, abs=1e-9)
    row = case_kpis(case_table_from_dataset(ds), CaseFilter()).iloc[0]
    assert kept.cases == {"open": int(row["open"]), "overdue": int(row["overdue"])}

    # a restarted server (empty caches) reads them back: building them again would fail here
    def refuse(*_a, **_k):
        raise AssertionError("rebuilt instead of read back")

    monkeypatch.setattr(ui.overview, "build_figures", refuse)
    monkeypatch.setattr(ui.layers, "build_district_map", refuse)
    monkeypatch.setattr(ui.overview, "street_table", refuse)
    st.cache_resource.clear()
    assert _metrics() == first
