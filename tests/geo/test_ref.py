"""`geo.ref.DatasetRef`: every spec parsed in one place — kinds, normalisation, districts, keys, refusals.

The PostGIS check opens a real store from a ``postgresql+psycopg://`` URL: that spec used to pass the settings
check and then go to the GeoPackage backend.
"""

from __future__ import annotations

import pytest

from geo.errors import StorageError
from geo.ref import DatasetRef
from i18n import error_text
from tests.storefixtures import require_pg


@pytest.mark.parametrize(("spec", "kind", "normal", "label"), [
    ("shifeng_demo", "workspace", "shifeng_demo", "shifeng_demo"),
    ("武汉", "workspace", "武汉", "武汉"),
    ("cache/wuhan.gpkg", "gpkg", "cache/wuhan.gpkg", "wuhan"),
    ("./city.GPKG", "gpkg", "./city.GPKG", "city"),
    ("~/data/东区.gpkg", "gpkg", "~/data/东区.gpkg", "东区"),
    ("postgresql://atlas@db:5432/gis?dataset=wuhan", "postgis", "postgresql://atlas@db:5432/gis?dataset=wuhan",
     "wuhan (PostGIS db)"),
    ("postgres://atlas:secret@db/gis?dataset=w", "postgis", "postgresql://atlas:secret@db/gis?dataset=w",
     "w (PostGIS db)"),
    ("postgresql+psycopg://atlas@db/gis?dataset=w", "postgis", "postgresql://atlas@db/gis?dataset=w",
     "w (PostGIS db)"),
    ("POSTGRESQL+PSYCOPG2://atlas@db/gis", "postgis", "postgresql://atlas@db/gis", "gis (PostGIS db)"),
])
def test_every_kind_of_spec(spec, kind, normal, label):
    ref = DatasetRef.parse(spec)
    assert (ref.kind, ref.spec, ref.district, ref.city, ref.label) == (kind, normal, None, False, label)
    assert ref.is_postgis == (kind == "postgis") and not ref.is_part
    assert DatasetRef.parse(ref.key) == ref and DatasetRef.parse(ref) is ref
    assert "secret" not in ref.label


def test_parts_of_a_city_in_the_key_or_as_an_argument():
    url = "postgresql://atlas@db/gis?dataset=wuhan"
    east = DatasetRef.parse(f"{url}#district=江汉区")
    assert (east.kind, east.spec, east.district, east.city, east.is_part) == ("postgis", url, "江汉区", False, True)
    assert east == DatasetRef.parse(url, "江汉区") == DatasetRef.parse(url, " 江汉区 ")
    assert east.key == f"{url}#district=江汉区" and DatasetRef.parse(east.key) == east
    assert DatasetRef.parse(f"{url}#district=江汉区", "江汉区") == east  # said twice, the same: fine
    city = DatasetRef.parse("wuhan.gpkg#city")
    assert (city.spec, city.district, city.city, city.key) == ("wuhan.gpkg", None, True, "wuhan.gpkg#city")
    assert city.part("青山区") == DatasetRef.parse("wuhan.gpkg", "青山区") and city.part(None) == city
    assert city.part("青山区").dataset() == DatasetRef.parse("wuhan.gpkg")
    assert DatasetRef.parse("wuhan.gpkg#city", "青山区").key == "wuhan.gpkg#district=青山区"
    assert DatasetRef.parse("武汉", "") == DatasetRef.parse("武汉")  # an empty --district is none


@pytest.mark.parametrize(("spec", "district", "code", "english"), [
    ("mysql://db/grid", None, "storage.scheme_unknown",
     "mysql://db/grid is not a dataset: a URL must start with postgresql:// (or postgresql+DRIVER://)."),
    ("exports/grids.csv", None, "storage.not_gpkg",
     "exports/grids.csv is not a GeoPackage: give a path ending in .gpkg or a dataset name"),
    ("", None, "storage.spec_empty",
     "“” names no dataset: give a dataset name, a GeoPackage path or a postgresql:// URL."),
    ("#district=东区", None, "storage.spec_empty",
     "“#district=东区” names no dataset: give a dataset name, a GeoPackage path or a postgresql:// URL."),
    ("city.gpkg#district=东区", "西区", "storage.district_conflict",
     "The dataset names district “东区” and --district “西区”; give one."),
])
def test_what_is_not_a_dataset_is_refused_with_its_code(spec, district, code, english):
    with pytest.raises(StorageError) as err:
        DatasetRef.parse(spec, district)
    assert err.value.code == code and error_text(err.value, lang="en") == english


def test_a_driver_url_opens_the_postgis_store():
    from geo.storage import open_store

    url = require_pg().replace("postgresql://", "postgresql+psycopg://", 1) + "?dataset=t_driver_url"
    store = open_store(url)
    assert getattr(store, "kind", "") == "postgis" and store.spec.startswith("postgresql://")
    assert store.name == "t_driver_url" and not store.exists()
