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
}
