"""An import's stages as the CLI's progress bar and the 数据管理 page show them (`geo.progress`)."""

STRINGS = {
    "progress.read": ("读取文件", "reading the file"),
    "progress.validate": ("校验数据", "validating"),
    "progress.assign": ("分配网格", "assigning grids"),
    "progress.compare": ("与当前版本比对", "comparing with the current version"),
    "progress.write": ("写入新版本", "writing the new version"),
    "progress.derive": ("生成页面数据", "preparing the pages' data"),
    "progress.done": ("导入完成", "import finished"),
}
