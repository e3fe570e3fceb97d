"""Age bands on the grids: Chinese headers, the 60+ bands adding up to ``elderly`` (coded problems in both
languages), and the demo's bands drawn from a random stream of their own."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

import geo.demo as demo
from geo.dataset import DEMO_PATH, read_dataset
from geo.errors import DataError
from geo.schema import AGE_BANDS, ELDERLY_BANDS, template_table, validate_layer
from i18n import problem_text

HEADERS = ["55-59岁", "60-64岁", "65-69岁", "70-74岁", "75-79岁", "80岁及以上"]


def _grids(bands: list[list[int]], elderly: list[int], headers: list[str] = HEADERS) -> gpd.GeoDataFrame:
    data = {"网格编号": [f"G{i}" for i in range(len(elderly))], "街道": "响石岭", "社区": "李家冲",
            "户数": 300, "人口": 1000, "老年人口": elderly}
    for j, h in enumerate(headers):
        data[h] = [row[j] for row in bands]
    geoms = [box(113.10 + 0.01 * i, 27.80, 113.11 + 0.01 * i, 27.81) for i in range(len(elderly))]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4326)


def test_chinese_band_headers_become_the_band_columns():
    out = validate_layer(_grids([[95, 80, 70, 50, 35, 25]], [260]), "grids")
    assert list(out.columns)[6:12] == list(AGE_BANDS)
    assert out.loc[0, list(AGE_BANDS)].tolist() == [95, 80, 70, 50, 35, 25]


def test_the_template_carries_bands_that_add_up():
    out = validate_layer(template_table("grids").drop(columns="WKT").assign(
        geometry=[box(114.309, 30.551, 114.312, 30.553)]).pipe(gpd.GeoDataFrame, crs=4326), "grids")
    assert int(out.loc[0, list(ELDERLY_BANDS)].sum()) == int(out.loc[0, "elderly"]) == 260


def test_bands_that_do_not_add_up_name_row_and_column_in_both_languages():
    bad = _grids([[95, 80, 70, 50, 35, 25], [10, 20, 20, 20, 20, 30], [1, 1, None, 1, 1, 1]], [260, 100, 4])
    with pytest.raises(DataError) as exc:
        validate_layer(bad, "grids")
    got = [(p.code, p.row, p.column, p.source_column, dict(p.params)) for p in exc.value.problems]
    assert got == [
        ("data.age_bands_sum", 2, "elderly", "老年人口", {"rows": "2", "count": 1, "bands_sum": "110",
                                                       "elderly": "100"}),
        ("data.age_bands_sum", 3, "elderly", "老年人口", {"rows": "3", "count": 1, "bands_sum": "—", "elderly": "4"}),
    ]
    p = exc.value.problems[0]
    assert str(p) == ("layer grids, row 2, column 老年人口 (elderly): the 60+ age bands add up to 110 but elderly is "
                      "100 — make aged_60_64 … aged_80_plus add up to elderly")
    assert problem_text(p, lang="zh") == ("图层 网格，第 2 行，列 老年人口 (elderly): 60岁以上各年龄段合计 110，与老年人口 100 "
                                          "不符 — 使 60-64岁 至 80岁及以上 各列之和等于老年人口")
    assert problem_text(p, lang="en") == ("layer grids, row 2, column 老年人口 (elderly): the 60+ age bands add up "
                                          "to 110 but elderly is 100 — make aged_60_64 … aged_80_plus add up to "
                                          "elderly")


def test_a_missing_band_column_is_one_problem_in_both_languages():
    bad = _grids([[80, 70, 50, 35]], [260], headers=["60-64岁", "65-69岁", "70-74岁", "80岁及以上"])
    with pytest.raises(DataError) as exc:
        validate_layer(bad, "grids")
    (p,) = exc.value.problems
    assert (p.code, p.row, p.column, dict(p.params)) == ("data.age_bands_incomplete", None, "aged_75_79",
                                                         {"missing": "aged_75_79"})
    assert problem_text(p, lang="zh").endswith("年龄段列不全，缺少 aged_75_79 — 60岁以上各年龄段（60-64岁 … 80岁及以上）要么都填，要么都不填")
    assert problem_text(p, lang="en").endswith("age bands missing: aged_75_79 — give every 60+ band "
                                               "(60-64岁 … 80岁及以上) or none")


def test_many_bad_rows_are_listed_then_summed_up():
    rows = 23
    bad = _grids([[0, 1, 1, 1, 1, 1]] * rows, [4] * rows)
    with pytest.raises(DataError) as exc:
        validate_layer(bad, "grids")
    codes = [p.code for p in exc.value.problems]
    assert codes == ["data.age_bands_sum"] * 20 + ["data.age_bands_sum_more"]
    assert exc.value.problems[-1].params["rows"] == "21, 22, 23"
    assert problem_text(exc.value.problems[-1], lang="en").endswith(
        "the 60+ age bands do not add up to elderly on these rows either — make aged_60_64 … aged_80_plus add up to "
        "elderly")


def test_no_bands_is_fine():
    out = validate_layer(_grids([[]], [50], headers=[]), "grids")
    assert not set(AGE_BANDS) & set(out.columns)


# --- the demo ---------------------------------------------------------------------------------------------------


def test_bundled_demo_bands_add_up_and_follow_the_census_shape():
    grids = read_dataset(DEMO_PATH).grids
    assert (grids[list(ELDERLY_BANDS)].sum(axis=1) == grids["elderly"]).all()
    assert (grids[list(AGE_BANDS)] >= 0).all().all()
    assert (grids["aged_55_59"] + grids["elderly"] <= grids["population"]).all()
    census = pd.Series(demo.CENSUS_2020_BANDS_M)
    want = census[list(ELDERLY_BANDS)] / census[list(ELDERLY_BANDS)].sum()
    got = grids[list(ELDERLY_BANDS)].sum() / grids["elderly"].sum()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=0.01)
    # 55-59 against 60+: the census ratio 101.4 / 264.0, within the lognormal's spread
    assert abs(grids["aged_55_59"].sum() / grids["elderly"].sum() - 101.4 / 264.0) < 0.02


def test_the_bands_have_a_random_stream_of_their_own(monkeypatch):
    """Another band stream changes the bands only: every other column and layer stays as the bundled file has it."""
    bundled = read_dataset(DEMO_PATH)
    monkeypatch.setattr(demo, "AGE_BAND_STREAM", 10)
    other = demo.build_dataset("shifeng", seed=2019, n_cases=50)
    rest = [c for c in bundled.grids.columns if c not in AGE_BANDS]
    pd.testing.assert_frame_equal(pd.DataFrame(other.grids[rest]), pd.DataFrame(bundled.grids[rest]),
                                  check_dtype=False)
    assert not other.grids[list(AGE_BANDS)].equals(bundled.grids[list(AGE_BANDS)])
    for layer in ("facilities", "estates", "candidates"):
        pd.testing.assert_frame_equal(pd.DataFrame(getattr(other, layer)), pd.DataFrame(getattr(bundled, layer)),
                                      check_dtype=False)
