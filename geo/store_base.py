"""What every storage backend shares: version records, the checks made before a write, a district's part.

`geo.storage` is the interface (the `DatasetStore` Protocol and the factory `open_store`); the backends
(`geo.workspace`, `geo.postgis`) build on this module, never on `geo.storage`, so the factory can import
them without an import cycle. `geo.storage` re-exports everything here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from geo.dataset import Dataset

ImportMode = Literal["replace", "upsert"]
IMPORT_MODES: tuple[str, ...] = get_args(ImportMode)
# what made a version: the first one ("create": a new dataset, "adopt": an existing file taken in),
# an import, a restore, or a change made to the file outside GridAtlas ("external")
VersionKind = Literal["create", "adopt", "replace", "upsert", "restore", "external"]


@dataclass(frozen=True)
class VersionInfo:
    """One version of a dataset, as listed by ``versions`` and the 数据管理 page.

    ``layer`` is the layer the import changed (None for a whole dataset);
    ``rows_*`` count that layer's rows by id against the version before;
    ``source`` is the imported file's name (or what else made the version);
    ``restored_from`` the version a restore copied; ``checksum`` the SHA-256
    recorded when the version was written; ``layers`` row counts per layer.
    """

    id: int
    created_at: str  # ISO 8601 with UTC offset
    kind: str  # a VersionKind
    source: str
    layer: str | None = None
    rows_added: int = 0
    rows_changed: int = 0
    rows_removed: int = 0
    user: str | None = None
    checksum: str = ""
    restored_from: int | None = None
    layers: tuple[tuple[str, int], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["layers"] = dict(self.layers)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VersionInfo:
        names = set(cls.__dataclass_fields__)
        clean = {k: v for k, v in d.items() if k in names}
        clean["layers"] = tuple((str(k), int(v)) for k, v in dict(d.get("layers") or {}).items())
        return cls(**clean)


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset the app can open: its ``spec`` (for `open_store`) and a label unique among the entries."""

    label: str
    spec: str
    in_workspace: bool


def check_import(layer: str, mode: str = "replace", *, columns: Iterable[str] | None = None) -> None:
    """What every backend checks before an import writes anything.

    ``layer`` must be a schema layer (`DataError`, ``data.layer_unknown``), ``mode`` one of `IMPORT_MODES`
    (`StorageError`, ``storage.mode_unknown``); an upsert needs the layer's id column, in ``columns`` when
    given (`DataError`, ``data.upsert_without_id``).
    """
    from geo.errors import DataError, Problem, StorageError
    from geo.schema import LAYERS

    if layer not in LAYERS:
        raise DataError([Problem(layer, f"there is no layer named {layer!r}", f"use one of {', '.join(LAYERS)}",
                                 code="data.layer_unknown", params={"layer": layer})])
    if mode not in IMPORT_MODES:
        raise StorageError(f"mode was {mode!r} but must be one of {', '.join(IMPORT_MODES)}",
                           code="storage.mode_unknown", params={"mode": str(mode)})
    id_col = LAYERS[layer].id_column
    if mode == "upsert" and (id_col is None or (columns is not None and id_col not in set(columns))):
        raise DataError([Problem(layer, "this layer has no id, so it cannot be upserted",
                                 "import it with mode replace", code="data.upsert_without_id",
                                 params={"layer": layer})])


def check_required_layers(present: Iterable[str]) -> None:
    """`DataError` (``data.layer_missing``, one problem per layer) when a layer every dataset needs is absent."""
    from geo.errors import DataError, Problem
    from geo.schema import LAYERS

    have = set(present)
    missing = [n for n, s in LAYERS.items() if s.required_in_dataset and n not in have]
    if missing:
        raise DataError([Problem(n, "layer is missing from the dataset", f"import a {n} layer ({LAYERS[n].title_zh})",
                                 code="data.layer_missing", params={"layer": n}) for n in missing])


def check_derived_name(name: str) -> str:
    """A `DerivedCache` name: letters, digits, '_', '.' and '-' (`AnalysisError`, ``analysis.bad_choice``)."""
    import re

    from geo.errors import AnalysisError

    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise AnalysisError(f"`name` was {name!r} but may only hold letters, digits, '_', '.' and '-'",
                            code="analysis.bad_choice",
                            params={"name": "name", "value": name, "allowed": "A-Z a-z 0-9 _ . -"})
    return name


def district_missing(district: str, have: Iterable[str]) -> Exception:
    """The error for a district the dataset does not have, in every backend."""
    from geo.errors import StorageError

    names = ", ".join(have) or "—"
    return StorageError(f"the dataset has no district {district!r} (districts: {names})",
                        code="storage.district_missing", params={"district": district, "have": names})


def district_part(ds: Dataset, district: str) -> Dataset:
    """The district as a dataset of its own, from ``ds`` whose grids (and cases) are already that district's.

    Facilities, estates and candidates are those whose representative point lies in the district's grids;
    the dataset is named after the district (meta ``district``), the city's name kept as meta ``city``.
    """
    from geo.dataset import Dataset

    area = ds.grids.geometry.union_all()
    raw = {n: ds.lazy_layer(n) for n in ds.present_layers()}
    for name in ("facilities", "estates", "candidates"):
        gdf = ds.layer(name)
        if gdf is not None:
            keep = gdf.geometry.representative_point().intersects(area)
            raw[name] = gdf[keep.to_numpy()].reset_index(drop=True)
    meta = dict(ds.meta_dict)
    meta.setdefault("city", ds.name)
    meta["district"] = district
    return Dataset(**raw, name=district, meta=tuple(sorted(meta.items())))
