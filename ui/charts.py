"""Pure chart builders: DataFrame + already-translated labels in, Plotly figure out.

One colour-blind-safe palette (Okabe-Ito) for the whole app; fonts big enough for a projector.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
NEUTRAL = "#8C8C8C"
FONT = dict(size=14)


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, **extra) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, font=dict(size=18)),
        xaxis_title=x_title,
        yaxis_title=y_title,
        font=FONT,
        margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        hoverlabel=dict(font_size=14),
        **extra,
    )
    return fig


def stacked_bars(
    frame: pd.DataFrame, x: str, y: str, stack: str, labels: dict[str, str], hover: list[str],
    title: str, x_title: str, y_title: str,
) -> go.Figure:
    """Bars per x, stacked by `stack` (keys translated through `labels`); hover text precomputed."""
    fig = go.Figure()
    for i, (key, label) in enumerate(labels.items()):
        part = frame[frame[stack] == key]
        fig.add_bar(
            x=part[x], y=part[y], name=label, marker_color=OKABE_ITO[i % len(OKABE_ITO)],
            hovertext=[hover[j] for j in part.index], hoverinfo="text",
        )
    return _layout(fig, title, x_title, y_title, barmode="stack")


def ranked_bars(
    frame: pd.DataFrame, category: str, value: str, hover: list[str], title: str, x_title: str, y_title: str,
    colors: list[str] | None = None, keys: list[str] | None = None,
) -> go.Figure:
    """Horizontal bars, largest on top: answers 'where does it come from?'. `keys` ride along for clicks."""
    ordered = frame.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=ordered[value], y=ordered[category], orientation="h",
            marker_color=(colors[::-1] if colors else OKABE_ITO[0]),
            hovertext=hover[::-1], hoverinfo="text", customdata=None if keys is None else keys[::-1],
        )
    )
    return _layout(fig, title, x_title, y_title, height=max(280, 48 * len(frame) + 100))
