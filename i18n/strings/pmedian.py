"""Strings of siting by distance (p-median): its errors, the CLI and the siting page's distance objective."""

STRINGS = {
    # --- errors ------------------------------------------------------------------------------------
    "err.analysis.pmedian_n_or_budget": ("请给出新建站点数 N 或预算二者之一（不能都给，也不能都不给）。",
                                         "Give either the number of new stations N or a budget, not both or neither."),
    "err.analysis.too_many_sites_excluded": ("要求新建 {n} 个站点，但只有 {available} 个候选站点（另有 {excluded} 个被排除）；"
                                             "最多填 {available}。",
                                             "Asked for {n} new sites but there are only {available} candidate sites "
                                             "({excluded} excluded); ask for at most {available}."),
    "err.analysis.required_exceeds_n": ("必选站点有 {required} 个，但只新建 {n} 个；新建站点数至少填 {required}。",
                                        "{required} sites are required but only {n} new sites are asked for; "
                                        "ask for at least {required}."),
    "err.analysis.required_excluded": ("站点 {ids} 既被设为必选又被排除。", "Site(s) {ids} are both required and excluded."),
    "err.analysis.cost_missing": ("按预算选址需要每个候选站点的造价（cost 列）；缺少或无效的有 {n} 个：{ids}。",
                                  "A budget needs a cost (the cost column) for every candidate site; {n} have none "
                                  "or an invalid one: {ids}."),
    "err.analysis.budget_required": ("必选站点合计造价 {cost}，超过预算 {budget}。",
                                     "The required sites cost {cost} together, more than the budget {budget}."),
    "err.analysis.budget_too_small": ("预算 {budget} 买不起任何候选站点（最便宜的造价 {cheapest}）。",
                                      "The budget {budget} buys no candidate site (the cheapest costs {cheapest})."),
    "err.analysis.site_options_coverage": ("{option} 只用于按距离选址（--objective distance）；最大覆盖选址不支持。",
                                           "{option} works with --objective distance only; the coverage objective "
                                           "does not take it."),
    "err.analysis.site_options_distance": ("{option} 只用于最大覆盖选址（--objective coverage）；按距离选址不支持。",
                                           "{option} works with --objective coverage only; siting by distance does "
                                           "not take it."),
    # --- the siting page's distance section --------------------------------------------------------------
    "siting_distance.title": ("按距离选址（最短平均距离）", "Siting by distance (shortest mean distance)"),
    "siting_distance.intro": ("另一种目标：在候选点中选出新站址，使{who}到最近站点的总距离（即平均距离）最小，"
                              "现有站点保留；精确求解（证明最优或给出与最优的差距）。距离超过 5 公里（步行时道路不通）"
                              "按 5 公里计。",
                              "The other objective: choose new sites among the candidates so that the total (so the "
                              "mean) distance of the residents counted ({who}) to their nearest station is smallest, keeping every "
                              "existing station; solved exactly (proven optimum, or the gap to it). Distances beyond "
                              "5 km (walking: no road connection) count as 5 km."),
    "siting_distance.whole_district": ("按距离选址针对全区的老人和候选点（不限于所选街道），结果按街道列出。",
                                       "Siting by distance plans for the whole district's elderly counted and candidates (not "
                                       "only the chosen street); the answer is listed per street."),
    "siting_distance.no_candidates": ("按距离选址需要候选站点图层（候选站点）。",
                                      "Siting by distance needs a candidates layer (候选站点)."),
    "siting_distance.question": ("新建多少", "How many"),
    "siting_distance.question.n": ("N 个站点", "N stations"),
    "siting_distance.question.budget": ("按预算", "By budget"),
    "siting_distance.budget": ("预算（与 cost 列同单位）", "Budget (unit of the cost column)"),
    "siting_distance.budget.help": ("所选新站点的造价合计不超过预算；候选站点需有 cost（造价）列。",
                                    "The new sites' costs add up to at most the budget; candidates need a cost column."),
    "siting_distance.required": ("必选站点", "Required sites"),
    "siting_distance.excluded": ("排除站点", "Excluded sites"),
    "siting_distance.run": ("按距离选址", "Site by distance"),
    "siting_distance.running": ("正在求解……", "Solving…"),
    "siting_distance.district": ("全区", "District"),
    "siting_distance.kpi.mean": ("平均距离", "Mean distance"),
    "siting_distance.kpi.p90": ("90% 老人在此距离内", "90 % of those counted within"),
    "siting_distance.before": ("现有站点下：平均 {mean} 米，90% 老人在 {p90} 米内。新建后仍有 {beyond} 位老人超过 {limit} 米。",
                               "With the existing stations alone: mean {mean} m, 90 % of those counted within {p90} m. "
                               "After: {beyond} of them still beyond {limit} m."),
    "siting_distance.col.street": ("街道", "Street"),
    "siting_distance.col.elderly": ("60岁以上", "Aged 60+"),
    "siting_distance.col.mean_before_m": ("平均距离·现状（米）", "Mean now (m)"),
    "siting_distance.col.mean_after_m": ("平均距离·新建后（米）", "Mean after (m)"),
    "siting_distance.col.p90_before_m": ("90%分位·现状（米）", "90th pct now (m)"),
    "siting_distance.col.p90_after_m": ("90%分位·新建后（米）", "90th pct after (m)"),
    "siting_distance.col.saving_m": ("总距离减少（人·米）", "Total distance saved (person·m)"),
    "siting_distance.col.cost": ("造价", "Cost"),
}
