"""The commands on a dataset as real exports make it, on both stores (issue 18): a cases CSV whose timestamps
mix whole seconds and milliseconds, numeric ids with leading zeros, full-width names. On PostGIS every
command that loaded such a dataset ended in a traceback; now they load it and agree with the GeoPackage."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli import main
from geo.storage import open_store
from tests.storefixtures import REAL_CASE_ORDERS, REAL_CASE_ROWS, real_export_dataset

T = pd.Timestamp


def _cases_csv(path, order) -> None:
    lines = ["事件编号,事件类别,上报时间,状态,办结时限,办结时间,网格编号,问题描述,经度,纬度"]
    for i in order:
        case_id, reported, deadline, closed, grid, text = REAL_CASE_ROWS[i]
        lines.append(f"{case_id},道路破损,{reported},办结,{deadline},{closed},{grid},{text},{113.101 + 0.004 * i:.3f},27.803")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


@pytest.mark.parametrize("order", ["fractionless_first", "fraction_first"])
def test_import_then_every_loading_command_on_a_real_export(store_url, tmp_path, capsys, order):
    store = open_store(store_url)
    store.import_dataset(real_export_dataset().with_layer("cases", None), source="网格.gpkg")
    csv = tmp_path / "事件导出（6月）.csv"
    _cases_csv(csv, REAL_CASE_ORDERS[order])
    assert main(["import", "--data", store_url, "--layer", "cases", str(csv)]) == 0
    version = json.loads(capsys.readouterr().out)["version"]
    assert (version["id"], version["layer"], version["rows_added"]) == (2, "cases", 5)

    cases = open_store(store_url).load().cases.set_index("case_id")
    assert cases.loc["0000121", "reported_at"] == T("2025-06-15 07:42:30.831")
    assert cases.loc["0000120", "reported_at"] == T("2023-08-12 14:30:39")
    assert cases.loc["0000123", "closed_at"] == T("2024-11-04 10:00")
    assert cases.loc["0000124", "closed_at"] == T("2025-01-01 08:00:01")  # 00:00:01Z in Beijing time
    assert set(cases["grid_id"]) == {"007301"} and set(cases["status"]) == {"closed"}

    assert main(["versions", "--data", store_url]) == 0
    assert json.loads(capsys.readouterr().out)["current"] == 2
    out = tmp_path / "覆盖.csv"
    assert main(["coverage", "--data", store_url, "--type", "day_care", "--radius-m", "500", "--out", str(out)]) == 0
    capsys.readouterr()
    table = pd.read_csv(out, dtype={"grid_id": str})
    assert table["grid_id"].tolist() == ["007301"]  # the id as written, leading zeros and all
