"""Layers, validation, coordinate systems and storage of GridAtlas datasets (no UI)."""
