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

from geo.crs import WGS84, CoordSys, to_wgs84
from geo.errors import DataError, Problem

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

LON_ALIASES = ("lon", "lng", "longitude", "经度", "x", "X")
LAT_ALIASES = ("lat", "latitude", "纬度", "y", "Y")

# China's extent, with a margin: coordinates outside are not lon/lat in China.
_CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)


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
        ),
        extra_checks=("elderly_le_population",),
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


def _norm_header(h: object) -> str:
    return str(h).strip().replace("\u3000", "").replace(" ", "")


def _rename_aliases(df: pd.DataFrame, schema: LayerSchema) -> pd.DataFrame:
    mapping: dict[str, str] = {}
    present = {_norm_header(c): c for c in df.columns}
    for col in schema.columns:
        if col.name in df.columns:
            continue
        for alias in (col.name, *col.aliases):
            key = _norm_header(alias)
            if key in present and present[key] not in mapping:
                mapping[present[key]] = col.name
                break
    return df.rename(columns=mapping)


def _lonlat_columns(df: pd.DataFrame) -> tuple[str | None, str | None]:
    cols = {_norm_header(c): c for c in df.columns}
    lon = next((cols[a] for a in LON_ALIASES if a in cols), None)
    lat = next((cols[a] for a in LAT_ALIASES if a in cols), None)
    return lon, lat


def _row_numbers(mask: np.ndarray) -> list[int]:
    return [int(i) + 1 for i in np.flatnonzero(mask)]


def _rows_text(rows: list[int], limit: int = 10) -> str:
    head = ", ".join(str(r) for r in rows[:limit])
    return head + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _coerce(series: pd.Series, col: Column) -> tuple[pd.Series, np.ndarray]:
    """Convert a column to its kind; return it and a mask of values that would not convert."""
    present = series.notna() & (series.astype("string").str.strip() != "")
    if col.kind == "str":
        out = series.astype("string").str.strip()
        out = out.where(present, pd.NA)
        return out, np.zeros(len(series), dtype=bool)
    if col.kind in ("int", "float"):
        num = pd.to_numeric(series, errors="coerce")
        bad = (present & num.isna()).to_numpy()
        if col.kind == "int":
            frac = present & num.notna() & (num.round() != num)
            bad |= frac.to_numpy()
            num = num.round().astype("Int64")
        return num, bad
    if col.kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            dt = series
        else:
            dt = pd.to_datetime(series.astype("string"), errors="coerce", format="mixed")
        if getattr(dt.dt, "tz", None) is not None:
            dt = dt.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        bad = (present & dt.isna()).to_numpy()
        return dt.astype("datetime64[ns]"), bad
    if col.kind == "bool":
        truthy = {"1", "true", "yes", "y", "是", "t"}
        falsy = {"0", "false", "no", "n", "否", "f"}
        text = series.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=series.index, dtype="boolean")
        out[text.isin(truthy).fillna(False)] = True
        out[text.isin(falsy).fillna(False)] = False
        bad = (present & out.isna()).to_numpy()
        return out, bad
    raise ValueError(f"unknown column kind {col.kind!r}")


def _choice_map(col: Column) -> dict[str, str]:
    labels: dict[str, str] = {}
    table = {"type": FACILITY_TYPES, "status": {**FACILITY_STATUS, **CASE_STATUS},
             "management": MANAGEMENT}.get(col.name, {})
    for code in col.choices or ():
        labels[code] = code
        labels[code.lower()] = code
        if code in table:
            labels[table[code]] = code
    for alias, code in _VALUE_ALIASES.get(col.name, {}).items():
        if code in (col.choices or ()):
            labels[alias] = code
    return labels


def validate_layer(
    data: pd.DataFrame | gpd.GeoDataFrame,
    layer: str,
    *,
    coord_sys: CoordSys = "wgs84",
) -> gpd.GeoDataFrame:
    """Check and normalise one layer; return it in WGS84 with English column names.

    Raises `DataError` listing every problem found (missing columns, empty or
    malformed values, unknown codes, duplicate ids, wrong or invalid geometry,
    coordinates outside China).
    """
    if layer not in LAYERS:
        raise ValueError(f"`layer` was {layer!r} but is expected to be one of {LAYER_NAMES}")
    schema = LAYERS[layer]
    problems: list[Problem] = []
    df = _rename_aliases(pd.DataFrame(data).copy(), schema)

    # Geometry: a geometry column, or lon/lat columns for point layers.
    geom = None
    no_lonlat = np.zeros(len(df), dtype=bool)  # rows already reported for missing lon/lat
    if isinstance(data, gpd.GeoDataFrame) and data.geometry.name in data.columns:
        geom = gpd.GeoSeries(data.geometry.values, index=df.index, crs=data.crs)
        df = df.drop(columns=[data.geometry.name])
    else:
        lon_col, lat_col = _lonlat_columns(df)
        if "Point" in schema.geometry and lon_col and lat_col:
            lon = pd.to_numeric(df[lon_col], errors="coerce")
            lat = pd.to_numeric(df[lat_col], errors="coerce")
            bad = (lon.isna() | lat.isna()).to_numpy()
            if bad.any():
                problems.append(Problem(
                    layer, f"longitude/latitude missing or not a number in rows {_rows_text(_row_numbers(bad))}",
                    "enter decimal degrees such as 113.15 and 27.87", column=f"{lon_col}/{lat_col}"))
            geom = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=df.index, crs=None)
            geom[bad] = None
            no_lonlat = bad
            df = df.drop(columns=[lon_col, lat_col])
        else:
            fix = ("add 经度/纬度 (lon/lat) columns" if "Point" in schema.geometry
                   else "load it from a GeoPackage, Shapefile or GeoJSON with polygon geometry")
            problems.append(Problem(layer, "no geometry found", fix))

    # Columns.
    for col in schema.columns:
        if col.name not in df.columns:
            if col.required:
                names = " / ".join((col.name, *col.aliases))
                problems.append(Problem(layer, "required column is missing", f"add a column named {names}",
                                        column=col.name))
            continue
        values, bad = _coerce(df[col.name], col)
        if bad.any():
            problems.append(Problem(
                layer, f"{int(bad.sum())} value(s) are not {col.kind} (rows {_rows_text(_row_numbers(bad))})",
                f"enter a {'whole number' if col.kind == 'int' else col.kind} in each cell", column=col.name))
        if col.required:
            missing = values.isna().to_numpy() & ~bad
            if missing.any():
                problems.append(Problem(
                    layer, f"{int(missing.sum())} empty value(s) (rows {_rows_text(_row_numbers(missing))})",
                    "fill in every cell of this column", column=col.name))
        if col.choices is not None:
            mapping = _choice_map(col)
            text = values.astype("string")
            lowered = text.str.lower()
            mapped = text.map(mapping).fillna(lowered.map(mapping))
            unknown = (text.notna() & mapped.isna()).to_numpy()
            if unknown.any():
                seen = sorted(set(text[unknown].astype(str)))[:5]
                problems.append(Problem(
                    layer, f"unknown value(s) {', '.join(map(repr, seen))} (rows {_rows_text(_row_numbers(unknown))})",
                    f"use one of {', '.join(col.choices)}", column=col.name))
            values = mapped.astype("string")
        if col.min_value is not None and col.kind in ("int", "float"):
            low = (values.notna() & (values.astype("Float64") < col.min_value)).fillna(False).to_numpy()
            if low.any():
                problems.append(Problem(
                    layer, f"value(s) below {col.min_value:g} (rows {_rows_text(_row_numbers(low))})",
                    f"enter a value of at least {col.min_value:g}", column=col.name))
        if col.max_value is not None and col.kind in ("int", "float"):
            high = (values.notna() & (values.astype("Float64") > col.max_value)).fillna(False).to_numpy()
            if high.any():
                problems.append(Problem(
                    layer, f"value(s) above {col.max_value:g} (rows {_rows_text(_row_numbers(high))})",
                    f"enter a value of at most {col.max_value:g}", column=col.name))
        if col.unique:
            dup = values.duplicated(keep=False) & values.notna()
            if dup.any():
                ids = sorted(set(values[dup].astype(str)))[:5]
                problems.append(Problem(
                    layer, f"duplicate id(s) {', '.join(ids)} (rows {_rows_text(_row_numbers(dup.to_numpy()))})",
                    "give every row its own id", column=col.name))
        df[col.name] = values

    # Cross-column checks.
    if "elderly_le_population" in schema.extra_checks and {"elderly", "population"} <= set(df.columns):
        over = (df["elderly"].astype("Float64") > df["population"].astype("Float64")).fillna(False).to_numpy()
        if over.any():
            problems.append(Problem(layer, f"aged 60+ exceeds population (rows {_rows_text(_row_numbers(over))})",
                                    "check the elderly and population figures", column="elderly"))
    if "closed_after_reported" in schema.extra_checks and {"closed_at", "reported_at"} <= set(df.columns):
        early = (df["closed_at"] < df["reported_at"]).fillna(False).to_numpy()
        if early.any():
            problems.append(Problem(layer, f"closed before reported (rows {_rows_text(_row_numbers(early))})",
                                    "check the two dates", column="closed_at"))

    if geom is not None:
        gtypes = geom.geom_type.to_numpy()
        empty = geom.isna().to_numpy() | geom.is_empty.fillna(True).to_numpy()
        wrong = ~empty & ~np.isin(gtypes, schema.geometry)
        if (empty & ~no_lonlat).any():
            problems.append(Problem(layer, f"empty geometry (rows {_rows_text(_row_numbers(empty & ~no_lonlat))})",
                                    "draw or locate every feature", column="geometry"))
        if wrong.any():
            kinds = sorted(set(gtypes[wrong].astype(str)))
            problems.append(Problem(
                layer, f"geometry is {', '.join(kinds)} (rows {_rows_text(_row_numbers(wrong))})",
                f"this layer needs {' or '.join(schema.geometry)}", column="geometry"))
        ok = ~empty & ~wrong
        invalid = np.zeros(len(geom), dtype=bool)
        if ok.any():
            invalid[ok] = ~shapely.is_valid(geom.values[ok])
        if invalid.any():
            reasons = {shapely.is_valid_reason(g) for g in geom.values[invalid][:3]}
            problems.append(Problem(
                layer, f"invalid geometry ({'; '.join(sorted(reasons))}) (rows {_rows_text(_row_numbers(invalid))})",
                "repair it (for example QGIS 'Fix geometries') and load again", column="geometry"))
        gdf = gpd.GeoDataFrame(df, geometry=geom, crs=geom.crs)
        # Coordinates are checked on every usable row even when other problems were found,
        # so the clerk sees them all in one pass.
        if ok.any():
            converted = None
            try:
                converted = to_wgs84(gdf[ok], coord_sys=coord_sys)
            except Exception as exc:  # pyproj raises several kinds
                problems.append(Problem(layer, f"cannot convert coordinates to WGS84 ({exc})",
                                        "give the file a valid CRS", column="geometry"))
            if converted is not None:
                b = converted.geometry.bounds
                minx, miny, maxx, maxy = _CHINA_BOUNDS
                out = np.zeros(len(gdf), dtype=bool)
                out[ok] = ((b.minx < minx) | (b.maxx > maxx) | (b.miny < miny) | (b.maxy > maxy)).to_numpy()
                if out.any():
                    problems.append(Problem(
                        layer, f"coordinates outside China (rows {_rows_text(_row_numbers(out))})",
                        "check that longitude and latitude are not swapped and that the file's CRS is set",
                        column="geometry"))
                if ok.all():
                    gdf = converted
    else:
        gdf = gpd.GeoDataFrame(df)

    if problems:
        raise DataError(problems)
    keep = [c.name for c in schema.columns if c.name in gdf.columns] + [gdf.geometry.name]
    extra = [c for c in gdf.columns if c not in keep]
    out = gdf[keep + extra].set_crs(WGS84, allow_override=True)
    if out.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    return out.reset_index(drop=True)
