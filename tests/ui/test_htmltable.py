"""The overview's street table as plain HTML: values formatted and escaped, and no data grid on the first screen."""

import html
import re

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from i18n import t
from tests.e2e.conftest import ROOT
from ui.htmltable import MISSING, Col, cell, table_html

APP = str(ROOT / "app.py")


def _cells(markup: str) -> list[list[str]]:
    """The table's rows (header first) as unescaped cell texts, read with a regular expression."""
    rows = re.findall(r"<tr>(.*?)</tr>", markup)
    return [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)] for r in rows]


def test_cells_are_formatted_by_kind():
    assert cell(1234567, "int") == "1,234,567"
    assert cell(np.int64(12), "int") == "12"
    assert cell(2.5, "int") == "2"  # round half to even, as Python rounds
    assert cell(1234.56, "float0") == "1,235"
    assert cell(0.2134, "percent") == "21.3%"
    assert cell(1.0, "percent") == "100.0%"
    for missing in (None, float("nan"), np.nan, pd.NA):
        assert cell(missing, "int") == MISSING
    assert cell("中南路街道", "text") == "中南路街道"
    with pytest.raises(ValueError, match="unknown column kind 'money'"):
        cell(1, "money")  # type: ignore[arg-type]


def test_user_text_is_escaped_and_numbers_are_right_aligned():
    frame = pd.DataFrame({"street": ['<script>alert("x")</script>', "A & B"], "n": [1, 2000]})
    markup = table_html(frame, [Col("street", "街道 <b>"), Col("n", "人数", "int")])
    assert "<script>" not in markup and "<b>" not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in markup and "A &amp; B" in markup
    assert _cells(markup) == [["街道 <b>", "人数"], ['<script>alert("x")</script>', "1"], ["A & B", "2,000"]]
    assert markup.count('<td class="n">') == 2 and markup.count('<th class="n">') == 1


def test_the_overview_draws_its_street_table_as_html_with_the_analysis_values():
    from analysis.summary import street_table
    from geo.storage import open_store
    from ui.data import default_data_path

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) == 0  # no data grid on the overview: the map is not held back by its script
    tables = [m.value for m in at.markdown if 'class="ga-table"' in m.value]
    assert len(tables) == 1
    rows = _cells(tables[0])
    assert rows[0] == [t("col.street", lang="zh"), t("overview.col.grids", lang="zh"), t("col.households", lang="zh"),
                       t("col.population", lang="zh"), t("col.elderly", lang="zh"),
                       t("overview.col.elderly_share", lang="zh"), t("overview.col.density", lang="zh"),
                       t("overview.col.facilities", lang="zh")]
    # the same figures worked out here from the dataset, formatted by hand
    expected = street_table(open_store(default_data_path()).load())
    assert len(rows) - 1 == len(expected) > 1
    for got, (_, r) in zip(rows[1:], expected.iterrows(), strict=True):
        share = "–" if pd.isna(r["elderly_share"]) else f"{100 * r['elderly_share']:.1f}%"
        density = "–" if pd.isna(r["elderly_per_km2"]) else f"{r['elderly_per_km2']:,.0f}"
        assert got == [str(r["street"]), f"{int(r['grids']):,}", f"{int(r['households']):,}",
                       f"{int(r['population']):,}", f"{int(r['elderly']):,}", share, density,
                       f"{int(r['facilities']):,}"]
