"""The synthetic city: Wuhan's 13 districts, ~20,000 grids, ~13 M residents, 10 M cases over a year.

`build_city(...)` makes each district with `geo.demo`'s machinery (density
surface, Voronoi grids, streets and communities grown over the adjacency
graph, estates, facilities of every type, candidate sites, cases), on the
district's real outline (``data/wuhan_districts_gcj02.geojson``, converted from
GCJ-02). What differs from the district demos is generated here, from the
outline and one seed:

- residents per district: the 2020 census figures of each district, scaled to
  a city of 13,000,000 (`DISTRICTS`); aged 60+ share per district;
- grids in proportion to residents (20,000 in all), streets of about 90,000
  residents anchored at k-means centres of the outline, 8 communities each;
  density centres at the street anchors; names are synthetic (``江岸·一街道``);
- cases: 10,000,000 over 2025, per district in proportion to residents,
  generated and written in chunks (`CHUNK_CASES`) so memory stays bounded;
  two hot spots per district, one of which emerges in July.

Grids carry a ``district`` column (optional in the data model). Every
position is simulated and the dataset says so in its ``meta``. The result is
deterministic: the same seed gives the same layers, chunk by chunk.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from geo import _demo_specs as specs
from geo import demo
from geo.assign import locate_points
from geo.crs import WGS84, utm_crs_for, wgs84_to_gcj02
from geo.errors import AnalysisError

OUTLINES_PATH = Path(__file__).resolve().parent.parent / "data" / "wuhan_districts_gcj02.geojson"
CITY = "武汉市"
CITY_POPULATION = 13_000_000
CITY_GRIDS = 20_000
CITY_CASES = 10_000_000
CHUNK_CASES = 500_000
CASES_FROM = "2025-01-01"
AS_OF = "2025-12-31"
RESIDENTS_PER_STREET = 90_000
COMMUNITIES_PER_STREET = 8
LAYER_ORDER = ("grids", "facilities", "estates", "candidates")


@dataclass(frozen=True)
class DistrictFigures:
    """One district: name, code, census residents (2020, rounded), share aged 60+."""

    name: str
    code: str
    census: int
    elderly_share: float


# 2020 census residents (rounded to thousands); the aged-60+ shares are plausible, not census figures.
DISTRICTS: tuple[DistrictFigures, ...] = (
    DistrictFigures("江岸区", "JA", 965_000, 0.205),
    DistrictFigures("江汉区", "JH", 648_000, 0.200),
    DistrictFigures("硚口区", "QK", 667_000, 0.215),
    DistrictFigures("汉阳区", "HY", 837_000, 0.185),
    DistrictFigures("武昌区", "WC", 1_283_000, 0.210),
    DistrictFigures("青山区", "QS", 530_000, 0.225),
    DistrictFigures("洪山区", "HS", 1_665_000, 0.150),
    DistrictFigures("东西湖区", "DXH", 852_000, 0.145),
    DistrictFigures("汉南区", "HN", 136_000, 0.190),
    DistrictFigures("蔡甸区", "CD", 556_000, 0.195),
    DistrictFigures("江夏区", "JX", 974_000, 0.170),
    DistrictFigures("黄陂区", "HP", 1_151_000, 0.205),
    DistrictFigures("新洲区", "XZ", 861_000, 0.215),
)
_ORDINALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五",
             "十六", "十七", "十八", "十九", "二十", "二十一", "二十二", "二十三", "二十四")
_FACILITIES_PER_100K = (("health_center", 1.6), ("health_station", 2.4), ("nursing_home", 3.0),
                        ("elderly_service_center", 6.0), ("day_care", 10.0), ("elderly_canteen", 4.5))


def _stem(name: str) -> str:
    return name[:-1] if name.endswith("区") else name


def _plan(scale_population: int = CITY_POPULATION, n_grids: int = CITY_GRIDS, n_cases: int = CITY_CASES
          ) -> pd.DataFrame:
    """Residents, aged 60+, grids and cases per district (largest remainder, exact totals)."""
    census = np.array([d.census for d in DISTRICTS], dtype="float64")
    pop = demo.allocate(scale_population, census)
    grids = demo.allocate(n_grids, census)
    cases = demo.allocate(n_cases, census)
    elderly = np.round(pop * np.array([d.elderly_share for d in DISTRICTS])).astype("int64")
    return pd.DataFrame({"district": [d.name for d in DISTRICTS], "code": [d.code for d in DISTRICTS],
                         "population": pop, "elderly": elderly, "grids": grids, "cases": cases})


def _frame(district: str) -> demo._Frame:
    outline_wgs = demo.load_outline(district, path=OUTLINES_PATH)
    cx, cy = shapely.centroid(outline_wgs).coords[0]
    crs = utm_crs_for(cx, cy)
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    inv = Transformer.from_crs(crs, WGS84, always_xy=True)
    main = demo._main_parts(outline_wgs)
    metric = shapely.make_valid(shapely.transform(main, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1]))))
    shapely.prepare(metric)
    return demo._Frame(crs=crs, outline=metric, fwd=fwd, inv=inv)


def _gcj(frame: demo._Frame, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = frame.inv.transform(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
    return wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))


def district_spec(rng: np.random.Generator, fig: DistrictFigures, row: pd.Series, frame: demo._Frame
                  ) -> specs.ScaleSpec:
    """A `geo._demo_specs.ScaleSpec` for one district, derived from its outline and figures."""
    population, elderly, n_grids = int(row["population"]), int(row["elderly"]), int(row["grids"])
    n_streets = int(np.clip(round(population / RESIDENTS_PER_STREET), 3, len(_ORDINALS)))
    n_streets = min(n_streets, max(n_grids // (2 * COMMUNITIES_PER_STREET), 1))
    ux, uy = demo._uniform_in(rng, frame.outline, 200 * n_streets)
    anchors = demo._kmeans(rng, np.column_stack([ux, uy]), n_streets)
    inside = shapely.contains_xy(frame.outline, anchors[:, 0], anchors[:, 1])
    for i in np.flatnonzero(~inside):  # a centre in a concave bay: the nearest sample point instead
        anchors[i] = np.column_stack([ux, uy])[np.argmin(np.hypot(ux - anchors[i, 0], uy - anchors[i, 1]))]
    # the street nearest the city centre first; population weights fall off with distance
    centre_x, centre_y = frame.fwd.transform(114.30, 30.59)
    dist = np.hypot(anchors[:, 0] - centre_x, anchors[:, 1] - centre_y)
    order = np.argsort(dist, kind="stable")
    anchors, dist = anchors[order], dist[order]
    weight = 1.0 / (1.0 + dist / 15_000.0) * rng.lognormal(0, 0.15, n_streets)
    pops = demo.allocate(population, weight)
    elds = demo.allocate(elderly, pops * rng.lognormal(0, 0.08, n_streets))
    lon, lat = _gcj(frame, anchors[:, 0], anchors[:, 1])
    stem = _stem(fig.name)
    streets = tuple(
        specs.StreetSpec(f"{stem}·{_ORDINALS[i]}街道", f"S{i + 1:02d}", (float(lon[i]), float(lat[i])),
                         int(pops[i]), int(elds[i]),
                         tuple(f"{stem}{_ORDINALS[i]}街第{_ORDINALS[j]}" for j in range(COMMUNITIES_PER_STREET)),
                         (1975, 2020), float(rng.uniform(0.6, 1.5)))
        for i in range(n_streets))
    area_km2 = frame.outline.area / 1e6
    sigma = float(np.clip(np.sqrt(area_km2 / n_streets) * 1000 / 2.5, 900, 6000))
    centres = tuple(specs.Centre(s.anchor[0], s.anchor[1], sigma, float(w / weight.max()))
                    for s, w in zip(streets, weight, strict=True))
    facility_counts = tuple((t, max(int(round(rate * population / 100_000)), 2)) for t, rate in _FACILITIES_PER_100K)
    hot = rng.choice(n_streets, size=min(2, n_streets), replace=False)
    hotspots = tuple(
        specs.Hotspot(f"{streets[h].name}热点", streets[h].anchor[0], streets[h].anchor[1], 400.0, 0.02,
                      (("渣土扬尘", 0.35), ("施工管理", 0.3), ("道路破损", 0.2), ("街面秩序", 0.15)) if k else
                      (("油烟", 0.35), ("街面秩序", 0.3), ("市容环境", 0.2), ("宣传广告", 0.15)),
                      start="2025-07-01" if k else None)
        for k, h in enumerate(hot))
    return specs.ScaleSpec(
        scale="wuhan", district=fig.name, city=CITY, prefix=fig.code, streets=streets, n_grids=n_grids,
        n_estates=int(round(n_grids * 2.0)), n_unmanaged=None, n_candidates=max(n_grids // 4, 20),
        n_cases=int(row["cases"]), cases_from=CASES_FROM, as_of=AS_OF, overdue_target=None,
        grid_workers=n_grids, facility_counts=facility_counts, centres=centres,
        background_density=0.03 if area_km2 < 200 else 0.01, seed_power=1.3, water=(), barrier=(), crossings=(),
        hotspots=hotspots, road_spacing_m=200.0)


@dataclass(frozen=True)
class District:
    """One generated district: its layers (WGS84) and what the case generator needs."""

    name: str
    spec: specs.ScaleSpec
    frame: demo._Frame
    grids_metric: demo._Grids
    estates_metric: demo._Estates
    layers: dict[str, gpd.GeoDataFrame]


def build_district(fig: DistrictFigures, row: pd.Series, *, seed: int) -> District:
    """Grids (with ``district``), facilities, estates and candidates of one district, from ``seed``."""
    rng = np.random.default_rng([seed, DISTRICTS.index(fig)])
    frame = _frame(fig.name)
    spec = district_spec(rng, fig, row, frame)
    dens = demo._density(spec, frame)
    g = demo._build_grids(rng, spec, frame, dens)
    grids_df = demo._grids_frame(rng, spec, g)
    grids_df.insert(1, "district", fig.name)
    est = demo._build_estates(rng, spec, g, grids_df)
    est_df = est.frame.copy()
    est_df["estate_id"] = fig.code + "-" + est_df["estate_id"].astype(str)
    fac, fx, fy = demo._build_facilities(rng, spec, g, grids_df, est)
    fac = fac.copy()
    fac["facility_id"] = fac["facility_id"].astype(str).radd(fig.code + "-")
    cand, cx, cy = demo._build_candidates(rng, spec, g, grids_df, est, fac, fx, fy)
    cand = cand.copy()
    cand["site_id"] = cand["site_id"].astype(str).radd(fig.code + "-")
    # the age bands from a stream of their own, so every other column and layer stays as it was
    bands = demo.age_bands(np.random.default_rng([seed, DISTRICTS.index(fig), demo.AGE_BAND_STREAM]),
                           g.elderly, g.population)
    layers = {
        "grids": demo._gdf(pd.concat([grids_df, bands], axis=1), demo._to_wgs(frame, g.cells), "grids"),
        "facilities": demo._gdf(fac, demo._points_wgs(frame, fx, fy), "facilities"),
        "estates": demo._gdf(est_df, demo._to_wgs(frame, est.polys), "estates"),
        "candidates": demo._gdf(cand, demo._points_wgs(frame, cx, cy), "candidates"),
    }
    return District(fig.name, spec, frame, g, est, layers)


def district_cases(d: District, *, seed: int, chunk: int = CHUNK_CASES, first_number: int = 1
                   ) -> Iterator[gpd.GeoDataFrame]:
    """The district's cases in chunks of at most ``chunk`` rows, each with its ``grid_id`` assigned."""
    total = d.spec.n_cases
    ids = d.layers["grids"]["grid_id"].to_numpy(dtype=object)
    k = 0
    number = first_number
    while k * chunk < total:
        n = min(chunk, total - k * chunk)
        rng = np.random.default_rng([seed, DISTRICTS.index(next(f for f in DISTRICTS if f.name == d.name)), 1000 + k])
        df, x, y = demo._build_cases(rng, d.spec, d.frame, d.grids_metric, d.estates_metric, n)
        df = df.copy()
        df["case_id"] = [f"WH-{d.spec.prefix}-{i:08d}" for i in range(number, number + n)]
        pos = locate_points(x, y, d.grids_metric.cells)
        grid_id = np.where(pos >= 0, ids[np.maximum(pos, 0)], None)
        df.insert(df.columns.get_loc("description"), "grid_id", pd.array(grid_id, dtype="string"))
        yield gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(demo._points_wgs(d.frame, x, y), crs=WGS84), crs=WGS84)
        number += n
        k += 1


def city_meta(seed: int, plan: pd.DataFrame) -> dict[str, str]:
    return {
        "name": CITY, "city": CITY, "district": CITY, "scale": "wuhan", "seed": str(seed), "as_of": AS_OF,
        "cases_from": CASES_FROM, "synthetic": "true", "label": demo.SYNTHETIC_LABEL,
        "outline_source": demo.OUTLINE_SOURCE,
        "districts": json.dumps({r.district: {"population": int(r.population), "elderly": int(r.elderly)}
                                 for r in plan.itertuples()}, ensure_ascii=False),
    }


Sink = Callable[[str, gpd.GeoDataFrame], None]


def generate(sink: Sink, *, seed: int = 2019, n_cases: int = CITY_CASES, n_grids: int = CITY_GRIDS,
             districts: tuple[str, ...] | None = None, log: Callable[[str], None] | None = None) -> dict:
    """Build the city district by district and hand every layer (cases in chunks) to ``sink(layer, gdf)``.

    ``districts`` restricts the build to some districts (tests); the plan
    (residents, grids, cases per district) is the whole city's either way,
    scaled by ``n_grids`` and ``n_cases``.
    """
    if n_cases < 1 or n_grids < 13 * 2 * COMMUNITIES_PER_STREET:
        raise AnalysisError(f"the city needs at least 1 case and {13 * 2 * COMMUNITIES_PER_STREET} grids; "
                            f"got {n_cases} cases and {n_grids} grids", code="analysis.city_too_small",
                            params={"min_grids": 13 * 2 * COMMUNITIES_PER_STREET, "cases": n_cases, "grids": n_grids})
    plan = _plan(n_grids=n_grids, n_cases=n_cases)
    wanted = [f for f in DISTRICTS if districts is None or f.name in districts]
    totals = {"grids": 0, "facilities": 0, "estates": 0, "candidates": 0, "cases": 0}
    population = elderly = 0
    for fig in wanted:
        t0 = time.perf_counter()
        row = plan.set_index("district").loc[fig.name]
        d = build_district(fig, row, seed=seed)
        for layer in LAYER_ORDER:
            sink(layer, d.layers[layer])
            totals[layer] += len(d.layers[layer])
        population += int(d.layers["grids"]["population"].sum())
        elderly += int(d.layers["grids"]["elderly"].sum())
        for part in district_cases(d, seed=seed):
            sink("cases", part)
            totals["cases"] += len(part)
        if log:
            log(f"{fig.name}: {len(d.layers['grids'])} grids, {int(row['cases']):,} cases, "
                f"{time.perf_counter() - t0:.1f} s")
    meta = city_meta(seed, plan[plan["district"].isin([f.name for f in wanted])])
    sink("meta", gpd.GeoDataFrame(pd.DataFrame({"key": list(meta), "value": list(meta.values())})))
    return {"name": CITY, "districts": len(wanted), "layers": totals, "population": population, "elderly": elderly}


def write_gpkg(path: str | Path, **kw) -> dict:
    """Generate the city into a GeoPackage, written beside the target and renamed over it when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.writing.gpkg")
    tmp.unlink(missing_ok=True)
    written: set[str] = set()

    def sink(layer: str, gdf: gpd.GeoDataFrame) -> None:
        if layer == "meta":
            pyogrio.write_dataframe(pd.DataFrame(gdf.drop(columns="geometry", errors="ignore")), tmp,
                                    layer="meta", driver="GPKG")
            return
        pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG", use_arrow=True,
                                append=layer in written, promote_to_multi=layer in ("grids", "estates"))
        written.add(layer)

    try:
        out = generate(sink, **kw)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return {**out, "out": str(path), "size_bytes": path.stat().st_size}


def build_and_write(out: str, *, seed: int = 2019, n_cases: int | None = None, n_grids: int | None = None,
                    districts: tuple[str, ...] | None = None, log: Callable[[str], None] | None = None) -> dict:
    """`cli.py demo --scale wuhan`: into a GeoPackage path or a ``postgresql://`` database."""
    t0 = time.perf_counter()
    kw = {"seed": seed, "n_cases": n_cases or CITY_CASES, "n_grids": n_grids or CITY_GRIDS,
          "districts": districts, "log": log}
    from geo.ref import DatasetRef

    ref = DatasetRef.parse(out)
    if ref.is_postgis:
        from geo.postgis import import_generated

        result = import_generated(ref.spec, generate, **kw)
    else:
        result = write_gpkg(out, **kw)
    return {**result, "seed": seed, "elapsed_s": round(time.perf_counter() - t0, 1)}

