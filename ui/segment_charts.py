"""Chart builders for the Segments and Customer pages: DataFrame + translated labels in, Plotly figure out.

Same rules as ui/charts.py (its palette and layout): titles that ask the question, axes with units, hover
text computed by the page, `customdata` carrying the keys a click lists customers by.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from crm_logic.store import CUSTOMER_CLASSES, PROSPECT_GRADES
from crm_logic.tiers import BEHAVIOURS, FORMS, LEVELS, MATURITIES, PROSPECT, QUADRANTS, SEGMENTS, TIERS
from ui.charts import NEUTRAL, OKABE_ITO, _layout

# One colour per group, the same on every page (Okabe-Ito first, then Tol's muted colours, both
# colour-blind safe); codes a user invents in the grid get the grey of "other".
_PALETTE = OKABE_ITO[:7] + ["#882255", "#44AA99", "#332288", "#AA4499"]
GROUP_COLOURS = {
    **{code: _PALETTE[i] for i, code in enumerate(SEGMENTS)}, PROSPECT: "#BBBBBB",
    **{code: OKABE_ITO[i] for i, code in enumerate(TIERS)},
    **{code: OKABE_ITO[i] for i, code in enumerate(QUADRANTS)},
    **{code: _PALETTE[i] for i, code in enumerate(FORMS)},
    **{code: OKABE_ITO[i] for i, code in enumerate(LEVELS)},
    **{code: OKABE_ITO[i] for i, code in enumerate(BEHAVIOURS)},
    **{code: OKABE_ITO[i] for i, code in enumerate(MATURITIES)},
    **{code: OKABE_ITO[i] for i, code in enumerate(CUSTOMER_CLASSES)},
    **{code: OKABE_ITO[i] for i, code in enumerate(PROSPECT_GRADES)},
}


def colour(code: str) -> str:
    return GROUP_COLOURS.get(code, NEUTRAL)


def stacked_groups(frame: pd.DataFrame, dimension: str, by: str, value: str, dimension_labels: dict,
                   by_labels: dict, hover: list[str], title: str, x_title: str) -> go.Figure:
    """Horizontal bars per value of `dimension` (largest on top), split by `by` in its own colours;
    each part's customdata is "dimension_key|by_key" so a click lists exactly those customers."""
    fig = go.Figure()
    order = list(dict.fromkeys(frame[dimension]))[::-1]
    for key, label in by_labels.items():
        part = frame[frame[by] == key]
        if part.empty:
            continue
        fig.add_bar(y=[dimension_labels[d] for d in part[dimension]], x=part[value], name=label, orientation="h",
                    marker_color=colour(key), hovertext=[hover[i] for i in part.index], hoverinfo="text",
                    customdata=[f"{d}|{key}" for d in part[dimension]])
    fig.update_yaxes(categoryorder="array", categoryarray=[dimension_labels[d] for d in order])
    _layout(fig, title, x_title, "", barmode="stack", height=max(360, 40 * len(order) + 220))
    return fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0))


def purchase_timeline(orders: pd.DataFrame, contacts: pd.DataFrame, hover_orders: list[str],
                      hover_contacts: list[str], contact_labels: list[str], title: str, y_title: str,
                      contact_axis: str) -> go.Figure:
    """Purchases as stems over time (height = amount); contacts as markers on a row beneath them."""
    fig = go.Figure()
    fig.add_bar(x=orders["order_date"], y=orders["amount"], name=y_title, marker_color=OKABE_ITO[0],
                hovertext=hover_orders, hoverinfo="text", width=86_400_000 * 3)
    if len(contacts):
        fig.add_scatter(x=contacts["interaction_date"], y=contact_labels, mode="markers", yaxis="y2",
                        name=contact_axis, marker=dict(size=11, color=OKABE_ITO[1], symbol="diamond"),
                        hovertext=hover_contacts, hoverinfo="text")
        fig.update_layout(yaxis=dict(domain=[0.4, 1]), yaxis2=dict(domain=[0, 0.3], title=contact_axis,
                                                                    type="category"))
    fig.update_xaxes(tickformat="%Y-%m")
    return _layout(fig, title, "", y_title, height=420, showlegend=False)


def rfm_grid(cells: pd.DataFrame, colour: str, hover: list[str], names: list[str], title: str, x_title: str,
             y_title: str, colour_title: str) -> go.Figure:
    """The R×F grid as a heatmap: one cell per (r, f), coloured by `colour`, written with its segment's
    name and count; a click on a cell gives its segment key, so the page lists that segment."""
    r_values = sorted(cells["r"].unique())
    f_values = sorted(cells["f"].unique())
    z = np.full((len(r_values), len(f_values)), np.nan)
    text = np.full(z.shape, "", dtype=object)
    for (_, row), label in zip(cells.iterrows(), names):
        i, j = r_values.index(row["r"]), f_values.index(row["f"])
        z[i, j], text[i, j] = row[colour], label
    fig = go.Figure(go.Heatmap(
        x=[str(f) for f in f_values], y=[str(r) for r in r_values], z=z, text=text, texttemplate="%{text}",
        textfont=dict(size=12), hoverinfo="skip", xgap=2, ygap=2, colorscale="Blues",
        colorbar=dict(title=colour_title),
    ))
    # Heatmaps cannot be selected in Plotly: an invisible square marker on each cell takes the hover and click.
    fig.add_scatter(
        x=[str(f) for f in cells["f"]], y=[str(r) for r in cells["r"]], mode="markers", showlegend=False,
        marker=dict(symbol="square", size=70, opacity=0), hovertext=hover, hoverinfo="text",
        customdata=list(cells["segment"]))
    return _layout(fig, title, x_title, y_title, height=520)


def pareto_curve(share_customers: np.ndarray, share_measure: np.ndarray, tiers: list[str], tier_labels: dict,
                 hover: list[str], title: str, x_title: str, y_title: str) -> go.Figure:
    """Cumulative share of the measure against the share of customers, coloured by ABC tier; clicking a
    point lists its tier."""
    fig = go.Figure()
    for i, (tier, label) in enumerate(tier_labels.items()):
        mask = np.array([t == tier for t in tiers])
        if not mask.any():
            continue
        fig.add_scatter(x=share_customers[mask] * 100, y=share_measure[mask] * 100, mode="markers+lines",
                        name=label, marker=dict(size=4, color=OKABE_ITO[i]), line=dict(width=4, color=OKABE_ITO[i]),
                        hovertext=list(np.array(hover, dtype=object)[mask]), hoverinfo="text",
                        customdata=[tier] * int(mask.sum()))
    fig.add_hline(y=80, line=dict(color=NEUTRAL, dash="dot"))
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(range=[0, 101], ticksuffix="%")
    return _layout(fig, title, x_title, y_title, height=420)


def quadrant_bubbles(frame: pd.DataFrame, x: str, y: str, size: str, labels: list[str], hover: list[str],
                     title: str, x_title: str, y_title: str) -> go.Figure:
    """One bubble per quadrant of current × predicted value, sized by customers; click lists it."""
    top = max(float(frame[size].max()), 1.0)
    fig = go.Figure(go.Scatter(
        x=frame[x], y=frame[y], mode="markers+text", text=labels, textposition="middle center",
        textfont=dict(size=14, color="black"),
        marker=dict(size=50 + 80 * np.sqrt(frame[size] / top), color=[colour(k) for k in frame["key"]], opacity=0.55),
        hovertext=hover, hoverinfo="text", customdata=list(frame["key"]),
    ))
    fig.update_xaxes(range=[-0.5, 1.5], tickvals=[0, 1], zeroline=False)
    fig.update_yaxes(range=[-0.5, 1.5], tickvals=[0, 1], zeroline=False)
    return _layout(fig, title, x_title, y_title, height=460, showlegend=False)


def sankey(sources: list[str], targets: list[str], values: list[float], node_keys: list[str],
           node_labels: list[str], link_keys: list[str], hover: list[str], title: str) -> go.Figure:
    """Flows between two memberships: nodes "from:<code>" on the left, "to:<code>" on the right, each in
    its group's colour; each link's customdata is its 'from|to' key, so a click lists who moved that way."""
    index = {key: i for i, key in enumerate(node_keys)}
    codes = [key.split(":", 1)[1] for key in node_keys]

    def faint(hex_colour: str) -> str:
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},0.35)"

    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=node_labels, pad=14, thickness=18, color=[colour(c) for c in codes],
                  hovertemplate="%{label}<extra></extra>"),
        link=dict(source=[index[s] for s in sources], target=[index[t] for t in targets], value=values,
                  customdata=link_keys, label=hover, hovertemplate="%{label}<extra></extra>",
                  color=[faint(colour(s.split(":", 1)[1])) for s in sources]),
    ))
    return _layout(fig, title, "", "", height=620)
