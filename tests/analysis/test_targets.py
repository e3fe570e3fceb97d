"""Quarterly targets checked off from the data, against the hand counts of `tests.analysis.meeting_fixtures`.

Quarter 2024Q1 judged with the data as of 2024-04-10 (so the quarter is over: it ends 2024-03-31), by hand
from the fixture's table (every case was reported in Q1; states at the end of 03-31):

=====  =====================  ======  ===========  ===================  ===========
unit   cases in Q1            closed  closure      closed late          overdue
=====  =====================  ======  ===========  ===================  ===========
城管   C1 C2 C5 C6 C10        C1 C2   2/5 = 0.4    C2                   C5 C6 C10
住建   C3 C4 C7               C4 C7   2/3          C4                   C3
环保   C8 C9                  C8      1/2          C8                   C9
民政   —                      —       none         0                    0
东街   C1 C2 C5 C7 C9         C1 C2 C7 3/5 = 0.6   C2                   C5 C9
西街   C3 C4 C6 C8 C10        C4 C8   2/5 = 0.4    C4 C8                C3 C6 C10
=====  =====================  ======  ===========  ===================  ===========

(C5's deadline 03-30 and C10's 03-28 have passed by the end of 03-31.) Committees by 03-31 among the
unmanaged estates: 东街 E1 (02-10), E2 (03-15) = 2; 西街 E3 (03-25) = 1, E4 none.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.targets import CHECK_COLUMNS, check_targets, scorecard
from geo.errors import AnalysisError, DataError
from geo.followups import new_target
from tests.analysis.meeting_fixtures import meeting_dataset


def _at(as_of: str):
    ds = meeting_dataset()
    meta = dict(ds.meta)
    meta["as_of"] = as_of
    return type(ds)(**{**{f: ds._raw(f) for f in ("grids", "facilities", "estates", "cases", "candidates",
                                                    "roads")}, "name": ds.name, "meta": tuple(meta.items())})


def _t(kind, subject, measure, *, lo=None, hi=None, quarter="2024Q1"):
    return new_target(quarter=quarter, kind=kind, subject=subject, measure=measure, minimum=lo, maximum=hi)


TARGETS = [
    # (target, hand value, met)
    (_t("unit", "城管", "closure_rate", lo=0.4), 0.4, True),  # exactly at the threshold: met
    (_t("unit", "住建", "closure_rate", lo=0.7), 2 / 3, False),
    (_t("unit", "城管", "overdue", hi=2), 3.0, False),
    (_t("unit", "住建", "overdue", hi=1), 1.0, True),
    (_t("unit", "环保", "closed_late", hi=0), 1.0, False),
    (_t("unit", "住建", "closed_late", hi=1), 1.0, True),
    (_t("unit", "民政", "closure_rate", lo=0.9), None, None),  # no case in the quarter: not judged
    (_t("unit", "民政", "overdue", hi=0), 0.0, True),
    (_t("street", "东街", "committees", lo=2), 2.0, True),
    (_t("street", "西街", "committees", lo=2), 1.0, False),
    (_t("street", "西街", "closure_rate", lo=0.5), 0.4, False),
    (_t("street", "东街", "closure_rate", lo=0.6), 0.6, True),
    (_t("street", "东街", "overdue", hi=2), 2.0, True),
    (_t("street", "西街", "closed_late", hi=1), 2.0, False),
]


def test_each_measure_met_and_not_met_against_hand_counts():
    check = check_targets(_at("2024-04-10"), [t for t, _, _ in TARGETS], "2024Q1")
    assert list(check.columns) == list(CHECK_COLUMNS)
    assert len(check) == len(TARGETS)
    for row, (t, value, met) in zip(check.itertuples(), TARGETS, strict=True):
        assert (row.kind, row.subject, row.measure) == (t.kind, t.subject, t.measure)
        if value is None:
            assert pd.isna(row.value) and pd.isna(row.met) and row.note == "no_cases"
        else:
            assert row.value == pytest.approx(value), (t, row.value)
            assert bool(row.met) is met, t
        assert row.end == pd.Timestamp("2024-03-31").date() and row.final
    assert check.loc[check["subject"] == "城管", "cases"].tolist() == [5, 5]
    assert check.loc[check["subject"] == "民政", "cases"].tolist() == [0, 0]


def test_the_scorecard_counts_met_of_set_per_unit_then_street():
    check = check_targets(_at("2024-04-10"), [t for t, _, _ in TARGETS], "2024Q1")
    card = scorecard(check)
    got = {(r.kind, r.subject): (r.targets, r.met, r.not_met, r.not_judged) for r in card.itertuples()}
    assert got == {("unit", "城管"): (2, 1, 1, 0), ("unit", "住建"): (3, 2, 1, 0), ("unit", "环保"): (1, 0, 1, 0),
                   ("unit", "民政"): (2, 1, 0, 1), ("street", "东街"): (3, 3, 0, 0),
                   ("street", "西街"): (3, 0, 3, 0)}
    assert card["kind"].tolist() == ["unit"] * 4 + ["street"] * 2


def test_a_quarter_not_over_is_judged_at_the_as_of_day():
    # as of 2024-03-20: C10 (03-25) is not known yet; 城管's cases C1 C2 C5 C6, closed C1 C2 -> 0.5;
    # overdue at 03-20 end: C6 only (C5's deadline 03-30 is ahead)
    check = check_targets(meeting_dataset(), [_t("unit", "城管", "closure_rate", lo=0.5),
                                              _t("unit", "城管", "overdue", hi=0)], "2024Q1")
    assert check["value"].tolist() == [0.5, 1.0]
    assert check["met"].tolist() == [True, False]
    assert not check["final"].any() and set(check["end"]) == {pd.Timestamp("2024-03-20").date()}


def test_past_coverage_needs_opening_dates_and_unknown_streets_are_named():
    targets = [_t("street", "东街", "coverage", lo=0.1), _t("street", "南街", "overdue", hi=0)]
    check = check_targets(_at("2024-04-10"), targets, "2024Q1")
    assert check["note"].tolist() == ["needs", "street_unknown"]
    assert check["met"].isna().all()
    # the quarter that holds the as-of day: today's coverage is known, so it is judged
    now = check_targets(_at("2024-03-20"), [_t("street", "东街", "coverage", lo=0.0)], "2024Q1")
    assert bool(now["met"].iloc[0]) and now["note"].iloc[0] == ""


def test_other_quarters_are_left_out_and_a_future_quarter_is_refused():
    ds = _at("2024-04-10")
    assert len(check_targets(ds, [_t("unit", "城管", "overdue", hi=0, quarter="2023Q4")], "2024Q1")) == 0
    with pytest.raises(AnalysisError, match="quarter 2024Q3 starts after the data's as-of day 2024-04-10") as err:
        check_targets(ds, [], "2024Q3")
    assert err.value.code == "analysis.quarter_out_of_range"


def test_targets_are_checked_when_set():
    with pytest.raises(DataError) as err:
        new_target(quarter="2024-1", kind="unit", subject=" ", measure="overdue", minimum=1)
    assert [p.code for p in err.value.problems] == ["data.target_quarter", "data.target_subject", "data.target_bound"]
    assert str(err.value.problems[2]) == ("layer targets: overdue takes a maximum (the target is ≤ it) — "
                                          "give --max only")
    with pytest.raises(DataError) as err:
        new_target(quarter="2024Q1", kind="unit", subject="城管", measure="coverage", minimum=90)
    assert [p.code for p in err.value.problems] == ["data.target_share", "data.target_street_only"]
    assert err.value.problems[0].message == "coverage is a share but the threshold is 90"
    with pytest.raises(DataError) as err:
        new_target(quarter="2024Q1", kind="street", subject="东街", measure="overdue", maximum=1.5)
    assert err.value.problems[0].message == "overdue is a count but the threshold is 1.5"
    with pytest.raises(DataError, match="the measure 'speed' is not one of closure_rate"):
        new_target(quarter="2024Q1", kind="street", subject="东街", measure="speed", minimum=1)
    t = new_target(quarter=" 2024q1 ", kind="street", subject=" 东街 ", measure="closure_rate", minimum=0.9)
    assert (t.quarter, t.subject, t.bound, t.threshold) == ("2024Q1", "东街", "min", 0.9)
