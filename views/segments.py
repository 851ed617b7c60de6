"""Segments: who our customers are, in the groups managers use — RFM segments from a grid the user can
edit, ABC value tiers, core customers, the relationship ladder, who moved since last quarter. Every chart
leads to its customers, every group says what it means and what to do about it."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from crm_logic import customers, tiers
from crm_logic.models import ModelError
from crm_logic.tiers.migration import default_earlier
from ui import segment_summaries, segment_view, state
from ui import format as fmt
from ui.i18n import labeller, lang, t
from ui.page import titled_page
from ui.segment_rules import MEASURE_KEY, SCORING_KEY, current_rules, cutoff_inputs, grid_editor_form, rules_editor
from ui.segment_view import explain, name, picker
from ui.widgets import chart, customer_table, empty_state

as_of = titled_page("segments_page")
cur, language, store = state.currency(), lang(), state.current_store()
rules = current_rules()
try:
    with st.spinner(t("segments_page.computing")):
        table = state.segment_table(rules)
except ModelError as error:
    empty_state(f"clv.error.{error.key}")
    st.stop()
missing = {m["concept"]: m["columns"] for m in state.query(tiers.missing_concepts)}
buyers = int(table["r_score"].notna().sum())
st.caption(t("segments_page.caption", as_of=fmt.day(as_of), customers=fmt.count(len(table)),
             buyers=fmt.count(buyers), prospects=fmt.count(len(table) - buyers)))


def unlock(concept: str) -> None:
    """Instead of an empty chart: what the base lacks and which columns would bring the concept in."""
    st.info(t("segments.concept.missing", concept=t(f"segments.concept.{concept}"),
              columns=", ".join(missing[concept])))


def show_customers(rows: pd.DataFrame, key: str, title: str, filters: dict[str, str]) -> None:
    """A group's customers: how many, the list (linked to Customer 360), CSV and Excel of the same rows."""
    st.subheader(title)
    st.caption(t("segments_page.list_count", count=fmt.count(len(rows))))
    customer_table(customers.with_names(store, segment_view.listed(rows)), key, cur, filters=filters)


def group_bars(column: str, key: str, value: str, prospects_only: bool = False) -> None:
    """Customers or revenue (`value`) per group of `column` as bars; a click (or the select box) lists the
    group, explains it and gives its tactics. Buyers-only groups leave prospects (no group) out."""
    frame = state.segments_query(segment_summaries.prospect_breakdown if prospects_only else tiers.breakdown,
                                 rules, column)
    frame = segment_view.shown_groups(frame, column)
    if frame.empty:
        st.info(t("segments_page.no_customers"))
        return
    picked = chart(segment_view.group_bars(frame, column, key, value, language, cur), key=key, selectable=True)
    code = picker(picked, list(frame[column]), f"{key}_pick", column, "segments_page.list_of")
    if code is not None:
        explain(column, code, rules, language)
        rows = tiers.group_customers(table, column, code)
        rows = rows[rows["rfm_segment"] == tiers.PROSPECT] if prospects_only else rows
        show_customers(rows, f"{key}_customers", t("segments_page.customers_of", group=name(column, code)),
                       {t(f"table.{column}"): name(column, code)})


rules_editor(rules)

rfm_tab, value_tab, ladder_tab, breakdown_tab, migration_tab = st.tabs(
    [t(f"segments_page.tab.{tab}") for tab in ("rfm", "value", "ladder", "breakdowns", "migration")])

# --- RFM: scores, the editable grid, the segments ---------------------------------------------------------
with rfm_tab:
    st.markdown(t("segments_page.rfm_intro", scale=rules.rfm.scale))
    left, right = st.columns(2)
    left.radio(t("segments_page.scoring"), ("quantiles", "cutoffs"), key=SCORING_KEY, horizontal=True,
               format_func=labeller("segments_page.scoring_option"),
               help=t("segments_page.scoring_help", scale=rules.rfm.scale))
    colour_by = right.radio(t("segments_page.colour_by"), ("customers", "revenue"), key="keep_segments_colour_by",
                            horizontal=True, format_func=labeller("segments_page.colour_option"))
    cutoff_inputs(rules, state.segments_query(tiers.rfm_cutoffs, rules, rules.rfm), language, cur)

    cells = state.segments_query(tiers.grid_counts, rules, rules)
    grid_chart, grid_editor = st.container(), st.container(border=True)
    with grid_chart:
        fig = segment_view.grid_chart(cells, colour_by, rules.rfm.scale, language, cur)
        grid_picked = chart(fig, key="rfm_grid", selectable=True)
    with grid_editor:
        grid_editor_form(rules)

    segment_counts = state.segments_query(tiers.breakdown, rules, "rfm_segment")
    segments_shown = [code for code in segment_counts["rfm_segment"]]
    if grid_picked:
        grid_picked = [code for code in grid_picked if code in segments_shown]
    st.markdown(f"**{t('segments_page.segment_counts')}**")
    counts_table, counts_config = segment_view.segment_counts_table(segment_counts, cur)
    st.dataframe(counts_table, hide_index=True, width="stretch", key="segment_counts",
                 height=35 * (len(segment_counts) + 1) + 3, column_config=counts_config)
    segment = picker(grid_picked, segments_shown, "rfm_pick", "rfm_segment", "segments_page.list_of_segment",
                     dict(zip(segment_counts["rfm_segment"], segment_counts["customers"])))
    if segment is not None:
        explain("rfm_segment", segment, rules, language)
        show_customers(tiers.group_customers(table, "rfm_segment", segment), "segment_customers",
                       t("segments_page.customers_of", group=name("rfm_segment", segment)),
                       {t("table.rfm_segment"): name("rfm_segment", segment),
                        t("segments_page.scoring"): t(f"segments_page.scoring_option.{st.session_state.get(SCORING_KEY, 'quantiles')}")})

# --- Value tiers and core customers --------------------------------------------------------------------------
with value_tab:
    st.markdown(t("segments_page.value_intro", a=fmt.pct(rules.value.abc_shares[0], 0),
                  b=fmt.pct(rules.value.abc_shares[1] - rules.value.abc_shares[0], 0)))
    measure = st.radio(t("segments_page.measure"), ("revenue", "margin", "clv"), key=MEASURE_KEY, horizontal=True,
                       format_func=labeller("segments.measure"), help=t("segments_page.measure_help"))
    if measure == "margin" and "margin" in missing:
        st.caption(t("segments_page.margin_estimated", columns=", ".join(missing["margin"])))
    points = state.segments_query(segment_summaries.pareto_points, rules, rules.value.abc_shares)
    tier_names = {code: name("value_tier", code) for code in tiers.TIERS}
    left, right = st.columns(2)
    with left:
        fig = segment_view.pareto_chart(points, measure)
        tier_picked = chart(fig, key="pareto", selectable=True)
    with right:
        frame = segment_view.quadrants(state.segments_query(tiers.breakdown, rules, "core_quadrant"))
        fig = segment_view.quadrant_chart(frame, language, cur)
        quadrant_picked = chart(fig, key="quadrant", selectable=True)
    tier_counts = segment_view.by_tier(state.segments_query(tiers.breakdown, rules, "value_tier"))
    columns = st.columns(3)
    for column, tier in zip(columns, tiers.TIERS):
        if tier in tier_counts.index:
            row = tier_counts.loc[tier]
            column.metric(tier_names[tier], fmt.count(row["customers"]), border=True,
                          help=t(f"segments.tier_help.{tier}", a=rules.value.abc_shares[0], b=rules.value.abc_shares[1],
                                 c=1 - rules.value.abc_shares[1]))
            column.caption(t("segments_page.tier_share", share=fmt.pct(row["customer_share"]),
                             revenue=fmt.pct(row["revenue_share"])))
    left, right = st.columns(2)
    with left:
        tier = picker(tier_picked, list(tiers.TIERS), "tier_pick", "value_tier", "segments_page.list_of_tier")
    with right:
        quadrant = picker(quadrant_picked, list(frame["key"]), "quadrant_pick", "core_quadrant",
                          "segments_page.list_of_quadrant")
    for column, code, key in (("value_tier", tier, "tier_customers"), ("core_quadrant", quadrant, "quadrant_customers")):
        if code is not None:
            explain(column, code, rules, language)
            show_customers(tiers.group_customers(table, column, code), key,
                           t("segments_page.customers_of", group=name(column, code)),
                           {t(f"table.{column}"): name(column, code),
                            t("segments_page.measure"): t(f"segments.measure.{measure}")})

# --- The relationship ladder, behaviour types, classes, maturity ---------------------------------------------
with ladder_tab:
    st.markdown(t("segments_page.ladder_intro"))
    bars = st.radio(t("segments_page.bars_show"), ("customers", "revenue"), key="keep_segments_ladder_value",
                    horizontal=True, format_func=labeller("segments_page.colour_option"))
    if "relationship_form" in missing:
        unlock("relationship_form")
    else:
        left, right = st.columns(2)
        with left:
            group_bars("relationship_form", "forms", bars)
        with right:
            group_bars("relationship_level", "levels", bars)
    left, right = st.columns(2)
    with left:
        group_bars("behaviour_type", "behaviours", bars)
        if "discount_hunter" in missing:
            unlock("discount_hunter")
    with right:
        group_bars("maturity", "maturity", bars)
        if "maturity_target" in missing:
            unlock("maturity_target")
    left, right = st.columns(2)
    with left:
        if "customer_class" in missing:
            unlock("customer_class")
        else:
            group_bars("customer_class", "classes", bars)
    with right:
        if "prospect_grade" in missing:
            unlock("prospect_grade")
        else:  # prospects have no revenue yet: counted
            group_bars("prospect_grade", "grades", "customers", prospects_only=True)

# --- Breakdowns by region, industry, class and product category ----------------------------------------------
with breakdown_tab:
    by = st.radio(t("segments_page.split_by"), ("rfm_segment", "value_tier", "relationship_level"),
                  key="keep_segments_split_by", horizontal=True, format_func=labeller("table"))
    if by == "relationship_level" and "relationship_form" in missing:
        unlock("relationship_form")
    else:
        picked_parts = []
        for dimension in ("region", "industry", "customer_class", "category"):
            concept = "customer_class" if dimension == "customer_class" else dimension
            if concept in missing:
                unlock(concept)
                continue
            frame = state.segments_query(segment_summaries.category_split, rules, str(store.path), as_of, by) \
                if dimension == "category" else state.segments_query(segment_summaries.cross, rules, dimension, by)
            fig = segment_view.split_chart(frame, dimension, by, language, cur)
            picked_parts += [(dimension, p) for p in chart(fig, key=f"split_{dimension}", selectable=True)]
        st.caption(t("segments_page.click_hint"))
        if picked_parts:
            dimension, part = picked_parts[0]
            where, group = part.split("|", 1)
            rows = segment_view.part_rows(table, by, group, dimension, where, as_of)
            explain(by, group, rules, language)
            show_customers(rows, "split_customers",
                           t("segments_page.customers_of_part", group=name(by, group), where=name(dimension, where)),
                           {t(f"table.{by}"): name(by, group), t(f"segments_page.dimension.{dimension}"): name(dimension, where)})

# --- Migration between two dates -------------------------------------------------------------------------------
with migration_tab:
    st.markdown(t("segments_page.migration_intro"))
    base = state.current_base()
    left, right, third = st.columns(3)
    later = left.date_input(t("segments_page.later"), value=as_of, max_value=as_of, key=f"keep_segments_later_{base}",
                            format="YYYY-MM-DD")
    earlier = right.date_input(t("segments_page.earlier"), value=default_earlier(later),
                               max_value=later - timedelta(days=1), key=f"keep_segments_earlier_{base}", format="YYYY-MM-DD")
    movers_only = third.toggle(t("segments_page.movers_only"), value=True, key="keep_segments_movers_only")
    migration = state.segment_migration(rules, later, earlier)
    flows = segment_view.shown_flows(migration.flows, movers_only)
    if flows.empty:
        st.info(t("segments_page.no_flows", earlier=fmt.day(earlier), later=fmt.day(later)))
    else:
        flow_names = segment_view.flow_hover(flows, language, cur)
        sankey, bars = segment_view.flow_charts(
            flows, flow_names, t("segments_page.chart.migration", earlier=fmt.day(earlier), later=fmt.day(later)))
        chart(sankey, key="migration")
        flow_picked = chart(bars, key="flows", selectable=True)
        click = flow_picked[0] if flow_picked else None
        if click is not None and click != st.session_state.get("flow_pick_click") and click in flow_names:
            st.session_state["flow_pick"] = click
        st.session_state["flow_pick_click"] = click
        flow = st.selectbox(t("segments_page.list_of_flow"), list(flow_names), index=None, key="flow_pick",
                            placeholder=t("segments_page.pick"), format_func=flow_names.get)
        if flow is not None:
            source, target = flow.split("|", 1)
            moved = tiers.flow_customers(migration, source, target)
            rows = segment_view.flow_rows(table, moved)
            if target != tiers.PROSPECT:
                explain("rfm_segment", target, rules, language)
            show_customers(rows, "flow_customers", t("segments_page.customers_of_flow", source=name("rfm_segment", source),
                                                                                  target=name("rfm_segment", target)),
                           {t("segments_page.earlier"): f"{fmt.day(earlier)}: {name('rfm_segment', source)}",
                            t("segments_page.later"): f"{fmt.day(later)}: {name('rfm_segment', target)}"})
