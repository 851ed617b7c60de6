"""Pure chart builders: DataFrame + already-translated labels in, Plotly figure out.

One colour-blind-safe palette (Okabe-Ito) for the whole app; fonts big enough for a projector.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
NEUTRAL = "#8C8C8C"
FONT = dict(size=14)


def money_axis(fig: go.Figure, axis: str, values, lang: str, currency: str) -> go.Figure:
    """Tick labels in the reader's units (¥1,200万, ¥12M) instead of Plotly's SI suffixes."""
    from ui.format import money_ticks

    top = float(np.nanmax(np.abs(values))) if len(values) else 0.0
    if top <= 0:
        return fig
    step = 10 ** np.floor(np.log10(top / 4))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if top / (step * m) <= 5)
    ticks = np.arange(0, top + step, step)
    fig.update_layout({f"{axis}axis": dict(tickvals=ticks, ticktext=money_ticks(ticks, lang, currency))})
    return fig


def _layout_of(title: str, x_title: str, y_title: str, **extra) -> dict:
    """The house layout. Given to `go.Figure(..., layout=)` it costs a fifth of a later `update_layout`
    (plotly parses every update path): a setting change rebuilds the page's charts on every click."""
    return dict(
        title=dict(text=title, font=dict(size=18)),
        xaxis=dict(title=dict(text=x_title)),
        yaxis=dict(title=dict(text=y_title)),
        font=FONT,
        margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        hoverlabel=dict(font_size=14),
        **extra,
    )


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, **extra) -> go.Figure:
    fig.update_layout(_layout_of(title, x_title, y_title, **extra))
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
    fig.update_xaxes(tickformat="%Y-%m")  # dates read the same in both languages
    return _layout(fig, title, x_title, y_title, barmode="stack")


def ranked_bars(
    frame: pd.DataFrame, category: str, value: str, hover: list[str], title: str, x_title: str, y_title: str,
    colors: list[str] | None = None, keys: list[str] | None = None,
) -> go.Figure:
    """Horizontal bars, largest on top: answers 'where does it come from?'. `keys` ride along for clicks."""
    ordered = frame.iloc[::-1]
    return go.Figure(
        go.Bar(
            x=ordered[value], y=ordered[category], orientation="h",
            marker_color=(colors[::-1] if colors else OKABE_ITO[0]),
            hovertext=hover[::-1], hoverinfo="text", customdata=None if keys is None else keys[::-1],
        ),
        layout=_layout_of(title, x_title, y_title, height=max(280, 48 * len(frame) + 100)),
    )


def grouped_bars(
    frame: pd.DataFrame, x: str, series: dict[str, str], title: str, x_title: str, y_title: str,
) -> go.Figure:
    """Side-by-side bars per x for each column in `series` ({column: legend label})."""
    fig = go.Figure()
    for i, (column, label) in enumerate(series.items()):
        fig.add_bar(x=frame[x], y=frame[column], name=label, marker_color=OKABE_ITO[i % len(OKABE_ITO)],
                    hovertemplate=f"{label}: %{{y:.2f}}<extra></extra>")
    return _layout(fig, title, x_title, y_title, barmode="group")


def lines(
    frame: pd.DataFrame, x: str, series: dict[str, str], title: str, x_title: str, y_title: str,
    marker_x: float | None = None, marker_label: str = "",
) -> go.Figure:
    """One thick line per column in `series`; the first is the actual (solid), the others dashed."""
    fig = go.Figure()
    for i, (column, label) in enumerate(series.items()):
        fig.add_scatter(x=frame[x], y=frame[column], name=label, mode="lines",
                        line=dict(width=3, color=OKABE_ITO[i % len(OKABE_ITO)], dash="solid" if i == 0 else "dash"),
                        hovertemplate=f"{label}: %{{y:,.0f}}<extra></extra>")
    if marker_x is not None:
        fig.add_vline(x=marker_x, line=dict(color=NEUTRAL, dash="dot", width=2),
                      annotation_text=marker_label, annotation_position="top left")
    return _layout(fig, title, x_title, y_title, hovermode="x unified")


def histogram(
    low: list[float], high: list[float], counts: list[int], hover: list[str], title: str, x_title: str,
    y_title: str,
) -> go.Figure:
    """Pre-binned counts as touching bars over a numeric axis (the binning is done in crm_logic)."""
    centres = [(a + b) / 2 for a, b in zip(low, high)]
    widths = [b - a for a, b in zip(low, high)]
    return go.Figure(go.Bar(x=centres, y=counts, width=widths, marker_color=OKABE_ITO[0], hovertext=hover,
                            hoverinfo="text", marker_line=dict(color="white", width=1)),
                     layout=_layout_of(title, x_title, y_title))


def waterfall(labels: list[str], values: list[float], text: list[str], title: str, y_title: str) -> go.Figure:
    """From one total to another through the steps between them (first and last bars are totals)."""
    measure = ["absolute"] + ["relative"] * (len(values) - 2) + ["total"]
    fig = go.Figure(go.Waterfall(
        x=labels, y=values[:-1] + [0], measure=measure, text=text, textposition="outside",
        increasing=dict(marker_color=OKABE_ITO[2]), decreasing=dict(marker_color=OKABE_ITO[3]),
        totals=dict(marker_color=OKABE_ITO[0]), hoverinfo="text", hovertext=text,
    ))
    return _layout(fig, title, "", y_title, showlegend=False)


RELATIONSHIP_TYPE_COLOURS = {"transactional": NEUTRAL, "preferred_supplier": OKABE_ITO[0],
                             "partnership": OKABE_ITO[2], "strategic_alliance": OKABE_ITO[3]}


def bubble_matrix(
    frame: pd.DataFrame, x: str, y: str, size: str, colour: str, labels: dict[str, str], colours: dict[str, str],
    hover: list[str], title: str, x_title: str, y_title: str, cut: float, corners: dict[str, str],
) -> go.Figure:
    """A 2×2 portfolio on [0, 1] axes: bubbles sized by `size`, one trace per `colour` key (legend in
    `labels`), the cut lines drawn, and each quadrant named in its corner (`corners`: 'tr', 'tl', 'br',
    'bl' -> text). `customdata` carries the customer id for clicks."""
    fig = go.Figure()
    peak = float(frame[size].clip(lower=0).max()) if len(frame) else 0.0
    for key, label in labels.items():
        part = frame[frame[colour] == key]
        if part.empty:
            continue
        fig.add_scatter(
            x=part[x], y=part[y], mode="markers", name=label, customdata=part["customer_id"],
            marker=dict(size=part[size].clip(lower=0), sizemode="area", sizeref=2.0 * peak / 40 ** 2 if peak else 1,
                        sizemin=4, color=colours.get(key, NEUTRAL), opacity=0.75, line=dict(color="white", width=1)),
            hovertext=[hover[i] for i in part.index], hoverinfo="text",
        )
    for line in ("x", "y"):
        getattr(fig, f"add_{'v' if line == 'x' else 'h'}line")(cut, line=dict(color=NEUTRAL, dash="dot", width=2))
    spots = {"tr": (0.99, 0.99, "right", "top"), "tl": (0.01, 0.99, "left", "top"),
             "br": (0.99, 0.01, "right", "bottom"), "bl": (0.01, 0.01, "left", "bottom")}
    for corner, text in corners.items():
        px, py, xanchor, yanchor = spots[corner]
        fig.add_annotation(x=px, y=py, text=f"<b>{text}</b>", showarrow=False, xanchor=xanchor, yanchor=yanchor,
                           font=dict(size=14, color="#333333"), bgcolor="rgba(255,255,255,0.7)")
    fig.update_xaxes(range=[0, 1], tickformat=".0%")
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return _layout(fig, title, x_title, y_title, height=560)


def heatmap(frame: pd.DataFrame, x: str, y: str, value: str, hover: list[str], title: str, x_title: str,
            y_title: str, scale_title: str) -> go.Figure:
    """A grid of `value` (a percentage) over x × y, on a colour-blind-safe sequential scale from 0 to the
    largest value; hover text precomputed."""
    grid = frame.pivot(index=y, columns=x, values=value)
    text = pd.Series(hover, index=frame.index).set_axis(pd.MultiIndex.from_frame(frame[[y, x]])).unstack(x)
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index), colorscale="Blues", zmin=0,
        hovertext=text.reindex(index=grid.index, columns=grid.columns).to_numpy(), hoverinfo="text",
        colorbar=dict(title=scale_title),
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, title, x_title, y_title, height=max(320, 26 * len(grid) + 140))


def tornado(labels: list[str], low: list[float], high: list[float], hover_low: list[str], hover_high: list[str],
            low_name: str, high_name: str, title: str, x_title: str) -> go.Figure:
    """How far each input moves the result down and up: widest bar on top (inputs come sorted widest first)."""
    fig = go.Figure()
    for values, hover, name, colour in ((low, hover_low, low_name, OKABE_ITO[3]), (high, hover_high, high_name, OKABE_ITO[2])):
        fig.add_bar(y=labels[::-1], x=values[::-1], orientation="h", name=name, marker_color=colour,
                    hovertext=hover[::-1], hoverinfo="text")
    return _layout(fig, title, x_title, "", barmode="overlay", height=max(300, 48 * len(labels) + 120))


def zoomed_money_axis(fig: go.Figure, axis: str, low: float, high: float, lang: str, currency: str) -> go.Figure:
    """Show only [low, high] (padded) of a money axis, ticks in the reader's units: small changes on a large
    total stay visible (the bars then start below the axis, as waterfalls usually do)."""
    from ui.format import money_ticks

    pad = max((high - low) * 0.15, abs(high) * 0.002, 1.0)
    low, high = low - pad, high + pad
    step = 10 ** np.floor(np.log10((high - low) / 4))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if (high - low) / (step * m) <= 5)
    ticks = np.arange(np.ceil(low / step) * step, high, step)
    fig.update_layout({f"{axis}axis": dict(range=[low, high], tickvals=ticks, ticktext=money_ticks(ticks, lang, currency))})
    return fig
