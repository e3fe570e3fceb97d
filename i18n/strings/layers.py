"""The one audit log: PostGIS's own events that land in it (the layers-as-drawn clean-up)."""

STRINGS = {
    "code.audit.version_drop": ("删除旧版本数据", "old version dropped"),
}
