"""The coverage page's street chart is built once per question and language and shared (`cached_street_chart`)."""

from analysis.coverage import coverage_by_grid
from geo.dataset import DEMO_PATH, read_dataset
from i18n import t
from ui.coverage import cached_street_chart
from ui.data import dataset_token

QUESTION = (("day_care",), 500.0, "euclidean", "elderly", False)


def _streets_by_hand(table) -> list[str]:
    out: list[str] = []
    for s in table["street"]:
        if s not in out:
            out.append(s)
    return out


def test_one_chart_per_question_and_language_with_the_districts_streets():
    path = str(DEMO_PATH)
    token = dataset_token(path)
    chart, n = cached_street_chart(path, token, *QUESTION, "zh")
    again, n_again = cached_street_chart(path, token, *QUESTION, "zh")
    assert again is chart and n_again == n  # built once, the same object for every session asking

    table = coverage_by_grid(read_dataset(path), facility_types=("day_care",), radius_m=500.0)
    streets = _streets_by_hand(table)
    assert n == len(streets) > 1
    spec = chart.to_dict()
    bars, labels = spec["layer"]
    assert sorted(bars["encoding"]["y"]["sort"]) == sorted(streets)
    # the worst-covered street first: covered / total of the aged 60+ per street, summed by hand
    share = {}
    for s in streets:
        part = table[table["street"] == s]
        share[s] = part["covered_elderly"].sum() / part["elderly"].sum()
    assert bars["encoding"]["y"]["sort"][0] == min(share, key=share.get)
    assert spec["title"] == t("coverage.streets.title", lang="zh")
    parts = {r["part"] for r in spec["datasets"][bars["data"]["name"]]}
    assert parts == {t("coverage.streets.covered", lang="zh"), t("coverage.streets.uncovered", lang="zh")}


def test_the_english_chart_is_labelled_in_english_whatever_the_callers_language():
    path = str(DEMO_PATH)
    chart, _ = cached_street_chart(path, dataset_token(path), *QUESTION, "en")
    spec = chart.to_dict()
    bars, _ = spec["layer"]
    assert spec["title"] == t("coverage.streets.title", lang="en") != t("coverage.streets.title", lang="zh")
    parts = {r["part"] for r in spec["datasets"][bars["data"]["name"]]}
    assert parts == {t("coverage.streets.covered", lang="en"), t("coverage.streets.uncovered", lang="en")}
    tips = [tip["title"] for tip in bars["encoding"]["tooltip"]]
    assert tips[0] == t("col.street", lang="en") and tips[2] == t("coverage.weight.elderly", lang="en")
