"""Pieces of the 数据管理 page: staging an upload, the mapping tables, the report, preview, save, versions.

The import and restore controls live in `render_import` and `render_versions`
so that a role check can gate them; the tables are built by plain functions
(tested without a browser).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import partial

import folium
import pandas as pd
import streamlit as st

from geo import derive, settings
from geo.errors import DataError, GridAtlasError, Problem
from geo.osm import MARGIN_M, Bbox, extent_of, is_osm
from geo.readers import LayerRead, RawTable, check_table, read_table
from geo.schema import (
    GEOMETRY_ROLES,
    LAYER_NAMES,
    LAYERS,
    ROLE_WKT,
    coded_columns,
    match_headers,
    template_table,
    value_mapping,
)
from geo.storage import IMPORT_MODES, DatasetStore, VersionInfo, open_store
from geo.upload import UPLOAD_SUFFIXES, staged
from i18n import TABLE, error_text, label_of, problem_parts, problem_text, t
from ui import auth, widgets
from ui.context import PageContext
from ui.data import version_committed
from ui.layers import FACILITY_COLORS
from ui.maps import add_lines, add_points, add_polygons, new_map, show_map
from ui.progress import prepare_version, stage_bar
from ui.serve import warm_streets_in_background
from ui.uploads import file_uploader

NONE = "-"  # the mapping table's "not imported"
CRS_CHOICES: dict[str, tuple[str, int | None]] = {  # choice -> (datum of lon/lat, EPSG code)
    "file": ("wgs84", None),
    "wgs84": ("wgs84", 4326),
    "gcj02": ("gcj02", None),
    "bd09": ("bd09", None),
    "cgcs2000": ("wgs84", 4490),
    "epsg": ("wgs84", None),
}
_CODE_KIND = {"type": "facility", "management": "management", "status": "status"}


# --- plain table builders --------------------------------------------------------------------------

def target_label(target: str, layer: str, *, lang: str) -> str:
    """How the mapping table names a target: ``名称 · name`` for a column, 经度 for a role, （不导入） for none."""
    if target == NONE:
        return t("data.mapping.none", lang=lang)
    if target in GEOMETRY_ROLES:
        return t(f"data.role.{target}", lang=lang)
    col = LAYERS[layer].column(target)
    head = col.aliases[0] if col.aliases else target
    return f"{head} · {target}" + (" *" if col.required else "")


def mapping_targets(layer: str, *, has_geometry: bool) -> list[str]:
    """What a header may map to: nothing, each column of the layer, and the lon/lat/WKT roles for tables."""
    schema = LAYERS[layer]
    roles: list[str] = []
    if not has_geometry:
        roles = [r for r in GEOMETRY_ROLES if r == ROLE_WKT or "Point" in schema.geometry]
    return [NONE, *(c.name for c in schema.columns), *roles]


def mapping_table(raw: RawTable, layer: str) -> pd.DataFrame:
    """One row per header of the file: the header, what it maps to (auto-matched), an example value."""
    matched = match_headers(raw.headers, layer, geometry_column=raw.has_geometry)
    examples = []
    for h in raw.headers:
        col = raw.frame[h].dropna().astype(str)
        col = col[col.str.strip() != ""]
        examples.append(col.iloc[0][:40] if len(col) else "")
    return pd.DataFrame({"source": raw.headers, "target": [matched[h] or NONE for h in raw.headers],
                         "example": examples})


def mapping_from_table(table: pd.DataFrame) -> dict[str, str | None]:
    """The header mapping a (possibly edited) mapping table says."""
    return {str(s): (None if tgt in (NONE, None, "") or pd.isna(tgt) else str(tgt))
            for s, tgt in zip(table["source"], table["target"], strict=True)}


def mapped_twice(mapping: dict[str, str | None]) -> dict[str, list[str]]:
    """Targets filled by more than one header (the clerk must keep one)."""
    seen: dict[str, list[str]] = {}
    for src, tgt in mapping.items():
        if tgt:
            seen.setdefault(tgt, []).append(src)
    return {k: v for k, v in seen.items() if len(v) > 1}


def values_table(raw: RawTable, layer: str, mapping: dict[str, str | None], *, lang: str) -> pd.DataFrame:
    """For each coded column mapped: each distinct value in the file, its code and meaning (or not recognised)."""
    rows = []
    by_target = {tgt: src for src, tgt in mapping.items() if tgt}
    for column in coded_columns(layer):
        src = by_target.get(column)
        if src is None or src not in raw.frame.columns:
            continue
        for value, code in value_mapping(raw.frame[src], layer, column).items():
            kind = _CODE_KIND.get(column, column)
            if column == "status" and layer == "cases":
                kind = "case_status"
            meaning = label_of(kind, code, lang=lang) if code else t("data.values.unknown", lang=lang)
            rows.append({"column": f"{src} · {column}", "raw": value, "code": code or "—", "label": meaning})
    return pd.DataFrame(rows, columns=["column", "raw", "code", "label"])


def report_table(errors: list[Problem] | tuple[Problem, ...], warnings: list[Problem] | tuple[Problem, ...], *,
                 lang: str) -> pd.DataFrame:
    """Every problem as a row: kind, layer, rows, column (file header and schema name), value, what, how to fix."""
    rows = []
    for kind, problems in (("error", errors), ("warning", warnings)):
        for p in problems:
            parts = problem_parts(p, lang=lang)
            rows.append({"kind": t(f"data.report.kind.{kind}", lang=lang), "layer": parts.layer, "rows": parts.rows,
                         "column": parts.column, "value": parts.value, "what": parts.what, "fix": parts.fix})
    return pd.DataFrame(rows, columns=["kind", "layer", "rows", "column", "value", "what", "fix"])


def template_bytes(layer: str, fmt: str) -> bytes:
    """A layer's template as XLSX or as CSV (UTF-8 with BOM, so Excel shows the Chinese headers)."""
    table = template_table(layer)
    if fmt == "csv":
        return table.to_csv(index=False).encode("utf-8-sig")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        table.to_excel(xw, index=False, sheet_name=LAYERS[layer].title_zh)
    return buf.getvalue()


def versions_table(versions: list[VersionInfo], current: int | None, *, lang: str) -> pd.DataFrame:
    """The version list, newest first, in the page's language."""
    rows = []
    for v in reversed(versions):
        rows.append({"id": v.id, "current": "✓" if v.id == current else "", "when": v.created_at[:19].replace("T", " "),
                     "kind": t(f"data.kind.{v.kind}", lang=lang) if f"data.kind.{v.kind}" in TABLE else v.kind,
                     "layer": label_of("layer", v.layer, lang=lang) if v.layer else "", "source": v.source,
                     "added": v.rows_added, "changed": v.rows_changed, "removed": v.rows_removed,
                     "user": v.user or ""})
    return pd.DataFrame(rows, columns=["id", "current", "when", "kind", "layer", "source", "added", "changed",
                                       "removed", "user"])


# --- staging and checking ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """What was uploaded (names and bytes) and a digest identifying it."""

    files: tuple[tuple[str, bytes], ...]

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for name, data in self.files:
            h.update(name.encode())
            h.update(hashlib.sha256(data).digest())
        return h.hexdigest()[:16]

    @property
    def name(self) -> str:
        return " + ".join(n for n, _ in self.files)


def upload_extent(upload: Upload, grids) -> Bbox | None:
    """Where an OpenStreetMap extract's ways are taken: the dataset's grids' bounds plus the margin (None: no OSM)."""
    return extent_of(grids) if any(is_osm(name) for name, _ in upload.files) else None


def read_upload(upload: Upload, layer: str, sublayer: str | None, *, extent: Bbox | None = None) -> RawTable:
    """Stage the files in a temporary folder (removed afterwards) and read their rows."""
    with staged(list(upload.files), layer=layer) as path:
        return read_table(path, layer, sublayer=sublayer, extent=extent)


def _cached_raw(upload: Upload, layer: str, sublayer: str | None, extent: Bbox | None) -> RawTable:
    key = ("data_raw", upload.digest, layer, sublayer, extent)
    cache = st.session_state.setdefault("data_raw_cache", {})
    if key not in cache:
        cache.clear()  # one upload at a time per session: files stay in memory only while in use
        cache[key] = read_upload(upload, layer, sublayer, extent=extent)
    return cache[key]


# --- rendering ---------------------------------------------------------------------------------------

def show_problems(err: DataError, *, lang: str) -> None:
    st.error(t("data.report.errors", lang=lang, n=len(err.problems)))
    _report(err.problems, (), lang=lang)


def _report(errors, warnings, *, lang: str) -> None:
    table = report_table(errors, warnings, lang=lang)
    st.dataframe(table, hide_index=True, width="stretch", key=f"report_{len(errors)}_{len(warnings)}",
                 column_config={c: t(f"data.report.{c}", lang=lang) for c in table.columns})


def preview_map(ctx: PageContext, read: LayerRead, layer: str) -> folium.Map:
    gdf = read.gdf
    bounds = gdf.total_bounds
    m = new_map(bounds, tiles=ctx.tiles, tiles_attr=ctx.tiles_attr, height_px=460)
    add_lines(m, ctx.ds.grids, name=t("map.layer.grids"), color="#9a9a9a", weight=0.6, class_name="ga-grid-outline",
              datum=ctx.tiles_datum, simplify_m=10.0)
    names = [c for c in ("name", LAYERS[layer].id_column) if c and c in gdf.columns]
    tooltip = [(c, t(f"col.{c}") if f"col.{c}" in TABLE else c) for c in names]
    kinds = set(gdf.geom_type)
    if kinds <= {"Point"}:
        color = FACILITY_COLORS.get("day_care", "#c0392b") if layer == "facilities" else "#c0392b"
        add_points(m, gdf, name=label_of("layer", layer), color=color, class_name="ga-preview", tooltip=tooltip,
                   datum=ctx.tiles_datum)
    elif kinds <= {"LineString", "MultiLineString"}:
        add_lines(m, gdf, name=label_of("layer", layer), color="#c0392b", class_name="ga-preview",
                  datum=ctx.tiles_datum)
    else:
        add_polygons(m, gdf, name=label_of("layer", layer), fill="#e67e22", class_name="ga-preview", tooltip=tooltip,
                     datum=ctx.tiles_datum, fill_opacity=0.4)
    return m


def _choose_crs(lang: str) -> tuple[str, int | None]:
    choice = widgets.selectbox(t("data.crs", lang=lang), list(CRS_CHOICES), key="data_crs", lang=lang,
                               format_func=lambda c: t(f"data.crs.{c}", lang=lang))
    coord_sys, epsg = CRS_CHOICES[choice]
    if choice == "epsg":
        epsg = int(st.number_input(t("data.epsg", lang=lang), min_value=1, max_value=999_999, value=4547, step=1,
                                   key="data_epsg"))
    return coord_sys, epsg


def render_import(ctx: PageContext, store: DatasetStore | None, *, user: str | None = None) -> None:
    """Upload -> header and value mapping -> report -> preview -> save (the clerk's import, to be role-gated)."""
    lang = ctx.lang
    st.subheader(t("data.import.header", lang=lang))
    left, right = st.columns(2)
    with left:
        layer = widgets.selectbox(t("data.layer", lang=lang), list(LAYER_NAMES), key="data_layer", lang=lang,
                                  format_func=lambda n: f"{label_of('layer', n, lang=lang)} ({n})")
    with right:
        coord_sys, epsg = _choose_crs(lang)
    mb = settings.max_upload_mb()
    files = file_uploader(t("data.file", lang=lang, mb=mb), type=[s.lstrip(".") for s in UPLOAD_SUFFIXES],
                          accept_multiple_files=True, key="data_files", max_upload_size=mb, lang=lang)
    if not files:
        return
    upload = Upload(tuple((f.name, f.getvalue()) for f in files))
    sublayer = st.session_state.get("data_sublayer") or None
    extent = upload_extent(upload, ctx.ds.grids)
    if extent is not None:
        st.caption(t("data.osm.extent", lang=lang, margin_m=f"{MARGIN_M:,.0f}"))
    bar = stage_bar(lang)  # the import's stages (geo.progress): reading now, the rest as the clerk goes on
    bar("read", 0.0)
    try:
        raw = _cached_raw(upload, layer, sublayer, extent)
    except DataError as err:
        bar.bar.empty()
        show_problems(err, lang=lang)
        return
    bar.bar.empty()
    if len(raw.source.sublayers) > 1:
        st.selectbox(t("data.sublayer", lang=lang), raw.source.sublayers,
                     index=raw.source.sublayers.index(raw.source.sublayer), key="data_sublayer")
    enc = t("data.encoding", lang=lang, encoding=raw.source.encoding) if raw.source.encoding else ""
    st.caption(t("data.read_info", lang=lang, name=upload.name, rows=f"{len(raw.frame):,}", format=raw.source.format,
                 encoding=enc))

    st.markdown(f"**{t('data.mapping.header', lang=lang)}**")
    st.caption(t("data.mapping.help", lang=lang))
    targets = mapping_targets(layer, has_geometry=raw.has_geometry)
    edited = st.data_editor(
        mapping_table(raw, layer), hide_index=True, width="stretch", disabled=["source", "example"],
        key=f"data_mapping_{upload.digest}_{layer}_{raw.source.sublayer}",
        column_config={
            "source": t("data.mapping.source", lang=lang),
            "target": st.column_config.SelectboxColumn(t("data.mapping.target", lang=lang), options=targets,
                                                       required=True,
                                                       format_func=lambda v: target_label(v, layer, lang=lang)),
            "example": t("data.mapping.example", lang=lang),
        })
    mapping = mapping_from_table(edited)
    twice = mapped_twice(mapping)
    for target, headers in twice.items():
        st.warning(t("data.mapping.twice", lang=lang, target=target_label(target, layer, lang=lang),
                     headers="、".join(headers)))

    st.markdown(f"**{t('data.values.header', lang=lang)}**")
    values = values_table(raw, layer, mapping, lang=lang)
    if values.empty:
        st.caption(t("data.values.none", lang=lang))
    else:
        st.caption(t("data.values.help", lang=lang))
        st.dataframe(values, hide_index=True, width="stretch", key="data_values",
                     column_config={c: t(f"data.values.{c}", lang=lang) for c in values.columns})
    if twice:
        return
    # the clerk confirms the headers and values before the check runs; a changed mapping needs a new confirmation
    confirmed_key = f"data_confirmed_{upload.digest}_{layer}"
    signature = repr(sorted(mapping.items())) + f"|{coord_sys}|{epsg}|{raw.source.sublayer}"
    if st.button(t("data.confirm", lang=lang), type="primary", key="data_confirm"):
        st.session_state[confirmed_key] = signature
    if st.session_state.get(confirmed_key) != signature:
        st.info(t("data.confirm.help", lang=lang))
        return

    st.markdown(f"**{t('data.report.header', lang=lang)}**")
    bar = stage_bar(lang)
    bar("validate", 0.0)
    try:
        read = check_table(raw, layer, coord_sys=coord_sys, epsg=epsg, columns=mapping)
    except DataError as err:
        bar.bar.empty()
        show_problems(err, lang=lang)
        return
    bar.bar.empty()
    st.success(t("data.report.ok", lang=lang, rows=f"{len(read.gdf):,}"))
    if read.warnings:
        st.warning(t("data.report.warnings", lang=lang, n=len(read.warnings)))
        _report((), read.warnings, lang=lang)

    st.markdown(f"**{t('data.preview.header', lang=lang)}**")
    show_map(preview_map(ctx, read, layer), key=f"data_preview_{upload.digest}", height=460)
    st.caption(t("data.preview.caption", lang=lang, rows=f"{len(read.gdf):,}"))

    st.markdown(f"**{t('data.save.header', lang=lang)}**")
    if store is None:
        return
    mode = widgets.radio(t("data.mode", lang=lang), list(IMPORT_MODES), key="data_mode", lang=lang, horizontal=True,
                         format_func=lambda m: t(f"data.mode.{m}", lang=lang))
    if st.button(t("data.save", lang=lang), type="primary", key="data_save"):
        viewer = auth.require("staff", action="import", target=f"{store.name}/{layer}")
        bar = stage_bar(lang)
        try:
            try:
                info = store.import_layer(layer, read.gdf, mode=mode, source=upload.name, user=viewer.name or user,
                                          progress=bar)
            finally:  # every session's next run sees the new version at once (ui.data: kept briefly otherwise)
                version_committed()
        except DataError as err:
            auth.audit("import", target=f"{store.name}/{layer}", detail=upload.name, ok=False)
            show_problems(err, lang=lang)
            return
        except GridAtlasError as err:
            auth.audit("import", target=f"{store.name}/{layer}", detail=f"{upload.name}: {err.code}", ok=False)
            st.error(error_text(err, lang=lang))
            return
        auth.audit("import", target=f"{store.name}/{layer}",
                   detail=f"{upload.name}; {mode}; version {info.id}; +{info.rows_added} ~{info.rows_changed} "
                          f"-{info.rows_removed}")
        prepare_version(ctx, bar)  # the new version's page data, so its first visitor does not wait for it
        warm_streets_in_background(ctx.path)  # then every street's, as after a server start (ui.serve)
        st.session_state["data_flash"] = t("data.saved", lang=lang, version=info.id, added=info.rows_added,
                                           changed=info.rows_changed, removed=info.rows_removed)
        st.session_state["data_flash_warnings"] = [problem_text(p, lang=lang)
                                                   for p in derive.import_warnings(store, layer)]
        st.session_state.pop("data_files", None)
        st.session_state.pop("data_raw_cache", None)
        st.rerun()


def open_page_store(ctx: PageContext) -> tuple[DatasetStore | None, str | None]:
    """The store of the dataset the sidebar chose, or None and why not."""
    try:
        return open_store(getattr(ctx, "spec", None) or ctx.path), None
    except GridAtlasError as err:
        return None, error_text(err, lang=ctx.lang)


def render_versions(ctx: PageContext, store: DatasetStore, *, user: str | None = None,
                    can_restore: bool = True) -> None:
    """The version list, and restore behind a confirmation (the restore control is gated by ``can_restore``)."""
    lang = ctx.lang
    st.subheader(t("data.versions.header", lang=lang))
    try:
        versions = store.versions()
        current = store.current().id if versions else None
    except GridAtlasError as err:
        st.error(error_text(err, lang=lang))
        return
    if not versions:
        st.caption(t("data.versions.none", lang=lang))
        return
    table = versions_table(versions, current, lang=lang)
    st.dataframe(table, hide_index=True, width="stretch", key="data_versions",
                 column_config={c: t(f"data.versions.{c}", lang=lang) for c in table.columns})
    if not can_restore:
        return
    others = [v for v in reversed(versions) if v.id != current]
    if not others:
        return
    col1, col2 = st.columns([3, 1], vertical_alignment="bottom")
    with col1:
        chosen = st.selectbox(t("data.restore.choose", lang=lang), others, key="data_restore_choice",
                              format_func=lambda v: f"{v.id} · {v.created_at[:19].replace('T', ' ')} · {v.source}")
    with col2:
        if st.button(t("data.restore", lang=lang), key="data_restore"):
            _confirm_restore(store, chosen, current, user, lang)


def _confirm_restore(store: DatasetStore, version: VersionInfo, current: int | None, user: str | None,
                     lang: str) -> None:
    @st.dialog(t("data.restore.title", lang=lang))
    def dialog() -> None:
        st.write(t("data.restore.confirm", lang=lang, version=version.id,
                   when=version.created_at[:19].replace("T", " "), current=current))
        ok, cancel = st.columns(2)
        if ok.button(t("data.restore.ok", lang=lang), type="primary", key="data_restore_ok"):
            viewer = auth.require("staff", action="restore", target=f"{store.name}/{version.id}")
            try:
                try:
                    info = store.restore(version.id, user=viewer.name or user)
                finally:  # every session's next run sees the new version at once
                    version_committed()
            except GridAtlasError as err:
                auth.audit("restore", target=f"{store.name}/{version.id}", detail=err.code, ok=False)
                st.error(error_text(err, lang=lang))
                return
            auth.audit("restore", target=f"{store.name}/{version.id}", detail=f"new version {info.id}")
            st.session_state["data_flash"] = t("data.restored", lang=lang, version=version.id, new=info.id)
            st.rerun()
        if cancel.button(t("data.restore.cancel", lang=lang), key="data_restore_cancel"):
            st.rerun()

    dialog()


def render_templates(lang: str) -> None:
    """Download buttons: an XLSX and a CSV template per layer, each written when its button is clicked."""
    st.subheader(t("data.templates.header", lang=lang))
    st.caption(t("data.templates.help", lang=lang))
    for layer in LAYER_NAMES:
        name = label_of("layer", layer, lang=lang)
        c1, c2 = st.columns(2)
        c1.download_button(t("data.templates.xlsx", lang=lang, layer=name), partial(template_bytes, layer, "xlsx"),
                           file_name=f"{LAYERS[layer].title_zh}_模板.xlsx", key=f"tpl_xlsx_{layer}",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore")
        c2.download_button(t("data.templates.csv", lang=lang, layer=name), partial(template_bytes, layer, "csv"),
                           file_name=f"{LAYERS[layer].title_zh}_模板.csv", mime="text/csv", key=f"tpl_csv_{layer}",
                           on_click="ignore")

