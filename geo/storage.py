"""The storage interface: datasets, their versions, imports, restores, derived data, scenarios.

Contract
--------
Every backend (the GeoPackage workspace in `geo.workspace`, PostGIS) gives the
same `DatasetStore`; pages, the CLI and the tests talk to nothing else.

- ``open_store(spec)`` opens a dataset. ``spec`` is a dataset name in the
  workspace (``GRIDATLAS_HOME``), a GeoPackage path (created by its first
  import when absent) or a ``postgresql://`` URL; ``None`` means
  ``GRIDATLAS_DATA``, else the bundled demo. The bundled demo (and anything
  else under the checkout's ``data/``) is opened as its copy in the workspace:
  nothing ever writes into ``data/``.
- ``list_datasets()`` lists what the app offers: the workspace's datasets,
  then ``GRIDATLAS_DATA`` and ``cache/*.gpkg`` when they are not among them.
- A dataset has numbered versions (1, 2, ...). Exactly one is current.
  ``import_layer`` and ``restore`` write a complete new version and only then
  make it current, in one atomic step; a crash (even ``kill -9``) at any
  moment leaves the previous version current and loadable. Versions are
  never changed or deleted by imports; restoring version 3 writes a new
  version equal to 3.
- ``load(version=None)`` returns the `geo.dataset.Dataset` of a version,
  trusted: it was validated when imported, so it is not validated again; the
  checksum recorded at import is checked first, and a mismatch raises
  `StorageError` with code ``storage.checksum_failed``.
- ``import_layer`` takes a layer already validated and normalised by
  `geo.readers.read_layer_file` / `geo.schema.validate_layer` (WGS84, schema
  column names). ``mode="replace"`` replaces the layer whole;
  ``mode="upsert"`` adds rows whose id is new and replaces rows whose id
  exists (by the layer's id column), keeping the others. Cases without a
  ``grid_id`` get one at import, never when viewed.
- ``token`` is a cache key that changes exactly when the current version
  changes (a new import, a restore, an external edit of the dataset).
- ``derived(version)`` is where what the pages derive from one version
  (metric projection, demand points, case → grid tables, weights, simplified
  map geometry) is kept on disk, so a restarted server does not recompute it.
- Scenarios (`geo.scenarios.Scenario`) belong to the dataset, not to one
  version: restoring data does not lose a planner's saved scenarios.

Errors: `StorageError` (codes ``storage.*``) for what the store cannot do;
`DataError` for input that is not acceptable (nothing is then changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, get_args, runtime_checkable

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.dataset import Dataset
    from geo.scenarios import Scenario

ImportMode = Literal["replace", "upsert"]
IMPORT_MODES: tuple[str, ...] = get_args(ImportMode)
# what made a version: the first one ("create": a new dataset, "adopt": an existing file taken in),
# an import, a restore, or a change made to the file outside GridAtlas ("external")
VersionKind = Literal["create", "adopt", "replace", "upsert", "restore", "external"]

T = TypeVar("T")


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


@runtime_checkable
class DerivedCache(Protocol):
    """Data derived from one version, kept on disk beside it (shared by server restarts)."""

    def get(self, name: str, build: Callable[[], T]) -> T:
        """The value stored under ``name``, or ``build()`` stored and returned when there is none."""
        ...

    def names(self) -> list[str]:
        """What is stored, sorted."""
        ...


@runtime_checkable
class DatasetStore(Protocol):
    """One dataset and its versions (see the module's Contract)."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> str:
        """What `open_store` was given (normalised): opening it again gives this store."""
        ...

    @property
    def location(self) -> str:
        """Where the current version is readable by other tools (a GeoPackage path, a schema)."""
        ...

    @property
    def token(self) -> str: ...

    def exists(self) -> bool:
        """True once the dataset has a version."""
        ...

    def current(self) -> VersionInfo: ...

    def versions(self) -> list[VersionInfo]:
        """Every version, oldest first."""
        ...

    def load(self, version: int | None = None) -> Dataset: ...

    def import_layer(self, layer: str, gdf: gpd.GeoDataFrame, *, mode: ImportMode = "replace", source: str,
                     user: str | None = None) -> VersionInfo: ...

    def import_dataset(self, ds: Dataset, *, source: str, user: str | None = None) -> VersionInfo:
        """A new version made of every layer of ``ds`` (already validated)."""
        ...

    def restore(self, version_id: int, *, user: str | None = None) -> VersionInfo: ...

    def derived(self, version: int | None = None) -> DerivedCache: ...

    def list_scenarios(self, *, kind: str | None = None) -> list[Scenario]: ...

    def save_scenario(self, scenario: Scenario, *, overwrite: bool = False) -> Scenario: ...

    def delete_scenario(self, name: str) -> None: ...


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


def open_store(spec: str | None = None) -> DatasetStore:
    """The store for ``spec`` (see the Contract); ``postgresql://`` URLs go to the PostGIS backend."""
    from geo import settings

    spec = spec or settings.data()
    if spec and str(spec).startswith(("postgresql://", "postgres://")):
        from geo import postgis  # the city-scale backend (its own module)

        return postgis.open_store(str(spec))
    from geo import workspace

    return workspace.open_store(spec)


def list_datasets() -> list[DatasetEntry]:
    """Datasets the app offers (workspace first; see `geo.workspace.list_datasets`)."""
    from geo import workspace

    return workspace.list_datasets()
