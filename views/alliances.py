"""Alliances: which relationships to deepen, keep, or stop over-serving — and why, in which mode, and
what it is worth (crm_logic.alliance; crm-concepts.md sections 2 and 5). Layout only: the work is in
ui.alliances."""
import pandas as pd
import streamlit as st

from crm_logic import alliance
from crm_logic.models import ModelError
from crm_logic.playbooks import tactics
from ui import alliances as work
from ui import charts
from ui import format as fmt
from ui import state
from ui.i18n import labeller, lang, t
from ui.widgets import chart, customer_table, empty_state, kpi

RULES = work.RULES


st.title(t("alliances.title"))
st.markdown(t("alliances.intro"))
as_of = state.as_of()
if as_of is None:
    empty_state("alliances.empty")
    st.stop()
cur, language = state.currency(), lang()
settings = state.clv_settings()
for group, prefix in work.WEIGHT_KEYS.items():
    for k, v in RULES[group].items():
        st.session_state.setdefault(prefix + k, v)
rules = work.session_rules()
progress = st.empty()  # drawn only while something is being computed
try:
    frames = work.frames(rules, lambda f, stage: progress.progress(min(max(f, 0.0), 1.0), text=t(stage)))
except ModelError as error:
    progress.empty()
    empty_state(f"clv.error.{error.key}")
    st.stop()
progress.empty()
if frames["organisations"]["table"].empty and frames["persons"]["table"].empty:
    empty_state("alliances.empty")
    st.stop()

has_organisations = not frames["organisations"]["table"].empty
scope = "organisations"
if has_organisations and not frames["persons"]["table"].empty:
    scope = st.segmented_control(t("alliances.scope_label"), list(work.SCOPES), key="keep_alliance_scope",
                                 format_func=labeller("alliances.scope_option"), default="organisations", required=True)
elif not has_organisations:
    scope = "persons"
table = frames[scope]["table"]
st.caption(t("alliances.caption", as_of=fmt.day(as_of), customers=fmt.count(len(table)),
             scope=t(f"alliances.scope.{scope}"), months=settings.horizon_months))
missing = state.query(alliance.missing_attributes)
if missing:
    st.info(t("alliances.missing", attributes=("、" if language == "zh" else ", ").join(
        t(f"alliances.attribute.{a}") for a in missing)))
if table["current_assumed"].any():
    st.info(t("alliances.current_assumed", customers=fmt.count(table["current_assumed"].sum()),
              type=t(f"alliances.type.{RULES['current_when_unknown']}")))

moves = alliance.ladder(table).set_index("relationship_move")
row = st.columns(4)
kpi(row[0], "alliances.kpi.deepen", fmt.count(moves.at["deepen", "customers"]), "alliances.help.deepen",
    margin=fmt.money(moves.at["deepen", "margin_12m"], language, cur))
kpi(row[1], "alliances.kpi.luxurious", fmt.count(table["luxurious"].sum()), "alliances.help.luxurious",
    excess=fmt.money(moves["excess_cost"].sum(), language, cur))
kpi(row[2], "alliances.kpi.alliance_candidates",
    fmt.count(table["recommended_relationship_type"].isin(["partnership", "strategic_alliance"]).sum()),
    "alliances.help.alliance_candidates")
kpi(row[3], "alliances.kpi.keep", fmt.count(moves.at["keep", "customers"]), "alliances.help.keep")

type_label = labeller("alliances.type")
# Only the open tab is drawn: at a million customers the lists are written out only when looked at.
matrix_tab, ladder_tab, lists_tab, growth_tab, rules_tab = st.tabs(
    [t(f"alliances.tab.{k}") for k in ("matrix", "ladder", "lists", "growth", "rules")],
    key="alliance_tab", on_change="rerun")

if matrix_tab.open:
    with matrix_tab:
        left, right = st.columns(2)
        for column, group in ((left, "attractiveness_weights"), (right, "position_weights")):
            with column:
                st.markdown(f"**{t(f'alliances.axis.{group}')}**")
                parts = st.columns(len(RULES[group]))
                for part, k in zip(parts, RULES[group]):
                    part.slider(t(f"alliances.weight.{k}"), 0.0, 1.0, step=0.05, key=work.WEIGHT_KEYS[group] + k)
                weights = {t(f"alliances.weight.{k}"): v for k, v in rules[group].items()}
                st.caption(t("alliances.formula", formula=alliance.formula(weights)))
        fig, drawn = work.matrix(table, language, cur)
        picked = chart(fig, key="alliance_matrix", selectable=True)
        if drawn < len(table):
            st.caption(t("alliances.matrix_sample", drawn=fmt.count(drawn), customers=fmt.count(len(table))))
        st.caption(t("alliances.click_hint"))
        quadrants = alliance.quadrant_summary(table)
        for column, q in zip(st.columns(4), quadrants.itertuples()):
            column.metric(t(f"alliances.quadrant.{q.quadrant}"), fmt.count(q.customers), border=True,
                          help=t(f"alliances.strategy.{q.quadrant}"))
            column.caption(t(f"alliances.strategy.{q.quadrant}") + " · "
                           + t("alliances.revenue_of", revenue=fmt.money(q.revenue_12m, language, cur)))
        quadrant = st.segmented_control(t("alliances.quadrant_pick"), list(alliance.QUADRANTS), key="alliance_quadrant",
                                        format_func=labeller("alliances.quadrant"))
        if picked:  # clicked bubbles come first: they are the most recent, most precise choice
            shown = table[table["customer_id"].isin(picked)].sort_values("margin_12m", ascending=False)
            st.subheader(t("alliances.picked", count=fmt.count(len(shown))))
        elif quadrant:
            shown = table[table["quadrant"] == quadrant].sort_values("margin_12m", ascending=False)
            st.subheader(t("alliances.in_quadrant", quadrant=t(f"alliances.quadrant.{quadrant}"),
                           count=fmt.count(len(shown))))
        if picked or quadrant:
            customer_table(work.evidence(shown, rules, language), "alliance_matrix_customers", cur, height=320)

if ladder_tab.open:
    with ladder_tab:
        st.subheader(t("alliances.ladder_title"))
        for column, move in zip(st.columns(3), alliance.MOVES):
            column.metric(t(f"alliances.move.{move}"), fmt.count(moves.at[move, "customers"]), border=True,
                          help=t(f"alliances.help.move_{move}"))
            column.caption(t("alliances.money_line", revenue=fmt.money(moves.at[move, "revenue_12m"], language, cur),
                             margin=fmt.money(moves.at[move, "margin_12m"], language, cur),
                             clv=fmt.money(moves.at[move, "clv"], language, cur)))
        steps = alliance.transitions(table)
        counts = pd.DataFrame({"type": [type_label(k) for k in alliance.TYPES],
                               "current": steps.sum(axis=1).to_numpy(), "recommended": steps.sum(axis=0).to_numpy()})
        chart(charts.grouped_bars(counts, "type", {"current": t("alliances.current"),
                                                   "recommended": t("alliances.recommended")},
                                  t("alliances.chart.ladder"), "", t("alliances.chart.customers_axis")),
              key="alliance_ladder")
        steps = steps.rename(index=type_label, columns=type_label).rename_axis(
            index=t("alliances.current"), columns=t("alliances.recommended"))
        st.dataframe(steps, key="alliance_transitions")
        st.caption(t("alliances.transitions_caption"))

if lists_tab.open:
    with lists_tab:
        with st.spinner(t("alliances.writing_lists")):
            lists = work.move_lists(table, rules, language)
        for key, frame in lists.items():
            st.subheader(t(f"alliances.list.{key}", count=fmt.count(len(frame))))
            st.caption(t(f"alliances.list_caption.{key}"))
            customer_table(frame, f"alliance_{key}", cur, height=320)
        st.download_button(t("alliances.download_excel"), work.workbook(lists, rules, as_of, scope), key="alliance_excel",
                           icon=":material/table_view:", file_name="alliances.xlsx", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        if max(map(len, lists.values())) > work.WORKBOOK_ROWS:
            st.caption(t("alliances.workbook_rows", rows=fmt.count(work.WORKBOOK_ROWS)))
        with st.expander(t("alliances.playbooks_title")):
            for kind in alliance.TYPES:
                st.markdown(f"**{type_label(kind)}**")
                st.markdown("\n".join(f"- {line}" for line in tactics("relationship_type", kind, language)))

if growth_tab.open:
    with growth_tab:
        referrals, partners = work.growth_lists(frames[scope])
        st.subheader(t("alliances.referral_title", count=fmt.count(len(referrals))))
        st.caption(t("alliances.referral_caption", **RULES["referral"]))
        customer_table(referrals, "alliance_referrals", cur, height=280)
        st.subheader(t("alliances.cross_title", count=fmt.count(len(partners))))
        st.caption(t("alliances.cross_caption", **RULES["cross_industry"]))
        customer_table(partners, "alliance_cross_industry", cur, height=280)


def rule_input(column, condition: dict, kind: str) -> None:
    """One editable threshold of a type or mode condition, labelled as the rule reads."""
    column.number_input(
        t("alliances.rule_label", name=t(f"alliances.condition.{condition['condition']}"),
          metric=t(f"alliances.metric.{condition['metric']}"),
          op=condition["op"].replace(">=", "≥").replace("<=", "≤")),
        value=float(condition["value"]), step=0.05, key=work.rule_key(kind, condition))


if rules_tab.open:
    with rules_tab:
        st.caption(t("alliances.rules_caption"))
        for column, kind in zip(st.columns(3), reversed(alliance.TYPES[1:])):
            with column:
                st.markdown(f"**{type_label(kind)}**")
                for c in RULES["type_conditions"]:
                    if c["type"] == kind:
                        rule_input(column, c, "t")
        st.markdown(f"**{t('alliances.modes_title')}**")
        for column, mode in zip(st.columns(3), alliance.MODES):
            with column:
                st.markdown(t(f"alliances.mode.{mode}"))
                for c in RULES["mode_conditions"]:
                    if c["mode"] == mode:
                        rule_input(column, c, "m")
        st.markdown(f"**{t('alliances.cost_title')}**")
        st.caption(t("alliances.cost_caption"))
        kinds = list(RULES["interaction_cost"])
        for column, kind in zip(st.columns(4) * 2, kinds):
            column.number_input(t("alliances.cost_label", kind=t(f"alliances.kind.{kind}"), currency=cur), 0.0, None,
                                float(RULES["interaction_cost"][kind]), step=50.0, key=f"keep_alliance_cost_{kind}")
        a, b = st.columns(2)
        a.number_input(t("alliances.discount_rate"), 0.0, 100.0, RULES["discount_rate"] * 100, step=1.0,
                       key="keep_alliance_discount_rate")
        b.number_input(t("alliances.tolerance"), 0.0, 0.5, RULES["balance_tolerance"], step=0.05, key="keep_alliance_tolerance")
