"""The Segments page's pieces that are not layout: group names in the reader's language, the frames its
charts and tables are drawn from (from summaries cached by `ui.state.segments_query`), and their figures
with translated labels and hover text."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_logic import customers, tiers
from crm_logic.playbooks import tactics
from crm_logic.store import CUSTOMER_CLASSES, PROSPECT_GRADES
from crm_logic.tiers import UNKNOWN
from ui import charts, segment_charts, state
from ui import format as fmt
from ui.i18n import group_label, t

# Which catalogue names a column's codes, and which playbook kind holds its tactics.
GROUPS = {
    "rfm_segment": ("segment", "segment"), "value_tier": ("tier", None), "core_quadrant": ("quadrant", None),
    "relationship_form": ("form", "form"), "relationship_level": ("level", "level"),
    "behaviour_type": ("behaviour", "behaviour"), "maturity": ("maturity", None),
    "customer_class": ("class", None), "prospect_grade": ("grade", None),
}
LIST_COLUMNS = ["customer_id", "customer_class", "region", "rfm_segment", "rfm_score", "value_tier",
                "relationship_level", "behaviour_type", "purchases", "days_since_last", "revenue", "clv", "p_alive"]
# The codes each column can hold (with their names and help in locales/*/segments.toml).
KNOWN = {"rfm_segment": (*tiers.SEGMENTS, tiers.PROSPECT), "value_tier": tiers.TIERS,
         "core_quadrant": tiers.QUADRANTS, "relationship_form": tiers.FORMS,
         "relationship_level": tiers.LEVELS, "behaviour_type": tiers.BEHAVIOURS, "maturity": tiers.MATURITIES,
         "customer_class": CUSTOMER_CLASSES, "prospect_grade": PROSPECT_GRADES}
ORDERS = {"relationship_form": tiers.FORMS, "relationship_level": tiers.LEVELS, "maturity": tiers.MATURITIES,
          "value_tier": tiers.TIERS, "prospect_grade": ("A", "B", "C", "D")}
SPLIT_CODES = {"rfm_segment": [*tiers.SEGMENTS, tiers.PROSPECT], "value_tier": list(tiers.TIERS),
               "relationship_level": list(tiers.LEVELS)}
QUADRANT_PLACES = {"core": (1, 1), "rising": (0, 1), "harvest": (1, 0), "marginal": (0, 0)}
TOP_FLOWS = 12  # the biggest flows, also as bars: Sankey bands cannot be clicked, bars can


def name(column: str, code) -> str:
    """A group's name in the reader's language (codes a user typed into the grid stay as typed)."""
    if code is None or code == UNKNOWN or (isinstance(code, float) and pd.isna(code)):
        return t("common.unknown")
    if code == tiers.ABSENT:
        return t("segments.segment.absent")
    if column in KNOWN and code not in KNOWN[column]:
        return str(code)
    if column in ("region", "industry", "category"):
        return group_label(column, code)
    kind = GROUPS[column][0]
    return t(f"common.classes.{code}") if kind == "class" else t(f"segments.{kind}.{code}")


def group_help(column: str, code: str, rules: tiers.SegmentRules) -> str | None:
    """What a group means (None for codes the catalogue does not know)."""
    kind = GROUPS.get(column, (None, None))[0]
    if not (kind and code in KNOWN.get(column, ())):
        return None
    a, b = rules.value.abc_shares
    return f"**{name(column, code)}** — " + t(f"segments.{kind}_help.{code}", a=a, b=b, c=1 - b,
                                              months=round(rules.ladder.window_days / 30.44))


def listed(rows: pd.DataFrame) -> pd.DataFrame:
    """A group's customers with the columns its list shows."""
    return rows[[c for c in LIST_COLUMNS if c in rows]].reset_index(drop=True)


def shown_groups(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A breakdown's groups that hold customers (the unknown left out but for classes), in the column's
    natural order where it has one."""
    frame = frame[(frame["customers"] > 0) & ((frame[column] != UNKNOWN) | (column == "customer_class"))]
    if column in ORDERS:
        rank = {code: i for i, code in enumerate(ORDERS[column])}
        frame = frame.sort_values(column, key=lambda s: s.map(lambda c: rank.get(c, len(rank))), ignore_index=True)
    return frame


def _group_hover(frame: pd.DataFrame, labels: list[str], language: str, cur: str) -> list[str]:
    return [t("segments_page.hover_group", group=label, customers=fmt.count(r.customers),
              customer_share=fmt.pct(r.customer_share), revenue=fmt.money(r.revenue, language, cur),
              revenue_share=fmt.pct(r.revenue_share)) for label, r in zip(labels, frame.itertuples())]


def group_bars(frame: pd.DataFrame, column: str, key: str, value: str, language: str, cur: str):
    """Customers or revenue (`value`) per group as clickable bars in each group's colour."""
    labels = [name(column, code) for code in frame[column]]
    fig = charts.ranked_bars(frame.assign(label=labels), "label", value, _group_hover(frame, labels, language, cur),
                             t(f"segments_page.chart.{key}"),
                             t("segments_page.revenue_axis", currency=cur) if value == "revenue"
                             else t("segments_page.customers_axis"), "",
                             colors=[segment_charts.colour(c) for c in frame[column]], keys=list(frame[column]))
    return charts.money_axis(fig, "x", frame["revenue"].to_numpy(), language, cur) if value == "revenue" else fig


def grid_chart(cells: pd.DataFrame, colour_by: str, scale: int, language: str, cur: str):
    """The R × F grid, each cell written with its segment and customers, coloured by `colour_by`."""
    hover = [t("segments_page.hover_cell", r=r.r_score, f=r.f_score, segment=name("rfm_segment", r.segment),
               customers=fmt.count(r.customers), revenue=fmt.money(r.revenue, language, cur))
             for r in cells.itertuples()]
    return segment_charts.rfm_grid(
        cells.rename(columns={"r_score": "r", "f_score": "f"}), colour_by, hover,
        [f"{name('rfm_segment', r.segment)}<br>{fmt.count(r.customers)}" for r in cells.itertuples()],
        t("segments_page.chart.grid"), t("segments_page.f_axis", scale=scale), t("segments_page.r_axis", scale=scale),
        t(f"segments_page.colour_option.{colour_by}"))


def grid_labels() -> dict[str, str]:
    """The segments the grid editor offers, by name."""
    return {code: name("rfm_segment", code) for code in tiers.SEGMENTS}


def grid_editor_frame(rules: tiers.SegmentRules) -> pd.DataFrame:
    """The grid in force as the editor shows it: segment names, rows R scale..1, columns F 1..scale."""
    labels, scale = grid_labels(), rules.rfm.scale
    return pd.DataFrame([[labels.get(c, c) for c in row] for row in rules.rfm.segment_grid()],
                        index=[f"R{scale - i}" for i in range(scale)], columns=[f"F{j + 1}" for j in range(scale)])


def grid_proposal(edited: pd.DataFrame) -> list[list]:
    """The edited grid as segment codes (a name typed that no segment has stays as typed; empty: None)."""
    by_label = {label: code for code, label in grid_labels().items()}
    return [[by_label.get(v, v) if isinstance(v, str) and v else None for v in row] for row in edited.to_numpy()]


def segment_counts_table(counts: pd.DataFrame, cur: str) -> tuple[pd.DataFrame, dict]:
    """Customers and revenue per segment, as a table with translated headers, and its column config."""
    frame = pd.DataFrame({
        t("segments_page.column.segment"): [name("rfm_segment", c) for c in counts["rfm_segment"]],
        t("segments_page.column.customers"): counts["customers"],
        t("segments_page.column.customer_share"): (counts["customer_share"] * 100).round(1),
        t("segments_page.column.revenue"): counts["revenue"].round(0),
        t("segments_page.column.revenue_share"): (counts["revenue_share"] * 100).round(1),
    })
    config = {
        t("segments_page.column.customers"): st.column_config.NumberColumn(format="localized"),
        t("segments_page.column.customer_share"): st.column_config.NumberColumn(format="%.1f%%"),
        t("segments_page.column.revenue_share"): st.column_config.NumberColumn(format="%.1f%%"),
        t("segments_page.column.revenue"): st.column_config.NumberColumn(format=f"{cur}%,.0f"),
    }
    return frame, config


def pareto_chart(points: pd.DataFrame, measure: str):
    """The Pareto curve of the ABC measure, each point in its tier's colour."""
    tier_names = {code: name("value_tier", code) for code in tiers.TIERS}
    measure_text = t(f"segments_page.measure_in_text.{measure}")
    hover = [t("segments_page.hover_pareto", customers=fmt.pct(r.customer_share), share=fmt.pct(r.measure_share),
               measure=measure_text, tier=tier_names[r.tier]) for r in points.itertuples()]
    return segment_charts.pareto_curve(
        points["customer_share"].to_numpy(), points["measure_share"].to_numpy(), list(points["tier"]), tier_names,
        hover, t("segments_page.chart.pareto", measure=measure_text), t("segments_page.pareto_x"),
        t("segments_page.pareto_y", measure=measure_text))


def by_tier(breakdown: pd.DataFrame) -> pd.DataFrame:
    """The value-tier breakdown indexed by tier, A, B and C only."""
    return breakdown[breakdown["value_tier"].isin(tiers.TIERS)].set_index("value_tier")


def quadrants(breakdown: pd.DataFrame) -> pd.DataFrame:
    """The four core-customer quadrants with their place on the 2 × 2 (x: value now, y: predicted)."""
    frame = breakdown[breakdown["core_quadrant"].isin(tiers.QUADRANTS)]
    return frame.assign(key=frame["core_quadrant"], x=[QUADRANT_PLACES[q][0] for q in frame["core_quadrant"]],
                        y=[QUADRANT_PLACES[q][1] for q in frame["core_quadrant"]])


def quadrant_chart(frame: pd.DataFrame, language: str, cur: str):
    labels = [name("core_quadrant", q) for q in frame["key"]]
    fig = segment_charts.quadrant_bubbles(
        frame, "x", "y", "customers", [f"{label}<br>{fmt.count(n)}" for label, n in zip(labels, frame["customers"])],
        _group_hover(frame, labels, language, cur), t("segments_page.chart.quadrant"), t("segments_page.quadrant_x"),
        t("segments_page.quadrant_y"))
    fig.update_xaxes(ticktext=[t("segments_page.low"), t("segments_page.high")])
    return fig.update_yaxes(ticktext=[t("segments_page.low"), t("segments_page.high")])


def split_chart(frame: pd.DataFrame, dimension: str, by: str, language: str, cur: str):
    """Revenue per region, industry, class or category (`dimension`), split by `by`; a click gives
    "dimension_key|by_key"."""
    frame = frame.reset_index(drop=True)
    extra = [c for c in frame[by].unique() if c not in SPLIT_CODES[by]]
    by_labels = {code: name(by, code) for code in [*SPLIT_CODES[by], *extra] if code in set(frame[by])}
    dimension_labels = {d: name(dimension, d) for d in frame[dimension].unique()}
    hover = [t("segments_page.hover_part", dimension=dimension_labels[r[dimension]], group=by_labels[r[by]],
               customers=fmt.count(r["customers"]), revenue=fmt.money(r["revenue"], language, cur))
             for _, r in frame.iterrows()]
    fig = segment_charts.stacked_groups(frame, dimension, by, "revenue", dimension_labels, by_labels, hover,
                                        t(f"segments_page.chart.by_{dimension}", group=t(f"table.{by}")),
                                        t("segments_page.revenue_axis", currency=cur))
    return charts.money_axis(fig, "x", frame.groupby(dimension)["revenue"].sum().to_numpy(), language, cur)


def part_rows(table: pd.DataFrame, by: str, group: str, dimension: str, where: str, as_of) -> pd.DataFrame:
    """The customers of one part of a split: in `group` of `by` and in `where` of `dimension` (for a product
    category: who bought in it by `as_of`)."""
    rows = tiers.group_customers(table, by, group)
    if dimension != "category":
        return tiers.group_customers(rows, dimension, where)
    bought = state.query(customers.bought_in_category, None if where == UNKNOWN else where, as_of)
    return rows[rows["customer_id"].isin(bought["customer_id"])]


def shown_flows(flows: pd.DataFrame, movers_only: bool) -> pd.DataFrame:
    """The flows worth drawing: without those who stayed (with `movers_only`), without prospects who were
    absent or prospects before."""
    if movers_only:
        flows = flows[flows["from_segment"] != flows["to_segment"]]
    stayed_prospect = flows["from_segment"].isin([tiers.ABSENT, tiers.PROSPECT]) & (flows["to_segment"] == tiers.PROSPECT)
    return flows[~stayed_prospect].reset_index(drop=True)


def flow_hover(flows: pd.DataFrame, language: str, cur: str) -> dict[str, str]:
    """Each flow's "from|to" key and its words."""
    return {f"{r.from_segment}|{r.to_segment}": t(
        "segments_page.hover_flow", source=name("rfm_segment", r.from_segment),
        target=name("rfm_segment", r.to_segment), customers=fmt.count(r.customers),
        revenue=fmt.money(r.period_revenue, language, cur)) for r in flows.itertuples()}


def flow_charts(flows: pd.DataFrame, hover: dict[str, str], title: str):
    """The Sankey of every flow and the biggest flows as clickable bars."""
    sources = [f"from:{c}" for c in flows["from_segment"]]
    targets = [f"to:{c}" for c in flows["to_segment"]]
    node_keys = list(dict.fromkeys(sources)) + list(dict.fromkeys(targets))
    node_labels = [name("rfm_segment", k.split(":", 1)[1]) for k in node_keys]
    sankey = segment_charts.sankey(sources, targets, list(flows["customers"]), node_keys, node_labels, list(hover),
                                   list(hover.values()), title)
    top = flows.head(TOP_FLOWS)
    top_keys = [f"{r.from_segment}|{r.to_segment}" for r in top.itertuples()]
    bars = charts.ranked_bars(
        top.assign(label=[f"{name('rfm_segment', r.from_segment)} → {name('rfm_segment', r.to_segment)}"
                          for r in top.itertuples()]),
        "label", "customers", [hover[k] for k in top_keys], t("segments_page.chart.flows"),
        t("segments_page.customers_axis"), "", colors=[segment_charts.colour(c) for c in top["to_segment"]],
        keys=top_keys)
    return sankey, bars


def flow_rows(table: pd.DataFrame, moved: pd.DataFrame) -> pd.DataFrame:
    """The segment table's rows of a flow's customers, with their revenue and segment at the later date."""
    rows = table.set_index("customer_id").reindex(moved["customer_id"]).reset_index()
    rows["revenue"], rows["rfm_segment"] = moved["revenue"].to_numpy(), moved["to_segment"].to_numpy()
    return rows


def picker(picked: list, options: list, key: str, column: str, label_key: str, counts: dict | None = None):
    """The group to list: a click on the chart chooses it, the select box below the chart too (with each
    group's customer count when `counts` gives them)."""
    click = picked[0] if picked else None
    if click is not None and click != st.session_state.get(f"{key}_click") and click in options:
        st.session_state[key] = click
    st.session_state[f"{key}_click"] = click
    labels = {code: name(column, code) + (f" · {fmt.count(counts[code])}" if counts else "")
              for code in options}  # resolved now: a format_func may run after the run
    return st.selectbox(t(label_key), options, index=None, key=key, placeholder=t("segments_page.pick"),
                        format_func=labels.get)


def explain(column: str, code: str, rules, language: str) -> None:
    """What a group means and, where the playbooks have them, the tactics for it."""
    meaning = group_help(column, code, rules)
    if meaning:
        st.markdown(meaning)
    playbook = GROUPS.get(column, (None, None))[1]
    plays = tactics(playbook, code, language) if playbook else []
    if plays:
        st.markdown(f"**{t('segments_page.tactics')}**\n" + "\n".join(f"- {p}" for p in plays))
