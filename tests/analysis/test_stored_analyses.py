"""The analyses give exactly the same answer on a dataset stored and loaded back, on every backend.

The demo is imported into a new dataset on each backend (the ``store_url`` fixture, tests/storefixtures.py)
and loaded back through the storage interface; coverage (per grid and totals), Gi* and emerging hot spots,
and siting (the answer for N sites and the coverage curve) on it must equal the same analyses on the demo
read straight from its GeoPackage: a backend that changed a value, a dtype or the row order would show here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.cases import build_case_table
from analysis.coverage import compute_coverage
from analysis.hotspots import emerging_hot_spots, hot_spots, queen_weights
from analysis.siting import SitingParams, coverage_curve, siting_problem, solve_siting
from geo.dataset import read_dataset
from geo.storage import open_store

DEMO = Path(__file__).resolve().parents[2] / "data" / "shifeng_demo.gpkg"


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO)


@pytest.fixture
def stored(store_url, demo):
    store = open_store(store_url)
    store.import_dataset(demo, source="shifeng_demo.gpkg")
    return store.load()


def _cases(ds):
    return build_case_table(ds.cases, ds.grids, as_of=ds.meta_dict["as_of"])


def test_layers_come_back_with_the_same_values_dtypes_and_order(stored, demo):
    for name in demo.present_layers():
        got, want = stored.layer(name), demo.layer(name)
        assert list(got.columns.drop("geometry")) == list(want.columns.drop("geometry")), name
        for c in want.columns.drop("geometry"):
            a, b = got[c], want[c]
            if isinstance(b.dtype, pd.StringDtype):  # "str" (NaN for missing) and "string" (NA) are both text
                a, b = a.astype("string"), b.astype("string")
            pd.testing.assert_series_equal(a, b, check_exact=True, obj=f"{name}.{c}")
        assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all(), name


def test_coverage_is_the_same(stored, demo):
    for distance in ("euclidean", "walking"):
        got = compute_coverage(stored, facility_types=("day_care",), radius_m=300.0, distance=distance)
        ref = compute_coverage(demo, facility_types=("day_care",), radius_m=300.0, distance=distance)
        pd.testing.assert_frame_equal(got.grids, ref.grids, check_exact=True)
        assert got.totals == ref.totals and 0 < ref.totals.covered < ref.totals.total


def test_gi_star_and_emerging_hot_spots_are_the_same(stored, demo):
    w, w_ref = queen_weights(stored.grids), queen_weights(demo.grids)
    got = hot_spots(_cases(stored), w, permutations=99, seed=1).frame
    ref = hot_spots(_cases(demo), w_ref, permutations=99, seed=1).frame
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert (ref["gi_bin"] != 0).sum() > 0
    pd.testing.assert_frame_equal(emerging_hot_spots(_cases(stored), w).frame,
                                  emerging_hot_spots(_cases(demo), w_ref).frame, check_exact=True)


def test_siting_answer_and_curve_are_the_same(stored, demo):
    params = SitingParams(facility_type="day_care", radius_m=300.0)
    prob, ref_prob = siting_problem(stored, params), siting_problem(demo, params)
    got, ref = solve_siting(prob, n_new=3), solve_siting(ref_prob, n_new=3)
    assert (got.site_ids, got.gains_elderly, got.covered_elderly, got.optimal) == \
        (ref.site_ids, ref.gains_elderly, ref.covered_elderly, ref.optimal)
    assert ref.added_elderly > 0
    curve, ref_curve = coverage_curve(prob, max_new=4), coverage_curve(ref_prob, max_new=4)
    pd.testing.assert_frame_equal(curve.frame(), ref_curve.frame(), check_exact=True)
