"""调度会 Scheduling meeting: one month on a projector — figures, league tables, maps, estates, problems, files."""

from __future__ import annotations

import streamlit as st

from geo.errors import AnalysisError
from i18n import error_text, t
from reports import FORMATS, MEDIA_TYPES
from reports import content as rc
from reports import equity as req
from ui import auth, widgets
from ui.context import get_context
from ui.meeting import brief, card_label, equity, file_name, md, months, picture, report_file, text_frame
from ui.meeting_loop import followups_section, records, targets_section, trend_section
from ui.planning import plan_controls
from ui.section import section
from ui.tables import table as show_table

# large type for a projector (the style lives only while this page is shown)
st.html("""<style>
[data-testid="stMetricValue"] {font-size: 3rem;}
[data-testid="stMetricLabel"] p {font-size: 1.25rem;}
[data-testid="stMetricDelta"] {font-size: 1.05rem;}
[data-testid="stTable"] td, [data-testid="stTable"] th {font-size: 1.15rem;}
[data-testid="stMarkdownContainer"] li {font-size: 1.2rem;}
</style>""")

ctx = get_context()
lang = ctx.lang
month_choices, month_default = months(ctx)
head, pick = st.columns([4, 1])
with pick:
    month = widgets.selectbox(t("meeting.month"), month_choices, key="meeting_month", lang=lang, default=month_default)
# a plan year or the aged 80+: the current month's coverage, gaps, equity and files count them (the token keys
# every cache below); the trend stays on today's aged 60+
token, demand = plan_controls(ctx, key="meet_plan")
loop_records = records(ctx)  # the dataset's follow-ups and targets (read on every rerun: short tables)
try:
    b = brief(ctx, month, loop_records, token)
except AnalysisError as err:
    st.error(error_text(err, lang=lang))
    st.stop()
head.title(md(rc.title(b, lang)))
head.caption(md(rc.subtitle(b, lang)))

# the meeting opens with what it decided last time, and whether it is done
with st.container(border=True, key="meeting-followups"), section("meeting.followups"):
    followups_section(ctx, b, loop_records[0], lang)

with st.container(border=True, key="meeting-figures"), section("meeting.figures"):
    st.subheader(rc.section_title("figures", lang))
    cols = st.columns(len(b.figures))
    for col, card in zip(cols, rc.cards(b, lang), strict=True):
        # Streamlit reads the direction from the delta's leading sign: the signed change comes first
        helps = [rc.coverage_help(b, lang)] if card.key == "coverage" else []
        label = card_label(card, lang)
        if card.key == "closure_rate":  # its month is in its help (`card_label`)
            helps.append(t("meeting_staff.fig.closure_rate.help", lang=lang))
        if card.change is None:
            helps.append(card.delta)
        col.metric(label, card.value, card.change,
                   delta_color="off" if not card.sign else ("inverse" if card.worse_when_up else "normal"),
                   delta_arrow="auto" if card.sign else "off", help="\n\n".join(helps) or None)
    st.caption(t("meeting.delta.page", lang=lang))
    for note in rc.needs_lines(b, "figures", lang):
        st.info(md(note), icon=":material/info:")
    for note in rc.notes(b, lang):
        st.caption(md(note))

with st.container(border=True, key="meeting-trend"), section("meeting.trend"):
    trend_section(ctx, b, lang)
    if not b.demand_is_today:
        st.caption(t("meeting_plan.trend", lang=lang))

for which, name in (("street", "streets"), ("unit", "units")):
    with st.container(border=True, key=f"meeting-{name}"), section(f"meeting.{name}"):
        st.subheader(rc.section_title(name, lang))
        needs = rc.needs_lines(b, name, lang)
        for note in needs:
            st.info(md(note), icon=":material/info:")
        league = text_frame(rc.league_table(b, which, lang, top=15))
        if len(league) or not needs:  # a section that lacks its data says so once, not "no rows" as well
            show_table(league, empty=rc.EMPTY_KEYS[name], static=True, border="horizontal")
        if len(league):
            st.caption(rc.t_rank_help(lang))

left, right = st.columns(2)
with left.container(border=True, key="meeting-gaps"), section("meeting.gaps"):
    st.subheader(rc.section_title("gaps", lang, b))
    st.image(picture(ctx, b, "gaps", token), width="stretch")
    st.markdown(md(rc.gaps_summary(b, lang)))
    gaps = rc.gaps_table(b, lang, top=5)
    show_table(text_frame(rc.TextTable(tuple(gaps.headers[i] for i in (0, 1, 4)),
                                       tuple(tuple(r[i] for i in (0, 1, 4)) for r in gaps.rows),
                                       (False, False, True))),
               empty=rc.EMPTY_KEYS["gaps"], static=True, border="horizontal")
with right.container(border=True, key="meeting-hot"), section("meeting.hot"):
    st.subheader(rc.section_title("hot", lang))
    for note in rc.needs_lines(b, "hot", lang):
        st.info(md(note), icon=":material/info:")
    st.image(picture(ctx, b, "hot", token), width="stretch")
    st.markdown(md(rc.hot_summary(b, lang)))
    for note in rc.notes_for(b, lang, "meeting.note.few_grids", "meeting.note.no_cases_month"):
        st.caption(md(note))

with st.container(border=True, key="meeting-estates"), section("meeting.estates"):
    st.subheader(rc.section_title("estates", lang))
    for note in rc.needs_lines(b, "estates", lang):
        st.info(md(note), icon=":material/info:")
    summary = rc.estates_summary(b, lang)
    if summary:
        st.markdown(md(summary))
    chart_col, plan_col = st.columns([3, 2])
    chart = picture(ctx, b, "estates", token)
    if chart is not None:
        chart_col.image(chart, width="stretch")
    plan = rc.plan_table(b, lang)
    if plan is not None:
        plan_col.caption(md(rc.plan_caption(b, lang)))
        show_table(text_frame(plan), static=True, where=plan_col, border="horizontal")

with st.container(border=True, key="meeting-equity"), section("meeting.equity"):
    st.subheader(rc.section_title(req.SECTION, lang, b))
    needs = rc.needs_lines(b, req.SECTION, lang)
    for note in needs:
        st.info(md(note), icon=":material/info:")
    fair = None if needs else equity(ctx, b, token)
    if fair is None and not needs:
        st.info(t("meeting.note.no_day_care", lang=lang), icon=":material/info:")
    if fair is not None:
        show_table(text_frame(req.equity_table(fair, b, lang)), static=True, border="horizontal")
        st.markdown(f"**{md(t('equity.worst_title', lang=lang))}**\n\n"
                    + "\n".join(f"- {md(x)}" for x in req.worst_lines(fair, b, lang)))
        for line in req.definition_lines(lang, b):
            st.caption(md(line))

with st.container(border=True, key="meeting-targets"), section("meeting.targets"):
    targets_section(ctx, b, loop_records[1], lang)

with st.container(border=True, key="meeting-problems"), section("meeting.problems"):
    st.subheader(rc.section_title("problems", lang))
    groups = rc.problem_groups(b, lang)
    needs = rc.needs_lines(b, "problems", lang)  # what could not be judged, never "no problems" for it
    if not groups and not needs:
        st.markdown(rc.t_no_problems(lang))
    for heading, items in groups:
        st.markdown(f"**{md(heading)}**\n\n" + "\n".join(f"- {md(x)}" for x in items))
    for note in needs:
        st.info(md(note), icon=":material/info:")

with st.container(border=True, key="meeting-downloads"), section("meeting.downloads"):
    st.subheader(t("meeting.download", lang=lang))
    made_key = f"meeting_made::{token}::{ctx.street}::{b.month}::{lang}::{loop_records[2]}"
    # The make button and its progress bar live in one slot, emptied once the files are made, so the
    # download buttons sit at the same place in every run (no stale copy of them while a download reruns).
    slot = st.empty()
    if not st.session_state.get(made_key):
        with slot.container():
            if st.button(t("meeting.download.make", lang=lang), type="primary", key="meeting_make"):
                bar = st.progress(0.0)
                for i, fmt in enumerate(FORMATS):
                    bar.progress(i / len(FORMATS), text=t("meeting.download.making", lang=lang, fmt=fmt.upper()))
                    report_file(ctx, b, fmt, loop_records[2], token)
                bar.progress(1.0, text=t("meeting.download.ready", lang=lang))
                st.session_state[made_key] = True
        if st.session_state.get(made_key):
            slot.empty()
    if st.session_state.get(made_key):
        cols = st.columns(len(FORMATS))
        for col, fmt in zip(cols, FORMATS, strict=True):
            auth.download_button(col, t(f"meeting.download.{fmt}", lang=lang),
                                 report_file(ctx, b, fmt, loop_records[2], token),
                                 file_name=file_name(b, fmt), mime=MEDIA_TYPES[fmt], key=f"meeting_dl_{fmt}",
                                 width="stretch")
