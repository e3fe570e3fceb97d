"""The page data of a dataset version, built without Streamlit: what the overview (and the cases and coverage
pages) derive from a version and keep beside it.

Contract
--------
* A version is ready when its import ends. The CLI's import and restore (`commands/data.py`) and the 数据管理
  page's import (`ui.progress.prepare_version`) both call `prepare`, which builds every item below (for the
  whole district, and the overview's figures and sparkline figures of every street too) and keeps it in the version's
  `geo.storage.DerivedCache` under the names below; the first visitor then reads them back as after a server
  restart.
* The pages read the same items through `ui.data.derived` with the same names and these same builders (ui/ keeps
  only thin cached wrappers: `ui.cases.case_table`, `ui.overview.figures`, `ui.overview.streets_at_a_glance`,
  `ui.meeting_loop.trend_strip`), so a value is the same whoever built it first.
* Every builder takes ``get``, a `Getter` — ``get(name, build)`` returns the value kept under ``name`` or builds,
  keeps and returns it (`geo.storage.DerivedCache.get`, or the page's `ui.data.derived`): an item built from
  another (the figures from the case table) reads that one through ``get`` too, so it is built once.
* A name carries the format of its value (``.v1``; change it when the value's class changes). The per-street
  names end in the first 16 hex digits of the SHA-256 of ``repr(street)`` (None: the whole district).
* What the overview's map and sparkline pictures need (folium, matplotlib) is not here: the pages build them from
  this data (`ui.layers.district_map`, `ui.meeting_loop.trend_strip`) and keep them beside the version too.

Heavy analysis modules are imported by the builders that need them, so reading kept values back imports none.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from analysis.summary import DistrictSummary, district_summary, street_table
from geo.dataset import Dataset
from geo.errors import AnalysisError, GridAtlasError
from geo.progress import ProgressFn, progress_or_silent

if TYPE_CHECKING:
    from analysis.cases import CaseTable
    from analysis.coverage import CoverageInputs, CoverageResult
    from analysis.hotspots import GridWeights

T = TypeVar("T")
Getter = Callable[[str, Callable[[], T]], T]
"""``get(name, build)``: the value kept under ``name``, else ``build()`` kept and returned."""

CASE_TABLE = "case_table.v1"
QUEEN_WEIGHTS = "queen_weights.v1"
COVERAGE_INPUTS = "coverage_inputs.v1"
STREETS = "overview_streets.v1"
# a city version's overview (`analysis.districts.city_overview_of`); here, light to import, for the sidebar's
# "is it a city?" on every first run (analysis.districts brings the hot spots and scipy)
CITY_OVERVIEW = "city-overview-1"

DAY_CARE_RADIUS_M = 300.0  # analysis.coverage.DEFAULT_RADIUS_M["day_care"] (a test keeps them equal)


def street_key(street: str | None) -> str:
    """The suffix of a per-street name: 16 hex digits of the SHA-256 of ``repr(street)``."""
    return hashlib.sha256(repr(street).encode()).hexdigest()[:16]


def figures_name(street: str | None) -> str:
    return f"overview_figures.v1.{street_key(street)}"


def trend_name(street: str | None) -> str:
    return f"overview_trend.v1.{street_key(street)}"


def trend_png_name(street: str | None, lang: str) -> str:
    """The sparklines' picture of a street (None: the district) in ``lang`` (`reports.loop.strip_png`)."""
    return f"overview_trend_png.v1.{street_key((street, lang))}"


@dataclass(frozen=True)
class DayCareFigures:
    """Share of the aged 60+ within a 5-minute walk of an operating day-care station, and how many are not."""

    covered_share: float
    uncovered: float


@dataclass(frozen=True)
class OverviewFigures:
    """The overview's key figures for the whole district (``street`` None) or one street."""

    summary: DistrictSummary
    day_care: DayCareFigures | None  # None: no operating day-care station to measure from
    cases: dict[str, int] | None  # {"open", "overdue"}; None without a cases layer


# --- the items ----------------------------------------------------------------------------------------------------

def case_table(ds: Dataset, get: Getter) -> CaseTable:
    """The cases as integer codes (`analysis.cases.case_table_from_dataset`)."""
    from analysis.cases import case_table_from_dataset

    return get(CASE_TABLE, lambda: case_table_from_dataset(ds))


def grid_weights(ds: Dataset, get: Getter) -> GridWeights:
    """Queen contiguity of the grids (`analysis.hotspots.queen_weights`)."""
    from analysis.hotspots import queen_weights

    return get(QUEEN_WEIGHTS, lambda: queen_weights(ds.grids))


def coverage_inputs(ds: Dataset, get: Getter) -> CoverageInputs:
    """The layers in the metric CRS and the demand points (`analysis.coverage.prepare_inputs`)."""
    from analysis.coverage import prepare_inputs

    return get(COVERAGE_INPUTS, lambda: prepare_inputs(ds))


def day_care_coverage(ds: Dataset, get: Getter) -> CoverageResult:
    """The overview's coverage question: operating day-care stations, 300 m straight line, the aged 60+."""
    from analysis.coverage import compute_coverage

    return compute_coverage(coverage_inputs(ds, get), facility_types=("day_care",), radius_m=DAY_CARE_RADIUS_M,
                            distance="euclidean", weight="elderly", include_planned=False)


def build_figures(ds: Dataset, street: str | None, get: Getter, *,
                  coverage: Callable[[], CoverageResult] | None = None) -> OverviewFigures:
    """Work the overview's figures out. ``coverage`` answers the day-care question (default `day_care_coverage`;
    the page passes its own cached answer, shared with the coverage page)."""
    from analysis.cases import CaseFilter, case_kpis
    from analysis.coverage import district_totals

    try:
        result = coverage() if coverage is not None else day_care_coverage(ds, get)
    except AnalysisError:  # no operating day-care station to measure from
        day_care = None
    else:
        table = result.grids if street is None else result.grids[result.grids["street"] == street]
        totals = district_totals(table)
        day_care = DayCareFigures(covered_share=totals.covered_share, uncovered=totals.uncovered)
    cases = None
    if ds.rows("cases") > 0:  # counted without reading the cases
        flt = CaseFilter(streets=(street,)) if street is not None else CaseFilter()
        row = case_kpis(case_table(ds, get), flt).iloc[0]
        cases = {"open": int(row["open"]), "overdue": int(row["overdue"])}
    return OverviewFigures(summary=district_summary(ds, street=street), day_care=day_care, cases=cases)


def figures(ds: Dataset, street: str | None, get: Getter, *,
            coverage: Callable[[], CoverageResult] | None = None) -> OverviewFigures:
    """The district's (or a street's) overview figures, kept under `figures_name`; ``coverage`` as in
    `build_figures`."""
    return get(figures_name(street), lambda: build_figures(ds, street, get, coverage=coverage))


def streets(ds: Dataset, get: Getter) -> pd.DataFrame:
    """One row per street (`analysis.summary.street_table`), kept under `STREETS`."""
    return get(STREETS, lambda: street_table(ds))


def build_trends(ds: Dataset, streets_of: tuple[str, ...], get: Getter) -> dict[str | None, pd.DataFrame]:
    """The five figures over the last 12 months of the whole district (key None) and of each of ``streets_of``, in
    one pass over the kept case table (`analysis.meeting.trends_of`: equal to `analysis.meeting.trend_of` street by
    street); a street the cases do not know is left out."""
    from analysis.meeting import trends_of

    return trends_of(ds, streets=streets_of, table=case_table(ds, get) if ds.rows("cases") > 0 else None)


def build_trend(ds: Dataset, street: str | None, get: Getter, *,
                one_pass: Callable[[], dict[str | None, pd.DataFrame]] | None = None) -> pd.DataFrame:
    """The five figures over the last 12 months (`analysis.meeting.trend_of`) of the district or one street: taken
    from ``one_pass`` (a `build_trends` answer for several streets, shared as `steps` shares it) or worked out as
    `build_trends` does for this one alone."""
    found = one_pass() if one_pass is not None else build_trends(ds, () if street is None else (street,), get)
    if street in found:
        return found[street]
    from analysis.meeting import trend_of

    return trend_of(ds, street=street, table=case_table(ds, get))  # a street the cases do not know: its error


def trend(ds: Dataset, street: str | None, get: Getter, *,
          one_pass: Callable[[], dict[str | None, pd.DataFrame]] | None = None) -> pd.DataFrame:
    """The overview's sparklines' figures, kept under `trend_name`; ``one_pass`` as in `build_trend`."""
    return get(trend_name(street), lambda: build_trend(ds, street, get, one_pass=one_pass))


# --- all of it, when an import ends -----------------------------------------------------------------------------

def _remembering(get: Getter) -> Getter:
    """``get`` that keeps what it returned for the next ask (a `DerivedCache` reads its file again each time)."""
    kept: dict[str, object] = {}

    def remembered(name: str, build: Callable[[], T]) -> T:
        if name not in kept:
            kept[name] = get(name, build)
        return kept[name]  # type: ignore[return-value]

    return remembered


def steps(ds: Dataset, get: Getter, *, streets_of: tuple[str | None, ...] = (None,),
          figures_of: tuple[str | None, ...] = ()) -> list[tuple[str, Callable[[], object]]]:
    """What `prepare` builds, in order, as (label, build): the whole district first, then each of ``streets_of``
    (figures and trend), then the figures and trend of each of ``figures_of``. The day-care answer the figures are
    worked out from is computed once for all of them, the trends of all of them in one pass (`build_trends`, when
    the first of them not kept yet is asked for), and what they read (the case table) is read once."""
    get = _remembering(get)
    out: list[tuple[str, Callable[[], object]]] = []
    if ds.rows("cases"):
        out.append(("case_table", lambda: case_table(ds, get)))
    out.append(("coverage_inputs", lambda: coverage_inputs(ds, get)))
    day_care = functools.cache(lambda: day_care_coverage(ds, get))  # an AnalysisError is raised again, not kept
    trends = functools.cache(lambda: build_trends(
        ds, tuple(dict.fromkeys(s for s in (*streets_of, *figures_of) if s is not None)), get))

    for street in streets_of:
        out.append((f"figures:{street or ''}", lambda s=street: figures(ds, s, get, coverage=day_care)))
        out.append((f"trend:{street or ''}", lambda s=street: trend(ds, s, get, one_pass=trends)))
    out.append(("streets", lambda: streets(ds, get)))
    out.append(("queen_weights", lambda: grid_weights(ds, get)))
    for street in figures_of:
        if street not in streets_of:
            out.append((f"figures:{street or ''}", lambda s=street: figures(ds, s, get, coverage=day_care)))
            out.append((f"trend:{street or ''}", lambda s=street: trend(ds, s, get, one_pass=trends)))
    return out


def run_steps(todo: list[tuple[str, Callable[[], object]]], progress: ProgressFn | None = None) -> list[str]:
    """Build each step, reporting the ``derive`` stage; the labels of those built. A step that cannot be built
    (a `GridAtlasError`: a dataset without what it needs) is left to the page, which says why."""
    report = progress_or_silent(progress)
    built = []
    for i, (label, build) in enumerate(todo):
        report("derive", i / len(todo))
        try:
            build()
        except GridAtlasError:
            continue
        built.append(label)
    report("derive", 1.0)
    return built


def prepare(ds: Dataset, get: Getter, *, progress: ProgressFn | None = None) -> list[str]:
    """Build the version's page data (see the module's Contract) for the whole district, and the figures and
    sparkline figures (trend) of every street (what each street's first visitor of the overview reads first,
    and what the server's warm-up, `ui.serve.warm_streets`, reads back); the labels built.

    Costs on Wuchang (14 streets, 1 M cases, this 2-core machine, the case table and coverage inputs built): the
    trends of the district and of all 14 streets take 0.2 s in one pass (`build_trends`), where street by street
    (`analysis.meeting.trend_of`) they took 0.55 s a street (1.2 s in a busy server), 7.9 s for the 14, and the
    district's alone 0.8 s; this whole function, every street's trend included, 0.6 s (before, without the
    streets' trends, 1.1-1.6 s); the figures cost 0.05 s a street."""
    return run_steps(steps(ds, get, figures_of=tuple(ds.streets)), progress)


def prepare_store(store: object, progress: ProgressFn | None = None) -> list[str]:
    """`prepare` for the current version of a store (`geo.storage.DatasetStore`), kept in its `derived` place; the
    labels built. Nothing for a store without one, nor for a city (its pages open on one district at a time, and
    the whole city's overview is derived by `analysis.districts`)."""
    if not hasattr(store, "derived") or len(store.district_names()) >= 2:
        return []
    return prepare(store.load(), store.derived().get, progress=progress)
