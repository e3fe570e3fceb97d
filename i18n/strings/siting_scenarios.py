"""Strings of the siting scenarios: their demand and objective, distance answers saved, equity in the comparison,
a scenario's site marked opened."""

STRINGS = {
    "err.analysis.scenario_objective": ("方案“{name}”的选址目标是{objective}，不能按另一种目标读取。",
                                        "Scenario “{name}” was sited by {objective}, not by the other objective."),
    "siting_scn.objective.coverage": ("最大覆盖", "Most covered"),
    "siting_scn.objective.distance": ("最短距离", "Shortest distance"),
    "siting_scn.demand.table": ("{who}（生存率表 {table}{note}）", "{who} (survival table {table}{note})"),
    "siting_scn.demand.assumption": ("，模型假设", ", a model assumption"),
    "siting_scn.q_budget": ("预算 {budget}", "budget {budget}"),
    "siting_scn.params.distance": ("{type}，{distance}，{source}", "{type}, {distance}, {source}"),
    "siting_scn.params.required": ("；必选 {ids}", "; required {ids}"),
    "siting_scn.params.excluded": ("；排除 {ids}", "; excluded {ids}"),
    "siting_scn.col.objective": ("选址目标", "Objective"),
    "siting_scn.col.demand": ("按谁的需求", "Sited for"),
    "siting_scn.col.mean": ("平均距离（米）", "Mean distance (m)"),
    "siting_scn.col.p90": ("90%老人在（米）内", "90 % within (m)"),
    "siting_scn.for": ("{objective} · {demand}", "{objective} · {demand}"),
    "siting_scn.distance_for": ("为{demand}选址（页首“规划年份”中的选择）。",
                                "Sited for: {demand} (the plan year chosen at the top of the page)."),
    "siting_scn.demand_differs": ("注意：两个方案按不同的需求选址（A：{a}；B：{b}），数字不能直接相比；"
                                  "下面的公平性指标各按其自己的需求计算。",
                                  "Note: the two scenarios were sited for different demands (A: {a}; B: {b}), so "
                                  "their figures do not compare directly; the equity below is computed with each "
                                  "one's own demand."),
    "siting_scn.common": ("两个方案共有 {n} 个相同站址。", "The two scenarios share {n} sites."),
    "siting_scn.equity.title": ("公平性（全区，按本方案的需求）", "Equity (district, this scenario's demand)"),
    "siting_scn.equity.failed": ("无法计算公平性：{message}", "Equity could not be computed: {message}"),
    "siting_scn.equity.figure": ("指标", "Figure"),
    "siting_scn.equity.before": ("现状", "Now"),
    "siting_scn.equity.after": ("建成后", "With the new sites"),
    "siting_scn.equity.help": ("公平性：服务半径外的老人（人数、比例）、可达性（两步移动搜索法）的基尼系数和帕尔玛比值，"
                               "按各方案保存时的规划年份和人群计算；按距离选址的方案用该类设施的生活圈半径。",
                               "Equity: the aged beyond reach (count, share), the Gini and Palma ratio of access "
                               "(2SFCA), each computed with the plan year and group the scenario was saved for; "
                               "a scenario sited by distance uses the facility type's life-circle radius."),
    "siting_scn.name_hint": ("例如：2030年按距离新建5个", "e.g. five new by distance, 2030"),
    "siting_scn.save_distance": ("保存为方案", "Save as scenario"),
    "siting_scn.open.title": ("标记站点已启用", "Mark a site opened"),
    "siting_scn.open.scenario": ("方案", "Scenario"),
    "siting_scn.open.site": ("站点", "Site"),
    "siting_scn.open.day": ("启用日期", "Opened on"),
    "siting_scn.open.button": ("标记启用", "Mark opened"),
    "siting_scn.open.help": ("所选站点成为一个运营中的设施（名称、容量取自候选站点），从该日起计入覆盖率；"
                             "保存为设施图层的新版本，并记入审计日志。",
                             "The site becomes an operating facility (name and capacity from the candidate), "
                             "counted in coverage from that day; stored as a new version of the facilities layer and "
                             "recorded in the audit log."),
    "siting_scn.open.done": ("站点 {site} 已标记为 {day} 启用（版本 {version}）。",
                             "Site {site} marked opened on {day} (version {version})."),
    "siting_scn.open.failed": ("未能标记启用：{message}", "Not marked opened: {message}"),
}
