"""Layer schemas of a GridAtlas dataset and the validator every reader uses.

`validate_layer` takes what a clerk brings (a GeoDataFrame from a GeoPackage,
Shapefile or GeoJSON, or a table from Excel/CSV with lon/lat columns), renames
Chinese headers to the English column names, converts datums to WGS84, checks
every row, and raises one `DataError` listing every problem found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._memory import give_back
from geo.crs import WGS84, CoordSys, to_wgs84
from geo.errors import DataError, Problem, bad_choice
from geo.values import as_text, parse_datetimes

FACILITY_TYPES: dict[str, str] = {
    "day_care": "日间照料中心",
    "elderly_service_center": "养老服务中心",
    "nursing_home": "养老院",
    "elderly_canteen": "老年食堂",
    "health_station": "社区卫生服务站",
    "health_center": "社区卫生服务中心",
}
FACILITY_STATUS: dict[str, str] = {"operating": "运营", "planned": "规划"}
MANAGEMENT: dict[str, str] = {
    "property_company": "物业公司",
    "self_governed": "业主自治",
    "unmanaged": "无物业管理",
}
# Self-governance of estates (the 2019 campaign for unmanaged estates): stages in order.
GOVERNANCE_STAGES: dict[str, str] = {
    "none": "未启动",
    "committee_formed": "业委会已成立",
    "rules_adopted": "规约已通过",
    "managed": "已引入物业或自管",
    "fees_started": "已启动收费",
}
# The date column recording when an estate reached each stage after `none`.
STAGE_DATE_COLUMNS: dict[str, str] = {
    "committee_formed": "committee_formed_on",
    "rules_adopted": "rules_adopted_on",
    "managed": "managed_on",
    "fees_started": "fees_started_on",
}
# Wuchang's four self-governance models for old estates.
SELF_GOV_MODELS: dict[str, str] = {
    "estate": "小区自治",
    "courtyard": "院落自治",
    "building": "楼栋自治",
    "scattered": "零散自治",
}
CASE_STATUS: dict[str, str] = {"open": "未办结", "closed": "已办结"}
CASE_CATEGORIES: tuple[str, ...] = (
    "市容环境",
    "宣传广告",
    "施工管理",
    "突发事件",
    "街面秩序",
    "其他",
    "邻里纠纷",
    "道路破损",
    "路灯",
    "违章建筑",
    "渣土扬尘",
    "油烟",
)

# Extra spellings accepted for enumerated values (besides the Chinese labels above).
_VALUE_ALIASES: dict[str, dict[str, str]] = {
    "type": {"日照中心": "day_care", "日间照料站": "day_care", "卫生服务站": "health_station",
             "卫生服务中心": "health_center", "老年餐桌": "elderly_canteen", "敬老院": "nursing_home"},
    "management": {"自管": "self_governed", "业主自管": "self_governed", "无物业": "unmanaged",
                   "物业": "property_company"},
    "governance_stage": {**{label: code for code, label in GOVERNANCE_STAGES.items()},
                         "未成立": "none", "业委会成立": "committee_formed", "已成立业委会": "committee_formed",
                         "规约通过": "rules_adopted", "管理规约已通过": "rules_adopted",
                         "已引入物业": "managed", "已自管": "managed", "已启动物业收费": "fees_started",
                         "已收费": "fees_started"},
    "self_gov_model": {**{label: code for code, label in SELF_GOV_MODELS.items()},
                       "小区": "estate", "院落": "courtyard", "楼栋": "building", "零散": "scattered"},
    "status": {"已建": "operating", "在营": "operating", "拟建": "planned", "办结": "closed",
               "未结": "open", "处理中": "open"},
}

POLYGONAL = ("Polygon", "MultiPolygon")
POINT = ("Point",)
LINEAR = ("LineString", "MultiLineString")

LON_ALIASES = ("lon", "lng", "long", "longitude", "经度", "东经", "x", "x坐标", "横坐标")
LAT_ALIASES = ("lat", "latitude", "纬度", "北纬", "y", "y坐标", "纵坐标")

# China's extent, with a margin: coordinates outside are not lon/lat in China.
_CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)


# Optional five-year age bands of a grid's residents (planning projections, `analysis.projection`). When the
# 60+ bands are given they must add up to ``elderly``; ``aged_55_59`` feeds the projection's new aged 60-64.
AGE_BAND_ALIASES: dict[str, tuple[str, ...]] = {
    "aged_55_59": ("55-59岁", "55—59岁", "55~59岁", "55至59岁"),
    "aged_60_64": ("60-64岁", "60—64岁", "60~64岁", "60至64岁"),
    "aged_65_69": ("65-69岁", "65—69岁", "65~69岁", "65至69岁"),
    "aged_70_74": ("70-74岁", "70—74岁", "70~74岁", "70至74岁"),
    "aged_75_79": ("75-79岁", "75—79岁", "75~79岁", "75至79岁"),
    "aged_80_plus": ("80岁及以上", "80岁以上", "80+岁", "80岁+"),
}
AGE_BANDS: tuple[str, ...] = tuple(AGE_BAND_ALIASES)
"""Every band, youngest first."""
ELDERLY_BANDS: tuple[str, ...] = AGE_BANDS[1:]
"""The bands that make up ``elderly`` (aged 60+)."""


@dataclass(frozen=True)
class Column:
    """One column of a layer: its kind, whether it must be there, its Chinese headers."""

    name: str
    kind: str  # "str" | "int" | "float" | "datetime" | "bool"
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    unique: bool = False
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class LayerSchema:
    """A layer: geometry kinds it accepts and its columns."""

    name: str
    title_zh: str
    geometry: tuple[str, ...]
    columns: tuple[Column, ...]
    required_in_dataset: bool = False
    id_column: str | None = None
    extra_checks: tuple[str, ...] = field(default=())

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


LAYERS: dict[str, LayerSchema] = {
    "grids": LayerSchema(
        name="grids",
        title_zh="网格",
        geometry=POLYGONAL,
        required_in_dataset=True,
        id_column="grid_id",
        columns=(
            Column("grid_id", "str", True, ("网格编号", "网格编码", "网格ID"), unique=True),
            Column("street", "str", True, ("街道", "街道名称")),
            Column("community", "str", True, ("社区", "社区名称")),
            Column("households", "int", True, ("户数", "住户数"), min_value=0),
            Column("population", "int", True, ("人口", "常住人口", "总人口"), min_value=0),
            Column("elderly", "int", True, ("老年人口", "60岁以上人口", "老年人数"), min_value=0),
            Column("grid_name", "str", False, ("网格名称",)),
            Column("grid_worker", "str", False, ("网格员",)),
            *(Column(band, "int", False, aliases, min_value=0) for band, aliases in AGE_BAND_ALIASES.items()),
        ),
        extra_checks=("elderly_le_population", "age_bands_sum"),
    ),
    "facilities": LayerSchema(
        name="facilities",
        title_zh="服务设施",
        geometry=POINT,
        required_in_dataset=True,
        id_column="facility_id",
        columns=(
            Column("facility_id", "str", True, ("设施编号", "编号"), unique=True),
            Column("name", "str", True, ("名称", "设施名称")),
            Column("type", "str", True, ("类型", "设施类型"), choices=tuple(FACILITY_TYPES)),
            Column("capacity", "float", False, ("容量", "床位数", "服务能力"), min_value=0),
            Column("status", "str", False, ("状态", "运营状态"), choices=tuple(FACILITY_STATUS)),
            Column("street", "str", False, ("街道",)),
            # operating from opened_on to closed_on (analysis.history.operating_mask: coverage at a month's end)
            Column("opened_on", "datetime", False, ("开业日期", "启用日期", "开业时间", "启用时间")),
            Column("closed_on", "datetime", False, ("停业日期", "停用日期", "停业时间")),
        ),
    ),
    "estates": LayerSchema(
        name="estates",
        title_zh="小区",
        geometry=POLYGONAL + POINT,
        id_column="estate_id",
        columns=(
            Column("estate_id", "str", True, ("小区编号", "编号"), unique=True),
            Column("name", "str", True, ("小区名称", "名称")),
            Column("households", "int", True, ("户数", "住户数"), min_value=0),
            Column("management", "str", True, ("管理方式", "物业管理"), choices=tuple(MANAGEMENT)),
            Column("street", "str", False, ("街道",)),
            Column("community", "str", False, ("社区",)),
            Column("built_year", "int", False, ("建成年份", "建成年代"), min_value=1900),
            Column("committee_formed_on", "datetime", False, ("业委会成立日期", "业委会成立时间")),
            Column("governance_stage", "str", False, ("治理阶段", "自治进度", "推进阶段"),
                   choices=tuple(GOVERNANCE_STAGES)),
            Column("rules_adopted_on", "datetime", False, ("规约通过日期", "规约通过时间", "管理规约通过日期")),
            Column("managed_on", "datetime", False, ("引入物业日期", "自管日期", "引入物业或自管日期")),
            Column("fees_started_on", "datetime", False, ("收费启动日期", "启动收费日期", "收费日期")),
            Column("self_gov_model", "str", False, ("自治模式", "自治类型"), choices=tuple(SELF_GOV_MODELS)),
            Column("satisfaction", "float", False, ("满意度", "业主满意度"), min_value=0, max_value=100),
            Column("property_company", "str", False, ("物业公司", "物业企业", "物业服务企业")),
        ),
        extra_checks=("stage_dates_in_order",),
    ),
    "cases": LayerSchema(
        name="cases",
        title_zh="网格事件",
        geometry=POINT,
        id_column="case_id",
        columns=(
            Column("case_id", "str", True, ("事件编号", "案件编号", "编号"), unique=True),
            Column("category", "str", True, ("事件类别", "类别", "事件类型")),
            Column("reported_at", "datetime", True, ("上报时间", "受理时间")),
            Column("status", "str", True, ("状态", "办理状态"), choices=tuple(CASE_STATUS)),
            Column("deadline", "datetime", False, ("办结时限", "处置时限", "截止时间")),
            Column("closed_at", "datetime", False, ("办结时间", "结案时间")),
            Column("source", "str", False, ("来源", "事件来源")),
            Column("responsible_unit", "str", False, ("责任单位", "承办单位")),
            Column("grid_id", "str", False, ("网格编号",)),
            Column("description", "str", False, ("描述", "事件描述", "问题描述")),
            Column("reporter_phone", "str", False, ("联系电话", "上报人电话")),
        ),
        extra_checks=("closed_after_reported",),
    ),
    "candidates": LayerSchema(
        name="candidates",
        title_zh="候选站点",
        geometry=POINT,
        id_column="site_id",
        columns=(
            Column("site_id", "str", True, ("站点编号", "编号"), unique=True),
            Column("name", "str", True, ("名称", "站点名称")),
            Column("capacity", "float", False, ("容量",), min_value=0),
            Column("cost", "float", False, ("造价", "成本", "费用"), min_value=0),
        ),
    ),
    "roads": LayerSchema(
        name="roads",
        title_zh="道路",
        geometry=LINEAR,
        columns=(Column("walkable", "bool", False, ("可步行",)),),
    ),
}

LAYER_NAMES: tuple[str, ...] = tuple(LAYERS)


# Headers that carry a point's coordinates or a geometry as text (WKT or GeoJSON), besides the layer's
# own columns. The mapping of a file's headers names them by these roles.
ROLE_LON, ROLE_LAT, ROLE_WKT = "lon", "lat", "wkt"
GEOMETRY_ROLES: tuple[str, ...] = (ROLE_LON, ROLE_LAT, ROLE_WKT)
WKT_ALIASES = ("wkt", "geometry", "geom", "geojson", "shape", "几何", "几何图形", "空间信息", "边界", "范围", "坐标串")

_ROWS_SHOWN = 10
_VALUES_SHOWN = 5


def _norm_header(h: object) -> str:
    return str(h).strip().replace("\u3000", "").replace(" ", "").lower()


def match_headers(headers: list[str] | pd.Index, layer: str, *, geometry_column: bool = False) -> dict[str, str | None]:
    """Which column of ``layer`` each of a file's headers fills (``None``: not used, kept as an extra column).

    Schema names and their Chinese aliases are recognised whatever their case and spacing; for a
    table without a geometry column, 经度/纬度 (and aliases) become the ``lon``/``lat`` roles and a
    WKT or GeoJSON text column the ``wkt`` role. Each target is filled by the first header that matches.
    """
    schema = _schema(layer)
    out: dict[str, str | None] = {str(h): None for h in headers}
    taken: set[str] = set()
    by_key: dict[str, str] = {}
    for h in out:
        by_key.setdefault(_norm_header(h), h)
    targets: list[tuple[str, tuple[str, ...]]] = [(c.name, (c.name, *c.aliases)) for c in schema.columns]
    if not geometry_column:
        if "Point" in schema.geometry:
            targets += [(ROLE_LON, LON_ALIASES), (ROLE_LAT, LAT_ALIASES)]
        targets.append((ROLE_WKT, WKT_ALIASES))
    # exact schema names first, so a file with both `name` and 名称 keeps `name` for the column
    for exact_pass in (True, False):
        for target, aliases in targets:
            if target in taken:
                continue
            for alias in aliases[:1] if exact_pass else aliases:
                h = by_key.get(_norm_header(alias))
                if h is not None and out[h] is None:
                    out[h] = target
                    taken.add(target)
                    break
    return out


def _schema(layer: str) -> LayerSchema:
    if layer not in LAYERS:
        raise bad_choice("layer", layer, LAYER_NAMES)
    return LAYERS[layer]


def _row_numbers(mask: np.ndarray) -> list[int]:
    return [int(i) + 1 for i in np.flatnonzero(mask)]


def _rows_text(rows: list[int], limit: int = _ROWS_SHOWN) -> str:
    head = ", ".join(str(r) for r in rows[:limit])
    return head + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _rows_param(rows: list[int]) -> str:
    """Row numbers as both languages show them: the first ten, then an ellipsis."""
    return ", ".join(str(r) for r in rows[:_ROWS_SHOWN]) + (", …" if len(rows) > _ROWS_SHOWN else "")


def _cell_text(values: pd.Series) -> pd.Series:
    """Cells as text, an empty cell as —."""
    return values.astype("string").fillna("—").str.strip().replace("", "—")


def _distinct(values: pd.Series, mask: np.ndarray) -> list[str]:
    seen: list[str] = []
    for v in values[mask]:
        text = f"{v:g}" if isinstance(v, float) and v.is_integer() else str(v)
        if text not in seen:
            seen.append(text)
        if len(seen) == _VALUES_SHOWN:
            break
    return seen


@dataclass
class _Collector:
    """Problems of one layer, each with its code, rows, column (schema and file header) and values."""

    layer: str
    sources: dict[str, str]  # schema column -> the file's header
    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, fix: str, *, mask: np.ndarray | None = None, column: str | None = None,
            values: list[str] | None = None, source_column: str | None = None, **params) -> None:
        rows = _row_numbers(mask) if mask is not None else []
        if len(rows) > 1:
            message = f"{message} (rows {_rows_text(rows)})"
        if rows:
            params = {"rows": _rows_param(rows), "count": len(rows), **params}
        if values is not None:
            params = {"values": ", ".join(values), **params}
        src = source_column or (self.sources.get(column) if column else None)
        self.problems.append(Problem(
            self.layer, message, fix, row=rows[0] if len(rows) == 1 else None, column=column, code=code,
            params=params, source_column=src if src != column else None,
            value=", ".join(values) if values else None))


def _coerce(series: pd.Series, col: Column) -> tuple[pd.Series, np.ndarray]:
    """Convert a column to its kind; return it and a mask of values that would not convert."""
    if col.kind == "str":
        return _text_column(series), np.zeros(len(series), dtype=bool)
    present = series.notna() & (series.astype("string").str.strip() != "")
    if col.kind in ("int", "float"):
        num = pd.to_numeric(series, errors="coerce")
        bad = (present & num.isna()).to_numpy()
        if col.kind == "int":
            frac = present & num.notna() & (num.round() != num)
            bad |= frac.to_numpy()
            num = num.where(~frac).round().astype("Int64")
        return num, bad
    if col.kind == "datetime":
        return parse_datetimes(series)
    if col.kind == "bool":
        truthy = {"1", "true", "yes", "y", "是", "t"}
        falsy = {"0", "false", "no", "n", "否", "f"}
        text = series.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=series.index, dtype="boolean")
        out[text.isin(truthy).fillna(False)] = True
        out[text.isin(falsy).fillna(False)] = False
        bad = (present & out.isna()).to_numpy()
        return out, bad
    raise bad_choice("kind", col.kind, ("str", "int", "float", "datetime", "bool"))


def _degrees(series: pd.Series) -> pd.Series:
    """A lon or lat column as float64, a cell that is not a number NaN (``pd.to_numeric(errors="coerce")``).
    Text in Arrow is cast by Arrow when every cell is a number (the usual case; the same correctly rounded
    doubles, without a Python string per cell); any other cell sends the column to pandas, as before."""
    arr = getattr(series.array, "_pa_array", None)
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            try:
                values = pc.cast(arr, pa.float64()).to_numpy()
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
            else:
                return pd.Series(values, index=series.index, dtype="float64")
    return pd.to_numeric(series, errors="coerce")


def _text_column(series: pd.Series) -> pd.Series:
    """A text column: `as_text`, stripped, an empty cell missing. Text in Arrow that is already so (what the
    CSV reader gives) is kept as it is, not copied: a million cells are checked in Arrow, not rewritten."""
    out = as_text(series)
    arr = getattr(out.array, "_pa_array", None)
    if arr is not None:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        stripped = pc.utf8_trim_whitespace(arr)
        same = pc.all(pc.equal(pc.binary_length(stripped), pc.binary_length(arr))).as_py() is not False
        if same and not pc.any(pc.equal(arr, "")).as_py():
            return out
        del stripped, arr
    out = out.str.strip()
    return out.where(out.notna() & (out != ""), pd.NA)


_NOT_KIND = {
    "int": ("data.not_integer", "not a whole number", "enter a whole number such as 120"),
    "float": ("data.not_number", "not a number", "enter a number such as 30 or 12.5"),
    "datetime": ("data.not_date", "not a date", "enter a date such as 2024-05-01 or 2024-05-01 09:30"),
    "bool": ("data.not_boolean", "not yes or no", "enter 是 or 否 (yes or no)"),
}


# Chinese label of each code, per coded column.
_CODE_LABELS: dict[str, dict[str, str]] = {
    "type": FACILITY_TYPES, "status": {**FACILITY_STATUS, **CASE_STATUS}, "management": MANAGEMENT,
    "governance_stage": GOVERNANCE_STAGES, "self_gov_model": SELF_GOV_MODELS,
}


def _choice_map(col: Column) -> dict[str, str]:
    labels: dict[str, str] = {}
    table = _CODE_LABELS.get(col.name, {})
    for code in col.choices or ():
        labels[code] = code
        labels[code.lower()] = code
        if code in table:
            labels[table[code]] = code
    for alias, code in _VALUE_ALIASES.get(col.name, {}).items():
        if code in (col.choices or ()):
            labels[alias] = code
    return labels


def _map_choices(values: pd.Series, col: Column) -> pd.Series:
    """Each value's code (missing when not recognised); each distinct value is looked up once."""
    mapping = _choice_map(col)
    codes, uniques = pd.factorize(values.astype("string").str.strip(), use_na_sentinel=True)
    text = pd.Series(uniques, dtype="string")
    mapped = text.map(mapping).fillna(text.str.lower().map(mapping)).astype("string")
    return pd.Series(mapped.array.take(codes, allow_fill=True), index=values.index, dtype="string")


def value_mapping(values: pd.Series, layer: str, column: str) -> dict[str, str | None]:
    """Each distinct value of a coded column and the code it becomes (``None``: not recognised).

    ``日间照料中心`` -> ``day_care``, ``无物业管理`` -> ``unmanaged``, ``已办结`` -> ``closed``.
    """
    col = _schema(layer).column(column)
    if col.choices is None:
        raise bad_choice("column", column, tuple(c.name for c in _schema(layer).columns if c.choices is not None))
    distinct = pd.Series(values.dropna().astype("string").str.strip().unique(), dtype="string")
    distinct = distinct[distinct != ""]
    mapped = _map_choices(distinct, col)
    return {str(v): (None if pd.isna(m) else str(m)) for v, m in zip(distinct, mapped, strict=True)}


def coded_columns(layer: str) -> tuple[str, ...]:
    """Columns of ``layer`` whose values are codes (type, status, management)."""
    return tuple(c.name for c in _schema(layer).columns if c.choices is not None)


def _parse_geometry_text(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Geometries from WKT or GeoJSON text; and the mask of non-empty texts that would not parse."""
    text = series.astype("string").str.strip()
    present = (text.notna() & (text != "")).to_numpy()
    geoms = np.full(len(series), None, dtype=object)
    for i in np.flatnonzero(present):
        value = str(text.iloc[i])
        if value.startswith("{"):
            geoms[i] = shapely.from_geojson(value, on_invalid="ignore")
        else:
            geoms[i] = shapely.from_wkt(value, on_invalid="ignore")
    unreadable = present & np.array([g is None for g in geoms], dtype=bool)
    return geoms, unreadable


def _in_box(bounds: np.ndarray, box_: tuple[float, float, float, float]) -> np.ndarray:
    """Rows whose bounds (``shapely.bounds``: minx, miny, maxx, maxy) lie inside ``box_``."""
    minx, miny, maxx, maxy = box_
    return (bounds[:, 0] >= minx) & (bounds[:, 2] <= maxx) & (bounds[:, 1] >= miny) & (bounds[:, 3] <= maxy)


# shapely's geometry type ids (`shapely.get_type_id`) by geometry type name
_TYPE_IDS = {"Point": 0, "LineString": 1, "LinearRing": 2, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5,
             "MultiPolygon": 6, "GeometryCollection": 7}


def _repair(geoms: np.ndarray, accepted: tuple[str, ...]) -> np.ndarray:
    """``make_valid`` keeping polygons as polygons; None where the repair leaves nothing of an accepted kind."""
    out = np.full(len(geoms), None, dtype=object)
    for i, g in enumerate(geoms):
        if g.geom_type in POLYGONAL:
            fixed = shapely.make_valid(g, method="structure", keep_collapsed=False)
        else:
            fixed = shapely.make_valid(g)
        if fixed.geom_type == "GeometryCollection":
            parts = [p for p in shapely.get_parts(fixed) if p.geom_type in accepted]
            fixed = parts[0] if len(parts) == 1 else shapely.union_all(parts) if parts else None
        if fixed is not None and not fixed.is_empty and fixed.geom_type in accepted and fixed.is_valid:
            out[i] = fixed
    return out


@dataclass(frozen=True)
class CheckedLayer:
    """A validated layer in WGS84 with English columns, what was repaired, and how the headers were read.

    ``warnings`` are problems that were fixed rather than refused (invalid polygons repaired by
    ``make_valid``); ``columns`` maps each header of the input to the column or role it filled.
    """

    gdf: gpd.GeoDataFrame
    warnings: tuple[Problem, ...] = ()
    columns: dict[str, str | None] = field(default_factory=dict)


def validate_layer(
    data: pd.DataFrame | gpd.GeoDataFrame,
    layer: str,
    *,
    coord_sys: CoordSys = "wgs84",
    crs: object | None = None,
    columns: dict[str, str | None] | None = None,
) -> gpd.GeoDataFrame:
    """Check and normalise one layer; return it in WGS84 with English column names.

    Raises `DataError` listing every problem found; see `check_layer`.
    """
    return check_layer(data, layer, coord_sys=coord_sys, crs=crs, columns=columns).gdf


def check_layer(
    data: pd.DataFrame | gpd.GeoDataFrame,
    layer: str,
    *,
    coord_sys: CoordSys = "wgs84",
    crs: object | None = None,
    columns: dict[str, str | None] | None = None,
) -> CheckedLayer:
    """Check and normalise one layer; return it in WGS84 with English columns, and the repairs made.

    ``coord_sys`` is the datum of lon/lat values (``gcj02`` for Amap/Tencent, ``bd09`` for Baidu);
    ``crs`` the coordinate system of coordinates that carry none (a CSV's x/y in EPSG:4547), or one
    that overrides the file's; ``columns`` the mapping of the input's headers to schema columns and
    the ``lon``/``lat``/``wkt`` roles (default: `match_headers`).

    Raises `DataError` listing every problem found (missing columns, empty or malformed values,
    unknown codes, duplicate ids, wrong or unrepairable geometry, swapped lon/lat, coordinates
    outside China), each with its code, rows, column (schema name and the file's header) and values.
    """
    schema = _schema(layer)
    has_geometry = isinstance(data, gpd.GeoDataFrame) and data.geometry.name in data.columns
    frame = pd.DataFrame(data).copy()
    if has_geometry:
        geom_name = data.geometry.name
        geom = gpd.GeoSeries(data.geometry.values, index=frame.index, crs=data.crs)
        frame = frame.drop(columns=[geom_name])
    else:
        geom = None
    mapping = dict(columns) if columns is not None else match_headers(list(frame.columns), layer,
                                                                       geometry_column=has_geometry)
    targets = {target: src for src, target in mapping.items() if target and src in frame.columns}
    sources = {target: str(src) for target, src in targets.items()}
    out = _Collector(layer, sources)
    warnings = _Collector(layer, sources)
    df = frame.rename(columns={src: target for target, src in targets.items()
                               if target not in GEOMETRY_ROLES and src != target})
    n = len(df)

    # Geometry: a geometry column, lon/lat columns for point layers, or WKT/GeoJSON text.
    no_coords = np.zeros(n, dtype=bool)  # rows already reported for missing lon/lat or unreadable text
    lon_src, lat_src, wkt_src = targets.get(ROLE_LON), targets.get(ROLE_LAT), targets.get(ROLE_WKT)
    if geom is None and "Point" in schema.geometry and lon_src is not None and lat_src is not None:
        lon, lat = _degrees(frame[lon_src]), _degrees(frame[lat_src])
        bad = (lon.isna() | lat.isna()).to_numpy()
        if bad.any():
            out.add("data.lonlat_not_number", "longitude/latitude missing or not a number",
                    "enter decimal degrees such as 113.15 and 27.87", mask=bad, column=f"{ROLE_LON}/{ROLE_LAT}",
                    source_column=f"{lon_src}/{lat_src}",
                    values=_distinct(_cell_text(frame[lon_src]) + ", " + _cell_text(frame[lat_src]), bad))
        sources["geometry"] = f"{lon_src}/{lat_src}"
        geom = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=df.index, crs=None)
        geom[bad] = None
        no_coords = bad
        df = df.drop(columns=[c for c in (lon_src, lat_src) if c in df.columns])
    elif geom is None and wkt_src is not None:
        parsed, unreadable = _parse_geometry_text(frame[wkt_src])
        if unreadable.any():
            out.add("data.geometry_unreadable", "geometry text is neither WKT nor GeoJSON",
                    "write the shape as WKT, such as POLYGON((113.1 27.8, ...)), or as GeoJSON",
                    mask=unreadable, column=ROLE_WKT, source_column=str(wkt_src),
                    values=[v[:60] for v in _distinct(frame[wkt_src].astype(str), unreadable)])
        sources["geometry"] = str(wkt_src)
        geom = gpd.GeoSeries(parsed, index=df.index, crs=None)
        no_coords = unreadable
        df = df.drop(columns=[wkt_src])
    elif geom is None:
        fix = ("add 经度/纬度 (lon/lat) columns" if "Point" in schema.geometry
               else "load it from a GeoPackage, Shapefile or GeoJSON with polygon geometry, or add a WKT column")
        out.add("data.geometry_missing", "no geometry found", fix,
                expected=" / ".join(schema.geometry))
    if geom is not None and crs is not None:
        geom = geom.set_crs(crs, allow_override=True)

    # Columns.
    for col in schema.columns:
        if col.name not in df.columns:
            if col.required:
                names = " / ".join((col.name, *col.aliases))
                out.add("data.column_missing", "required column is missing", f"add a column named {names}",
                        column=col.name, names=names)
            continue
        raw = df[col.name]
        values, bad = _coerce(raw, col)
        if bad.any():
            code, kind, fix = _NOT_KIND[col.kind]
            seen = _distinct(raw, bad)
            out.add(code, f"{kind}: {', '.join(map(repr, seen))}", fix, mask=bad, column=col.name, values=seen)
        if col.required:
            missing = values.isna().to_numpy() & ~bad
            if missing.any():
                out.add("data.empty_value", "empty cell", "fill in every cell of this column",
                        mask=missing, column=col.name)
        if col.choices is not None:
            mapped = _map_choices(values, col)
            unknown = (values.notna() & mapped.isna()).to_numpy()
            if unknown.any():
                seen = _distinct(values, unknown)
                out.add("data.unknown_value", f"unknown value(s) {', '.join(map(repr, seen))}",
                        f"use one of {', '.join(col.choices)}", mask=unknown, column=col.name, values=seen,
                        choices=", ".join(col.choices),
                        labels="、".join(_choice_labels(col)))
            values = mapped
        if col.min_value is not None and col.kind in ("int", "float"):
            low = (values.notna() & (values.astype("Float64") < col.min_value)).fillna(False).to_numpy()
            if low.any():
                out.add("data.below_minimum", f"value(s) below {col.min_value:g}",
                        f"enter a value of at least {col.min_value:g}", mask=low, column=col.name,
                        values=_distinct(raw, low), minimum=f"{col.min_value:g}")
        if col.max_value is not None and col.kind in ("int", "float"):
            high = (values.notna() & (values.astype("Float64") > col.max_value)).fillna(False).to_numpy()
            if high.any():
                out.add("data.above_maximum", f"value(s) above {col.max_value:g}",
                        f"enter a value of at most {col.max_value:g}", mask=high, column=col.name,
                        values=_distinct(raw, high), maximum=f"{col.max_value:g}")
        if col.unique:
            dup = (values.duplicated(keep=False) & values.notna()).to_numpy()
            if dup.any():
                ids = sorted({str(v) for v in values[dup]})[:_VALUES_SHOWN]
                out.add("data.duplicate_id", f"duplicate id(s) {', '.join(ids)}", "give every row its own id",
                        mask=dup, column=col.name, values=ids)
        df[col.name] = values

    # Cross-column checks.
    if "elderly_le_population" in schema.extra_checks and {"elderly", "population"} <= set(df.columns):
        over = (df["elderly"].astype("Float64") > df["population"].astype("Float64")).fillna(False).to_numpy()
        if over.any():
            out.add("data.elderly_exceeds_population", "aged 60+ exceeds population",
                    "check the elderly and population figures", mask=over, column="elderly")
    if "age_bands_sum" in schema.extra_checks:
        _check_age_bands(df, out)
    if "closed_after_reported" in schema.extra_checks and {"closed_at", "reported_at"} <= set(df.columns):
        early = (df["closed_at"] < df["reported_at"]).fillna(False).to_numpy()
        if early.any():
            out.add("data.closed_before_reported", "closed before reported", "check the two dates", mask=early,
                    column="closed_at")

    if "stage_dates_in_order" in schema.extra_checks:
        dated = [(stage, col) for stage, col in STAGE_DATE_COLUMNS.items() if col in df.columns]
        for (stage_a, col_a), (stage_b, col_b) in zip(dated, dated[1:], strict=False):
            early = (df[col_b] < df[col_a]).fillna(False).to_numpy()
            if early.any():
                out.add("data.stage_dates_out_of_order", f"{col_b} is before {col_a}",
                        "a later stage cannot be reached before an earlier one: check the two dates", mask=early,
                        column=col_b, earlier=col_a, later=col_b, earlier_stage=GOVERNANCE_STAGES[stage_a],
                        later_stage=GOVERNANCE_STAGES[stage_b])

    give_back()  # what the columns' conversions freed, before the geometry's checks allocate theirs
    if geom is not None:
        gdf = _check_geometry(geom, df, schema, out, warnings, no_coords, coord_sys)
    else:
        gdf = gpd.GeoDataFrame(df)

    if out.problems:
        raise DataError(out.problems)
    keep = [c.name for c in schema.columns if c.name in gdf.columns] + [gdf.geometry.name]
    extra = [c for c in gdf.columns if c not in keep]
    result = gdf[keep + extra].set_crs(WGS84, allow_override=True)
    if result.geometry.name != "geometry":
        result = result.rename_geometry("geometry")
    return CheckedLayer(result.reset_index(drop=True), tuple(warnings.problems), mapping)


_BAND_ROWS_SHOWN = 20


def _check_age_bands(df: pd.DataFrame, out: _Collector) -> None:
    """The 60+ bands, when any is given: all five columns, adding up to ``elderly`` on every row.

    A missing band column is one problem (``data.age_bands_incomplete``); each row whose bands (a blank
    band counts as not adding up) differ from ``elderly`` is one problem (``data.age_bands_sum``) naming
    the row, the bands' sum and the ``elderly`` figure, the first `_BAND_ROWS_SHOWN` rows one by one and
    the rest in one more problem.
    """
    given = [b for b in ELDERLY_BANDS if b in df.columns]
    if not given:
        return
    missing = [b for b in ELDERLY_BANDS if b not in df.columns]
    if missing:
        out.add("data.age_bands_incomplete", f"age bands {', '.join(missing)} are missing",
                "give every 60+ band (60-64岁 … 80岁及以上) or none", column=missing[0],
                missing=", ".join(missing))
        return
    if "elderly" not in df.columns:
        return
    bands = df[list(ELDERLY_BANDS)].astype("Float64")
    total = bands.sum(axis=1, skipna=False)
    elderly = df["elderly"].astype("Float64")
    wrong = (total.isna() | (total != elderly)).fillna(False).to_numpy() & elderly.notna().to_numpy()
    rows = np.flatnonzero(wrong)
    for i in rows[:_BAND_ROWS_SHOWN]:
        mask = np.zeros(len(df), dtype=bool)
        mask[i] = True
        s = "—" if pd.isna(total.iloc[i]) else f"{total.iloc[i]:g}"
        e = f"{elderly.iloc[i]:g}"
        out.add("data.age_bands_sum", f"the 60+ age bands add up to {s} but elderly is {e}",
                "make aged_60_64 … aged_80_plus add up to elderly", mask=mask, column="elderly",
                bands_sum=s, elderly=e)
    if len(rows) > _BAND_ROWS_SHOWN:
        mask = np.zeros(len(df), dtype=bool)
        mask[rows[_BAND_ROWS_SHOWN:]] = True
        out.add("data.age_bands_sum_more", "the 60+ age bands do not add up to elderly on these rows either",
                "make aged_60_64 … aged_80_plus add up to elderly", mask=mask, column="elderly")


def _choice_labels(col: Column) -> list[str]:
    labels = _CODE_LABELS.get(col.name, {})
    return [labels.get(code, code) for code in col.choices or ()]


def _check_geometry(geom: gpd.GeoSeries, df: pd.DataFrame, schema: LayerSchema, out: _Collector,
                    warnings: _Collector, no_coords: np.ndarray, coord_sys: CoordSys) -> gpd.GeoDataFrame:
    """Empty, wrong-kind, invalid (repaired if it can be), swapped and out-of-China geometry; WGS84 result."""
    geom = geom.copy()
    type_ids = shapely.get_type_id(np.asarray(geom.values))  # small integers, not a name per row
    empty = geom.isna().to_numpy() | geom.is_empty.fillna(True).to_numpy()
    wrong = ~empty & ~np.isin(type_ids, [_TYPE_IDS[t] for t in schema.geometry])
    if (empty & ~no_coords).any():
        out.add("data.geometry_empty", "empty geometry", "draw or locate every feature",
                mask=empty & ~no_coords, column="geometry", expected=" / ".join(schema.geometry))
    if wrong.any():
        kinds = sorted(set(geom[wrong].geom_type.astype(str)))
        out.add("data.geometry_wrong_type", f"geometry is {', '.join(kinds)}",
                f"this layer needs {' or '.join(schema.geometry)}", mask=wrong, column="geometry", values=kinds,
                expected=" / ".join(schema.geometry))
    ok = ~empty & ~wrong
    invalid = np.zeros(len(geom), dtype=bool)
    if ok.any():
        invalid[ok] = ~shapely.is_valid(geom.values[ok])
    if invalid.any():
        reasons = sorted({shapely.is_valid_reason(g) for g in geom.values[invalid][:3]})
        fixed = _repair(np.asarray(geom.values[invalid], dtype=object), schema.geometry)
        repaired = invalid.copy()
        repaired[invalid] = np.array([g is not None for g in fixed], dtype=bool)
        if repaired.any():
            geom.values[repaired] = fixed[repaired[invalid]]
            warnings.add("data.geometry_repaired", f"invalid geometry repaired ({'; '.join(reasons)})",
                         "check the repaired shapes on the preview map", mask=repaired, column="geometry",
                         reasons="; ".join(reasons))
        failed = invalid & ~repaired
        if failed.any():
            out.add("data.geometry_invalid", f"invalid geometry ({'; '.join(reasons)})",
                    "repair it (for example QGIS 'Fix geometries') and load again", mask=failed, column="geometry",
                    reasons="; ".join(reasons))
        ok &= ~failed
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs=geom.crs)
    # Coordinates are checked on every usable row even when other problems were found,
    # so the clerk sees them all in one pass.
    if not ok.any():
        return gdf
    try:  # every row usable (the usual case): the frame itself, not a copy of every column
        converted = to_wgs84(gdf if ok.all() else gdf[ok], coord_sys=coord_sys)
    except Exception as exc:  # pyproj raises several kinds
        out.add("data.crs_unusable", f"cannot convert coordinates to WGS84 ({exc})", "give the file a valid CRS",
                column="geometry", reason=str(exc))
        return gdf
    b = shapely.bounds(np.asarray(converted.geometry.values))
    minx, miny, maxx, maxy = _CHINA_BOUNDS
    inside = np.ones(len(gdf), dtype=bool)
    swapped = np.zeros(len(gdf), dtype=bool)
    inside[ok] = _in_box(b, _CHINA_BOUNDS)
    swapped[ok] = _in_box(b, (miny, minx, maxy, maxx))
    swapped &= ~inside
    if swapped.any():
        out.add("data.lonlat_swapped", "longitude and latitude are swapped",
                "exchange the two columns (or the X/Y axis order): longitude is the larger number, 73–136 in China",
                mask=swapped, column="geometry", values=_coords_text(gdf.geometry.values, swapped))
    outside = ~inside & ~swapped
    if outside.any():
        out.add("data.outside_china", "coordinates outside China",
                "check that the file's coordinate system is set (or chosen) correctly",
                mask=outside, column="geometry", values=_coords_text(converted.geometry.reindex(gdf.index).values,
                                                                     outside))
    if ok.all():
        return converted
    return gdf


def _coords_text(geoms: np.ndarray, mask: np.ndarray) -> list[str]:
    out = []
    for g in np.asarray(geoms, dtype=object)[mask][:_VALUES_SHOWN]:
        if g is None:
            continue
        p = g if g.geom_type == "Point" else g.representative_point()
        out.append(f"{p.x:.6g}, {p.y:.6g}")
    return out


# --- templates: one example row per layer, under the Chinese headers clerks use -------------------------

_EXAMPLES: dict[str, dict[str, object]] = {
    "grids": {"grid_id": "ZHL-001", "street": "中华路街道", "community": "昙华林社区", "households": 420,
              "population": 1130, "elderly": 260, "grid_name": "昙华林第一网格", "grid_worker": "张三",
              "aged_55_59": 95, "aged_60_64": 80, "aged_65_69": 70, "aged_70_74": 50, "aged_75_79": 35,
              "aged_80_plus": 25},
    "facilities": {"facility_id": "F001", "name": "昙华林社区日间照料中心", "capacity": 30, "street": "中华路街道"},
    "estates": {"estate_id": "E001", "name": "昙华林小区", "households": 360, "street": "中华路街道",
                "community": "昙华林社区", "built_year": 1995, "management": "无物业管理", "committee_formed_on": "2023-06-01"},
    "cases": {"case_id": "C20240501001", "category": "市容环境", "status": "已办结", "reported_at": "2024-05-01 09:30",
              "deadline": "2024-05-03 09:30", "closed_at": "2024-05-02 16:00", "source": "网格员上报",
              "responsible_unit": "中华路街道城管中队", "grid_id": "ZHL-001", "description": "路边堆放垃圾",
              "reporter_phone": "027-8888 0000"},
    "candidates": {"site_id": "S001", "name": "昙华林社区党群服务中心一楼", "capacity": 30, "cost": 80},
    "roads": {"walkable": "是"},
}
_EXAMPLE_POINT = (114.3102, 30.5521)
_EXAMPLE_WKT = {
    "Polygon": "POLYGON((114.309 30.551, 114.312 30.551, 114.312 30.553, 114.309 30.553, 114.309 30.551))",
    "LineString": "LINESTRING(114.309 30.551, 114.312 30.553)",
}
_KIND_EXAMPLES: dict[str, object] = {"str": "示例", "int": 1, "float": 1.0, "datetime": "2024-05-01", "bool": "是"}


def header_of(col: Column) -> str:
    """The Chinese header a template uses for a column (its first alias)."""
    return col.aliases[0] if col.aliases else col.name


def template_table(layer: str) -> pd.DataFrame:
    """A layer's template: Chinese headers and one example row that passes validation.

    Points are given as 经度/纬度 (WGS84); polygons and lines as a WKT column.
    """
    schema = _schema(layer)
    examples = _EXAMPLES.get(layer, {})
    row: dict[str, object] = {}
    for col in schema.columns:
        if col.name in examples:
            value: object = examples[col.name]
        elif col.choices is not None:
            value = _choice_labels(col)[0]
        else:
            value = _KIND_EXAMPLES[col.kind] if col.required else ""
        row[header_of(col)] = value
    if "Point" in schema.geometry:
        row["经度"], row["纬度"] = _EXAMPLE_POINT
    else:
        row["WKT"] = _EXAMPLE_WKT["Polygon" if "Polygon" in schema.geometry else "LineString"]
    return pd.DataFrame([row])
