"""The import's progress on the 数据管理 page, and the new version's page data built before the clerk leaves.

`stage_bar` is a `geo.progress.ProgressFn` drawn as a Streamlit progress bar with the stage's name; the
same callback the CLI draws on a terminal. `prepare_version` is the import's last stage (``derive``): it
builds what the first visitor of the new version would otherwise wait for — the case table, the overview's
figures, street table and map — through the very functions the pages call (`ui.cases.case_table`,
`ui.overview.figures`, `ui.overview.streets_at_a_glance`, `ui.layers.district_map`), so they are kept beside
the version (`ui.data.derived`) and the first visit reads them back as after a restart.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from geo.errors import GridAtlasError
from geo.progress import ProgressFn, overall
from i18n import t
from ui.context import PageContext


def stage_bar(lang: str) -> ProgressFn:
    """A progress bar in the page, moved by ``progress(stage, done)``; ``.bar`` is the Streamlit element."""
    bar = st.progress(0.0, text=t("progress.read", lang=lang))

    def report(stage: str, done: float) -> None:
        bar.progress(overall(stage, done), text=t(f"progress.{stage}", lang=lang))

    report.bar = bar  # type: ignore[attr-defined]
    return report


def prepare_version(ctx: PageContext, progress: ProgressFn | None = None) -> list[str]:
    """Build the current version's page data (see the module docstring); the names of what was built.

    ``ctx`` is the page's context before the import; the dataset and token are taken afresh. A part that
    cannot be built (a dataset without day-care stations, …) is left to the page, which shows why.
    """
    from ui.cases import case_table
    from ui.data import dataset_token, get_dataset
    from ui.layers import district_map
    from ui.overview import figures, streets_at_a_glance

    report = progress if progress is not None else (lambda stage, done: None)
    token = dataset_token(ctx.path)
    fresh = replace(ctx, ds=get_dataset(ctx.path), token=token, street=None)
    streets = [None] if ctx.street is None else [None, ctx.street]
    steps = []
    if fresh.ds.rows("cases"):
        steps.append(("case_table", lambda: case_table(fresh)))
    for street in streets:
        c = replace(fresh, street=street)
        steps.append((f"figures:{street or ''}", lambda c=c: figures(c)))
        steps.append((f"map:{street or ''}", lambda c=c: district_map(c.path, c.token, c.street, c.lang, c.tiles,
                                                                      c.tiles_attr, c.tiles_datum)))
    steps.append(("streets", lambda: streets_at_a_glance(fresh)))
    built = []
    for i, (name, build) in enumerate(steps):
        report("derive", i / len(steps))
        try:
            build()
        except GridAtlasError:
            continue
        built.append(name)
    report("derive", 1.0)
    return built
