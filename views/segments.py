"""Segments: who our customers are, in the groups managers use — RFM segments from a grid the user can
edit, ABC value tiers, core customers, the relationship ladder, who moved since last quarter. Every chart
leads to its customers, every group says what it means and what to do about it."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from crm_logic import customers, tiers
from crm_logic.models import ModelError
from crm_logic.playbooks import tactics
from crm_logic.store import CUSTOMER_CLASSES, PROSPECT_GRADES
from crm_logic.tiers import UNKNOWN
from crm_logic.tiers.migration import default_earlier
from ui import charts, segment_charts, segment_summaries, state
from ui import format as fmt
from ui.i18n import group_label, labeller, lang, t
from ui.segment_rules import (
    CUTOFF_KEYS, GRID_KEY, MEASURE_KEY, SCALES, SCORING_KEY, THRESHOLDS, abc_problem, current_rules,
    cutoff_problem, default_threshold, forget_scaled, reset_thresholds, threshold_key,
)
from ui.widgets import chart, customer_table, empty_state

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
tiers_known = {"rfm_segment": (*tiers.SEGMENTS, tiers.PROSPECT), "value_tier": tiers.TIERS,
               "core_quadrant": tiers.QUADRANTS, "relationship_form": tiers.FORMS,
               "relationship_level": tiers.LEVELS, "behaviour_type": tiers.BEHAVIOURS, "maturity": tiers.MATURITIES,
               "customer_class": CUSTOMER_CLASSES, "prospect_grade": PROSPECT_GRADES}
ORDERS = {"relationship_form": tiers.FORMS, "relationship_level": tiers.LEVELS, "maturity": tiers.MATURITIES,
          "value_tier": tiers.TIERS, "prospect_grade": ("A", "B", "C", "D")}

st.title(t("segments_page.title"))
as_of = state.as_of()
if as_of is None:
    empty_state("segments_page.empty")
    st.stop()
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


def name(column: str, code) -> str:
    """A group's name in the reader's language (codes a user typed into the grid stay as typed)."""
    if code is None or code == UNKNOWN or (isinstance(code, float) and pd.isna(code)):
        return t("common.unknown")
    if code == tiers.ABSENT:
        return t("segments.segment.absent")
    if column in tiers_known and code not in tiers_known[column]:
        return str(code)
    if column in ("region", "industry", "category"):
        return group_label(column, code)
    kind = GROUPS[column][0]
    return t(f"common.classes.{code}") if kind == "class" else t(f"segments.{kind}.{code}")


def unlock(concept: str) -> None:
    """Instead of an empty chart: what the base lacks and which columns would bring the concept in."""
    st.info(t("segments.concept.missing", concept=t(f"segments.concept.{concept}"),
              columns=", ".join(missing[concept])))


def explain(column: str, code: str) -> None:
    """What a group means and, where the playbooks have them, the tactics for it."""
    kind, playbook = GROUPS.get(column, (None, None))
    a, b = rules.value.abc_shares
    if kind and code in tiers_known.get(column, ()):
        st.markdown(f"**{name(column, code)}** — " + t(f"segments.{kind}_help.{code}", a=a, b=b, c=1 - b,
                                                        months=round(rules.ladder.window_days / 30.44)))
    plays = tactics(playbook, code, language) if playbook else []
    if plays:
        st.markdown(f"**{t('segments_page.tactics')}**\n" + "\n".join(f"- {p}" for p in plays))


def show_customers(rows: pd.DataFrame, key: str, title: str, filters: dict[str, str]) -> None:
    """A group's customers: how many, the list (linked to Customer 360), CSV and Excel of the same rows."""
    st.subheader(title)
    st.caption(t("segments_page.list_count", count=fmt.count(len(rows))))
    listed = customers.with_names(store, rows[[c for c in LIST_COLUMNS if c in rows]].reset_index(drop=True))
    customer_table(listed, key, cur, filters=filters)


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


def group_bars(column: str, key: str, value: str, prospects_only: bool = False) -> None:
    """Customers or revenue (`value`) per group of `column` as bars; a click (or the select box) lists the
    group, explains it and gives its tactics. Buyers-only groups leave prospects (no group) out."""
    frame = state.segments_query(segment_summaries.prospect_breakdown if prospects_only else tiers.breakdown,
                                 rules, column)
    frame = frame[(frame["customers"] > 0) & ((frame[column] != UNKNOWN) | (column == "customer_class"))]
    if column in ORDERS:
        rank = {code: i for i, code in enumerate(ORDERS[column])}
        frame = frame.sort_values(column, key=lambda s: s.map(lambda c: rank.get(c, len(rank))), ignore_index=True)
    if frame.empty:
        st.info(t("segments_page.no_customers"))
        return
    labels = [name(column, code) for code in frame[column]]
    hover = [t("segments_page.hover_group", group=label, customers=fmt.count(r.customers),
               customer_share=fmt.pct(r.customer_share), revenue=fmt.money(r.revenue, language, cur),
               revenue_share=fmt.pct(r.revenue_share)) for label, r in zip(labels, frame.itertuples())]
    fig = charts.ranked_bars(frame.assign(label=labels), "label", value, hover, t(f"segments_page.chart.{key}"),
                             t("segments_page.revenue_axis", currency=cur) if value == "revenue"
                             else t("segments_page.customers_axis"), "",
                             colors=[segment_charts.colour(c) for c in frame[column]], keys=list(frame[column]))
    if value == "revenue":
        fig = charts.money_axis(fig, "x", frame["revenue"].to_numpy(), language, cur)
    picked = chart(fig, key=key, selectable=True)
    code = picker(picked, list(frame[column]), f"{key}_pick", column, "segments_page.list_of")
    if code is not None:
        explain(column, code)
        rows = tiers.group_customers(table, column, code)
        rows = rows[rows["rfm_segment"] == tiers.PROSPECT] if prospects_only else rows
        show_customers(rows, f"{key}_customers", t("segments_page.customers_of", group=name(column, code)),
                       {t(f"table.{column}"): name(column, code)})


def rules_editor() -> None:
    """The rules and thresholds of this session, editable, with a reset to the defaults; what is in force
    stays readable below the (closed) expander."""
    with st.expander(t("segments_page.rules_title")):
        st.caption(t("segments_page.rules_intro"))
        sections = st.columns(4)
        for column, section in zip(sections, ("rfm", "value", "ladder", "behaviour")):
            column.markdown(f"**{t(f'segments_page.rules_section.{section}')}**")
            for (where, field), (low, high, step) in THRESHOLDS.items():
                if where != section:
                    continue
                key = threshold_key(section, field)
                if key not in st.session_state:
                    st.session_state[key] = default_threshold(section, field)
                label = t(f"segments_page.rule.{field}")
                if field == "scale":
                    column.selectbox(label, SCALES, key=key, on_change=forget_scaled,
                                     help=t("segments_page.scale_help"))
                else:
                    column.number_input(label, min_value=low, max_value=high, step=step, key=key,
                                        format="%.1f" if isinstance(step, float) else "%d")
            if section == "value" and abc_problem():
                column.error(t("segments_page.abc_too_large"))
        st.button(t("segments_page.reset_rules"), on_click=reset_thresholds, icon=":material/restart_alt:",
                  key="reset_rules")
    a, b = rules.value.abc_shares
    ladder, behaviour = rules.ladder, rules.behaviour
    st.caption(t("segments_page.rules_in_force", scale=rules.rfm.scale, a=fmt.pct(a, 0), b=fmt.pct(b - a, 0),
                 measure=t(f"segments_page.measure_in_text.{rules.value.abc_measure}"),
                 window=ladder.window_days, follow_up=ladder.follow_up_days,
                 share=fmt.pct(ladder.responsible_min_share, 0), proactive=ladder.proactive_min_contacts,
                 joint=ladder.partner_min_joint_projects, inbound=ladder.passive_min_inbound,
                 hunter_share=fmt.pct(behaviour.hunter_min_share, 0), hunter=behaviour.hunter_min_purchases,
                 loyal=behaviour.loyal_min_purchases, tenure=behaviour.loyal_min_tenure_days,
                 referrals=behaviour.loyal_min_referrals, distance=f"{behaviour.target_max_distance:g}"))


rules_editor()

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
    in_force = state.segments_query(tiers.rfm_cutoffs, rules, rules.rfm)
    if st.session_state.get(SCORING_KEY) == "cutoffs":
        columns = st.columns(3)
        for column, (measure, key) in zip(columns, CUTOFF_KEYS.items()):
            if key not in st.session_state:
                st.session_state[key] = ", ".join(f"{v:g}" for v in in_force[measure])
            text = column.text_input(t(f"segments_page.cutoffs.{measure}"), key=key,
                                     help=t(f"segments_page.cutoffs_help.{measure}", scale=rules.rfm.scale,
                                            count=rules.rfm.scale - 1))
            problem = cutoff_problem(measure, text, rules.rfm.scale)
            if problem:
                column.error(t(f"segments.cutoff_error.{problem}"))
    else:
        st.caption(t("segments_page.quantile_cutoffs",
                     recency=", ".join(f"{v:g}" for v in in_force["recency"]),
                     frequency=", ".join(f"{v:g}" for v in in_force["frequency"]),
                     monetary=", ".join(fmt.money(v, language, cur) for v in in_force["monetary"])))

    cells = state.segments_query(tiers.grid_counts, rules, rules)
    grid_chart, grid_editor = st.container(), st.container(border=True)
    with grid_chart:
        hover = [t("segments_page.hover_cell", r=r.r_score, f=r.f_score, segment=name("rfm_segment", r.segment),
                   customers=fmt.count(r.customers), revenue=fmt.money(r.revenue, language, cur))
                 for r in cells.itertuples()]
        fig = segment_charts.rfm_grid(
            cells.rename(columns={"r_score": "r", "f_score": "f"}), colour_by, hover,
            [f"{name('rfm_segment', r.segment)}<br>{fmt.count(r.customers)}" for r in cells.itertuples()],
            t("segments_page.chart.grid"), t("segments_page.f_axis", scale=rules.rfm.scale),
            t("segments_page.r_axis", scale=rules.rfm.scale),
            t(f"segments_page.colour_option.{colour_by}"))
        grid_picked = chart(fig, key="rfm_grid", selectable=True)
    with grid_editor:
        st.markdown(f"**{t('segments_page.editor_title')}**")
        codes = list(tiers.SEGMENTS)
        labels = {code: name("rfm_segment", code) for code in codes}
        grid = rules.rfm.segment_grid()
        scale = rules.rfm.scale
        shown = pd.DataFrame([[labels.get(c, c) for c in row] for row in grid],
                             index=[f"R{scale - i}" for i in range(scale)], columns=[f"F{j + 1}" for j in range(scale)])
        edited = st.data_editor(
            shown, key="segments_grid_editor", width="stretch",
            column_config={c: st.column_config.SelectboxColumn(c, options=list(labels.values())) for c in shown.columns},
        )
        by_label = {label: code for code, label in labels.items()}
        proposal = [[by_label.get(v, v) if isinstance(v, str) and v else None for v in row] for row in edited.to_numpy()]
        problems = tiers.validate_grid(proposal, scale)
        if problems:
            st.error(t("segments_page.grid_refused") + "\n" + "\n".join(
                "- " + t(f"segments.grid_problem.{p.kind}", r=p.r, f=p.f, content=p.content) for p in problems))
        elif tiers.normalise_grid(proposal, scale) != grid:
            st.session_state[GRID_KEY] = tiers.normalise_grid(proposal, scale)
            st.rerun()

        def reset_grid() -> None:
            st.session_state.pop(GRID_KEY, None)
            st.session_state.pop("segments_grid_editor", None)

        st.button(t("segments_page.reset_grid"), on_click=reset_grid, icon=":material/restart_alt:",
                  disabled=st.session_state.get(GRID_KEY) is None and not problems, key="reset_grid")
        st.caption(t("segments_page.editor_help", scale=scale))

    segment_counts = state.segments_query(tiers.breakdown, rules, "rfm_segment")
    segments_shown = [code for code in segment_counts["rfm_segment"]]
    if grid_picked:
        grid_picked = [code for code in grid_picked if code in segments_shown]
    st.markdown(f"**{t('segments_page.segment_counts')}**")
    st.dataframe(pd.DataFrame({
        t("segments_page.column.segment"): [name("rfm_segment", c) for c in segment_counts["rfm_segment"]],
        t("segments_page.column.customers"): segment_counts["customers"],
        t("segments_page.column.customer_share"): (segment_counts["customer_share"] * 100).round(1),
        t("segments_page.column.revenue"): segment_counts["revenue"].round(0),
        t("segments_page.column.revenue_share"): (segment_counts["revenue_share"] * 100).round(1),
    }), hide_index=True, width="stretch", key="segment_counts", height=35 * (len(segment_counts) + 1) + 3,
        column_config={
        t("segments_page.column.customers"): st.column_config.NumberColumn(format="localized"),
        t("segments_page.column.customer_share"): st.column_config.NumberColumn(format="%.1f%%"),
        t("segments_page.column.revenue_share"): st.column_config.NumberColumn(format="%.1f%%"),
        t("segments_page.column.revenue"): st.column_config.NumberColumn(format=f"{cur}%,.0f"),
    })
    segment = picker(grid_picked, segments_shown, "rfm_pick", "rfm_segment", "segments_page.list_of_segment",
                     dict(zip(segment_counts["rfm_segment"], segment_counts["customers"])))
    if segment is not None:
        explain("rfm_segment", segment)
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
    hover = [t("segments_page.hover_pareto", customers=fmt.pct(r.customer_share), share=fmt.pct(r.measure_share),
               measure=t(f"segments_page.measure_in_text.{measure}"), tier=tier_names[r.tier])
             for r in points.itertuples()]
    left, right = st.columns(2)
    with left:
        fig = segment_charts.pareto_curve(
            points["customer_share"].to_numpy(), points["measure_share"].to_numpy(), list(points["tier"]),
            tier_names, hover, t("segments_page.chart.pareto", measure=t(f"segments_page.measure_in_text.{measure}")),
            t("segments_page.pareto_x"), t("segments_page.pareto_y", measure=t(f"segments_page.measure_in_text.{measure}")))
        tier_picked = chart(fig, key="pareto", selectable=True)
    with right:
        quadrants = state.segments_query(tiers.breakdown, rules, "core_quadrant")
        quadrants = quadrants[quadrants["core_quadrant"].isin(tiers.QUADRANTS)]
        position = {"core": (1, 1), "rising": (0, 1), "harvest": (1, 0), "marginal": (0, 0)}
        frame = quadrants.assign(key=quadrants["core_quadrant"],
                                 x=[position[q][0] for q in quadrants["core_quadrant"]],
                                 y=[position[q][1] for q in quadrants["core_quadrant"]])
        labels = [f"{name('core_quadrant', q)}<br>{fmt.count(n)}" for q, n in zip(frame["key"], frame["customers"])]
        hover = [t("segments_page.hover_group", group=name("core_quadrant", r.key), customers=fmt.count(r.customers),
                   customer_share=fmt.pct(r.customer_share), revenue=fmt.money(r.revenue, language, cur),
                   revenue_share=fmt.pct(r.revenue_share)) for r in frame.itertuples()]
        fig = segment_charts.quadrant_bubbles(
            frame, "x", "y", "customers", labels, hover, t("segments_page.chart.quadrant"),
            t("segments_page.quadrant_x"), t("segments_page.quadrant_y"))
        fig.update_xaxes(ticktext=[t("segments_page.low"), t("segments_page.high")])
        fig.update_yaxes(ticktext=[t("segments_page.low"), t("segments_page.high")])
        quadrant_picked = chart(fig, key="quadrant", selectable=True)
    tier_counts = state.segments_query(tiers.breakdown, rules, "value_tier")
    tier_counts = tier_counts[tier_counts["value_tier"].isin(tiers.TIERS)].set_index("value_tier")
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
            explain(column, code)
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
    by_codes = {"rfm_segment": [*tiers.SEGMENTS, tiers.PROSPECT], "value_tier": list(tiers.TIERS),
                "relationship_level": list(tiers.LEVELS)}[by]
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
            frame = frame.reset_index(drop=True)
            extra = [c for c in frame[by].unique() if c not in by_codes]
            by_labels = {code: name(by, code) for code in [*by_codes, *extra] if code in set(frame[by])}
            dimension_labels = {d: name(dimension, d) for d in frame[dimension].unique()}
            hover = [t("segments_page.hover_part", dimension=dimension_labels[r[dimension]], group=by_labels[r[by]],
                       customers=fmt.count(r["customers"]), revenue=fmt.money(r["revenue"], language, cur))
                     for _, r in frame.iterrows()]
            fig = segment_charts.stacked_groups(frame, dimension, by, "revenue", dimension_labels, by_labels, hover,
                                                t(f"segments_page.chart.by_{dimension}", group=t(f"table.{by}")),
                                                t("segments_page.revenue_axis", currency=cur))
            fig = charts.money_axis(fig, "x", frame.groupby(dimension)["revenue"].sum().to_numpy(), language, cur)
            picked_parts += [(dimension, p) for p in chart(fig, key=f"split_{dimension}", selectable=True)]
        st.caption(t("segments_page.click_hint"))
        if picked_parts:
            dimension, part = picked_parts[0]
            where, group = part.split("|", 1)
            rows = tiers.group_customers(table, by, group)
            if dimension == "category":
                bought = state.query(customers.bought_in_category, None if where == UNKNOWN else where, as_of)
                rows = rows[rows["customer_id"].isin(bought["customer_id"])]
            else:
                rows = tiers.group_customers(rows, dimension, where)
            explain(by, group)
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
    flows = migration.flows
    if movers_only:
        flows = flows[flows["from_segment"] != flows["to_segment"]]
    flows = flows[~((flows["from_segment"].isin([tiers.ABSENT, tiers.PROSPECT])) & (flows["to_segment"] == tiers.PROSPECT))]
    flows = flows.reset_index(drop=True)
    if flows.empty:
        st.info(t("segments_page.no_flows", earlier=fmt.day(earlier), later=fmt.day(later)))
    else:
        def node_name(code: str) -> str:
            return name("rfm_segment", code)

        sources = [f"from:{c}" for c in flows["from_segment"]]
        targets = [f"to:{c}" for c in flows["to_segment"]]
        node_keys = list(dict.fromkeys(sources)) + list(dict.fromkeys(targets))
        node_labels = [node_name(k.split(":", 1)[1]) for k in node_keys]
        hover = [t("segments_page.hover_flow", source=node_name(r.from_segment), target=node_name(r.to_segment),
                   customers=fmt.count(r.customers), revenue=fmt.money(r.period_revenue, language, cur))
                 for r in flows.itertuples()]
        keys = [f"{r.from_segment}|{r.to_segment}" for r in flows.itertuples()]
        fig = segment_charts.sankey(sources, targets, list(flows["customers"]), node_keys, node_labels, keys, hover,
                                    t("segments_page.chart.migration", earlier=fmt.day(earlier), later=fmt.day(later)))
        chart(fig, key="migration")
        top = flows.head(12)  # the biggest flows, as bars: Sankey bands cannot be clicked, bars can
        top_keys = [f"{r.from_segment}|{r.to_segment}" for r in top.itertuples()]
        fig = charts.ranked_bars(
            top.assign(label=[f"{node_name(r.from_segment)} → {node_name(r.to_segment)}" for r in top.itertuples()]),
            "label", "customers", [hover[keys.index(k)] for k in top_keys], t("segments_page.chart.flows"),
            t("segments_page.customers_axis"), "", colors=[segment_charts.colour(c) for c in top["to_segment"]],
            keys=top_keys)
        flow_picked = chart(fig, key="flows", selectable=True)
        flow_names = dict(zip(keys, hover))
        click = flow_picked[0] if flow_picked else None
        if click is not None and click != st.session_state.get("flow_pick_click") and click in flow_names:
            st.session_state["flow_pick"] = click
        st.session_state["flow_pick_click"] = click
        flow = st.selectbox(t("segments_page.list_of_flow"), keys, index=None, key="flow_pick",
                            placeholder=t("segments_page.pick"), format_func=flow_names.get)
        if flow is not None:
            source, target = flow.split("|", 1)
            moved = tiers.flow_customers(migration, source, target)
            rows = table.set_index("customer_id").reindex(moved["customer_id"]).reset_index()
            rows["revenue"], rows["rfm_segment"] = moved["revenue"].to_numpy(), moved["to_segment"].to_numpy()
            if target != tiers.PROSPECT:
                explain("rfm_segment", target)
            show_customers(rows, "flow_customers", t("segments_page.customers_of_flow", source=node_name(source),
                                                                                  target=node_name(target)),
                           {t("segments_page.earlier"): f"{fmt.day(earlier)}: {node_name(source)}",
                            t("segments_page.later"): f"{fmt.day(later)}: {node_name(target)}"})
