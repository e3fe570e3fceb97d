"""The city level: a dataset whose grids carry a ``district`` column (e.g. Wuhan's 13 districts).

The sidebar offers the districts above the streets. The whole city is never
loaded into a page: "city" means grids, facilities, estates and candidates
without cases (the league table counts cases in SQL, or in the GeoPackage's
SQLite engine); a district means that district's layers with its cases, which
every page then uses as it uses a district dataset. The part of the dataset a
page works on is named by a key, ``SPEC#city`` or ``SPEC#district=NAME``, that
`ui.data.get_dataset` and `ui.data.dataset_token` understand, so the pages'
caches (keyed by path and token) work unchanged.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import streamlit as st

from geo.dataset import Dataset, read_meta
from geo.postgis import is_postgres_url
from i18n import t
from ui.maps import MapPayload, add_polygons, map_payload, new_map, quantile_colors

CITY_PART = "#city"
DISTRICT_PART = "#district="
_OPTIONAL = ("estates", "candidates")


def split_key(key: str) -> tuple[str, str | None, bool]:
    """(dataset spec, district or None, whether the key names a part of a city)."""
    if key.endswith(CITY_PART):
        return key[: -len(CITY_PART)], None, True
    if DISTRICT_PART in key:
        spec, district = key.rsplit(DISTRICT_PART, 1)
        return spec, district, True
    return key, None, False


def part_key(spec: str, district: str | None) -> str:
    return f"{spec}{DISTRICT_PART}{district}" if district else f"{spec}{CITY_PART}"


def _store(spec: str):
    from geo.postgis import open_store

    return open_store(spec)


def _gpkg_columns(path: str, layer: str) -> list[str]:
    try:
        return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    except Exception:  # not a GeoPackage with that layer: not a city
        return []


def city_districts(spec: str) -> tuple[str, ...]:
    """The districts of a city dataset (grids' ``district`` values), or () for a district dataset.

    Read once per dataset version (keyed by a cheap token: the file's time, the database's current version).
    """
    if is_postgres_url(spec):
        return _city_districts(spec, _store(spec).token)
    try:
        mtime = os.path.getmtime(spec)
    except OSError:
        return ()
    return _city_districts(spec, str(mtime))


@st.cache_data(show_spinner=False, max_entries=16)
def _city_districts(spec: str, token: str) -> tuple[str, ...]:
    if is_postgres_url(spec):
        found = _store(spec).district_names()
    else:
        if "district" not in _gpkg_columns(spec, "grids"):
            return ()
        names = pyogrio.read_dataframe(spec, layer="grids", columns=["district"], read_geometry=False)["district"]
        found = tuple(dict.fromkeys(str(d) for d in names.dropna()))
    return found if len(found) > 1 else ()


def part_token(key: str) -> str:
    spec, _, _ = split_key(key)
    if is_postgres_url(spec):
        return f"{_store(spec).token}|{key}"
    try:
        mtime = os.path.getmtime(spec)
    except OSError:
        mtime = -1.0
    return f"{os.path.abspath(spec)}@{mtime}|{key}"


def load_part(key: str) -> Dataset:
    """The city without cases (``SPEC#city``) or one district with its cases (``SPEC#district=NAME``)."""
    spec, district, _ = split_key(key)
    if is_postgres_url(spec):
        store = _store(spec)
        if district is None:
            return store.load(layers=_OPTIONAL)
        return _within_district(store.load(district=district))
    meta = read_meta(spec)
    layers = {n for n in (str(r[0]) for r in pyogrio.list_layers(spec))}
    where = None if district is None else "district = '" + district.replace("'", "''") + "'"
    grids = pyogrio.read_dataframe(spec, layer="grids", where=where, use_arrow=True)
    out: dict[str, gpd.GeoDataFrame | None] = {"grids": grids,
                                               "facilities": pyogrio.read_dataframe(spec, layer="facilities")}
    for name in _OPTIONAL:
        out[name] = pyogrio.read_dataframe(spec, layer=name, use_arrow=True) if name in layers else None
    if district is not None:
        streets = set(grids["street"])
        if out["estates"] is not None and "street" in out["estates"].columns:  # fewer shapes to test below
            out["estates"] = out["estates"][out["estates"]["street"].isin(streets)].reset_index(drop=True)
        if "cases" in layers:
            q = ("SELECT * FROM cases WHERE grid_id IN (SELECT grid_id FROM grids WHERE " + where + ")")
            cases = pyogrio.read_dataframe(spec, sql=q, use_arrow=True)
            for c in ("reported_at", "deadline", "closed_at"):
                if c in cases.columns:
                    cases[c] = pd.to_datetime(cases[c]).astype("datetime64[ns]")
            out["cases"] = cases
    name = district or meta.get("name", os.path.basename(spec))
    ds = Dataset(**out, name=name, meta=tuple(sorted({**meta, "district": name}.items())))
    return ds if district is None else _within_district(ds)


def _within_district(ds: Dataset) -> Dataset:
    """Facilities, estates and candidates inside the district's grids: the district as a dataset of its own."""
    area = ds.grids.geometry.union_all()
    out = ds
    for name in ("facilities", "estates", "candidates"):
        gdf = ds.layer(name)
        if gdf is not None:
            keep = gdf.geometry.representative_point().intersects(area)
            out = out.with_layer(name, gdf[keep.to_numpy()].reset_index(drop=True))
    return out


def district_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One outline per district, dissolved from its grids, with residents and aged 60+ summed."""
    sums = grids.groupby("district", sort=False)[["population", "elderly"]].sum()
    shapes = grids[["district", "geometry"]].dissolve(by="district", sort=False)
    out = shapes.join(sums).reset_index()
    return out


def case_counts_by_district(spec: str, grids: gpd.GeoDataFrame, as_of: str | None) -> pd.DataFrame:
    """Cases, open and overdue per district, counted by the database (never loaded into the page)."""
    if is_postgres_url(spec):
        return _store(spec).case_counts(("district",))[["district", "cases", "open", "overdue"]]
    if "cases" not in {str(r[0]) for r in pyogrio.list_layers(spec)}:
        return pd.DataFrame({"district": pd.Series(dtype="string"), "cases": [], "open": [], "overdue": []})
    cutoff = (pd.Timestamp(as_of) + pd.Timedelta(days=1)).strftime("%Y-%m-%d") if as_of else "9999-12-31"
    q = ("SELECT g.district AS district, count(*) AS cases, sum(c.status = 'open') AS open, "
         f"sum(c.status = 'open' AND c.deadline < '{cutoff}') AS overdue "
         "FROM cases c JOIN grids g ON g.grid_id = c.grid_id GROUP BY g.district")
    df = pyogrio.read_dataframe(spec, sql=q, read_geometry=False)
    return pd.DataFrame(df)


@st.cache_resource(show_spinner=False)
def dask_client(scheduler: str | None):
    """One client of ``GRIDATLAS_DASK``'s scheduler for every session (None: in-process)."""
    from analysis.distributed import connect

    return connect(scheduler)


def grid_week_counts(spec: str, grids: gpd.GeoDataFrame) -> tuple[np.ndarray, int]:
    """Cases per grid (grids order) and week, counted by the database: (matrix, first week number)."""
    if is_postgres_url(spec):
        counts = _store(spec).case_counts(("grid_id", "week"))
    else:
        q = ("SELECT grid_id, CAST((julianday(substr(reported_at, 1, 10)) - 2440587.5 + 3) / 7 AS INTEGER) AS week, "
             "count(*) AS cases FROM cases WHERE grid_id IS NOT NULL GROUP BY 1, 2")
        counts = pd.DataFrame(pyogrio.read_dataframe(spec, sql=q, read_geometry=False))
    pos = pd.Categorical(counts["grid_id"], categories=grids["grid_id"]).codes
    counts = counts[pos >= 0].assign(pos=pos[pos >= 0])
    if counts.empty:
        return np.zeros((len(grids), 0), dtype="int64"), 0
    first, last = int(counts["week"].min()), int(counts["week"].max())
    matrix = np.zeros((len(grids), last - first + 1), dtype="int64")
    matrix[counts["pos"].to_numpy(), counts["week"].to_numpy() - first] = counts["cases"].to_numpy()
    return matrix, first


def district_patterns(spec: str, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per district: hot-spot grids and new or intensifying hot spots (by week): `analysis.districts`, on the
    counts the store made; one Dask task per district on ``GRIDATLAS_DASK``'s scheduler when set."""
    from analysis import districts
    from geo import settings

    matrix, _ = grid_week_counts(spec, grids)
    return districts.district_patterns(grids, matrix, client=dask_client(settings.dask_scheduler()))


@st.cache_data(show_spinner=False, max_entries=4)
def league_table(key: str, token: str) -> pd.DataFrame:
    """One row per district: grids, streets, residents, aged 60+, facilities, day-care coverage, cases."""
    from analysis.coverage import DEFAULT_RADIUS_M, compute_coverage
    from analysis.districts import league_table as city_league
    from ui.data import get_dataset

    spec, _, _ = split_key(key)
    ds = get_dataset(key)
    grids = ds.grids
    cov = compute_coverage(ds, facility_types=("day_care",), radius_m=DEFAULT_RADIUS_M["day_care"]).grids
    counts = case_counts_by_district(spec, grids, ds.meta_dict.get("as_of"))
    return city_league(grids, ds.facilities, cov, counts, district_patterns(spec, grids))


@st.cache_resource(show_spinner=False, max_entries=8)
def city_map(key: str, token: str, lang: str, tiles: str | None, tiles_attr: str, datum: str
             ) -> tuple[MapPayload, list[tuple[str, str]]]:
    """District outlines coloured by aged-60+ density (no grids: the browser gets 13 shapes, not 20,000).

    Rendered once per version, language and basemap (`ui.maps.MapPayload`), not on every visit.
    """
    from ui.data import get_dataset

    ds = get_dataset(key)
    outlines = district_outlines(ds.grids)
    area = outlines.to_crs(ds.metric_crs).area / 1e6
    outlines["elderly_per_km2"] = (outlines["elderly"] / area).round(0)
    colors, legend = quantile_colors(outlines["elderly_per_km2"])
    m = new_map(outlines.total_bounds, tiles=tiles, tiles_attr=tiles_attr)
    add_polygons(m, outlines, name=t("city.map.title", lang=lang), fill=colors, class_name="ga-district",
                 tooltip=[("district", t("city.col.district", lang=lang)), ("population", t("col.population", lang=lang)),
                          ("elderly", t("col.elderly", lang=lang)),
                          ("elderly_per_km2", t("overview.density", lang=lang))],
                 datum=datum, fill_opacity=0.6, simplify_m=60.0, color="#222222", weight=2.0)
    return map_payload(m), legend


def require_district(ctx) -> None:
    """On a city dataset with no district chosen, say so and stop the page (its maps draw grids)."""
    if ctx.city and ctx.district is None:
        st.info(t("city.choose_district", n=f"{_case_total(ctx.city):,}"))
        st.stop()


@st.cache_data(show_spinner=False, max_entries=4, ttl=300)
def _case_total(spec: str) -> int:
    if is_postgres_url(spec):
        return int(dict(_store(spec).current().layers).get("cases", 0))
    try:
        return int(pyogrio.read_info(spec, layer="cases")["features"])
    except Exception:
        return 0


def render_city_overview(ctx) -> None:
    """总览 for a whole city: figures, the district map (outlines only) and the district league table."""
    from ui.maps import legend, show_map

    table = league_table(ctx.path, ctx.token)
    meta = ctx.ds.meta_dict
    st.title(t("city.title", city=meta.get("city") or ctx.ds.name, n=len(table)))
    row = st.container(horizontal=True, gap="medium")
    cols = [row.container(width="content") for _ in range(6)]
    population, elderly = int(table["population"].sum()), int(table["elderly"].sum())
    cols[0].metric(t("overview.kpi.grids"), f"{int(table['grids'].sum()):,}")
    cols[1].metric(t("overview.kpi.residents"), f"{population:,}")
    cols[2].metric(t("overview.kpi.elderly"), f"{elderly:,}",
                   t("overview.kpi.elderly_share", share=100 * elderly / max(population, 1)),
                   delta_color="off", delta_arrow="off")
    cols[3].metric(t("overview.kpi.facilities"), f"{int(table['facilities'].sum()):,}")
    cols[4].metric(t("overview.kpi.open_cases"), f"{int(table['open'].sum()):,}",
                   t("overview.kpi.overdue", n=f"{int(table['overdue'].sum()):,}"), delta_color="off",
                   delta_arrow="off")
    cols[5].metric(t("city.col.cases"), f"{int(table['cases'].sum()):,}")
    map_col, side_col = st.columns([3, 1])
    with map_col:
        st.subheader(t("city.map.title"))
        m, colors = city_map(ctx.path, ctx.token, ctx.lang, ctx.tiles, ctx.tiles_attr, ctx.tiles_datum)
        show_map(m, key="city_map", height=600)
        st.caption(t("city.map.help"))
    with side_col:
        legend(t("city.map.choropleth"), colors)
    st.subheader(t("city.league"))
    st.dataframe(
        table[["district", "streets", "grids", "population", "elderly", "elderly_share", "facilities", "coverage",
               "cases", "open", "overdue", "overdue_per_10k", "hot_grids", "emerging"]],
        hide_index=True, width="stretch",
        column_config={
            "district": t("city.col.district"), "streets": t("city.col.streets"), "grids": t("overview.col.grids"),
            "population": t("col.population"), "elderly": t("col.elderly"),
            "elderly_share": st.column_config.NumberColumn(t("overview.col.elderly_share"), format="percent"),
            "facilities": t("overview.col.facilities"),
            "coverage": st.column_config.NumberColumn(t("city.col.coverage"), format="percent"),
            "cases": t("city.col.cases"), "open": t("city.col.open"), "overdue": t("city.col.overdue"),
            "overdue_per_10k": st.column_config.NumberColumn(t("city.col.overdue_per_10k"), format="%.1f"),
            "hot_grids": st.column_config.NumberColumn(t("city.col.hot_grids"), format="%d"),
            "emerging": st.column_config.NumberColumn(t("city.col.emerging"), format="%d"),
        },
    )
    from analysis.coverage import DEFAULT_RADIUS_M

    st.caption(t("city.league_help", radius=f"{DEFAULT_RADIUS_M['day_care']:.0f}"))
    st.caption(t("city.hot_help"))
