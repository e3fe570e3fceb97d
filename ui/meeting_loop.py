"""The 调度会 page's loop sections: follow-ups (督办) recorded and closed, the 12-month trend, quarterly targets.

Follow-ups and targets are read from the dataset's store on every rerun (a short table read) and passed to the
brief (`ui.meeting.brief`), whose cache key includes them, so a recorded decision shows at once. Recording,
closing and setting targets need role ``staff`` (`ui.auth.require`, checked when the button is pressed) and
each change is in the audit log. Every text comes from `reports.loop`, as on the slides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import streamlit as st

from analysis.meeting import MeetingBrief
from geo.calendar import parse_quarter, quarter_text
from geo.errors import AnalysisError, DataError
from geo.followups import (
    MEASURES,
    FollowUp,
    Target,
    TemplateTargets,
    new_followup,
    new_target,
    read_target_template,
    write_target_template,
)
from i18n import error_text, label_of, problem_text, t
from reports import loop
from ui import auth, widgets
from ui.context import PageContext
from ui.data import get_ref, get_store
from ui.meeting import md, text_frame
from ui.tables import table as show_table
from ui.uploads import file_uploader

STAFF = "staff"


def _district(ctx: PageContext) -> str | None:
    """The city district the page is on (its follow-ups and targets are its own), None for a district dataset."""
    return get_ref(ctx.path).district


def records(ctx: PageContext) -> tuple[list[FollowUp], list[Target], str]:
    """The dataset's (in a city, the district's) follow-ups and targets, and a key that changes whenever either
    does."""
    store, district = get_store(ctx.path), _district(ctx)
    followups, targets = store.list_followups(district=district), store.list_targets(district=district)
    key = hashlib.sha256(repr((followups, targets)).encode("utf-8")).hexdigest()[:16]
    return followups, targets, key


def _problems(err: DataError | AnalysisError, lang: str) -> str:
    if isinstance(err, DataError) and err.problems:
        return "\n\n".join(problem_text(p, lang=lang) for p in err.problems)
    return error_text(err, lang=lang)


def _next_month(month: str) -> str:
    y, m = (int(p) for p in month.split("-"))
    return f"{y + 1:04d}-01" if m == 12 else f"{y:04d}-{m + 1:02d}"


# --- follow-ups ---------------------------------------------------------------------------------------------------

def followups_section(ctx: PageContext, b: MeetingBrief, followups: list[FollowUp], lang: str) -> None:
    st.subheader(loop.section_title(loop.FOLLOWUPS, b, lang))
    st.markdown(md(loop.followups_summary(b, lang) or ""))
    table = loop.followups_table(b, lang)
    if table is not None:
        show_table(text_frame(table), static=True, border="horizontal")
    if not auth.allowed(STAFF):
        st.caption(t("loop.page.staff_only", lang=lang))
        return
    add_col, close_col = st.columns(2)
    with add_col.form("followup_add", clear_on_submit=True, border=True):
        st.markdown(f"**{t('loop.page.add', lang=lang)}**")
        title = st.text_input(t("loop.col.title", lang=lang), key="fu_title")
        unit = st.text_input(t("loop.col.unit", lang=lang), key="fu_unit")
        streets = ["", *ctx.ds.streets]
        street = widgets.selectbox(t("loop.col.street", lang=lang), streets, key="fu_street", lang=lang,
                                   format_func=lambda s: s or t("loop.page.no_street", lang=lang))
        due = st.text_input(t("loop.page.due", lang=lang), value=_next_month(b.month), key="fu_due")
        if st.form_submit_button(t("loop.page.add_button", lang=lang)):
            auth.require(STAFF, action="followup_add", target=title.strip())
            try:
                fu = get_store(ctx.path).add_followup(
                    new_followup(title=title, unit=unit, due=due, meeting=b.month, street=street or None),
                    user=auth.current().label, district=_district(ctx))
                auth.audit("followup_add", target=f"{get_store(ctx.path).name}/{fu.id}",
                           detail=f"{fu.unit}: {fu.title}; due {fu.due}")
                st.session_state["loop_notice"] = t("loop.page.added", lang=lang, id=fu.id)
                st.rerun()
            except DataError as err:
                st.error(_problems(err, lang))
    open_items = [f for f in followups if f.done_on is None]
    ids = [f.id for f in open_items]
    if st.session_state.get("fu_pick") not in ids:  # closed elsewhere, or another district's: the first open one
        st.session_state.pop("fu_pick", None)
    with close_col.form("followup_done", clear_on_submit=True, border=True):
        st.markdown(f"**{t('loop.page.close', lang=lang)}**")
        pick = st.selectbox(t("loop.col.title", lang=lang), ids, key="fu_pick",
                            placeholder=t("loop.page.none_open" if not ids else "loop.page.pick", lang=lang),
                            format_func=lambda i: next(f"{f.id}. {f.title}（{f.unit}）" for f in open_items
                                                       if f.id == i))
        note = st.text_input(t("loop.col.note", lang=lang), key="fu_note")
        day = st.date_input(t("loop.col.done_on", lang=lang), value=b.followups_day or dt.date.today(),
                            key="fu_day")
        if st.form_submit_button(t("loop.page.close_button", lang=lang), disabled=not open_items) and pick is not None:
            auth.require(STAFF, action="followup_done", target=str(pick))
            try:
                done = get_store(ctx.path).close_followup(int(pick), note=note, done_on=day.isoformat(),
                                                          user=auth.current().label, district=_district(ctx))
                auth.audit("followup_done", target=f"{get_store(ctx.path).name}/{done.id}",
                           detail=f"{done.done_on}: {done.note}")
                st.session_state["loop_notice"] = t("loop.page.closed", lang=lang, id=done.id)
                st.rerun()
            except DataError as err:
                st.error(_problems(err, lang))
    notice = st.session_state.pop("loop_notice", None)
    if notice:
        st.success(notice)


# --- trend --------------------------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=24)
def _trend_png(path: str, token: str, street: str | None, month: str, lang: str, _b: MeetingBrief) -> bytes | None:
    return loop.trend_png(_b, lang=lang, width_in=12.0, height_in=3.2)


def trend_section(ctx: PageContext, b: MeetingBrief, lang: str) -> None:
    st.subheader(loop.section_title(loop.TREND, b, lang))
    for line in loop.trend_lines(b, lang):
        st.info(md(line), icon=":material/info:")
    png = _trend_png(ctx.path, ctx.token, ctx.street, b.month, lang, b)
    if png is not None:
        st.image(png, width="stretch")
    st.caption(t("loop.trend.help", lang=lang))
    table = loop.trend_table(b, lang)
    if table is not None:
        with st.expander(t("loop.page.trend_table", lang=lang)):
            show_table(text_frame(table), static=True, border="horizontal")


# --- targets ------------------------------------------------------------------------------------------------------

def _quarter_of_month(month: str) -> str:
    y, m = (int(p) for p in month.split("-"))
    return quarter_text(y, (m - 1) // 3 + 1)


@st.cache_data(show_spinner=False, max_entries=16)
def template_bytes(quarter: str, units: tuple[str, ...], streets: tuple[str, ...]) -> bytes:
    """The units' targets template (预安表, `geo.followups.write_target_template`) as XLSX bytes."""
    out = io.BytesIO()
    write_target_template(out, quarter=quarter, units=list(units), streets=list(streets))
    return out.getvalue()


def template_scope(ctx: PageContext, b: MeetingBrief) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The template's units (those of the month's unit league, in its order) and streets (the page's street, or
    every street)."""
    units = tuple(dict.fromkeys(str(u) for u in b.unit_league["unit"])) if "unit" in b.unit_league else ()
    streets = (ctx.street,) if ctx.street else tuple(ctx.ds.streets)
    return units, streets


def targets_section(ctx: PageContext, b: MeetingBrief, targets: list[Target], lang: str) -> None:
    quarter = b.quarter or _quarter_of_month(b.month)
    st.subheader(t("loop.sec.targets", lang=lang, quarter=quarter))
    if b.quarter is not None:
        st.caption(md(loop.targets_caption(b, lang) or ""))
        score = loop.score_table(b, lang)
        if score is not None:
            show_table(text_frame(score), static=True, border="horizontal")
        detail = loop.targets_table(b, lang)
        if detail is not None:
            with st.expander(t("loop.page.targets_detail", lang=lang), expanded=True):
                show_table(text_frame(detail), static=True, border="horizontal")
    else:
        mine = [x for x in targets if x.quarter == quarter]
        st.caption(t("loop.page.checked_at_end", lang=lang, quarter=quarter, n=len(mine)))
        if mine:
            rows = [(label_of("subject_kind", x.kind, lang=lang), x.subject,
                     loop.target_text({"measure": x.measure, "bound": x.bound, "threshold": x.threshold}, lang))
                    for x in mine]
            show_table(text_frame(loop.TextTable((t("loop.col.kind", lang=lang), t("loop.col.subject", lang=lang),
                                                  t("loop.col.target", lang=lang)), tuple(rows),
                                                 (False, False, False))), static=True, border="horizontal")
    if not auth.allowed(STAFF):
        return
    with st.expander(t("loop.page.set_targets", lang=lang)):
        with st.form("target_set", clear_on_submit=False, border=False):
            c1, c2, c3 = st.columns(3)
            q = c1.text_input(t("loop.page.quarter", lang=lang), value=quarter, key="tg_quarter")
            with c2:
                kind = widgets.selectbox(t("loop.col.kind", lang=lang), ["unit", "street"], key="tg_kind", lang=lang,
                                         format_func=lambda k: label_of("subject_kind", k, lang=lang))
            subject = c3.text_input(t("loop.col.subject", lang=lang), key="tg_subject")
            c4, c5 = st.columns(2)
            with c4:
                measure = widgets.selectbox(t("loop.col.measure", lang=lang), list(MEASURES), key="tg_measure",
                                            lang=lang, format_func=lambda m: f"{label_of('measure', m, lang=lang)} "
                                                                             f"{'≥' if MEASURES[m] == 'min' else '≤'}")
            value = c5.number_input(t("loop.col.threshold", lang=lang), min_value=0.0, value=0.9, step=0.05,
                                    key="tg_value")
            if st.form_submit_button(t("loop.page.set_button", lang=lang)):
                auth.require(STAFF, action="target_set", target=subject.strip())
                try:
                    target = new_target(quarter=q, kind=kind, subject=subject, measure=measure,
                                        minimum=value if MEASURES.get(measure) == "min" else None,
                                        maximum=value if MEASURES.get(measure) == "max" else None)
                    if target.kind == "street" and target.subject not in ctx.ds.streets:
                        st.error(t("err.analysis.street_unknown", lang=lang, street=target.subject,
                                   streets="、".join(ctx.ds.streets)))
                    else:
                        saved = get_store(ctx.path).set_target(target, user=auth.current().label,
                                                               district=_district(ctx))
                        auth.audit("target_set", target=f"{get_store(ctx.path).name}/{saved.quarter}/{saved.subject}",
                                   detail=f"{saved.measure} {saved.bound} {saved.threshold:g}")
                        st.session_state["loop_target_notice"] = t("loop.page.target_saved", lang=lang)
                        st.rerun()
                except DataError as err:
                    st.error(_problems(err, lang))
        units, streets = template_scope(ctx, b)
        auth.download_button(st, t("upload.targets.template", lang=lang, quarter=quarter),
                             template_bytes(quarter, units, streets), file_name=f"预安表_{quarter}.xlsx",
                             mime=auth.XLSX_MIME, key="tg_template")
        upload = file_uploader(t("loop.page.import", lang=lang), type=["xlsx"], key="tg_file", lang=lang)
        if upload is not None and st.button(t("loop.page.import_button", lang=lang), key="tg_import"):
            auth.require(STAFF, action="target_set", target=upload.name)
            try:
                parse_quarter(quarter)
                found = read_target_template(upload, quarter=quarter, streets=tuple(ctx.ds.streets))
                store = get_store(ctx.path)
                for x in found.targets:
                    store.set_target(x, user=auth.current().label, district=_district(ctx))
                auth.audit("target_set", target=f"{store.name}/{upload.name}",
                           detail=f"{len(found.targets)} imported, {len(found.skipped)} blank rows skipped")
                st.session_state["loop_target_notice"] = t("loop.page.imported", lang=lang, n=len(found.targets))
                st.session_state["loop_target_skipped"] = skipped_lines(found, lang)
                st.rerun()
            except (DataError, AnalysisError) as err:
                st.error(_problems(err, lang))
    notice = st.session_state.pop("loop_target_notice", None)
    if notice:
        st.success(notice)
    for line in st.session_state.pop("loop_target_skipped", None) or ():
        st.info(md(line), icon=":material/info:")


def skipped_lines(found: TemplateTargets, lang: str) -> list[str]:
    """What an import left out because 目标值 was blank: the units and streets left blank (named), other rows."""
    lines = []
    blank = found.blank_subjects
    if blank:
        lines.append(t("targets_file.blank_subjects", lang=lang, n=len(blank),
                       names=("、" if lang == "zh" else ", ").join(name for _, name in blank)))
    if found.other_skipped:
        lines.append(t("targets_file.other_rows", lang=lang, n=found.other_skipped))
    return lines
