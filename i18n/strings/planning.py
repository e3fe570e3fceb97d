"""Planning for a plan year: age bands, projection, demand weights, equity, what-if (`geo.schema`,
`analysis.projection`, `analysis.equity`, `analysis.whatif`, the ``project``/``equity`` commands, the pages)."""

STRINGS = {
    # validation of the age bands (geo.schema)
    "err.data.age_bands_incomplete": ("年龄段列不全，缺少 {missing}", "age bands missing: {missing}"),
    "fix.data.age_bands_incomplete": ("60岁以上各年龄段（60-64岁 … 80岁及以上）要么都填，要么都不填",
                                      "give every 60+ band (60-64岁 … 80岁及以上) or none"),
    "err.data.age_bands_sum": ("60岁以上各年龄段合计 {bands_sum}，与老年人口 {elderly} 不符",
                               "the 60+ age bands add up to {bands_sum} but elderly is {elderly}"),
    "fix.data.age_bands_sum": ("使 60-64岁 至 80岁及以上 各列之和等于老年人口",
                               "make aged_60_64 … aged_80_plus add up to elderly"),
    "err.data.age_bands_sum_more": ("以下各行的60岁以上年龄段合计也与老年人口不符",
                                    "the 60+ age bands do not add up to elderly on these rows either"),
    "fix.data.age_bands_sum_more": ("使 60-64岁 至 80岁及以上 各列之和等于老年人口",
                                    "make aged_60_64 … aged_80_plus add up to elderly"),
    # projection (analysis.projection)
    "err.analysis.age_bands_missing": ("预测需要网格的年龄段列，缺少：{missing}。请导入带 55-59岁 … 80岁及以上 各列的网格图层",
                                       "projecting needs the grids' age bands; missing: {missing}. Import the grids "
                                       "with the columns 55-59岁 … 80岁及以上"),
    "err.analysis.age_bands_blank": ("有 {count} 个网格的年龄段为空（{grids}）", "age bands are blank for {count} grid(s) ({grids})"),
    "err.analysis.survival_unreadable": ("无法读取存活比表 {source}", "the survival table {source} cannot be read"),
    "err.analysis.survival_no_header": ("存活比表 {source} 的第一行不是表头 band,ratio",
                                        "the survival table {source} does not start with the header band,ratio"),
    "err.analysis.survival_bad_band": ("存活比表 {source} 中的年龄段 {band!r} 未知或重复；年龄段为 {bands}",
                                       "the survival table {source} has an unknown or repeated band {band!r}; "
                                       "the bands are {bands}"),
    "err.analysis.survival_bad_ratio": ("存活比表 {source} 中 {band} 的存活比 {value!r} 不在 0（不含）到 1 之间",
                                        "the survival table {source} gives {band} the ratio {value!r}, which is not "
                                        "greater than 0 and at most 1"),
    "err.analysis.survival_missing": ("存活比表 {source} 缺少这些年龄段的存活比：{missing}",
                                      "the survival table {source} has no ratio for {missing}"),
    "err.analysis.no_as_of": ("预测需要数据集的截至日期（meta 中的 as_of），当前没有",
                              "projecting needs the dataset's as_of date (meta), and it has none"),
    "err.analysis.year_before_base": ("规划年份 {year} 早于数据年份 {base}", "the plan year {year} is before the data's year {base}"),
    "err.analysis.year_too_far": ("规划年份 {year} 比数据年份 {base} 晚了 {max} 年以上",
                                  "the plan year {year} is more than {max} years after the data's year {base}"),
    # what-if (analysis.whatif)
    "err.analysis.unknown_facilities": ("数据中没有编号为 {ids} 的服务设施", "no facility with id {ids} in the data"),
    "err.analysis.population_not_projected": ("--year 只预测60岁以上老年人口；请去掉 --weight population",
                                              "--year projects the aged 60+ only; leave out --weight population"),
    # equity (analysis.equity, reports/equity.py, the coverage page)
    "equity.district": ("全区", "District"),
    "equity.col.street": ("街道", "Street"),
    "equity.col.elderly": ("60岁以上", "Aged 60+"),
    "equity.col.beyond": ("服务范围外", "Beyond reach"),
    "equity.col.beyond_share": ("范围外占比", "Share beyond reach"),
    "equity.col.gini": ("基尼系数", "Gini"),
    "equity.col.palma": ("帕尔马比", "Palma ratio"),
    "equity.col.access": ("可达性（每千人床位）", "Access (places per 1,000)"),
    "equity.worst_title": ("最差的网格", "Worst-off grids"),
    "equity.worst_line": ("{grid}（{street}）：60岁以上 {elderly} 人，可达性 {access}，范围外 {share}",
                          "{grid} ({street}): {elderly} aged 60+, access {access}, {share} beyond reach"),
    "equity.definition": ("范围外：距运营中的日间照料中心直线 {radius} 米以外的60岁以上老人。可达性：两步移动搜索法（2SFCA）每千名老人可用的床位；"
                          "基尼系数按老人数加权（0 为完全均等）；帕尔马比 = 可达性最好的 10% 老人所得 ÷ 最差的 40% 所得（∞：最差的 40% 无可达服务）。",
                          "Beyond reach: the aged 60+ more than {radius} m in a straight line from an operating day-care "
                          "station. Access: places per 1,000 aged 60+ by the two-step floating catchment (2SFCA); Gini "
                          "weighted by the aged 60+ (0 = equal); Palma = what the best-served 10 % hold over what the "
                          "worst-served 40 % hold (∞: the worst-served 40 % have no station in reach)."),
    "meeting.sec.equity": ("养老服务公平性", "Equity of elderly-care access"),
    "needs.what.meeting.equity": ("服务公平性", "the equity of access"),
    "needs.what.coverage.plan_year": ("规划年份的需求预测", "demand in a plan year"),
    "needs.col.grids.aged_55_59": ("55-59岁人口", "residents aged 55-59"),
    "needs.col.grids.aged_80_plus": ("80岁及以上人口", "residents aged 80+"),
    # the pages (ui/planning.py)
    "planning.controls.title": ("规划年份与需求（老龄化预测）", "Plan year and demand (ageing projection)"),
    "planning.year": ("规划年份", "Plan year"),
    "planning.year.help": ("按五岁年龄组逐年推移预测；{base} 为数据年份（今天的数据）",
                           "projected by five-year cohort ageing; {base} is the data's year (today's data)"),
    "planning.weight": ("需求人群", "Demand"),
    "planning.weight.elderly": ("60岁以上老人", "Aged 60+"),
    "planning.weight.elderly_80": ("80岁以上老人", "Aged 80+"),
    "planning.who_in_year": ("{year}年{who}", "{who} in {year}"),
    "planning.choose": ("请选择", "Choose"),
    "planning.col.counted": ("人数", "People"),
    "planning.survival": ("存活比表（CSV：band,ratio，可选）", "Survival ratios (CSV band,ratio, optional)"),
    "planning.survival.help": ("每个五岁年龄组五年后仍存活的比例；不上传则使用内置的模型值",
                               "the share of each five-year band alive five years later; without one the built-in model is used"),
    "planning.survival.assumption": ("存活比为假设：按 Gompertz 模型（60岁预期寿命 21 岁）推算（{source}），并非正式生命表；基准年 {base}。",
                                     "Survival ratios are an ASSUMPTION: a Gompertz model (life expectancy at 60 of 21 years, "
                                     "{source}), not a published life table; base year {base}."),
    "planning.survival.own": ("存活比来自上传的表 {source}；基准年 {base}。",
                              "Survival ratios from the uploaded table {source}; base year {base}."),
    "planning.equity.title": ("服务公平性", "Equity of access"),
    "planning.equity.help": ("各街道和全区：服务范围外的老人数及占比、按老人数加权的可达性基尼系数和帕尔马比、最差的十个网格",
                             "Per street and for the district: the elderly beyond reach (count, share), the Gini and "
                             "Palma ratio of access weighted by the elderly, the ten worst-off grids"),
    "planning.equity.show": ("计算公平性", "Compute equity"),
    "planning.equity.compare": ("{now} 与 {then} 对比", "{now} against {then}"),
    "planning.equity.definition": ("可达性：两步移动搜索法（2SFCA）每千名老人可用的容量。基尼系数按老人数加权（0 为完全均等）；"
                                   "帕尔马比 = 可达性最好的 10% 老人所得 ÷ 最差的 40% 所得（∞：最差的 40% 范围内没有设施）。",
                                   "Access: capacity per 1,000 elderly by the two-step floating catchment (2SFCA). Gini "
                                   "weighted by the elderly (0 = equal); Palma = what the best-served 10 % hold over "
                                   "what the worst-served 40 % hold (∞: the worst-served 40 % have no facility in reach)."),
    "planning.whatif.title": ("假设分析：关闭、新增、调整容量", "What-if: close, open, change a capacity"),
    "planning.whatif.help": ("不保存任何数据：看谁获得或失去覆盖和可达性；值得保留时可存为方案",
                             "Nothing is saved: see who gains or loses coverage and access; save it as a scenario "
                             "when it is worth keeping"),
    "planning.whatif.close": ("关闭设施", "Close facilities"),
    "planning.whatif.open": ("启用候选站点（作为{type}）", "Open candidate sites (as {type})"),
    "planning.whatif.capacity": ("调整容量的设施", "Facility whose capacity changes"),
    "planning.whatif.none": ("选择要关闭的设施、要启用的站点或要调整的容量", "Choose facilities to close, sites to open or a capacity to change"),
    "planning.whatif.covered_before": ("现覆盖", "Covered now"),
    "planning.whatif.covered_after": ("调整后覆盖", "Covered after"),
    "planning.whatif.covered_change": ("覆盖变化", "Change in covered"),
    "planning.whatif.access_before": ("现可达性", "Access now"),
    "planning.whatif.access_after": ("调整后可达性", "Access after"),
    "planning.whatif.access_change": ("可达性变化", "Change in access"),
    "planning.whatif.lost": ("失去覆盖的网格（{n}）", "Grids losing coverage ({n})"),
    "planning.whatif.gained": ("获得覆盖的网格（{n}）", "Grids gaining coverage ({n})"),
    "planning.whatif.save": ("存为方案", "Save as scenario"),
}
