"""The city level: a dataset whose grids carry a ``district`` column (e.g. Wuhan's 13 districts).

The sidebar offers the districts above the streets. The whole city is never
loaded into a page: its overview (figures, district outlines, league table)
is what the version's import derived (`analysis.districts.city_overview_of`,
kept in the store's ``derived``; built once on the first open of a version
made before), so its first visit reads no grid or case layer; "city" means
grids, facilities, estates and candidates without cases, each read when a
page first uses it (`city_dataset`); a district means that district's layers
with its cases (the store's ``load(district=…)``), which every page then uses
as it uses a district dataset. The part of the dataset a page works on is named by a
`geo.ref.DatasetRef` key, ``SPEC#city`` or ``SPEC#district=NAME``, that
`ui.data.get_dataset` and `ui.data.dataset_token` understand, so the pages'
caches (keyed by path and token) work unchanged. Nothing here opens a file
or a connection: everything goes through the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import streamlit as st

from analysis.pagedata import CITY_OVERVIEW
from geo.dataset import Dataset, LazyLayer, default_data_path
from geo.errors import GridAtlasError
from geo.ref import DatasetRef
from geo.storage import DatasetStore
from i18n import t
from ui.data import briefly, get_store, store_token
from ui.maps import MapPayload, add_polygons, map_payload, new_map, quantile_colors

if TYPE_CHECKING:
    from analysis.districts import CityOverview


def split_key(key: str) -> tuple[str, str | None, bool]:
    """(the dataset's spec, district or None, whether the key names a part of a city): `DatasetRef.parse`."""
    ref = DatasetRef.parse(key)
    return ref.dataset().key, ref.district, ref.is_part


def _store(spec: str) -> DatasetStore:
    return get_store(spec)


def city_districts(spec: str) -> tuple[str, ...]:
    """The districts of a city dataset (grids' ``district`` values), or () for a district dataset.

    Read once per dataset version (keyed by the store's token): from the city overview derived with the
    version when it is there (no layer read), else the store's ``district_names``. A dataset that cannot be
    opened is no city here: loading it says why (`ui.sidebar`). Asked by every run's sidebar, so kept per server
    for `ui.data.BRIEF_S` (`ui.data.briefly`) like the token it is read with.
    """
    return briefly(("districts", spec), lambda: _districts_now(spec))


def _districts_now(spec: str) -> tuple[str, ...]:
    try:
        store = _store(spec)
        if not store.exists():
            return ()
        return _city_districts(store.spec, store_token(spec))
    except (GridAtlasError, OSError):
        return ()


@st.cache_data(show_spinner=False, max_entries=16)
def _city_districts(spec: str, token: str) -> tuple[str, ...]:
    store = _store(spec)
    found = overview(spec, token).districts if CITY_OVERVIEW in store.derived().names() else store.district_names()
    return found if len(found) > 1 else ()


def district_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One outline per district, dissolved from its grids, with residents and aged 60+ summed
    (`analysis.districts.district_outlines`)."""
    from analysis.districts import district_outlines as outlines

    return outlines(grids)


@st.cache_resource(show_spinner=False)
def dask_client(scheduler: str | None):
    """One client of ``GRIDATLAS_DASK``'s scheduler for every session (None: in-process)."""
    from analysis.distributed import connect

    return connect(scheduler)


@st.cache_resource(show_spinner=False, max_entries=4)
def overview(spec: str, token: str) -> CityOverview:
    """The city overview of the dataset's current version (`analysis.districts.city_overview_of`): read back
    from what its import derived (no layer read), built and kept once for a version made before. Hot spots
    one Dask task per district on ``GRIDATLAS_DASK``'s scheduler when set."""
    from analysis.districts import city_overview_of
    from geo import settings

    return city_overview_of(_store(spec), client=dask_client(settings.dask_scheduler()))


def city_dataset(key: str) -> Dataset:
    """The whole city (``SPEC#city``) as the sidebar and the overview use it: name, meta and row counts from the
    derived overview, each layer read when first used (through `ui.data.get_dataset`, shared with every page)."""
    spec, _, _ = split_key(key)
    store = _store(spec)
    return _lazy_city(key, store.spec, store_token(spec))


@st.cache_resource(show_spinner=False, max_entries=4)
def _lazy_city(key: str, spec: str, token: str) -> Dataset:
    from ui.data import CITY_LAYERS, get_dataset

    ov = overview(spec, token)
    rows = dict(ov.layers)

    def lazy(name: str) -> LazyLayer | None:
        if name not in rows or name not in ("grids", "facilities", *CITY_LAYERS):
            return None
        return LazyLayer(lambda: get_dataset(key).layer(name), rows[name])

    return Dataset(grids=lazy("grids"), facilities=lazy("facilities"), estates=lazy("estates"),
                   candidates=lazy("candidates"), name=ov.name, meta=ov.meta)


def warm_city(spec: str | None = None) -> bool:
    """Before the first visit (`ui.serve`): a city's overview read into memory; False for a district dataset."""
    if not city_districts(spec or default_data_path()):
        return False
    store = _store(spec or default_data_path())
    overview(store.spec, store_token(store.spec))
    return True


@st.cache_resource(show_spinner=False, max_entries=8)
def city_map(key: str, token: str, lang: str, tiles: str | None, tiles_attr: str, datum: str
             ) -> tuple[MapPayload, list[tuple[str, str]]]:
    """District outlines coloured by aged-60+ density (no grids: the browser gets 13 shapes, not 20,000).

    Drawn from the derived overview's outlines; rendered once per version, language and basemap
    (`ui.maps.MapPayload`), not on every visit.
    """
    spec, _, _ = split_key(key)
    store = _store(spec)
    outlines = overview(store.spec, store_token(spec)).outlines
    colors, legend = quantile_colors(outlines["elderly_per_km2"])
    m = new_map(outlines.total_bounds, tiles=tiles, tiles_attr=tiles_attr)
    add_polygons(m, outlines, name=t("city.map.title", lang=lang), fill=colors, class_name="ga-district",
                 tooltip=[("district", t("city.col.district", lang=lang)), ("population", t("col.population", lang=lang)),
                          ("elderly", t("col.elderly", lang=lang)),
                          ("elderly_per_km2", t("overview.density", lang=lang))],
                 datum=datum, fill_opacity=0.6, simplify_m=None, color="#222222", weight=2.0)
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

    spec, _, _ = split_key(ctx.path)
    store = _store(spec)
    table = overview(store.spec, store_token(spec)).table
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
