"""A small district for the meeting brief: 6 × 6 grids, ten cases counted by hand, four unmanaged estates.

As of 2024-03-20. The hand counts (README of the fixture, used by the tests):

=====  =====  ====  ==========  ==========  ==========  ===========================================
case   grid   unit  reported    deadline    closed at   state at 03-20 end / at 02-29 end
=====  =====  ====  ==========  ==========  ==========  ===========================================
C1     东街   城管  2024-02-05  2024-02-10  2024-02-08  closed on time / closed
C2     东街   城管  2024-02-12  2024-02-15  2024-03-05  closed late / open, overdue
C3     西街   住建  2024-02-20  2024-02-25  —           open, overdue / open, overdue
C4     西街   住建  2024-03-02  2024-03-10  2024-03-12  closed late / not known
C5     东街   城管  2024-03-03  2024-03-30  —           open (deadline ahead)
C6     西街   城管  2024-03-05  2024-03-08  —           open, overdue
C7     东街   住建  2024-03-10  2024-03-15  2024-03-14  closed on time
C8     西街   环保  2024-03-18  2024-03-19  2024-03-25  open, overdue (closed after the as-of day)
C9     东街   环保  2024-01-15  2024-01-20  —           open, overdue / open, overdue
C10    西街   城管  2024-03-25  2024-03-28  —           not known (after the as-of day)
=====  =====  ====  ==========  ==========  ==========  ===========================================
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.dataset import Dataset
from tests.analysis.case_fixtures import lattice_grids

AS_OF = "2024-03-20"
EAST, WEST = "G0000", "G0005"  # 东街 (column 0) and 西街 (column 5), bottom row
ROWS = [
    # case, grid, unit, reported, deadline, status, closed_at, description
    ("C1", EAST, "城管", "2024-02-05 09:00", "2024-02-10 09:00", "closed", "2024-02-08 09:00", "井盖松动"),
    ("C2", EAST, "城管", "2024-02-12 09:00", "2024-02-15 09:00", "closed", "2024-03-05 09:00", "路灯不亮"),
    ("C3", WEST, "住建", "2024-02-20 09:00", "2024-02-25 09:00", "open", None, "=1+1"),
    ("C4", WEST, "住建", "2024-03-02 09:00", "2024-03-10 09:00", "closed", "2024-03-12 09:00", "墙体开裂"),
    ("C5", EAST, "城管", "2024-03-03 09:00", "2024-03-30 09:00", "open", None, "占道经营"),
    ("C6", WEST, "城管", "2024-03-05 09:00", "2024-03-08 09:00", "open", None, "+86 来电"),
    ("C7", EAST, "住建", "2024-03-10 09:00", "2024-03-15 09:00", "closed", "2024-03-14 09:00", "楼道堆物"),
    ("C8", WEST, "环保", "2024-03-18 09:00", "2024-03-19 09:00", "closed", "2024-03-25 09:00", "-5 度"),
    ("C9", EAST, "环保", "2024-01-15 09:00", "2024-01-20 09:00", "open", None, "@油烟扰民"),
    ("C10", WEST, "城管", "2024-03-25 09:00", "2024-03-28 09:00", "open", None, "噪音"),
]
PHONE = "13812345678"


def meeting_dataset() -> Dataset:
    grids = lattice_grids(6, 6)
    centre = {g: geom.centroid for g, geom in zip(grids["grid_id"], grids.geometry, strict=True)}
    cases = gpd.GeoDataFrame({
        "case_id": pd.array([r[0] for r in ROWS], dtype="string"),
        "category": pd.array(["市容环境"] * len(ROWS), dtype="string"),
        "reported_at": pd.to_datetime([r[3] for r in ROWS]),
        "status": pd.array([r[5] for r in ROWS], dtype="string"),
        "deadline": pd.to_datetime([r[4] for r in ROWS]),
        "closed_at": pd.to_datetime([r[6] for r in ROWS]),
        "responsible_unit": pd.array([r[2] for r in ROWS], dtype="string"),
        "grid_id": pd.array([r[1] for r in ROWS], dtype="string"),
        "description": pd.array([r[7] for r in ROWS], dtype="string"),
        "reporter_phone": pd.array([PHONE] * len(ROWS), dtype="string"),
    }, geometry=[centre[r[1]] for r in ROWS], crs="EPSG:4326")
    facilities = gpd.GeoDataFrame({
        "facility_id": ["F1", "F2"], "name": ["东街日间照料中心", "西街老年食堂"], "type": ["day_care", "elderly_canteen"],
        "status": ["operating", "operating"],
    }, geometry=[centre["G0101"], centre["G0404"]], crs="EPSG:4326")
    estates = gpd.GeoDataFrame({
        "estate_id": ["E1", "E2", "E3", "E4", "E5"], "name": ["一号院", "二号院", "三号院", "四号院", "五号院"],
        "households": [100, 120, 80, 60, 200],
        "management": ["unmanaged", "unmanaged", "unmanaged", "unmanaged", "property_company"],
        "street": ["东街", "东街", "西街", "西街", "东街"],
        "committee_formed_on": pd.to_datetime(["2024-02-10", "2024-03-15", "2024-03-25", None, "2023-05-01"]),
    }, geometry=[shapely.Point(centre[g].x + 0.0003, centre[g].y) for g in ("G0000", "G0101", "G0005", "G0104", "G0202")],
        crs="EPSG:4326")
    return Dataset(grids=grids, facilities=facilities, estates=estates, cases=cases, name="测试区",
                   meta=(("as_of", AS_OF), ("district", "测试区"), ("synthetic", "true")))
