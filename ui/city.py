"""The city level: a dataset whose grids carry a ``district`` column (e.g. Wuhan's 13 districts).

The sidebar offers the districts above the streets. The whole city is never
loaded into a page: "city" means grids, facilities, estates and candidates
without cases (the league table's case counts are the store's
``case_counts``); a district means that district's layers with its cases
(the store's ``load(district=…)``), which every page then uses as it uses a
district dataset. The part of the dataset a page works on is named by a
`geo.ref.DatasetRef` key, ``SPEC#city`` or ``SPEC#district=NAME``, that
`ui.data.get_dataset` and `ui.data.dataset_token` understand, so the pages'
caches (keyed by path and token) work unchanged. Nothing here opens a file
or a connection: everything goes through the store.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.errors import GridAtlasError
from geo.ref import DatasetRef
from geo.storage import DatasetStore
from i18n import t
from ui.data import get_store
from ui.maps import MapPayload, add_polygons, map_payload, new_map, quantile_colors


def split_key(key: str) -> tuple[str, str | None, bool]:
    """(the dataset's spec, district or None, whether the key names a part of a city): `DatasetRef.parse`."""
    ref = DatasetRef.parse(key)
    return ref.dataset().key, ref.district, ref.is_part


def _store(spec: str) -> DatasetStore:
    return get_store(spec)


def city_districts(spec: str) -> tuple[str, ...]:
    """The districts of a city dataset (grids' ``district`` values), or () for a district dataset.

    Read once per dataset version (keyed by the store's token). A dataset that cannot be opened is no city
    here: loading it says why (`ui.sidebar`).
    """
    try:
        store = _store(spec)
        if not store.exists():
            return ()
        return _city_districts(store.spec, store.token)
    except (GridAtlasError, OSError):
        return ()


@st.cache_data(show_spinner=False, max_entries=16)
def _city_districts(spec: str, token: str) -> tuple[str, ...]:
    found = _store(spec).district_names()
    return found if len(found) > 1 else ()


def district_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One outline per district, dissolved from its grids, with residents and aged 60+ summed."""
    sums = grids.groupby("district", sort=False)[["population", "elderly"]].sum()
    shapes = grids[["district", "geometry"]].dissolve(by="district", sort=False)
    out = shapes.join(sums).reset_index()
    return out


def case_counts_by_district(spec: str, grids: gpd.GeoDataFrame, as_of: str | None) -> pd.DataFrame:
    """Cases, open and overdue per district, counted by the store (never loaded into the page)."""
    return _store(spec).case_counts(("district",), as_of=as_of)[["district", "cases", "open", "overdue"]]


@st.cache_resource(show_spinner=False)
def dask_client(scheduler: str | None):
    """One client of ``GRIDATLAS_DASK``'s scheduler for every session (None: in-process)."""
    from analysis.distributed import connect

    return connect(scheduler)


def grid_week_counts(spec: str, grids: gpd.GeoDataFrame) -> tuple[np.ndarray, int]:
    """Cases per grid (grids order) and week, counted by the store: (matrix, first week number)."""
    counts = _store(spec).case_counts(("grid_id", "week"))
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
    return int(dict(_store(spec).current().layers).get("cases", 0))


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
