"""Strings of the targets template's import in the file's own terms (sheet, row, header, the measure's label, the fix
in words), the rows it skips, and the meeting page's short metric label."""

STRINGS = {
    # --- where a problem of a sheet is: the file and its sheet instead of "layer ..." --------------------------------
    "problem.sheet": ("{layer}（工作表 {sheet}）", "{layer} (sheet {sheet})"),
    "code.layer.target_template": ("预安表", "Targets template"),
    # --- the targets template (预安表): what is wrong with a row, and how to fix it ---------------------------------------
    "err.data.target_file_unreadable": ("“{name}”不是可以读取的 Excel 工作簿。", "“{name}” cannot be read as an Excel workbook."),
    "fix.data.target_file_unreadable": ("请用预安表模板填写，保存为 .xlsx 后再导入。",
                                        "Fill in the targets template, save it as .xlsx and import it again."),
    "err.data.target_file_two_subjects": ("同一行既填了{unit_col}“{unit}”，又填了{street_col}“{street}”。",
                                          "The row names both a unit under {unit_col} (“{unit}”) and a street under "
                                          "{street_col} (“{street}”)."),
    "fix.data.target_file_two_subjects": ("每行只填一个：责任单位的指标填在“{unit_col}”列，街道的指标填在“{street_col}”列。",
                                          "Fill only one: a unit's measure under {unit_col}, a street's under "
                                          "{street_col}."),
    "err.data.target_file_subject": ("填了目标值，但{unit_col}和{street_col}都为空。",
                                     "A target value is given but {unit_col} and {street_col} are both empty."),
    "fix.data.target_file_subject": ("填写责任单位或街道的名称；不设目标的行请清空“{value_col}”。",
                                     "Name the unit or the street; for no target, clear {value_col}."),
    "err.data.target_file_measure_blank": ("填了目标值，但{measure_col}为空。",
                                           "A target value is given but {measure_col} is empty."),
    "fix.data.target_file_measure_blank": ("填写指标（{choices} 之一）；不设目标的行请清空“{value_col}”。",
                                           "Write the measure (one of {choices}); for no target, clear {value_col}."),
    "err.data.target_file_measure": ("指标“{value}”不是预安表的指标。", "“{value}” is not one of the template's measures."),
    "fix.data.target_file_measure": ("请填写以下之一：{choices}。", "Write one of: {choices}."),
    "err.data.target_file_not_number": ("目标值“{value}”不是数字。", "The target value “{value}” is not a number."),
    "fix.data.target_file_not_number": ("{target_entry_label}。", "{target_entry_label}."),
    "err.data.target_file_share": ("{measure_label}是比例，目标值 {value} 不在 0 到 100% 之间。",
                                   "{measure_label} is a share, but the target value {value} is not between 0 and 100%."),
    "fix.data.target_file_share": ("{target_entry_label}。", "{target_entry_label}."),
    "err.data.target_file_count": ("{measure_label}是件数，目标值 {value} 不是 0 或正整数。",
                                   "{measure_label} is a count, but the target value {value} is not a whole number "
                                   "0 or more."),
    "fix.data.target_file_count": ("{target_entry_label}。", "{target_entry_label}."),
    "err.data.target_file_street_only": ("{measure_label}按街道考核，不能设给责任单位“{unit}”。",
                                         "{measure_label} is judged per street, not for a responsible unit (“{unit}”)."),
    "fix.data.target_file_street_only": ("把街道名称填在“{street_col}”列，“{unit_col}”留空。",
                                         "Put the street's name under {street_col} and leave {unit_col} empty."),
    "err.data.target_file_quarter": ("季度“{value}”不是 YYYYQn 格式。", "The quarter “{value}” is not in the form YYYYQn."),
    "fix.data.target_file_quarter": ("请填写季度，例如 2019Q2。", "Write a quarter such as 2019Q2."),
    "err.data.target_file_quarter_blank": ("季度为空。", "The quarter is empty."),
    "fix.data.target_file_quarter_blank": ("请填写季度，例如 2019Q2。", "Write a quarter such as 2019Q2."),
    "err.data.target_file_street_unknown": ("街道“{value}”不在本数据集中。", "The street “{value}” is not in this dataset."),
    "fix.data.target_file_street_unknown": ("请填写本数据集的街道：{streets}。", "Write one of the dataset's streets: {streets}."),
    "err.data.target_file_duplicate": ("与第 {first} 行重复：{subject}的{measure_label}已经填过。",
                                       "Repeats row {first}: {subject}'s target for {measure_label} is already given."),
    "fix.data.target_file_duplicate": ("每个单位的每项指标只填一行，请删去重复的一行。",
                                       "Give each measure once per unit or street; delete the repeated row."),
    "err.data.target_file_empty": ("没有一行填写了目标值。", "No row has a target value."),
    "fix.data.target_file_empty": ("在“{value_col}”列填写各单位的目标后再导入；不设目标的行留空即可，导入时跳过。",
                                   "Fill in {value_col} for the units that have targets, then import; rows left blank "
                                   "are skipped."),
    # what to write in 目标值, per measure (the fix of a bad value names the measure as the page shows it)
    "code.target_entry.closure_rate": ("请填写办结率不低于的比例，例如 90% 或 0.9",
                                       "Write the lowest closure rate to reach, as a share such as 90% or 0.9"),
    "code.target_entry.coverage": ("请填写老人覆盖率不低于的比例，例如 80% 或 0.8",
                                   "Write the lowest share of the aged 60+ covered to reach, such as 80% or 0.8"),
    "code.target_entry.overdue": ("请填写季末逾期未办结不超过的件数（0 或正整数），例如 2",
                                  "Write the most cases overdue at quarter end to accept, a whole number such as 2"),
    "code.target_entry.closed_late": ("请填写超时办结不超过的件数（0 或正整数），例如 0",
                                      "Write the most cases closed late to accept, a whole number such as 0"),
    "code.target_entry.committees": ("请填写业委会已成立不少于的个数（0 或正整数），例如 3",
                                     "Write the fewest committees formed to reach, a whole number such as 3"),
    "code.target_entry.unknown": ("请填写数字：比例如 90% 或 0.9，件数如 2",
                                  "Write a number: a share such as 90% or 0.9, a count such as 2"),
    # --- the import's summary on the page -----------------------------------------------------------------------------
    "targets_file.blank_subjects": ("{n} 个单位未填写，已跳过：{names}。", "{n} units or streets left blank, skipped: {names}."),
    "targets_file.other_rows": ("另有 {n} 行未填目标值，这些指标不设目标。",
                                "{n} more rows have no target value: no target for those measures."),
    # --- the meeting page's figures: a label that fits its column, the detail in its help -----------------------------
    "meeting_staff.fig.closure_rate": ("本月办结率", "Closure rate"),
    "meeting_staff.fig.closure_rate.help": ("本月办结率：本月上报的事件中，到月末已办结的比例。",
                                            "Closure rate this month: of the cases reported in the month, the share "
                                            "closed by its end."),
}
