"""Plotly charts shared by the pages (fonts set so Chinese renders)."""

from __future__ import annotations

import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def style(fig: go.Figure, *, title: str | None = None, height: int = 320) -> go.Figure:
    """Common layout: CJK-capable font, tight margins."""
    fig.update_layout(title=title, height=height, font={"family": FONT}, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      template="plotly_white")
    return fig


def facilities_bar(counts: dict[str, int], *, title: str) -> go.Figure:
    """Horizontal bars of counts by label."""
    labels = list(counts)
    fig = go.Figure(go.Bar(x=[counts[k] for k in labels], y=labels, orientation="h", marker_color="#c0392b",
                           text=[counts[k] for k in labels], textposition="auto"))
    fig.update_yaxes(autorange="reversed")
    return style(fig, title=title, height=60 + 32 * len(labels))
