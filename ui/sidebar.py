"""The sidebar shared by every page: dataset, street, language, basemap."""

from __future__ import annotations

import html

import streamlit as st

from geo.derive import AS_OF_RULES
from geo.errors import DataError, GridAtlasError
from i18n import DEFAULT_LANG, LANG_KEY, LANGS, error_text, problem_text, t
from ui import widgets
from ui.city import city_dataset, city_districts
from ui.context import PageContext, set_context
from ui.data import dataset_choices, dataset_token, get_dataset, get_ref
from ui.maps import basemap_config

_LANG_NAMES = {"zh": "中文", "en": "English"}


def render_language() -> str:
    """The language switch (also shown to a session that has not signed in yet)."""
    st.session_state.setdefault(LANG_KEY, DEFAULT_LANG)
    return st.radio(t("sidebar.language"), LANGS, format_func=_LANG_NAMES.__getitem__, horizontal=True,
                    key=LANG_KEY)


_LOAD_ERROR = "_dataset_load_error"


def show_load_error() -> bool:
    """In the main area: why the chosen dataset could not be loaded (if it could not), and how to recover."""
    got = st.session_state.pop(_LOAD_ERROR, None)
    if got is None:
        return False
    err, label = got
    main = st.container()
    main.title(t("app.short"))
    main.error(t("error.dataset_unavailable", name=label))
    if isinstance(err, DataError):
        main.code("\n".join(problem_text(p) for p in err.problems), language=None)
    elif isinstance(err, GridAtlasError):
        main.code(error_text(err), language=None)
    else:
        main.code(str(err), language=None)
    main.caption(t("error.dataset_recover"))
    return True


def render_sidebar() -> PageContext | None:
    """Draw the sidebar; store and return the page context (None if the dataset failed to load)."""
    with st.sidebar:
        lang = render_language()
        choices = dataset_choices()
        choice = st.selectbox(t("sidebar.dataset"), choices, format_func=lambda c: c.label, key="dataset_choice")
        # a city dataset: the district comes first ("" = the whole city), and pages see one part of it, named
        # by its ref's key (SPEC#district=NAME, or SPEC#city for the whole city without its cases)
        districts = city_districts(choice.path)
        district, path = None, get_ref(choice.path).key
        if districts:
            district = widgets.selectbox(t("city.district"), ["", *districts], key="district_choice", lang=lang,
                                         format_func=lambda d: d or t("city.all_districts")) or None
            path = get_ref(choice.path).part(district).key
        try:  # the whole city: what its overview needs comes derived with the version, layers when first used
            ds = city_dataset(path) if districts and district is None else get_dataset(path)
        except (GridAtlasError, OSError) as err:  # missing, corrupt, vanished, damaged version, full disk:
            st.error(t("error.load_failed"))  # said in the main area too (app.py), never a traceback
            st.session_state[_LOAD_ERROR] = (err, choice.label)
            return None
        # "" stands for the whole district (a selectbox whose value is None shows nothing chosen)
        street = None
        if not districts or district is not None:  # the city map shows districts, a district's its streets
            street = widgets.selectbox(t("sidebar.street"), ["", *ds.streets], key="street_choice", lang=lang,
                                       format_func=lambda s: s or t("sidebar.all_streets")) or None
        cfg = basemap_config()
        options = ["none"] + (["configured"] if cfg.url else [])
        st.session_state.setdefault("basemap_choice", options[-1])
        basemap = widgets.radio(t("sidebar.basemap"), options, key="basemap_choice", lang=lang,
                                format_func=lambda o: t(f"sidebar.basemap.{o}"))
        meta = ds.meta_dict
        if meta.get("as_of"):
            st.caption(t("sidebar.as_of", date=html.escape(meta["as_of"])))
            if meta.get("as_of_derived") in AS_OF_RULES:  # no as_of in the files: derived at import (geo.derive)
                st.caption(t(f"sidebar.as_of_derived.{meta['as_of_derived']}"))
        if meta.get("synthetic", "").lower() == "true":
            st.info(t("sidebar.synthetic"))
    ctx = PageContext(ds=ds, path=path, token=dataset_token(path), street=street, lang=lang,
                      tiles=cfg.url if basemap == "configured" else None, tiles_attr=cfg.attribution,
                      tiles_datum=cfg.datum, district=district, city=choice.path if districts else None)
    set_context(ctx)
    return ctx
