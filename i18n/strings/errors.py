"""What errors say to users, by code: ``err.<code>`` (and ``fix.<code>`` for validation problems).

Each text is formatted with the error's ``params`` (see the raise sites in
`analysis/`, `geo/` and `cli.py`); ``tests/ui/test_error_codes.py`` checks
that every code the code can raise has an entry here and that every
placeholder is among that raise site's params.
"""

STRINGS = {
    # --- choices and numbers ---------------------------------------------------------------
    "err.analysis.bad_choice": ("参数 {name} 的值“{value}”无效，可选：{allowed}。",
                                "`{name}` was “{value}” but must be one of: {allowed}."),
    "err.analysis.not_positive": ("参数 {name} 的值 {value} 无效，必须大于 0。",
                                  "`{name}` was {value} but must be greater than 0."),
    "err.analysis.negative": ("参数 {name} 的值 {value} 无效，不能小于 0。",
                              "`{name}` was {value} but must be 0 or more."),
    "err.analysis.not_a_number": ("参数 {name} 的值“{value}”不是数字。", "`{name}` was “{value}”, which is not a number."),
    "err.analysis.not_whole": ("参数 {name} 的值 {value} 无效，必须是不小于 {min} 的整数。",
                               "`{name}` was {value} but must be a whole number of at least {min}."),
    "err.analysis.out_of_range": ("参数 {name} 的值 {value} 无效，应在 {min} 到 {max} 之间。",
                                  "`{name}` was {value} but must be between {min} and {max}."),
    "err.analysis.radius_out_of_range": ("距离阈值 {value} 米过大，最多 {max} 米（15 分钟生活圈为 800–1000 米）。",
                                         "The threshold of {value} m is too large: at most {max} m (the 15-minute "
                                         "life circle is 800–1000 m)."),
    "err.analysis.share_out_of_range": ("目标比例 {value} 无效，应大于 0 且不超过 1（90% 填 0.9）。",
                                        "The target share {value} must be above 0 and at most 1 (0.9 for 90 %)."),
    "err.analysis.index_out_of_range": ("参数 {name} 中的编号超出范围（0 到 {max}）。",
                                        "`{name}` holds an index outside 0 to {max}."),
    "err.analysis.shape_mismatch": ("{what} 的数量（{got}）与预期（{expected}）不一致。",
                                    "{what}: got {got} values where {expected} were expected."),
    "err.analysis.duplicate_ids": ("{name} 中有重复的编号。", "`{name}` has duplicate ids."),
    "err.analysis.bad_data_type": ("无法分析类型为 {type} 的数据：需要一个数据集。",
                                   "Data of type {type} cannot be analysed: a dataset is needed."),
    # --- layers, columns, coordinates -------------------------------------------------------
    "err.analysis.layer_missing": ("数据集中没有“{layer}”图层，请先导入。",
                                   "The dataset has no “{layer}” layer; import one first."),
    "err.analysis.column_missing": ("“{layer}”图层缺少“{column}”列。", "The “{layer}” layer has no “{column}” column."),
    "err.analysis.values_missing": ("“{layer}”图层有 {n} 行缺少“{column}”，请先校验该图层。",
                                    "{n} row(s) of the “{layer}” layer have no “{column}”; validate the layer first."),
    "err.analysis.no_crs": ("“{layer}”图层没有坐标系，请先设置（如 EPSG:4326）。",
                            "The “{layer}” layer has no coordinate system; set one (for example EPSG:4326)."),
    "err.analysis.crs_mismatch": ("{what} 的坐标系（{crs}）与其他数据（{expected}）不同，请统一坐标系。",
                                  "{what} are in {crs} but the other data in {expected}; use one coordinate system."),
    "err.analysis.not_metric": ("{what} 的坐标系（{crs}）不以米为单位，无法量算距离。",
                                "{what} is in {crs}, which is not in metres: distances cannot be measured."),
    "err.analysis.empty_geometry": ("{what} 中有空几何，每个点都需要位置。",
                                    "{what} include empty geometries; every point needs a position."),
    "err.analysis.no_roads": ("步行距离需要道路图层，当前数据集没有；请导入道路或改用直线距离。",
                              "Walking distance needs a roads layer, and this dataset has none; import one or use "
                              "straight-line distance."),
    "err.analysis.no_walkable_roads": ("道路图层中没有可步行的线路，无法计算步行距离。",
                                       "The roads layer has no walkable line: walking distance cannot be measured."),
    "err.analysis.unknown_street": ("街道“{street}”不存在；现有街道：{streets}。",
                                    "Street “{street}” does not exist; the streets are: {streets}."),
    "err.analysis.unknown_value": ("{what}“{value}”不存在；现有：{have}。", "{what} “{value}” does not exist; there are: {have}."),
    # --- coverage -----------------------------------------------------------------------------
    "err.analysis.no_facility_type": ("请至少选择一种设施类型。", "Choose at least one facility type."),
    "err.analysis.type_not_in_data": ("数据中没有“{type}”类设施；现有类型：{present}。",
                                      "There are no facilities of type “{type}” in the data; types present: {present}."),
    "err.analysis.not_a_coverage_table": ("该表不是覆盖分析结果（缺少 covered_elderly 或 covered_population 列）。",
                                          "The table is not a coverage result (no covered_elderly or "
                                          "covered_population column)."),
    "err.analysis.bands_empty": ("距离衰减分段为空。", "The distance bands are empty."),
    # --- siting -------------------------------------------------------------------------------
    "err.analysis.no_candidates": ("没有可供选择的候选站点。", "There are no candidate sites to choose from."),
    "err.analysis.no_candidates_layer": ("数据集没有候选站点图层；请导入候选站点，或改为“自动生成”。",
                                         "The dataset has no candidate sites layer; import one or choose "
                                         "“generated” candidates."),
    "err.analysis.no_candidates_in_street": ("街道“{street}”内没有候选站点；请改为自动生成候选点，或选择全区。",
                                             "There are no candidate sites in street “{street}”; generate "
                                             "candidates or choose the whole district."),
    "err.analysis.nothing_to_generate": ("所有老人都已在现有站点服务范围内，无需生成候选点。",
                                         "Every resident is already within reach of an existing station, so no "
                                         "candidate was generated."),
    "err.analysis.candidates_too_close": ("全部 {n} 个候选站点距现有站点都不足 {spacing} 米，没有可用候选点。",
                                          "All {n} candidate sites are closer than {spacing} m to an existing "
                                          "station: none is left."),
    "err.analysis.capacity_missing": ("{n} 个候选站点没有容量（{ids}）；请填写新站的默认容量。",
                                      "{n} candidate site(s) have no capacity ({ids}); give a capacity per new "
                                      "station."),
    "err.analysis.too_many_sites": ("要求新建 {n} 个站点，但只有 {available} 个候选站点；最多填 {available}。",
                                    "Asked for {n} new sites but there are only {available} candidate sites; ask "
                                    "for at most {available}."),
    "err.analysis.too_many_sites_spacing": ("要求新建 {n} 个站点，但只有 {available} 个候选站点（另有 {excluded} 个距现有站点"
                                            "不足 {spacing} 米）；最多填 {available}。",
                                            "Asked for {n} new sites but there are only {available} candidate sites "
                                            "({excluded} more are closer than {spacing} m to an existing station); "
                                            "ask for at most {available}."),
    "err.analysis.target_unreachable": ("无法达到 {target}% 的目标：即使用上全部 {n} 个候选站点，{radius} 米内的老人"
                                        "最多也只有 {share}%；请降低目标、扩大半径或增加候选站点。",
                                        "The target of {target}% cannot be reached: with all {n} candidate sites, "
                                        "at most {share}% of the aged 60+ are within {radius} m; lower the target, "
                                        "widen the radius or add candidates."),
    "err.analysis.target_unreachable_greedy": ("逐个加站的贪心算法达不到 {target}% 的目标；请改用精确求解或降低目标。",
                                               "Adding sites one at a time cannot reach the target of {target}%; "
                                               "use the exact solver or lower the target."),
    "err.analysis.target_infeasible": ("在新站间距不小于 {spacing} 米的条件下无法达到 {target}% 的目标；"
                                       "请降低目标、扩大半径或增加候选站点。",
                                       "The target of {target}% cannot be reached while keeping new sites {spacing} m "
                                       "apart; lower the target, widen the radius or add candidates."),
    "err.analysis.solver_time_limit": ("求解器在 {seconds} 秒内未找到答案（HiGHS：{status}）；请放宽时间或改用贪心算法。",
                                       "No answer was found within {seconds} s (HiGHS: {status}); allow more time or "
                                       "use the greedy solver."),
    "err.analysis.solver_failed": ("容量模型无法求解（HiGHS：{status}）。", "The capacity model could not be solved "
                                                                      "(HiGHS: {status})."),
    "err.analysis.not_capacitated": ("只有考虑容量的模型才有站点负荷。", "Station loads exist only for the capacitated model."),
    "err.analysis.needs_dataset": ("需要{what}：请从数据集构建选址问题。", "This needs the {what}: build the problem from a "
                                                                    "dataset."),
    "err.analysis.unknown_sites": ("站点编号不在候选站点中：{ids}。", "Unknown site id(s), not among the candidates: {ids}."),
    "err.analysis.street_empty": ("街道名称 {value} 无效。", "The street name {value} is not a street name."),
    # --- cases and hot spots -------------------------------------------------------------------
    "err.analysis.too_few_grids": ("热点统计至少需要 {min} 个网格才有意义，所选范围只有 {n} 个；请扩大范围（例如选择全部街道）。",
                                   "Hot spots need at least {min} grids to mean anything; the selection has {n}. "
                                   "Choose a larger area (all streets, for example)."),
    "err.analysis.too_few_weeks": ("时空模式至少需要 {min} 周，所选时间段只有 {n} 周；请选择更长的时间段。",
                                   "Emerging hot spots need at least {min} weeks; the selection spans {n}. Choose a "
                                   "longer period."),
    "err.analysis.too_few_months": ("时空模式至少需要 {min} 个月，所选时间段只有 {n} 个月；请选择更长的时间段，或把时间步长改为“周”。",
                                    "Emerging hot spots need at least {min} months; the selection spans {n}. Choose a "
                                    "longer period or weekly steps."),
    "err.analysis.too_few_periods": ("趋势检验至少需要 {min} 个时段，只有 {n} 个。",
                                     "The trend test needs at least {min} periods; there are {n}."),
    "err.analysis.too_few_cases": ("核密度至少需要 {min} 起事件，所选条件下只有 {n} 起。",
                                   "The heat map needs at least {min} cases; the selection has {n}."),
    "err.analysis.no_cases_match": ("所选条件下没有事件（{filter}）；请放宽上报时间段或其他筛选条件。",
                                    "No cases match ({filter}); choose a longer period or fewer filters."),
    "err.analysis.no_cases_selected": ("所选范围内没有事件，无法计算热点。", "There are no cases in the selection: hot "
                                                                   "spots need at least one."),
    "err.analysis.all_values_equal": ("所有网格的数值相同，没有可识别的聚集。", "Every grid has the same value: there is "
                                                                   "nothing to cluster."),
    "err.analysis.values_not_finite": ("部分网格的数值缺失或无穷大。", "Some grid values are missing or infinite."),
    "err.analysis.weights_mismatch": ("空间权重与事件表的网格不一致。", "The spatial weights were built for other grids "
                                                                 "than the case table."),
    "err.analysis.period_reversed": ("时间段的开始日期（{since}）晚于结束日期（{until}）。",
                                     "The period starts ({since}) after it ends ({until})."),
    "err.analysis.raster_too_large": ("{cell_m} 米的栅格在此范围内有 {cells} 个格子，太多；请加大格子。",
                                      "A {cell_m} m raster over this area has {cells} cells; choose larger cells."),
    # --- distributed runs (Dask) and the CLI ---------------------------------------------------------
    "err.analysis.scheduler_unreachable": ("无法连接 Dask 调度器 {address}（{reason}）；请先启动调度器，或不指定 --scheduler 在本机计算。",
                                           "No Dask scheduler answers at {address} ({reason}); start one, or leave "
                                           "out --scheduler to compute in-process."),
    "err.analysis.group_column_missing": ("网格图层没有用于分组的“{column}”列。",
                                          "The grids layer has no “{column}” column to split by."),
    "err.analysis.needs_geopackage": ("此规模的示例数据只能写入 GeoPackage：请把 {name} 设为 .gpkg 路径。",
                                      "This scale writes a GeoPackage: give {name} a .gpkg path."),
    "err.analysis.per_district_curve": ("分区计算（--per-district）为每个区绘制 1 至 N 个新站点（--new N）的覆盖曲线；"
                                        "{option} 请不分区计算。",
                                        "--per-district traces each district's curve for --new N; "
                                        "{option} runs on the whole dataset."),
    "err.analysis.no_candidates_in_area": ("{area}内没有候选站点；请改为自动生成候选点。",
                                           "There are no candidate sites in {area}; generate candidates instead."),
    # --- demo generator ---------------------------------------------------------------------------
    "err.analysis.demo_spec_invalid": ("示例数据的参数不一致：{detail}", "The demo dataset's specification is "
                                                                    "inconsistent: {detail}"),
    # --- settings -----------------------------------------------------------------------------------
    "settings.invalid.title": ("配置有误", "Invalid configuration"),
    "settings.invalid.help": ("请修改上述环境变量或 .streamlit/secrets.toml 中的配置后重新启动（README 的“Configuration”一节列出全部配置项）。",
                              "Correct the variable or .streamlit/secrets.toml entry above and restart (the README's "
                              "Configuration section lists every setting)."),
    "err.settings.invalid": ("配置项 {name} 的值“{value}”无效，应为：{allowed}。",
                             "{name} was “{value}” but must be {allowed}."),
    "err.settings.several": ("多个配置项无效：{messages}", "Several settings are invalid: {messages}"),
    "err.settings.secrets_unreadable": ("无法读取配置文件 {path}（{reason}）。", "{path} cannot be read as TOML ({reason})."),
    # --- saved scenarios (validation problems: what, and how to fix) ---------------------------------
    "err.data.scenario_store_unsupported": ("方案只能保存在 GeoPackage 数据集中。",
                                            "Scenarios are kept in GeoPackage datasets only."),
    "fix.data.scenario_store_unsupported": ("请以 .gpkg 文件打开数据集。", "Open the dataset as a .gpkg file."),
    "err.data.not_a_geopackage": ("{name} 不是可用的 GeoPackage（{reason}）。", "{name} is not a usable GeoPackage ({reason})."),
    "fix.data.not_a_geopackage": ("请确认文件是 GeoPackage。", "Check that the file is a GeoPackage."),
    "err.data.scenario_name_empty": ("方案名称为空。", "The scenario name is empty."),
    "fix.data.scenario_name_empty": ("请给方案起个名字。", "Give the scenario a name."),
    "err.data.scenario_name_long": ("方案名称有 {n} 个字符。", "The scenario name has {n} characters."),
    "fix.data.scenario_name_long": ("最多 {max} 个字符。", "Use at most {max}."),
    "err.data.scenario_missing": ("没有名为“{name}”的方案。", "There is no scenario named “{name}”."),
    "fix.data.scenario_missing": ("请从已保存的方案中选择。", "Pick one of the saved scenarios."),
    "err.data.scenario_exists": ("已有名为“{name}”的方案。", "A scenario named “{name}” already exists."),
    "fix.data.scenario_exists": ("请换一个名字，或选择覆盖。", "Choose another name or replace it."),
}
