"""Coverage page helpers: every label it shows exists in both languages; the map layers match the analysis."""

import re
from pathlib import Path

import pytest

from analysis.coverage import LIFE_CIRCLE_PRESETS_M, coverage_by_grid, street_totals
from geo.dataset import DEMO_PATH, read_dataset
from i18n import TABLE, t
from ui.coverage import SHARE_PALETTE, coverage_layers, street_chart
from ui.data import dataset_token

ROOT = Path(__file__).resolve().parents[2]


def test_every_label_of_the_page_exists():
    keys = set()
    for path in (ROOT / "pages" / "coverage.py", ROOT / "ui" / "coverage.py"):
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    keys |= {f"coverage.preset.{p}" for p in ("default", *LIFE_CIRCLE_PRESETS_M, "custom")}
    keys |= {f"coverage.distance.{m}" for m in ("euclidean", "walking")}
    keys |= {f"coverage.weight.{w}" for w in ("elderly", "population")}
    keys |= {f"coverage.placement.{p}" for p in ("estates", "area")}
    missing = sorted(k for k in keys if k not in TABLE)
    assert missing == []
    assert len(keys) > 40
    assert t("coverage.preset.5min", lang="zh") == "5分钟 300米"
    assert t("coverage.preset.5min", lang="en") == "5-min 300 m"


def test_map_layers_follow_the_grid_table():
    path = str(DEMO_PATH)
    layers, legend = coverage_layers(path, dataset_token(path), None, "zh", "wgs84", ("day_care",), 500.0,
                                     "euclidean", "elderly", False)
    table = coverage_by_grid(read_dataset(path), facility_types=("day_care",), radius_m=500.0)
    grid_layer = next(iter(layers[0]._children.values()))
    features = grid_layer.data["features"]
    assert [f["properties"]["grid_id"] for f in features] == table["grid_id"].tolist()
    def share_class(v: float) -> int:  # the legend's classes, written out: <20 %, 20–40, …, 80–<100 %, 100 %
        if v >= 1.0 - 1e-9:
            return 5
        return sum(v >= edge for edge in (0.2, 0.4, 0.6, 0.8))

    expected = [SHARE_PALETTE[share_class(v)] for v in table["covered_share"]]
    assert [f["properties"]["_fill"] for f in features] == expected
    assert len(set(expected)) >= 4 and (table["covered_share"] == 1.0).any()  # several classes really drawn
    assert [f["properties"]["share"] for f in features] == [f"{100 * v:.1f}%" for v in table["covered_share"]]
    assert [c for c, _ in legend] == list(SHARE_PALETTE)
    names = [g.layer_name for g in layers]
    assert names[0] == "网格" and names[1] == "服务范围" and names[-1] == "计入设施"
    assert any(n.startswith("未覆盖小区") for n in names)


def test_street_chart_puts_the_worst_street_first():
    table = coverage_by_grid(read_dataset(DEMO_PATH), radius_m=300.0)
    streets = street_totals(table)
    spec = street_chart(streets, weight="elderly", title="x").to_dict()
    worst_first = streets.sort_values("covered_share")
    bars, labels = spec["layer"]
    assert bars["encoding"]["y"]["sort"] == labels["encoding"]["y"]["sort"] == worst_first["street"].tolist()
    rows = spec["datasets"][bars["data"]["name"]]
    for order, column in ((0, "covered_elderly"), (1, "uncovered_elderly")):
        part = [r for r in rows if r["order"] == order]
        assert [r["street"] for r in part] == worst_first["street"].tolist()
        assert [r["people"] for r in part] == pytest.approx(worst_first[column].round(0))
    ends = spec["datasets"][labels["data"]["name"]]
    assert [e["share"] for e in ends] == [f"{100 * v:.1f}%" for v in worst_first["covered_share"]]
    assert [e["total"] for e in ends] == pytest.approx((worst_first["covered_elderly"]
                                                        + worst_first["uncovered_elderly"]).round(0))
    assert bars["encoding"]["x"]["stack"] == "zero" and spec["title"] == "x"


def test_map_layers_of_one_street_only():
    path = str(DEMO_PATH)
    ds = read_dataset(path)
    street = ds.streets[0]
    layers, _ = coverage_layers(path, dataset_token(path), street, "en", "wgs84", ("day_care",), 300.0,
                                "walking", "population", True)
    features = next(iter(layers[0]._children.values())).data["features"]
    expected = ds.grids.loc[ds.grids["street"] == street, "grid_id"].tolist()
    assert [f["properties"]["grid_id"] for f in features] == expected
    assert {f["properties"]["street"] for f in features} == {street}
    assert [g.layer_name for g in layers][0] == "Grids"
