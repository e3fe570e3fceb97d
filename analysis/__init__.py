"""Coverage, accessibility, siting, hotspots, cases and estates analyses (no UI)."""
