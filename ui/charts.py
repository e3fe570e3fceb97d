"""Plotly charts shared by the pages (fonts set so Chinese renders)."""

from __future__ import annotations

import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def style(fig: go.Figure, *, title: str | None = None, height: int = 320) -> go.Figure:
    """Common layout: CJK-capable font, tight margins."""
    fig.update_layout(title=title, height=height, font={"family": FONT}, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      template="plotly_white")
    return fig
