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
}
