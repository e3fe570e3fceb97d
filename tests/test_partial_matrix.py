"""The partial-data matrix: 200 random partial datasets through every command, 30 of them through every page.

Each draw (`tests.partial_draws.draw`) is the demo with optional layers and columns dropped, ids switched to numbers
or zero-padded text, estates as points or polygons, cut to one street or one grid, every case closed, ``as_of``
removed. It is written as a GeoPackage and opened as a district's own file is (the store imports it as version 1,
deriving what can be derived). For every draw:

- ``report`` in one of the three formats through the CLI, and all three built from the same stored dataset;
- ``coverage``, ``site`` and ``hotspots`` through the CLI: exit 0, or exit 2 with the documented refusal of an
  analysis that the data cannot support (day-care coverage where the data has no day-care station, naming the
  types it has; hot spots without cases or with fewer grids than the statistic needs);
- the meeting's sections that lack what they need name it, and only those (the expectation is worked out here from
  what the draw took away, not asked of `analysis.needs`).

For every seventh draw, every page runs through Streamlit's AppTest with no exception and no error box.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

import cli
from tests.partial_draws import Draw, draw

N_DRAWS = int(os.environ.get("GRIDATLAS_PARTIAL_DRAWS", "200"))
PAGE_EVERY = 7  # 200 draws: 29 through every page, plus draw 0
FORMATS = ("pptx", "pdf", "xlsx")


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(list(args))
        except SystemExit as exc:  # argparse
            rc = int(exc.code or 0)
    return rc, out.getvalue(), err.getvalue()


def _stored(d: Draw, tmp_path: Path) -> Path:
    path = tmp_path / f"draw{d.seed}.gpkg"
    d.write(path)
    return path


STAGE_DATES = ("committee_formed_on", "rules_adopted_on", "managed_on", "fees_started_on")


def _has_values(d: Draw, layer: str, column: str) -> bool:
    frame = d.ds.layer(layer)
    return frame is not None and column in frame.columns and bool(frame[column].notna().any())


def expected_meeting_needs(d: Draw) -> set[str]:
    """The meeting sections that must say what they lack, worked out from what the draw took away."""
    cases = d.has("cases")
    dates = d.has("estates") and any(_has_values(d, "estates", c) for c in STAGE_DATES)
    lacks = {
        "meeting.streets": not cases,
        "meeting.hot": not cases,
        "meeting.overdue": not _has_values(d, "cases", "deadline"),
        "meeting.changes": not _has_values(d, "cases", "closed_at"),
        "meeting.units": not _has_values(d, "cases", "responsible_unit"),
        "meeting.committees": not dates,
        "meeting.estates": not dates,
        # an estate's street is derived from its grid at import: with estates, never missing
        "meeting.estates_by_street": False,
    }
    return {section for section, lack in lacks.items() if lack}


def _file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for v in row if v is not None)
    if path.suffix == ".pptx":
        from pptx import Presentation

        return "\n".join(shape.text_frame.text for slide in Presentation(str(path)).slides
                         for shape in slide.shapes if shape.has_text_frame)
    import pymupdf

    with pymupdf.open(path) as doc:
        return "\n".join(page.get_text() for page in doc)


def _hotspot_refusal_expected(d: Draw) -> bool:
    return not d.has("cases") or len(d.ds.grids) < 30


@pytest.mark.parametrize("seed", range(N_DRAWS))
def test_partial_draw_through_every_command(seed, tmp_path):
    d = draw(seed)
    info = d.describe()
    data = str(_stored(d, tmp_path))

    fmt = FORMATS[seed % 3]
    rc, out, err = _cli("report", "--data", data, "--out", str(tmp_path / f"deck.{fmt}"))
    assert rc == 0, (info, err)
    summary = json.loads(out)
    deck = tmp_path / f"deck.{fmt}"
    assert summary["format"] == fmt and deck.stat().st_size == summary["bytes"]
    assert {n["section"] for n in summary["needs"]} == expected_meeting_needs(d), info
    text = " ".join(_file_text(deck).split())
    said = {" ".join(n["text"].split()) for n in summary["needs"] if " ".join(n["text"].split()) in text}
    for need in summary["needs"]:  # each missing column is named in the file; an absent layer at least once
        line = " ".join(need["text"].split())
        if need["column"] is not None:
            assert line in text, (info, need)
        else:
            assert any(n["layer"] == need["layer"] and n["column"] is None and " ".join(n["text"].split()) in said
                       for n in summary["needs"]), (info, need)

    rc, out, err = _cli("coverage", "--data", data, "--type", "day_care", "--out", str(tmp_path / "cov.csv"))
    if not (d.ds.facilities["type"] == "day_care").any():  # a street (or grid) with no day-care station at all
        assert rc == 2 and err.startswith("error: 数据中没有“day_care”类设施；现有类型："), (info, rc, err)
    else:
        assert rc == 0, (info, err)
    rc, out, err = _cli("site", "--data", data, "--new", "1", "--out", str(tmp_path / "site.csv"))
    assert rc == 0, (info, err)
    rc, out, err = _cli("hotspots", "--data", data, "--out", str(tmp_path / "hot.csv"))
    if _hotspot_refusal_expected(d):
        assert rc == 2 and err.startswith("error: ") and "Traceback" not in err, (info, rc, err)
    else:
        assert rc == 0, (info, err)


def _page_paths() -> list[str]:
    from tests.ui.test_pages_apptest import _pages

    return _pages()


@pytest.mark.parametrize("seed", [s for s in range(N_DRAWS) if s % PAGE_EVERY == 0])
def test_partial_draw_through_every_page(seed, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.e2e.conftest import ROOT

    d = draw(seed)
    info = d.describe()
    monkeypatch.setenv("GRIDATLAS_DATA", str(_stored(d, tmp_path)))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    for page in _page_paths():
        if page != _page_paths()[0]:
            at.switch_page(page)
            at.run()
        assert not at.exception, (info, page, [e.value for e in at.exception])
        assert not at.error, (info, page, [e.value for e in at.error])
        shown = " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.info])
        assert "empty" not in shown.split(), (info, page)
