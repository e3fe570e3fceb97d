"""The overview map's optional layers: switched on beside the map, sent only then."""

STRINGS = {
    "maps_light.show_estates": ("显示小区图层", "Show the estates"),
    "maps_light.show_estates_help": ("小区图层较大，打开后才加载到地图上。",
                                     "The estates are a large layer: they are loaded into the map when switched on."),
}
