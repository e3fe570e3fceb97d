"""Overview figures: checked by hand on squares and by direct counting on the demo."""

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from analysis.summary import district_summary, grid_density, street_table
from geo.dataset import DEMO_PATH, Dataset, read_dataset
from geo.schema import FACILITY_TYPES, validate_layer


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return read_dataset(DEMO_PATH)


def test_density_of_one_square_kilometre():
    g = gpd.GeoDataFrame({"grid_id": ["A", "B"], "elderly": [100, 30], "population": [500, 90]},
                         geometry=[box(0, 0, 1000, 1000), box(1000, 0, 1500, 1000)], crs=32649)
    d = grid_density(g, crs=32649)
    assert d["area_km2"].tolist() == pytest.approx([1.0, 0.5])
    assert d["elderly_per_km2"].tolist() == pytest.approx([100.0, 60.0])
    assert d["population_per_km2"].tolist() == pytest.approx([500.0, 180.0])


def test_district_figures_match_direct_counts(demo):
    s = district_summary(demo)
    assert (s.grids, s.population, s.elderly) == (232, 250_000, 45_200)
    assert s.elderly_share == pytest.approx(0.1808)
    assert s.facilities_by_type == {k: int((demo.facilities["type"] == k).sum()) for k in FACILITY_TYPES}
    assert s.unmanaged_estates == 182
    assert s.committees_formed == int(demo.estates["committee_formed_on"].notna().sum())


def test_street_figures_add_up_to_the_district(demo):
    table = street_table(demo)
    assert sorted(table["street"]) == ["井龙", "响石岭", "清水塘", "田心", "铜塘湾"]
    assert table["grids"].sum() == 232
    assert table["elderly"].sum() == 45_200
    assert table["facilities"].sum() == len(demo.facilities)
    for street in demo.streets:
        s = district_summary(demo, street=street)
        row = table[table["street"] == street].iloc[0]
        assert s.grids == row["grids"]
        assert s.elderly == row["elderly"]


def test_street_filter_on_facilities_without_street_column():
    grids = validate_layer(gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "street": ["甲", "乙"], "community": ["c", "c"], "households": [1, 1],
         "population": [10, 10], "elderly": [2, 3]},
        geometry=[box(113.10, 27.80, 113.11, 27.81), box(113.11, 27.80, 113.12, 27.81)], crs=4326), "grids")
    fac = validate_layer(gpd.GeoDataFrame(
        {"facility_id": ["F1", "F2"], "name": ["a", "b"], "type": ["day_care", "health_center"]},
        geometry=[Point(113.105, 27.805), Point(113.115, 27.805)], crs=4326), "facilities")
    ds = Dataset(grids=grids, facilities=fac)
    assert district_summary(ds, street="甲").facilities_by_type["day_care"] == 1
    assert district_summary(ds, street="甲").facilities_by_type["health_center"] == 0
    assert district_summary(ds).estates is None
    with pytest.raises(ValueError, match="`street` was '丙' but the dataset's streets are"):
        district_summary(ds, street="丙")
