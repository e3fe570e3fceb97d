"""Strings of the city level: district choice, league table, city map."""

STRINGS = {
    "city.district": ("区", "District"),
    "city.all_districts": ("全市", "Whole city"),
    "city.title": ("{city} 网格服务总览（{n} 个区）", "{city} — overview of {n} districts"),
    "city.league": ("各区一览", "Districts at a glance"),
    "city.league_help": ("日照中心覆盖率：60岁以上老人中距运营中日间照料中心直线 {radius} 米以内者的比例；事件数按数据截止日统计。",
                         "Day-care coverage: share of the aged 60+ within {radius} m (straight line) of an operating "
                         "day-care station; cases as of the dataset's date."),
    "city.map.title": ("各区分布", "Districts"),
    "city.map.choropleth": ("区颜色：60岁以上老人密度（人/平方公里）", "District colour: residents aged 60+ per km²"),
    "city.map.help": ("选择左侧的区查看其街道与网格；全市地图只画区界，不加载全市网格。",
                      "Choose a district in the sidebar to see its streets and grids; the city map draws district "
                      "outlines only, not the city's grids."),
    "city.col.district": ("区", "District"),
    "city.col.streets": ("街道", "Streets"),
    "city.col.coverage": ("日照覆盖率", "Day-care coverage"),
    "city.col.cases": ("事件", "Cases"),
    "city.col.open": ("未办结", "Open"),
    "city.col.overdue": ("逾期", "Overdue"),
    "city.col.hot_grids": ("热点网格", "Hot-spot grids"),
    "city.col.emerging": ("新增/加剧热点", "New or intensifying hot spots"),
    "city.hot_help": ("热点网格：全年事件数的 Gi* 热点（FDR 校正，90% 以上置信度），各区内分别计算；新增/加剧热点：按周的新增、连续或加剧热点模式。网格少于 30 个的区不计算（空白）。",
                      "Hot-spot grids: Gi* hot spots of the year's case counts (FDR-corrected, 90 % confidence or "
                      "more), within each district; new or intensifying: grids with a new, consecutive or "
                      "intensifying weekly pattern. Districts with fewer than 30 grids are left blank."),
    "city.col.overdue_per_10k": ("每万人逾期", "Overdue per 10,000 residents"),
    "city.choose_district": ("这是全市数据集：请在左侧选择一个区，本页按区分析（全市共 {n} 条事件，不在浏览器中整体加载）。",
                             "This is a city dataset: choose a district in the sidebar; this page works on one "
                             "district (the city's {n} cases are not loaded into the browser at once)."),
}
