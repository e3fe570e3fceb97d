"""Messages of the PostGIS store (geo/postgis.py), by error code."""

STRINGS = {
    "err.storage.bad_dataset_name": ("连接地址中的数据集名“{name}”不可用：最多 60 个字母、数字、_ 或 -。",
                                     "The dataset name “{name}” in the URL is not allowed: use up to 60 letters, "
                                     "digits, _ or -."),
    "err.storage.db_unreachable": ("无法连接 PostgreSQL 服务器 {url}（{reason}）。请检查地址、端口、用户和密码（~/.pgpass）。",
                                   "Cannot connect to the PostgreSQL server at {url} ({reason}). Check the address, "
                                   "port, user and password (~/.pgpass)."),
    "err.storage.postgis_missing": ("数据库没有 PostGIS 扩展，且无法创建（{reason}）。请数据库管理员执行 CREATE EXTENSION postgis。",
                                    "The database has no PostGIS extension and it cannot be created ({reason}). Ask "
                                    "the database administrator to run CREATE EXTENSION postgis."),
    "err.storage.parts_differ": ("图层 {layer} 分批写入时各批的列不一致，未保存。",
                                 "Layer {layer} came in parts with different columns; nothing was saved."),
    "err.storage.drop_current": ("第 {version} 版是当前版本，不能删除；请先恢复其他版本。",
                                 "Version {version} is current and cannot be dropped; restore another version first."),
    "err.storage.bad_grouping": ("无法按 {by} 汇总事件。", "Cases cannot be counted by {by}."),
    "err.storage.not_postgres": ("“{spec}”不是 postgresql:// 连接地址。", "“{spec}” is not a postgresql:// URL."),
    "err.analysis.city_too_small": ("城市示例数据至少需要 1 件事件和 {min_grids} 个网格；现为 {cases} 件事件、{grids} 个网格。",
                                    "The city needs at least 1 case and {min_grids} grids; got {cases} cases and "
                                    "{grids} grids."),
}
