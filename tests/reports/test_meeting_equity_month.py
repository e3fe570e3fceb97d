"""The meeting's equity counts the stations its coverage figure counts: those operating at the month's end."""

import pandas as pd
import pytest

from analysis.coverage import compute_coverage
from analysis.meeting import meeting_brief
from geo.dataset import DEMO_PATH, read_dataset
from reports.equity import meeting_equity


@pytest.fixture(scope="module")
def demo():
    return read_dataset(DEMO_PATH)


@pytest.mark.parametrize("month", ["2018-06", "2019-06"])
def test_equity_beyond_equals_the_coverage_figure(demo, month):
    brief = meeting_brief(demo, month=month)
    result = meeting_equity(demo, brief)
    district = result.streets.iloc[-1]
    # by hand: day-care stations not planned, opened on or before the month's end
    end = pd.Timestamp(brief.month_end)
    fac = demo.facilities
    open_then = fac[(fac["status"].astype(str) != "planned") & (fac["opened_on"] <= end)]
    cov = compute_coverage(demo.with_layer("facilities", open_then), facility_types=("day_care",), radius_m=300)
    beyond = float((cov.grids["elderly"] - cov.grids["covered_elderly"]).sum())
    assert district["beyond"] == pytest.approx(beyond)
    g = brief.coverage_grids
    assert district["beyond"] == pytest.approx(float((g["elderly"] - g["covered_elderly"]).sum()))
    if month == "2018-06":  # stations opened since then do not count yet: fewer than the layer's
        everyone = meeting_equity(demo).streets.iloc[-1]
        assert district["beyond"] > everyone["beyond"] + 1000
