"""The generated facilities' opening dates: never after the as-of day, and the demo's dates as they were."""

import numpy as np
import pandas as pd

from geo.demo_history import facility_dates


def _facilities(n: int = 400) -> pd.DataFrame:
    kinds = np.array(["day_care", "nursing_home", "health_station", "day_care"])
    status = np.where(np.arange(n) % 17 == 0, "planned", "operating")
    return pd.DataFrame({"type": kinds[np.arange(n) % 4], "status": status})


def test_no_station_opens_after_an_early_as_of_day():
    fac = _facilities()
    got = facility_dates(np.random.default_rng(7), fac, "2016-12-31")["opened_on"]
    operating = fac["status"] == "operating"
    assert got[~operating].isna().all() and got[operating].notna().all()
    assert got.max() <= pd.Timestamp("2016-12-17")
    # the station programme: the 18 months before the two weeks before the as-of day
    recent = got[operating & (fac["type"] == "day_care")] >= pd.Timestamp("2015-06-17")
    assert 0.5 < recent.mean() < 0.75
    assert got.min() >= pd.Timestamp("2005-01-01")


def test_the_demo_dates_are_unchanged():
    """An as-of day more than a year after 2018-01-01 (the demo's 2019-06-30): the same draws as before."""
    fac = _facilities()
    got = facility_dates(np.random.default_rng(3), fac, "2019-06-30")["opened_on"]
    rng = np.random.default_rng(3)  # the draws as the demo was made
    n = len(fac)
    end = pd.Timestamp("2019-06-16")
    new = rng.random(n) < 0.6
    recent = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, (end - pd.Timestamp("2018-01-01")).days, n),
                                                          unit="D")
    older_dc = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D")
    older = pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 13 * 365, n), unit="D")
    for i in range(n):
        if fac["status"][i] == "planned":
            assert pd.isna(got[i])
            continue
        want = (recent[i] if new[i] else older_dc[i]) if fac["type"][i] == "day_care" else older[i]
        assert got[i] == want.normalize(), i
