"""What a dataset's own files leave out and GridAtlas can work out: derived once, when a version is written.

Contract
--------
Real district files carry only the required columns. What can be derived from
the layers is derived here, in one place, by `derive_version`, which both
stores call on every version they write from new data (an import of a layer or
of a whole dataset, a GeoPackage taken in); the result is stored with the
version, as a case's ``grid_id`` is. A version stored before these rules is
given the same columns when opened (`on_open`; kept in the version's derived
cache, the version itself is not rewritten). Values a file already has are
always kept. Pure: no Streamlit, inputs never mutated.

1. **An estate's ``street`` and ``community``** (where missing): those of the
   grid containing the estate's representative point (a point estate: the
   point; a polygon: `shapely.point_on_surface`, a point inside it). A point
   on a border shared by two grids goes to the first grid in layer order
   (`geo.assign.assign_grid_ids`). An estate outside every grid takes the
   nearest grid within `NEAREST_GRID_MAX_M` metres (measured in the dataset's
   UTM zone; ties: first grid in layer order); farther away it is left empty
   and named in meta ``estates_outside_grids`` (comma-separated ids), a
   warning (`warnings`), not an error.
2. **The campaign's estates** (`campaign_mask`, the one rule the analyses use):
   the estates whose ``governance_stage`` is filled in; when the layer has no
   such column, or it is empty throughout, the estates whose ``management`` is
   ``unmanaged``.
3. **``governance_stage`` from stage dates**: when the column is absent or
   empty throughout, each campaign estate (rule 2) gets the furthest stage
   whose date (``committee_formed_on`` … ``fees_started_on``) is on or before
   ``as_of`` (`stage_from_dates`), ``none`` when no date is; estates off the
   list stay empty. Meta ``governance_stage_derived`` (``stage_dates``) marks
   the column as derived, so the next version derives it again (at its own
   ``as_of``) unless that import brings the column itself.
4. **``as_of``** when meta has none (`derive_as_of`): the day of the latest
   ``reported_at`` of the cases (the same fallback `geo.calendar.resolve_as_of`
   uses, so a dataset read before this rule agrees); without cases (or no
   report date), the day of the latest stage date of the estates; without
   either, the day the version was written. Stored in meta ``as_of`` with
   ``as_of_derived`` naming the rule used (``cases``, ``stage_dates``,
   ``import_day``); a derived ``as_of`` is derived again for every new version
   (new cases move it), a given one is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import Problem
from geo.schema import STAGE_DATE_COLUMNS

NEAREST_GRID_MAX_M = 50.0  # an estate this close to a grid (and inside none) takes that grid's street and community
AS_OF_RULES: tuple[str, ...] = ("cases", "stage_dates", "import_day")
STAGE_RULE = "stage_dates"
OUTSIDE_KEY = "estates_outside_grids"
DERIVED_KEYS: tuple[str, ...] = ("as_of_derived", "governance_stage_derived", OUTSIDE_KEY)
CACHE_NAME = "derive-1"  # the version's derived cache entry holding what `on_open` added (rules version 1)
_LOCATION = ("street", "community")
_STAGES: tuple[str, ...] = ("none", *STAGE_DATE_COLUMNS)


@dataclass(frozen=True)
class Derivation:
    """What `derive_version` made: the estates with derived columns (None without an estates layer),
    whether they differ from those given, the meta to store, and the warnings."""

    estates: gpd.GeoDataFrame | None
    estates_changed: bool
    meta: dict[str, str]
    warnings: tuple[Problem, ...] = ()


# --- the rules ---------------------------------------------------------------------------------------------------

def _day(value: Any) -> pd.Timestamp | None:
    """The day (local midnight) of a time, a date or ISO text; None when missing or not a time."""
    ts = pd.to_datetime(value, errors="coerce")
    if ts is None or pd.isna(ts):
        return None
    ts = pd.Timestamp(ts)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("Asia/Shanghai").tz_localize(None)
    return ts.normalize()


def latest_day(values: Any) -> pd.Timestamp | None:
    """The day of the latest time in ``values`` (a column, or several latest times), None when there is none."""
    if values is None:
        return None
    ts = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    latest = ts.max()
    return None if pd.isna(latest) else pd.Timestamp(latest).normalize()


def stage_dates_latest(estates: pd.DataFrame | None) -> pd.Timestamp | None:
    """The day of the latest stage date of any estate (None without one)."""
    if estates is None or len(estates) == 0:
        return None
    cols = [c for c in STAGE_DATE_COLUMNS.values() if c in estates.columns]
    if not cols:
        return None
    return latest_day(pd.concat([pd.to_datetime(estates[c], errors="coerce") for c in cols], ignore_index=True))


def wants_latest_report(meta: Mapping[str, Any]) -> bool:
    """Whether `derive_version` needs the cases' latest report for this meta (no as_of, or a derived one)."""
    return not meta.get("as_of") or bool(meta.get("as_of_derived"))


def derive_as_of(*, latest_report: Any, estates: pd.DataFrame | None, made_on: Any) -> tuple[str, str]:
    """``(as_of as YYYY-MM-DD, rule)`` for a dataset whose meta has none (rule 4 of the Contract).

    ``latest_report``: the latest ``reported_at`` of the cases (a time, or the column), None without cases;
    ``made_on``: the day the version was written.
    """
    day = latest_day(latest_report)
    if day is not None:
        return day.date().isoformat(), "cases"
    day = stage_dates_latest(estates)
    if day is not None:
        return day.date().isoformat(), "stage_dates"
    made = _day(made_on)
    return (made if made is not None else pd.Timestamp.today().normalize()).date().isoformat(), "import_day"


def campaign_mask(estates: pd.DataFrame) -> pd.Series:
    """True for the estates on the self-governance campaign's list (rule 2 of the Contract)."""
    if "governance_stage" in estates.columns and estates["governance_stage"].notna().any():
        mask = estates["governance_stage"].notna()
    elif "management" in estates.columns:
        mask = estates["management"].astype("string") == "unmanaged"
    else:
        mask = pd.Series(False, index=estates.index)
    return pd.Series(mask.fillna(False).to_numpy(dtype=bool), index=estates.index, name="campaign")


def stage_from_dates(estates: pd.DataFrame, as_of: Any) -> pd.Series:
    """The furthest stage whose date is on or before ``as_of`` (the whole day), ``none`` when no date is."""
    cutoff = _day(as_of)
    idx = np.zeros(len(estates), dtype=np.int64)
    if cutoff is not None:
        end = cutoff + pd.Timedelta(days=1)
        for k, col in enumerate(STAGE_DATE_COLUMNS.values(), start=1):
            if col not in estates.columns:
                continue
            dates = pd.to_datetime(estates[col], errors="coerce")
            if getattr(dates.dt, "tz", None) is not None:
                dates = dates.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
            idx = np.where((dates < end).fillna(False).to_numpy(dtype=bool), k, idx)
    return pd.Series(np.array(_STAGES, dtype=object)[idx], index=estates.index, name="governance_stage",
                     dtype="string")


def representative_points(estates: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each estate's point: the point itself, or a point inside its polygon (`shapely.point_on_surface`)."""
    geoms = np.asarray(estates.geometry.values, dtype=object)
    is_point = shapely.get_type_id(geoms) == shapely.GeometryType.POINT
    points = np.where(is_point, geoms, shapely.point_on_surface(geoms))
    return gpd.GeoSeries(points, index=estates.index, crs=estates.crs)


def locate_estates(estates: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *,
                   max_distance_m: float = NEAREST_GRID_MAX_M) -> pd.Series:
    """Position (in ``grids``) of the grid each estate belongs to by rule 1, ``-1`` for none."""
    from geo.assign import assign_grid_ids
    from geo.crs import metric_crs

    out = np.full(len(estates), -1, dtype="int64")
    if len(estates) == 0 or len(grids) == 0:
        return pd.Series(out, index=estates.index)
    points = representative_points(estates).to_crs(grids.crs)
    ids = assign_grid_ids(gpd.GeoDataFrame(geometry=points, crs=grids.crs), grids)
    first = pd.Series(np.arange(len(grids)), index=grids["grid_id"].astype("string").to_numpy())
    first = first[~first.index.duplicated()]
    inside = ids.notna().to_numpy()
    out[inside] = first.reindex(ids[inside].to_numpy()).to_numpy()
    rest = np.flatnonzero(~inside & ~points.isna().to_numpy() & ~points.is_empty.to_numpy())
    if len(rest):
        crs = metric_crs(grids)
        polys = np.asarray(grids.geometry.to_crs(crs).values, dtype=object)
        probes = np.asarray(points.iloc[rest].to_crs(crs).values, dtype=object)
        tree = shapely.STRtree(polys)
        p_idx, g_idx = tree.query(probes, predicate="dwithin", distance=max_distance_m)
        if len(p_idx):
            dist = shapely.distance(probes[p_idx], polys[g_idx])
            order = np.lexsort((g_idx, dist, p_idx))  # per estate: nearest, then first in layer order
            p_sorted, g_sorted = p_idx[order], g_idx[order]
            keep = np.r_[True, p_sorted[1:] != p_sorted[:-1]]
            out[rest[p_sorted[keep]]] = g_sorted[keep]
    return pd.Series(out, index=estates.index)


def _text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string", name=name)


def _fill_location(estates: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None) -> tuple[dict[str, pd.Series], list[str]]:
    """The street/community columns to set (only those that gain a value) and the ids left outside."""
    missing = np.zeros(len(estates), dtype=bool)
    for c in _LOCATION:
        missing |= _text_column(estates, c).isna().to_numpy()
    if not missing.any() or grids is None or len(grids) == 0:
        return {}, []
    rows = np.flatnonzero(missing)
    pos = locate_estates(estates.iloc[rows], grids).to_numpy()
    found = pos >= 0
    out: dict[str, pd.Series] = {}
    for c in _LOCATION:
        col = _text_column(estates, c).copy()
        values = grids[c].astype("string").to_numpy(dtype=object)[pos[found]]
        at = rows[found]
        empty = col.iloc[at].isna().to_numpy()
        if empty.any():
            col.iloc[at[empty]] = values[empty]
            out[c] = col
    outside = estates["estate_id"].astype("string").iloc[rows[~found]].tolist() if "estate_id" in estates else []
    return out, [str(x) for x in outside]


def outside_warning(ids: Iterable[str], *, max_distance_m: float = NEAREST_GRID_MAX_M) -> Problem:
    """The warning for estates inside no grid and farther than ``max_distance_m`` from every grid."""
    ids = list(ids)
    shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
    return Problem("estates", f"{len(ids)} estate(s) lie in no grid and more than {max_distance_m:g} m from every "
                   f"grid, so their street and community stay empty: {shown}",
                   "check their positions, or fill in their street and community columns",
                   column="street", code="data.estate_outside_grids",
                   params={"count": len(ids), "values": shown, "distance_m": f"{max_distance_m:g}"}, value=shown)


def warnings(meta: Mapping[str, str]) -> tuple[Problem, ...]:
    """The warnings a version's derivation recorded in its meta (estates outside every grid)."""
    ids = [x for x in str(meta.get(OUTSIDE_KEY, "") or "").split(",") if x]
    return (outside_warning(ids),) if ids else ()


def import_warnings(store: Any, layer: str) -> tuple[Problem, ...]:
    """What the CLI's ``import`` and the 数据管理 page say after importing ``layer``: the current version's
    warnings when that layer places the estates (grids, estates), else none."""
    if layer not in ("grids", "estates"):
        return ()
    return warnings(store.load().meta_dict)


# --- a version -----------------------------------------------------------------------------------------------------

def derive_version(*, grids: gpd.GeoDataFrame | None, estates: gpd.GeoDataFrame | None, meta: Mapping[str, Any],
                   latest_report: Any, made_on: Any, imported: Mapping[str, pd.DataFrame] | None = None
                   ) -> Derivation:
    """Every rule of the Contract applied to one version's layers.

    ``meta``: the version's meta as it stands (a derived ``as_of`` and a derived ``governance_stage`` are derived
    again); ``latest_report``: the cases' latest ``reported_at`` (or the column; None without cases);
    ``made_on``: the day the version is written; ``imported``: the layers (or their rows) this write brought
    from a file, when the rest of the version was stored before (an import of estates that brings
    ``governance_stage`` keeps it even where it was derived before).
    """
    meta = {str(k): str(v) for k, v in meta.items()}
    brought = {k: {c for c in v.columns if v[c].notna().any()} for k, v in (imported or {}).items()}
    stage_was_derived = bool(meta.pop("governance_stage_derived", ""))
    if meta.pop("as_of_derived", ""):
        meta.pop("as_of", None)
    meta.pop(OUTSIDE_KEY, None)
    changed = False
    out = estates
    if out is not None and stage_was_derived and "governance_stage" in out.columns \
            and "governance_stage" not in brought.get("estates", set()):
        out = out.drop(columns=["governance_stage"])
        changed = True
    problems: list[Problem] = []
    if out is not None and len(out):
        cols, outside = _fill_location(out, grids)
        if cols:
            out = _with_columns(out, cols)
            changed = True
        if outside:
            meta[OUTSIDE_KEY] = ",".join(outside)
            problems.append(outside_warning(outside))
    if not meta.get("as_of"):
        meta["as_of"], meta["as_of_derived"] = derive_as_of(latest_report=latest_report, estates=out,
                                                            made_on=made_on)
    if out is not None and len(out) and ("governance_stage" not in out.columns
                                         or out["governance_stage"].isna().all()):
        on_list = campaign_mask(out).to_numpy()
        if on_list.any():
            as_of = _day(meta["as_of"]) or _day(made_on)
            stage = stage_from_dates(out, as_of).where(on_list, pd.NA).astype("string")
            out = _with_columns(out, {"governance_stage": stage})
            meta["governance_stage_derived"] = STAGE_RULE
            changed = True
    if out is not None and estates is not None and changed:
        changed = not _same(out, estates)
    return Derivation(estates=out, estates_changed=changed, meta=meta, warnings=tuple(problems))


def _with_columns(frame: gpd.GeoDataFrame, cols: Mapping[str, pd.Series]) -> gpd.GeoDataFrame:
    """``frame`` with ``cols`` set (new columns go before the geometry, as a layer read from a file has them)."""
    out = frame.copy()
    for name, values in cols.items():
        out[name] = pd.Series(values.to_numpy(), index=out.index, dtype=values.dtype)  # by position, dtype kept
    geom = out.geometry.name
    order = [c for c in out.columns if c != geom] + [geom]
    return gpd.GeoDataFrame(out[order], geometry=geom, crs=frame.crs)


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    if list(a.columns) != list(b.columns):
        return False
    try:
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns=a.geometry.name)),
                                      pd.DataFrame(b.drop(columns=b.geometry.name)), check_dtype=True)
    except AssertionError:
        return False
    return True


# --- opening a version stored before these rules ------------------------------------------------------------------

def needs_derivation(meta: Mapping[str, Any], estates: pd.DataFrame | None) -> bool:
    """True when a version lacks something the rules would add (checked without reading the cases)."""
    if not meta.get("as_of"):
        return True
    if estates is None or len(estates) == 0:
        return False
    unplaced = set(_unplaced_ids(estates))
    if unplaced and unplaced != {x for x in str(meta.get(OUTSIDE_KEY, "") or "").split(",") if x}:
        return True
    if "governance_stage" not in estates.columns or estates["governance_stage"].isna().all():
        return bool(campaign_mask(estates).any())
    return False


def needs_grids(estates: pd.DataFrame | None) -> bool:
    """Whether rule 1 has anything to do for these estates (some estate without a street or a community)."""
    return estates is not None and len(estates) > 0 and len(_unplaced_ids(estates)) > 0


def _unplaced_ids(estates: pd.DataFrame) -> list[str]:
    """Ids of the estates without a street or a community."""
    missing = np.zeros(len(estates), dtype=bool)
    for c in _LOCATION:
        missing |= _text_column(estates, c).isna().to_numpy()
    return [str(x) for x in _text_column(estates, "estate_id")[missing].tolist()]


def on_open(ds, *, cache: Callable[[], Any], made_on: Callable[[], Any], latest_report: Callable[[], Any],
            full: Callable[[], Any] | None = None):
    """The `geo.dataset.Dataset` of a stored version with the derived columns and meta of the Contract.

    A version written under these rules already has them and comes back as it is (nothing read); an older one
    gets them computed once from the whole version (``full()``: its grids and estates, default ``ds``; the
    cases' latest ``reported_at`` from ``latest_report()``; the day it was written from ``made_on()``) and kept
    in its derived cache (``cache()``, entry `CACHE_NAME`): the stored version is not rewritten, so its
    checksum still holds. What is added is matched to the estates by ``estate_id``, so a part of the version
    (one district) gets the values the whole version derives.
    """
    from geo.dataset import Dataset
    from geo.schema import LAYER_NAMES

    meta = ds.meta_dict
    estates = ds.estates
    if not needs_derivation(meta, estates):
        return ds

    def build() -> dict[str, Any]:
        whole = full() if full is not None else ds
        given = whole.estates
        got = derive_version(grids=whole.grids, estates=given, meta=whole.meta_dict, latest_report=latest_report(),
                             made_on=made_on())
        added = pd.DataFrame()
        if got.estates is not None and got.estates_changed:
            ids = got.estates["estate_id"].astype("string").to_numpy(dtype=object)
            added = pd.DataFrame({c: got.estates[c].to_numpy() for c in ("street", "community", "governance_stage")
                                  if c in got.estates.columns and (c not in given.columns
                                                                   or not got.estates[c].equals(given[c]))},
                                 index=pd.Index(ids, name="estate_id"))
        return {"estates": added, "meta": got.meta}

    extra = cache().get(CACHE_NAME, build)
    raw = {f.name: ds._raw(f.name) if f.name in LAYER_NAMES else getattr(ds, f.name) for f in fields(Dataset)}
    added = extra["estates"]
    if len(added.columns) and estates is not None and len(estates):
        ids = estates["estate_id"].astype("string").to_numpy(dtype=object)
        cols = {}
        for c in added.columns:
            values = pd.Series(added[c].reindex(ids).to_numpy(), index=estates.index, dtype="string")
            cols[c] = _text_column(estates, c).fillna(values) if c in _LOCATION else values
        raw["estates"] = _with_columns(estates, cols)
    added_meta = {k: v for k, v in extra["meta"].items() if k in ("as_of", *DERIVED_KEYS) and not meta.get(k)}
    raw["meta"] = tuple(sorted({**meta, **added_meta}.items()))  # a district's own keys (city, district) kept
    return Dataset(**raw)


def derive_dataset(ds, *, made_on: Any):
    """A whole dataset about to be stored as a version, with every rule applied: ``(dataset, warnings)``."""
    from geo.dataset import Dataset
    from geo.schema import LAYER_NAMES

    cases = ds.lazy_layer("cases")
    latest = None
    if cases is not None and ds.rows("cases") and wants_latest_report(ds.meta_dict):
        latest = latest_day(cases.column("reported_at") if hasattr(cases, "column") else cases.get("reported_at"))
    got = derive_version(grids=ds.grids, estates=ds.estates, meta=ds.meta_dict, latest_report=latest,
                         made_on=made_on)
    raw = {f.name: ds._raw(f.name) if f.name in LAYER_NAMES else getattr(ds, f.name) for f in fields(Dataset)}
    if got.estates_changed:
        raw["estates"] = got.estates
    raw["meta"] = tuple(sorted(got.meta.items()))
    return Dataset(**raw), got.warnings


def made_on_day(created_at: str | dt.date | None) -> pd.Timestamp:
    """The day a version was written, from its ``created_at`` (today when unknown)."""
    return _day(created_at) or pd.Timestamp.today().normalize()
