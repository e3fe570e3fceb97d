"""What `geo.derive` reports about the columns it derives at import (warnings, not errors)."""

STRINGS = {
    "err.data.estate_outside_grids": (
        "{count} 个小区不在任何网格内，且距最近网格超过 {distance_m} 米，街道和社区留空：{values}",
        "{count} estate(s) lie in no grid and more than {distance_m} m from every grid, so their street and "
        "community stay empty: {values}"),
    "fix.data.estate_outside_grids": ("核对这些小区的位置，或填写它们的街道、社区列",
                                      "check their positions, or fill in their street and community columns"),
    # the sidebar, under "data as of": how the day was worked out when the files gave none (geo.derive.AS_OF_RULES)
    "sidebar.as_of_derived.cases": ("（文件未给出截至日期，取最新事件的上报日）",
                                    "(no date in the files: the day of the latest case report)"),
    "sidebar.as_of_derived.stage_dates": ("（文件未给出截至日期，取小区自治最新阶段日期）",
                                          "(no date in the files: the latest date of an estate's stage)"),
    "sidebar.as_of_derived.import_day": ("（文件未给出截至日期，取导入当天）",
                                         "(no date in the files: the day the data was imported)"),
}
