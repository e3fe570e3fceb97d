"""What each page section, slide and sheet needs from a dataset, declared once.

Contract
--------
`NEEDS` maps a section key (``<page or report>.<section>``) to the layers and
columns it cannot do without. Pages (through ``ui.section``), the meeting
brief (`analysis.meeting`) and the PPTX/PDF/XLSX builders all ask `missing`,
so a section is shown, or replaced by one line naming what it lacks, the same
way everywhere. Whatever a section does not need stays on the page.

* A `Need` is a layer and, optionally, columns of it of which **any one**
  suffices (the stage dates: one of them is enough to place an estate in time).
  A section's needs must all hold.
* A layer is *present* when the dataset has it with at least one row. A
  column is *present* when the layer has it and it holds at least one value
  (an exported column left empty throughout is as good as absent). A layer
  kept unread (`geo.dataset.LazyLayer`, a million cases) is judged by its
  first `SAMPLE_ROWS` rows, so asking never reads the whole layer.
* `missing` answers the first need that does not hold as a `Missing`
  (section, layer, column; column None: the layer itself), or None.
  The line shown for it is ``i18n`` ``needs.layer`` / ``needs.column`` with
  the section's ``needs.what.<section>`` (`needs_params` gives the fields).

Derivable columns (an estate's street from its grid, the campaign from
``management``) are derived at import; a section that needs one still
declares it, so a dataset stored before that still says what is missing.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.dataset import Dataset, LazyLayer
from geo.errors import bad_choice
from geo.schema import LAYER_NAMES, STAGE_DATE_COLUMNS

SAMPLE_ROWS = 5_000
# per unread layer, what was found about its columns (a layer of a version never changes; pages ask on every rerun)
_SAMPLED: weakref.WeakKeyDictionary[LazyLayer, dict[str, bool]] = weakref.WeakKeyDictionary()
_SAMPLED_LOCK = threading.Lock()
STAGE_DATES: tuple[str, ...] = tuple(STAGE_DATE_COLUMNS.values())


@dataclass(frozen=True)
class Need:
    """A layer, and columns of it of which any one is enough (none: the layer alone)."""

    layer: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Missing:
    """What a section lacks: the first unmet `Need`'s layer, and its first column (None: the layer)."""

    section: str
    layer: str
    column: str | None = None


NEEDS: dict[str, tuple[Need, ...]] = {
    # 总览 Overview
    "overview.overdue": (Need("cases"), Need("cases", ("deadline",))),
    "overview.committees": (Need("estates"), Need("estates", ("committee_formed_on",))),
    # 覆盖分析 Coverage
    "coverage.walking": (Need("roads"),),
    "coverage.plan_year": (Need("grids", ("aged_55_59",)), Need("grids", ("aged_80_plus",))),
    # 事件热点 Cases
    "cases.overdue": (Need("cases", ("deadline",)),),
    "cases.units": (Need("cases", ("responsible_unit",)),),
    "cases.hours": (Need("cases", ("closed_at",)),),
    # 小区自治 Estates
    "estates.stages": (Need("estates", ("governance_stage", *STAGE_DATES)),),
    "estates.progress": (Need("estates", STAGE_DATES),),
    "estates.by_street": (Need("estates", ("street",)),),
    "estates.league": (Need("estates", ("property_company",)), Need("estates", ("satisfaction",))),
    # 调度会 Meeting: page, PPTX, PDF and XLSX
    "meeting.committees": (Need("estates", STAGE_DATES),),
    "meeting.overdue": (Need("cases", ("deadline",)),),
    "meeting.changes": (Need("cases", ("closed_at",)),),
    "meeting.streets": (Need("cases"),),
    "meeting.units": (Need("cases"), Need("cases", ("responsible_unit",))),
    "meeting.hot": (Need("cases"),),
    "meeting.estates": (Need("estates"), Need("estates", STAGE_DATES)),
    "meeting.estates_by_street": (Need("estates", ("street",)),),
    # figures over time (analysis.history): the meeting's coverage change and trend, the overview's sparklines
    "history.coverage": (Need("facilities", ("opened_on",)),),
    "meeting.equity": (Need("facilities"),),
}
SECTIONS: tuple[str, ...] = tuple(NEEDS)


def _has_values(values: pd.Series | None) -> bool:
    return values is not None and bool(np.any(pd.notna(values.to_numpy())))


def column_present(ds: Dataset, layer: str, column: str) -> bool:
    """Whether ``layer`` has ``column`` with at least one value (see the Contract)."""
    raw = ds.lazy_layer(layer)
    if raw is None or ds.rows(layer) == 0:
        return False
    if isinstance(raw, LazyLayer) and not raw.loaded:
        with _SAMPLED_LOCK:
            known = _SAMPLED.setdefault(raw, {})
        if column not in known:
            got = raw.take_rows(np.arange(min(raw.rows, SAMPLE_ROWS)), [column])
            known[column] = column in got.columns and _has_values(got[column])
        return known[column]
    frame = raw.get() if isinstance(raw, LazyLayer) else raw
    return column in frame.columns and _has_values(frame[column])


def missing(ds: Dataset, section: str) -> Missing | None:
    """The first need of ``section`` that ``ds`` does not meet, or None when it has all it needs."""
    if section not in NEEDS:
        raise bad_choice("section", section, SECTIONS)
    for need in NEEDS[section]:
        if need.layer not in LAYER_NAMES or ds.rows(need.layer) == 0:
            return Missing(section, need.layer)
        if need.columns and not any(column_present(ds, need.layer, c) for c in need.columns):
            return Missing(section, need.layer, need.columns[0])
    return None


def needs_params(m: Missing) -> tuple[str, dict[str, str]]:
    """The string key of ``m``'s line and the fields it takes besides the labels (``layer``, ``column``, ``what``).

    ``needs.layer`` (the layer is absent) or ``needs.column``; ``what`` is the key of the section's purpose,
    ``label`` the key of the column's meaning (``needs.col.<layer>.<column>``).
    """
    what = f"needs.what.{m.section}"
    if m.column is None:
        return "needs.layer", {"layer": m.layer, "what": what}
    return "needs.column", {"layer": m.layer, "column": m.column, "what": what,
                            "label": f"needs.col.{m.layer}.{m.column}"}
