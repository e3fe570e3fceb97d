"""The 数据管理 page's one line about the current dataset's plain GeoPackage (the copy QGIS opens): its last write
failed (`geo.workspace.GpkgStore.gpkg_failure`), the version itself is intact, and a 重试 button (staff) writes
it again in the background; while that writer runs, one line says so. Nothing on PostGIS (no such copy) or when
the copy is fine."""

from __future__ import annotations

import streamlit as st

from geo.storage import DatasetStore
from i18n import t
from ui import auth


def failure_reason(failure, *, lang: str) -> str:
    """Why the write failed: the error's own text, or ours for a writer killed before it finished."""
    killed = failure.code == "storage.gpkg_writer_killed"
    return t("err.storage.gpkg_writer_killed", lang=lang) if killed else failure.reason


def gpkg_notice(store: DatasetStore, *, lang: str) -> None:
    """Show the failed write of ``store``'s plain GeoPackage, or its retry under way; nothing otherwise."""
    if not hasattr(store, "gpkg_failure"):
        return
    failure = store.gpkg_failure()
    if failure is None:
        return
    if store.gpkg_writing():
        st.info(t("writer.retrying", lang=lang, version=store.current().id))
        return
    st.warning(t("writer.failed", lang=lang, version=failure.version, reason=failure_reason(failure, lang=lang),
                 when=failure.failed_at[:19].replace("T", " ")))
    if auth.allowed("staff") and st.button(t("writer.retry", lang=lang), key="writer_retry"):
        auth.require("staff", action="retry_gpkg", target=store.name)
        store.retry_gpkg()
        st.rerun()
