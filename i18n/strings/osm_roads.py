"""Roads from OpenStreetMap extracts (codes ``data.osm_*``) and the size limit of one layer of a local file."""

STRINGS = {
    "err.data.osm_no_walkable_ways": ("{name} 在数据集范围（{bbox}）内没有可步行的道路",
                                      "{name} has no walkable way within {bbox}"),
    "fix.data.osm_no_walkable_ways": ("换用覆盖本区的 OpenStreetMap 数据（含人行道、街巷），或导入本区自己的道路文件",
                                      "use an extract that covers the district (with footways and residential "
                                      "streets), or import the district's own roads file"),
    "err.data.osm_roads_only": ("{name} 是 OpenStreetMap 数据：只能导入道路图层",
                                "{name} is an OpenStreetMap extract: only the roads layer is read from one"),
    "fix.data.osm_roads_only": ("图层选择“道路”，或为本图层选择相应的文件",
                                "choose the roads layer (道路), or a file of this layer"),
    "err.data.osm_wgs84": ("OpenStreetMap 数据为 WGS84 坐标，未使用所选的坐标系",
                           "OpenStreetMap data is in WGS84; the coordinate system chosen was not used"),
    "fix.data.osm_wgs84": ("坐标系保持“以文件为准”", "leave the coordinate system on the file's own"),
    "err.upload.layer_too_large": ("{name} 中的图层 {sublayer} 大小为 {size_mb} MB，超过上限 {limit_mb} MB",
                                   "layer {sublayer} of {name} is {size_mb} MB, over the limit of {limit_mb} MB"),
    "fix.upload.layer_too_large": ("分批导入该图层，或请管理员调高 GRIDATLAS_MAX_UPLOAD_MB",
                                   "import the layer in parts, or ask the administrator to raise "
                                   "GRIDATLAS_MAX_UPLOAD_MB"),
    "data.osm.extent": ("OpenStreetMap 数据：只取数据集网格范围外扩 {margin_m} 米内的可步行道路（说明见 docs/data.md）。",
                        "OpenStreetMap extract: only the walkable ways within the dataset's grids' bounds plus "
                        "{margin_m} m are taken (see docs/data.md)."),
}
