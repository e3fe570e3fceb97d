"""Partial datasets made from a complete one: optional columns and optional layers dropped.

Real district files carry only what DESIGN.md requires; the demo fills every
optional column. `partial_dataset` turns the demo (or any `Dataset`) into what
a district's first files look like, for the page, report and CLI tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from geo.dataset import Dataset
from geo.errors import bad_choice
from geo.schema import LAYER_NAMES, LAYERS

REQUIRED_LAYERS: tuple[str, ...] = tuple(n for n, s in LAYERS.items() if s.required_in_dataset)
OPTIONAL_LAYERS: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n not in REQUIRED_LAYERS)


def optional_columns(layer: str) -> tuple[str, ...]:
    """The schema's optional columns of ``layer`` (what a district's own file may lack)."""
    return tuple(c.name for c in LAYERS[layer].columns if not c.required)


def partial_dataset(ds: Dataset, *, drop_columns: Mapping[str, Iterable[str]] | None = None,
                    drop_layers: Iterable[str] = ()) -> Dataset:
    """``ds`` without the columns ``drop_columns`` names ({layer: [column, ...]}) and the layers ``drop_layers``.

    Only optional layers and columns may be dropped (a required one raises `AnalysisError`, code
    ``analysis.bad_choice``); a column the layer does not have is ignored. ``ds`` is not modified.
    """
    out = ds
    for layer in drop_layers:
        if layer not in OPTIONAL_LAYERS:
            raise bad_choice("drop_layers", layer, OPTIONAL_LAYERS)
        out = out.with_layer(layer, None)
    for layer, columns in (drop_columns or {}).items():
        if layer not in LAYER_NAMES:
            raise bad_choice("drop_columns", layer, LAYER_NAMES)
        cols = list(columns)
        for c in cols:
            if c in LAYERS[layer].required_columns:
                raise bad_choice(f"drop_columns[{layer!r}]", c, optional_columns(layer))
        frame = out.layer(layer)
        if frame is None:
            continue
        present = [c for c in cols if c in frame.columns]
        out = out.with_layer(layer, frame.drop(columns=present))
    return out


def required_only(ds: Dataset) -> Dataset:
    """Only what DESIGN.md requires: no candidates, no roads, and every layer without its optional columns.

    Cases keep ``grid_id``: it is assigned at import, so every stored dataset has it.
    """
    return partial_dataset(
        ds, drop_layers=("candidates", "roads"),
        drop_columns={layer: [c for c in frame.columns if c != "geometry"
                              and c not in LAYERS[layer].required_columns and (layer, c) != ("cases", "grid_id")]
                      for layer in ("grids", "facilities", "estates", "cases")
                      if (frame := ds.layer(layer)) is not None},
    )
