"""Section boundaries, "needs" lines and empty-table notes (ui.section, analysis.needs, reports)."""

STRINGS = {
    # a page section that failed unexpectedly (ui.section)
    "section.failed": ("这一部分暂时无法显示（错误编号 {error_id}），页面其余部分不受影响。请把错误编号告知管理员。",
                       "This part cannot be shown right now (error id {error_id}); the rest of the page is "
                       "unaffected. Please give the error id to your administrator."),
    # one line for a section whose data is missing (analysis.needs)
    "needs.layer": ("需要{layer}图层才能显示{what}。", "Needs the {layer} layer to show {what}."),
    "needs.column": ("需要{layer}图层的 {column} 列（{label}）才能显示{what}。",
                     "Needs the {column} column ({label}) of the {layer} layer to show {what}."),
    # what each section shows
    "needs.what.overview.overdue": ("逾期事件数", "the overdue cases"),
    "needs.what.overview.committees": ("已成立业委会数", "the owners' committees formed"),
    "needs.what.coverage.walking": ("步行距离覆盖", "coverage by walking distance"),
    "needs.what.cases.overdue": ("超期事件", "overdue cases"),
    "needs.what.cases.units": ("责任单位排名", "the responsible units' league"),
    "needs.what.cases.hours": ("办结用时", "the time taken to close cases"),
    "needs.what.estates.stages": ("各阶段的小区数", "estates at each stage"),
    "needs.what.estates.progress": ("推进进度", "progress against the plan"),
    "needs.what.estates.by_street": ("各街道的小区情况", "estates by street"),
    "needs.what.estates.league": ("物业公司红黑榜", "the property companies' red and black lists"),
    "needs.what.meeting.committees": ("推进进度", "progress against the plan"),
    "needs.what.meeting.overdue": ("超期事件", "overdue cases"),
    "needs.what.meeting.changes": ("与上月的比较", "the change since last month"),
    "needs.what.meeting.streets": ("街道排名", "the street league"),
    "needs.what.meeting.units": ("责任单位排名", "the responsible units' league"),
    "needs.what.meeting.hot": ("事件热点", "case hot spots"),
    "needs.what.meeting.estates": ("推进进度", "progress against the plan"),
    "needs.what.meeting.estates_by_street": ("各街道的推进进度", "progress by street"),
    # what a template column holds
    "needs.col.cases.deadline": ("办结时限", "deadline"),
    "needs.col.cases.responsible_unit": ("责任单位", "responsible unit"),
    "needs.col.cases.closed_at": ("办结时间", "time closed"),
    "needs.col.estates.committee_formed_on": ("业委会成立日期", "date the owners' committee was formed"),
    "needs.col.estates.governance_stage": ("治理阶段", "governance stage"),
    "needs.col.estates.street": ("街道", "street"),
    "needs.col.estates.property_company": ("物业公司", "property company"),
    "needs.col.estates.satisfaction": ("业主满意度", "owners' satisfaction"),
    # a table with no rows (ui.section.table)
    "empty.rows": ("没有可显示的记录。", "No rows to show."),
    "empty.streets": ("没有街道数据。", "No streets to show."),
    "empty.cases": ("所选范围内没有事件。", "No cases in this selection."),
    "empty.units": ("所选范围内没有责任单位的事件。", "No cases with a responsible unit in this selection."),
    "empty.estates": ("没有符合条件的小区。", "No estates match."),
    "empty.gaps": ("没有缺口网格。", "No grids with a gap."),
    "empty.patterns": ("没有时空模式。", "No patterns to show."),
    "empty.problems": ("本月没有需要提请的问题。", "No problems to raise this month."),
}
