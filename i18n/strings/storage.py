"""Messages of the workspace: versions, imports, restores, checksums (codes ``storage.*``), and the
dataset-level problems the store reports."""

STRINGS = {
    "err.storage.checksum_failed": (
        "数据集 {name} 的第 {version} 版与导入时记录的校验值不符（文件被改动或损坏），未打开。请恢复一个完好的版本。",
        "version {version} of dataset {name} does not match the checksum recorded when it was imported "
        "(its files were changed or damaged); it was not opened. Restore a version that is intact."),
    "err.storage.version_missing": ("数据集 {name} 没有第 {version} 版", "dataset {name} has no version {version}"),
    "err.storage.dataset_missing": ("数据集 {name} 还没有任何版本：请先导入网格和服务设施图层。",
                                    "dataset {name} has no version yet: import its grids and facilities first."),
    "err.storage.pointer_unreadable": ("无法读取当前版本记录 {path}（{reason}）",
                                       "{path} cannot be read ({reason})"),
    "err.storage.not_writable": ("工作区 {path} 无法写入（{reason}），什么也没有改变。请检查磁盘空间与权限。",
                                 "the workspace {path} cannot be written ({reason}); nothing was changed. "
                                 "Check disk space and permissions."),
    "err.storage.mode_unknown": ("导入方式 {mode} 无效：请用 replace（整层替换）或 upsert（按编号更新）",
                                 "mode {mode} is not known: use replace or upsert"),
    "err.storage.name_invalid": ("数据集名称 {name} 不可用：只能用字母、汉字、数字、“_”“-”“.”，最多 64 个字符",
                                 "dataset name {name} is not allowed: use letters, digits, '_', '-' and '.' "
                                 "(at most 64)"),
    "err.storage.not_gpkg": ("{spec} 不是 GeoPackage：请给出以 .gpkg 结尾的路径或工作区中的数据集名称",
                             "{spec} is not a GeoPackage: give a path ending in .gpkg or a dataset name"),
    "err.data.layer_missing": ("数据集中缺少该图层", "layer is missing from the dataset"),
    "fix.data.layer_missing": ("请导入该图层", "import this layer"),
    "err.data.layer_unknown": ("没有名为 {layer} 的图层", "there is no layer named {layer}"),
    "fix.data.layer_unknown": ("请选择 grids、facilities、estates、cases、candidates 或 roads",
                               "use grids, facilities, estates, cases, candidates or roads"),
    "err.data.upsert_without_id": ("该图层没有编号列，不能按编号更新", "this layer has no id, so it cannot be upserted"),
    "fix.data.upsert_without_id": ("请选择“整层替换”导入", "import it with mode replace"),
}
