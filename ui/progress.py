"""The import's progress on the 数据管理 page, and a version's page data built before its first visitor comes.

`stage_bar` is a `geo.progress.ProgressFn` drawn as a Streamlit progress bar with the stage's name; the
same callback the CLI draws on a terminal. `prepare_version` is the import's last stage (``derive``): it
builds what the first visitor of the new version would otherwise wait for — `analysis.pagedata`'s page data
(the case table, the coverage inputs, the overview's figures, sparkline figures and street table, the queen
weights: what a CLI import builds too) and the overview's map and sparkline picture — through the pages' own
cache (`ui.data.derived`), so they are kept beside the version and the first visit reads them back as after a
restart. A server start does the same for the version its first visitor will open (`ui.serve`, with
`default_context`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from analysis import pagedata
from geo.progress import ProgressFn, overall
from i18n import t
from ui.context import PageContext
from ui.data import getter


def stage_bar(lang: str) -> ProgressFn:
    """A progress bar in the page, moved by ``progress(stage, done)``; ``.bar`` is the Streamlit element."""
    bar = st.progress(0.0, text=t("progress.read", lang=lang))

    def report(stage: str, done: float) -> None:
        bar.progress(overall(stage, done), text=t(f"progress.{stage}", lang=lang))

    report.bar = bar  # type: ignore[attr-defined]
    return report


def version_steps(ctx: PageContext, streets: tuple[str | None, ...] = (None,), *,
                  maps: bool = True, figures_of: tuple[str | None, ...] = ()
                  ) -> list[tuple[str, Callable[[], object]]]:
    """What `prepare_version` builds for ``ctx``'s version, as (label, build): `analysis.pagedata`'s page data
    (what a CLI import builds too; the figures and trend of each of ``figures_of``) through the pages' cache
    (`ui.data.getter`), then the pages' own pictures of it in ``ctx``'s language and basemap — the overview's
    sparklines (`ui.overview.strip_png`) and, with ``maps``, its map (`ui.layers.district_map`) — for the whole
    district and each of ``streets``."""
    from ui.layers import district_map
    from ui.overview import strip_png

    todo = pagedata.steps(ctx.ds, getter(ctx.path, ctx.token), streets_of=streets, figures_of=figures_of)
    for street in streets:
        c = replace(ctx, street=street)
        if maps:
            todo.append((f"map:{street or ''}", lambda c=c: district_map(c.path, c.token, c.street, c.lang, c.tiles,
                                                                         c.tiles_attr, c.tiles_datum)))
        todo.append((f"trend_png:{street or ''}", lambda c=c: strip_png(c)))
    return todo


def street_steps(ctx: PageContext, street: str | None, *, maps: bool = True
                 ) -> list[tuple[str, Callable[[], object]]]:
    """What the first visitor of ``street`` (None: the whole district) would otherwise build, as (label, build),
    with the pages' default choices in ``ctx``'s language and basemap, through the pages' own cached functions
    (so a visit then finds each item under the same key): the overview's figures, sparklines (their trend kept
    on the way) and, with ``maps``, its map; the coverage page's default question (`ui.coverage.default_question`)
    and its street chart, and with ``maps`` its map of the street; the cases page's figures for its default
    filter (`ui.cases.default_filter`: the period's and those of any time) and its hot spots, with ``maps`` their
    map. Items the dataset cannot give (no cases, no facility type) are left out; one that fails raises."""
    from analysis.options import MEASURES, WEIGHTS_SCHEMES
    from ui import cases, coverage, layers, overview

    c = replace(ctx, street=street)
    s = street or ""
    todo: list[tuple[str, Callable[[], object]]] = [
        (f"figures:{s}", lambda: overview.figures(c)),
        (f"trend_png:{s}", lambda: overview.strip_png(c)),
    ]
    if maps:
        todo.append((f"map:{s}", lambda: layers.district_map(c.path, c.token, street, c.lang, c.tiles, c.tiles_attr,
                                                             c.tiles_datum)))
    question = coverage.default_question(c.ds, c.path, c.token)
    if question is not None:
        todo.append((f"coverage:{s}", lambda: (coverage.cached_coverage(*question),
                                               coverage.cached_street_chart(*question, c.lang))))
        if maps:
            todo.append((f"coverage_map:{s}", lambda: coverage.coverage_map(
                c.path, c.token, street, c.tiles, c.tiles_attr, c.tiles_datum, c.lang, *question[2:])))
    if c.ds.rows("cases") > 0:
        measure, scheme = MEASURES[0], WEIGHTS_SCHEMES[0]

        def kpis() -> None:
            flt = cases.default_filter(cases.case_table(c), street)
            cases.kpis_cached(c, flt)
            cases.kpis_cached(c, replace(flt, since=None, until=None))

        def hot() -> None:
            flt = cases.default_filter(cases.case_table(c), street)
            result = cases.hot_spots_cached(c, flt, measure=measure, weights_scheme=scheme)
            if maps:
                cases.hotspot_payload(c, result, flt, measure=measure, weights_scheme=scheme)

        todo += [(f"case_kpis:{s}", kpis), (f"hot_spots:{s}", hot)]
    return todo


# what the overview itself reads (the other items are read by the pages that use them, or by these builders)
OVERVIEW_STEPS = ("figures:", "trend:", "streets", "map:", "trend_png:")


def prepare_version(ctx: PageContext, progress: ProgressFn | None = None, *, maps: bool = True,
                    overview_only: bool = False) -> list[str]:
    """Build the current version's page data (see the module docstring); the labels of what was built.

    ``ctx`` is the page's context before the import; the dataset and token are taken afresh. A part that
    cannot be built (a dataset without day-care stations, …) is left to the page, which shows why. What is kept
    already (read back from the version's folder, or built by a visit meanwhile) is not built again. Without
    ``maps`` the map is left to the first page that draws one: rendering a map imports its Streamlit component,
    which must happen during a script run to be served (the server's warm-up runs outside any). With
    ``overview_only`` only what the overview of the whole district reads is prepared (what it is built from is
    read or built on the way): a restarted server does not read the case table back before its first visitor
    needs it (the streets follow: `street_steps`). Otherwise the figures of every street are built too, as
    `analysis.pagedata.prepare` builds them.
    """
    from ui.data import dataset_token, get_dataset, get_store

    if ctx.city and ctx.district is None:  # the whole city: its overview (`ui.city.overview`), as the CLI derives it
        from ui.city import overview

        store = get_store(ctx.city)
        return pagedata.run_steps([("city", lambda: overview(store.spec, store.token))], progress)
    token = dataset_token(ctx.path)
    fresh = replace(ctx, ds=get_dataset(ctx.path), token=token, street=None)
    streets = (None,) if ctx.street is None else (None, ctx.street)
    todo = version_steps(fresh, streets, maps=maps, figures_of=() if overview_only else tuple(fresh.ds.streets))
    if overview_only:
        todo = [(label, build) for label, build in todo if label.startswith(OVERVIEW_STEPS)]
    return pagedata.run_steps(todo, progress)


def default_context(spec: str | None = None) -> PageContext | None:
    """The context a first visitor's sidebar makes before any choice: the first dataset offered
    (``GRIDATLAS_DATA``, else the demo; or ``spec``), the whole district, the default language and basemap. None
    for a city dataset (its pages open on a part of it, chosen in the sidebar) or when nothing is offered."""
    from i18n import DEFAULT_LANG
    from ui.city import city_districts
    from ui.data import dataset_choices, dataset_token, get_dataset, get_ref

    if spec is None:
        choices = dataset_choices()
        if not choices:
            return None
        spec = choices[0].path
    if city_districts(spec):
        return None
    from ui.maps import basemap_config

    path = get_ref(spec).key
    cfg = basemap_config()  # the sidebar's default: the configured basemap, if any
    return PageContext(ds=get_dataset(path), path=path, token=dataset_token(path), street=None, lang=DEFAULT_LANG,
                       tiles=cfg.url or None, tiles_attr=cfg.attribution, tiles_datum=cfg.datum)
