"""Strings of the meeting's plan year (调度会 with a plan year or the aged 80+): the page, the PPTX, PDF and XLSX."""

STRINGS = {
    "meeting_plan.subtitle.counted": ("统计对象：{who}", "Counted: {who}"),
    "meeting_plan.subtitle.projected": ("统计对象：{who}（由年龄段推算，存活率表 {source}{assumption}；走势图仍按现状60岁以上老人）",
                                        "Counted: {who} (projected from the age bands with the survival table "
                                        "{source}{assumption}; the trend stays on today's aged 60+)"),
    "meeting_plan.subtitle.today80": ("统计对象：{who}（走势图仍按60岁以上老人）",
                                      "Counted: {who} (the trend stays on the aged 60+)"),
    "meeting_plan.assumption": ("，为模型假设", ", a model assumption"),
    "meeting_plan.fig.coverage": ("{who}覆盖率", "{who} covered"),
    # the figure card's label: short enough for a projector's five columns (the help says it in full)
    "meeting_plan.card.band.elderly": ("60+", "60+"),
    "meeting_plan.card.band.elderly_80": ("80+", "80+"),
    "meeting_plan.card.coverage": ("{band}老人覆盖率", "{band} covered"),
    "meeting_plan.card.coverage_year": ("{year}年{band}覆盖率", "{band} covered, {year}"),
    "meeting_plan.fig.coverage.help": ("日间照料中心 300 米（直线）内的{who}占比；较上月的变化按同一人群计算",
                                       "Share within 300 m (straight line) of a day-care station, counting: {who}; "
                                       "the change since last month counts the same people"),
    "meeting_plan.sec.with_who": ("{title}（{who}）", "{title} ({who})"),
    "meeting_plan.col.uncovered": ("未覆盖（{who}）", "Out of reach ({who})"),
    "meeting_plan.gaps.summary": ("{gaps} 个网格仍有{who}在日间照料中心 300 米外，合计 {uncovered} 人；缺口最大的网格：",
                                  "{gaps} grids still have {who} beyond 300 m of a day-care station, {uncovered} "
                                  "people in all; the largest gaps:"),
    "meeting_plan.map.gaps": ("{who}覆盖率（日间照料中心 300 米）", "{who} covered (day care, 300 m)"),
    "meeting_plan.equity.worst_line": ("{grid}（{street}）：{who} {elderly} 人，可达性 {access}，范围外 {share}",
                                       "{grid} ({street}): {elderly} {who}, access {access}, {share} beyond reach"),
    "meeting_plan.equity.definition": (
        "统计对象：{who}。范围外：距运营中的日间照料中心直线 {radius} 米以外的人数。可达性：两步移动搜索法（2SFCA）"
        "按统计对象计算的每千人床位；基尼系数按统计对象人数加权（0 为完全均等）；帕尔马比 = 可达性最好的 10% 所得 ÷ 最差的 40% 所得"
        "（∞：最差的 40% 无可达服务）。",
        "Counted: {who}. Beyond reach: those more than {radius} m in a straight line from an operating day-care "
        "station. Access: places per 1,000 people counted by the two-step floating catchment (2SFCA); Gini "
        "weighted by the people counted (0 = equal); Palma = what the best-served 10 % hold over what the "
        "worst-served 40 % hold (∞: the worst-served 40 % have no station in reach)."),
    "meeting_plan.trend": ("走势图按现状60岁以上老人计算；规划年份和80岁以上老人只影响本月指标、缺口和公平性。",
                           "The trend counts today's aged 60+; the plan year and the aged 80+ change only this "
                           "month's figures, the gaps and equity."),
}
