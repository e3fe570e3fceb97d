"""A dataset whose every name and description carries markup and script payloads (kept for the XSS tests).

Built from the bundled demo: each text a person typed (street, community, grid
name, grid worker, facility/estate/candidate names, case category,
description, responsible unit, source, the district's name) gets `PAYLOAD`
appended; some begin with a spreadsheet formula instead (`FORMULAS`). Codes
(facility type, management, status) and ids stay valid, so the dataset loads.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from geo.dataset import DEMO_PATH, read_dataset, write_dataset

PAYLOAD = '<img src=x onerror=alert(1)>${alert(1)}`alert(1)`"><script>alert(1)</script>'
FORMULAS = ('=HYPERLINK("http://example.invalid","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)")
TEXT_COLUMNS = {
    "grids": ("street", "community", "grid_name", "grid_worker"),
    "facilities": ("name", "street"),
    "estates": ("name", "street", "community", "property_company", "self_gov_model"),
    "cases": ("category", "description", "responsible_unit", "source"),
    "candidates": ("name",),
}


def _taint(values, *, formulas: bool):
    out = []
    for i, v in enumerate(values):
        text = "" if v is None or v != v else str(v)
        if formulas and i % 7 == 0:
            out.append(FORMULAS[(i // 7) % len(FORMULAS)] + PAYLOAD)
        else:
            out.append(text + PAYLOAD)
    return out


def build_xss_dataset(out: Path) -> Path:
    ds = read_dataset(DEMO_PATH)
    layers = {}
    for name, cols in TEXT_COLUMNS.items():
        gdf = getattr(ds, name)
        if gdf is None:
            continue
        gdf = gdf.copy()
        for col in cols:
            if col in gdf.columns:
                # streets and communities stay distinct (and joinable: every layer gets the same suffix)
                gdf[col] = _taint(gdf[col].tolist(), formulas=col in ("name", "description") and name != "grids")
        layers[name] = gdf
    meta = dict(ds.meta)
    meta.update(name="xss" + PAYLOAD, district="石峰区" + PAYLOAD)
    tainted = replace(ds, **layers, name=meta["name"], meta=tuple(sorted(meta.items())))
    write_dataset(tainted, out)
    return out


if __name__ == "__main__":
    import sys

    print(build_xss_dataset(Path(sys.argv[1])))
