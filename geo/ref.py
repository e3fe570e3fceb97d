"""`DatasetRef`: the one parser of dataset specs (what ``--data``, ``GRIDATLAS_DATA`` and the sidebar name).

Contract
--------
Every spec string is read here and nowhere else; the storage factory
(`geo.storage.open_store`), the sidebar, the page caches and the CLI take a
`DatasetRef` (or a string they hand to `DatasetRef.parse`).

A spec is one of:

- a dataset name in the workspace (``shifeng_demo``, ``武汉``): letters
  (Chinese too), digits, ``_``, ``-``, ``.``; kind ``"workspace"``;
- a GeoPackage path (ends in ``.gpkg``, or holds a path separator, or starts
  with ``.`` or ``~``; anything such that does not end in ``.gpkg`` is
  refused with ``storage.not_gpkg``); kind ``"gpkg"``;
- a PostgreSQL URL, ``postgresql://``, ``postgres://`` or
  ``postgresql+DRIVER://`` (e.g. ``postgresql+psycopg://``), normalised to
  ``postgresql://…``; kind ``"postgis"``. Any other ``SCHEME://`` is refused
  with ``storage.scheme_unknown``.

followed, optionally, by the part of a city dataset it names:
``#district=NAME`` (one district, with its cases) or ``#city`` (the whole
city without its cases, as the sidebar's 全市 shows it). A district may also
be given as a separate argument (``--district``); given both ways, the two must
agree (``storage.district_conflict``). An empty spec is
``storage.spec_empty``: the default dataset (``GRIDATLAS_DATA``, else the
bundled demo) is the caller's to give (`geo.dataset.default_data_path`; the
factory `geo.storage.open_store` does so for ``None``). This module imports
nothing of the project but its errors, so settings can check a spec with it.

``ref.key`` writes the ref back as one string (``SPEC``, ``SPEC#district=NAME``
or ``SPEC#city``): the page caches are keyed by it, and ``DatasetRef.parse(ref.key)
== ref``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from geo.errors import StorageError

RefKind = Literal["workspace", "gpkg", "postgis"]
DISTRICT_PART = "#district="
CITY_PART = "#city"
PG_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class DatasetRef:
    """A dataset (``kind`` and ``spec``) and, for a city, the part of it a page or command works on."""

    kind: RefKind
    spec: str  # a workspace name, a GeoPackage path as given, or a postgresql:// URL
    district: str | None = None  # one district of a city dataset (its grids, and the cases in them)
    city: bool = False  # the whole city without its cases (never with a district)

    @classmethod
    def parse(cls, spec: str | os.PathLike | DatasetRef | None, district: str | None = None) -> DatasetRef:
        """The ref a spec names (see the module's Contract); ``district`` as a separate argument."""
        if isinstance(spec, DatasetRef):
            ref = spec
        else:
            ref = _parse_text("" if spec is None else os.fspath(spec))
        district = _clean_district(district)
        if district is None:
            return ref
        if ref.district is not None and ref.district != district:
            raise StorageError(f"the spec names district {ref.district!r} and --district {district!r}; give one",
                               code="storage.district_conflict", params={"a": ref.district, "b": district})
        return replace(ref, district=district, city=False)

    @property
    def is_postgis(self) -> bool:
        return self.kind == "postgis"

    @property
    def key(self) -> str:
        """The ref as one string (``SPEC``, ``SPEC#district=NAME``, ``SPEC#city``), parsed back to this ref."""
        if self.district is not None:
            return f"{self.spec}{DISTRICT_PART}{self.district}"
        return f"{self.spec}{CITY_PART}" if self.city else self.spec

    @property
    def is_part(self) -> bool:
        """True when the ref names a part of a city (a district, or the city without cases)."""
        return self.district is not None or self.city

    @property
    def label(self) -> str:
        """What the sidebar calls the dataset: its name, the file's stem, or the database dataset and host
        (never a password)."""
        if self.kind == "workspace":
            return self.spec
        if self.kind == "gpkg":
            return Path(self.spec).stem
        parts = urlsplit(self.spec)
        dataset = parse_qs(parts.query).get("dataset", [parts.path.strip("/")])[0]
        return f"{dataset} (PostGIS {parts.hostname or ''})"

    def dataset(self) -> DatasetRef:
        """The whole dataset (no part)."""
        return replace(self, district=None, city=False)

    def part(self, district: str | None) -> DatasetRef:
        """One district of this city, or (None) the whole city without its cases."""
        district = _clean_district(district)
        return replace(self, district=district, city=district is None)

    def __str__(self) -> str:
        return self.key


def _clean_district(district: str | None) -> str | None:
    if district is None:
        return None
    text = str(district).strip()
    return text or None


def _parse_text(raw: str) -> DatasetRef:
    text = raw.strip()
    district, city = None, False
    if DISTRICT_PART in text:
        text, district = text.rsplit(DISTRICT_PART, 1)
        district = _clean_district(district)
    elif text.endswith(CITY_PART):
        text, city = text[: -len(CITY_PART)], True
    if not text:
        raise StorageError(f"{raw!r} names no dataset: give a dataset name, a GeoPackage path or a postgresql:// "
                           "URL", code="storage.spec_empty", params={"spec": raw})
    if "://" in text:
        scheme, rest = text.split("://", 1)
        base = scheme.lower().split("+", 1)[0]
        if base not in PG_SCHEMES:
            raise StorageError(f"{raw} is not a dataset: a URL must start with postgresql:// (or "
                               "postgresql+DRIVER://)", code="storage.scheme_unknown", params={"spec": raw,
                                                                                              "scheme": scheme})
        return DatasetRef("postgis", f"postgresql://{rest}", district, city)
    if text.lower().endswith(".gpkg") or os.sep in text or (os.altsep or os.sep) in text \
            or text.startswith((".", "~")):
        if not text.lower().endswith(".gpkg"):
            raise StorageError(f"{text} is not a GeoPackage: give a path ending in .gpkg or a dataset name",
                               code="storage.not_gpkg", params={"spec": text})
        return DatasetRef("gpkg", text, district, city)
    return DatasetRef("workspace", text, district, city)
