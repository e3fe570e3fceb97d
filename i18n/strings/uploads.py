"""Strings of the file uploaders (`ui.uploads`): the dropzone's button and its line, in place of Streamlit's English."""

STRINGS = {
    "upload.button": ("选择文件", "Browse files"),
    # {mb}: the largest file the uploader takes; {types}: its file types, e.g. "XLSX" or "CSV, ZIP"
    "upload.instructions": ("或拖放到此处 · 每个文件不超过 {mb} MB · {types}",
                            "or drag and drop here · up to {mb} MB per file · {types}"),
    "upload.instructions.any": ("或拖放到此处 · 每个文件不超过 {mb} MB", "or drag and drop here · up to {mb} MB per file"),
    # the estates page's counts by stage: the share of the last stage, apart from its count
    "estates.col.done_share": ("{stage}占比", "{stage}, share"),
    # the meeting page's targets: the units' template to fill in and upload back
    "upload.targets.template": ("下载{quarter}预安表模板（XLSX）", "Download the {quarter} targets template (XLSX)"),
}
