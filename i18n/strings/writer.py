"""The plain GeoPackage (the copy QGIS opens) written after a large version's commit: its failure, as the
数据管理 page and the CLI's ``versions`` show it, and the retry (`geo.workspace.GpkgStore.gpkg_failure`)."""

STRINGS = {
    "err.storage.gpkg_write_failed": (
        "数据集 {name} 第 {version} 版的 QGIS 副本（GeoPackage）未能写出（{reason}）；该版本本身完好，仍是当前版本。",
        "the plain GeoPackage of version {version} of dataset {name} could not be written ({reason}); "
        "the version itself is intact and current"),
    "writer.failed": (
        "第 {version} 版的 QGIS 副本（GeoPackage）于 {when} 未能写出：{reason}。该版本本身完好，各页面照常使用；"
        "点“重试”在后台重新写出（下次导入也会重新写出）。",
        "The QGIS copy (GeoPackage) of version {version} could not be written at {when}: {reason}. The version "
        "itself is intact and every page uses it; “Retry” writes the copy again in the background (the next "
        "import writes it too)."),
    "err.storage.gpkg_writer_killed": ("写出进程在完成前被终止（内存不足、关机或 kill -9）",
                      "the writing process was stopped before it finished (out of memory, a shutdown or kill -9)"),
    "writer.retry": ("重试", "Retry"),
    "writer.retrying": ("正在后台重新写出第 {version} 版的 QGIS 副本（GeoPackage）……",
                        "Writing the QGIS copy (GeoPackage) of version {version} again in the background…"),
    "writer.cli_failed": (
        "注意：第 {version} 版的 QGIS 副本 {path} 于 {when} 未能写出：{reason}。该版本本身完好；"
        "重试：cli.py versions --retry-gpkg（下次导入也会重新写出）。",
        "note: the QGIS copy {path} of version {version} could not be written at {when}: {reason}. The version "
        "itself is intact; to retry: cli.py versions --retry-gpkg (the next import writes it too)."),
    "writer.cli_retrying": ("正在后台重新写出第 {version} 版的 QGIS 副本 {path}。",
                            "writing the QGIS copy {path} of version {version} again in the background."),
}
