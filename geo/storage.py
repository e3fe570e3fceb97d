"""The storage interface: datasets, their versions, imports, restores, derived data, scenarios.

Contract
--------
Every backend (the GeoPackage workspace in `geo.workspace`, PostGIS) gives the
same `DatasetStore`; pages, the CLI and the tests talk to nothing else.

- ``open_store(ref)`` opens a dataset. ``ref`` is a `geo.ref.DatasetRef`, or
  a spec string that `DatasetRef.parse` reads (the one parser of specs): a
  dataset name in the workspace (``GRIDATLAS_HOME``), a GeoPackage path
  (created by its first import when absent) or a ``postgresql[+driver]://``
  URL; ``None`` means ``GRIDATLAS_DATA``, else the bundled demo. The store is
  the whole dataset: a district named in the ref is passed to the methods
  that take ``district=``. The bundled demo (and anything else under the
  checkout's ``data/``) is opened as its copy in the workspace: nothing ever
  writes into ``data/``.
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
  ``grid_id`` get one at import, never when viewed; so do the columns
  `geo.derive` works out (an estate's street and community, the campaign's
  stages, a missing ``as_of``), for every version written from new data
  (import_layer, import_dataset, a file taken in; a restore copies its
  version). ``load`` gives a version stored before those rules the same
  columns, computed once and kept in ``derived(version)``, never by writing.
- ``token`` is a cache key that changes exactly when the current version
  changes (a new import, a restore, an external edit of the dataset).
- ``derived(version)`` is where what the pages derive from one version
  (metric projection, demand points, case → grid tables, weights, simplified
  map geometry) is kept on disk, so a restarted server does not recompute it.
- Scenarios (`geo.scenarios.Scenario`) belong to the dataset, not to one
  version: restoring data does not lose a planner's saved scenarios. They are
  store methods only (``list_scenarios``, ``save_scenario``,
  ``delete_scenario``); with ``district=NAME`` they are that district's of a
  city dataset (each district lists only its own; None: the whole dataset's).
- The meeting's follow-ups (督办) and quarterly targets (预安, `geo.followups`)
  belong to the dataset the same way: store methods only (``list_followups``,
  ``add_followup``, ``close_followup``, ``list_targets``, ``set_target``,
  ``delete_target``), kept when data is restored; with ``district=NAME`` they
  are that district's of a city dataset, as scenarios are (None: the whole
  dataset's). The caller records each change in the audit log.

The city level (a dataset whose grids carry a ``district`` column):

- ``district_names()``: the grids' ``district`` values in layer order (() when
  the column is absent).
- ``load(version, *, layers=None, district=None)``: ``layers`` names the
  optional layers to read (grids and facilities always come); ``district``
  gives one district as a dataset of its own (`district_part`): its grids, the
  cases in them, and the facilities, estates and candidates whose
  representative point lies in its grids; named after the district (meta
  ``district``). An unknown district is `StorageError` ``storage.district_missing``.
- ``case_counts(by, ...)``: grouped counts of cases (`geo.case_counts`:
  by district, street, grid, responsible unit, category, week; cases, open and
  overdue at the end of a day) computed by the backend without loading the
  cases into a `Dataset`.

Errors: `StorageError` (codes ``storage.*``) for what the store cannot do;
`DataError` for input that is not acceptable (nothing is then changed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo.dataset import Dataset
    from geo.followups import FollowUp, Target
    from geo.progress import ProgressFn
    from geo.ref import DatasetRef
    from geo.scenarios import Scenario

from geo.store_base import (  # re-exported: the backends build on geo.store_base
    IMPORT_MODES,
    DatasetEntry,
    ImportMode,
    VersionInfo,
    VersionKind,
    check_derived_name,
    check_import,
    check_required_layers,
    district_missing,
    district_part,
)

__all__ = [
    "IMPORT_MODES", "DatasetEntry", "DatasetStore", "DerivedCache", "ImportMode", "VersionInfo", "VersionKind",
    "check_derived_name", "check_import", "check_required_layers", "district_missing", "district_part",
    "list_datasets", "open_store",
]

T = TypeVar("T")


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

    def load(self, version: int | None = None, *, layers: Iterable[str] | None = None,
             district: str | None = None) -> Dataset:
        """A version (default: the current one); ``layers``: the optional layers to read; ``district``: one part."""
        ...

    def district_names(self, version: int | None = None) -> tuple[str, ...]:
        """The grids' ``district`` values in layer order; () when the grids have no district column."""
        ...

    def case_counts(self, by: Iterable[str], *, version: int | None = None, since: str | None = None,
                    until: str | None = None, categories: Iterable[str] = (), as_of: str | None = None,
                    district: str | None = None) -> pd.DataFrame:
        """Cases, open, overdue and closed late per group of ``by`` at the ``as_of`` day (see `geo.case_counts`)."""
        ...

    def import_layer(self, layer: str, gdf: gpd.GeoDataFrame, *, mode: ImportMode = "replace", source: str,
                     user: str | None = None, progress: ProgressFn | None = None) -> VersionInfo: ...

    def import_dataset(self, ds: Dataset, *, source: str, user: str | None = None) -> VersionInfo:
        """A new version made of every layer of ``ds`` (already validated)."""
        ...

    def restore(self, version_id: int, *, user: str | None = None) -> VersionInfo: ...

    def derived(self, version: int | None = None) -> DerivedCache: ...

    def list_scenarios(self, *, kind: str | None = None, district: str | None = None) -> list[Scenario]:
        """Saved scenarios (of one ``kind`` if given) of the dataset or of one district, oldest first."""
        ...

    def save_scenario(self, scenario: Scenario, *, overwrite: bool = False, district: str | None = None,
                      user: str | None = None) -> Scenario:
        """Store a scenario (name checked, ``saved_at`` set); a name taken is `DataError` unless ``overwrite``."""
        ...

    def delete_scenario(self, name: str, *, district: str | None = None, user: str | None = None) -> None:
        """Remove a saved scenario; `DataError` ``data.scenario_missing`` when there is none."""
        ...

    def list_followups(self, *, district: str | None = None) -> list[FollowUp]:
        """The meeting's follow-ups (督办, `geo.followups`) of ``district`` (None: the dataset's own), by id."""
        ...

    def add_followup(self, followup: FollowUp, *, user: str | None = None, district: str | None = None) -> FollowUp:
        """Store a follow-up made by `geo.followups.new_followup` in ``district``; returned with its id (1, 2, … per
        dataset) and district."""
        ...

    def close_followup(self, followup_id: int, *, note: str, done_on: str, user: str | None = None,
                       district: str | None = None) -> FollowUp:
        """Close a follow-up of ``district`` on a day with a note; `DataError` ``data.followup_missing`` (none of
        that id there) / ``_done_already``."""
        ...

    def list_targets(self, quarter: str | None = None, *, district: str | None = None) -> list[Target]:
        """The quarterly targets (预安, `geo.followups.Target`) of ``district``, of one quarter ``YYYYQn`` if given."""
        ...

    def set_target(self, target: Target, *, user: str | None = None, district: str | None = None) -> Target:
        """Store a target made by `geo.followups.new_target` in ``district``, replacing the one of its quarter,
        subject and measure there."""
        ...

    def delete_target(self, key: tuple[str, str, str, str], *, user: str | None = None,
                      district: str | None = None) -> None:
        """Remove the target of (quarter, kind, subject, measure) in ``district``; `DataError`
        ``data.target_missing``."""
        ...


def open_store(ref: DatasetRef | str | None = None) -> DatasetStore:
    """The store of the dataset ``ref`` names (see the Contract): PostGIS for a URL, else the workspace."""
    from geo.dataset import default_data_path
    from geo.ref import DatasetRef

    ref = DatasetRef.parse(default_data_path() if ref is None or str(ref) == "" else ref)
    if ref.is_postgis:
        from geo import postgis  # the city-scale backend (its own module)

        return postgis.open_store(ref)
    from geo import workspace

    return workspace.open_store(ref)


def list_datasets() -> list[DatasetEntry]:
    """Datasets the app offers (workspace first; see `geo.workspace.list_datasets`)."""
    from geo import workspace

    return workspace.list_datasets()
