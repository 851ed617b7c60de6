"""Alliances: which relationships to deepen, keep, or stop over-serving — and why, in which mode, and
what it is worth (crm_logic.alliance; crm-concepts.md sections 2 and 5)."""
import json

import pandas as pd
import streamlit as st

from crm_logic import alliance
from crm_logic.churn import churn_table
from crm_logic.exports import excel_bytes
from crm_logic.models import ModelError
from crm_logic.playbooks import tactics
from crm_logic.tiers import segment_table
from ui import charts, state
from ui import format as fmt
from ui.i18n import labeller, lang, t
from ui.privacy import shown_names
from ui.widgets import chart, customer_table, empty_state, kpi

RULES = alliance.DEFAULT_RULES
WEIGHT_KEYS = {"attractiveness_weights": "keep_alliance_wa_", "position_weights": "keep_alliance_wp_"}


def rule_key(group: str, row: dict) -> str:
    return f"keep_alliance_{group}_{row.get('type', row.get('mode'))}_{row['condition']}"


def session_rules() -> dict:
    """The rules as this session edited them (keep_* keys outlive the page); defaults elsewhere."""
    get = st.session_state.get
    rules = {
        "type_conditions": [dict(c, value=get(rule_key("t", c), c["value"])) for c in RULES["type_conditions"]],
        "mode_conditions": [dict(c, value=get(rule_key("m", c), c["value"])) for c in RULES["mode_conditions"]],
        "interaction_cost": {k: get(f"keep_alliance_cost_{k}", v) for k, v in RULES["interaction_cost"].items()},
        "discount_rate": get("keep_alliance_discount_rate", RULES["discount_rate"] * 100) / 100,
        "balance_tolerance": get("keep_alliance_tolerance", RULES["balance_tolerance"]),
    }
    for group, prefix in WEIGHT_KEYS.items():
        rules[group] = {k: get(prefix + k, v) for k, v in RULES[group].items()}
    return rules


@st.cache_data(show_spinner=False, max_entries=32)
def alliance_frames(path: str, version: int, settings, rules_json: str, _facts, _values: pd.DataFrame) -> dict:
    """The alliance table, referral and cross-industry candidates per base, data version, CLV settings
    and rules; relationship forms from the segments, value at risk from the churn warning."""
    store, as_of = state.open_base(path), _facts.as_of
    rules = json.loads(rules_json)
    segments = segment_table(store, _values, as_of)
    table = alliance.alliance_table(store, _values, segments, churn_table(store, _facts, _values, as_of, segments=segments),
                                    as_of, rules)
    return {"table": table, "referrals": alliance.referral_candidates(table, _values, as_of, rules, segments),
            "cross_industry": alliance.cross_industry_candidates(table, rules)}


def percent(value) -> str:
    return fmt.pct(value, 0)


def number(metric: str, value, cur: str, language: str) -> str:
    """A condition's number as a manager reads it."""
    if value is None or value != value:
        return "—"
    if metric in ("joint_projects", "custom_requests"):
        return fmt.count(value)
    if metric == "value_cover":
        return "∞" if value == float("inf") else f"{value:.1f}×"
    return percent(value)


def conditions_text(items: list, cur: str, language: str) -> str:
    """'Matters to us (75% ≥ 60%); …' for the conditions listed on a recommendation."""
    sep = "；" if language == "zh" else "; "
    return sep.join(t("alliances.condition_line", name=t(f"alliances.condition.{c['condition']}"),
                      value=number(c["metric"], c["value"], cur, language), op=c["op"].replace(">=", "≥").replace("<=", "≤"),
                      threshold=number(c["metric"], c["threshold"], cur, language)) for c in items)


st.title(t("alliances.title"))
st.markdown(t("alliances.intro"))
as_of = state.as_of()
if as_of is None:
    empty_state("alliances.empty")
    st.stop()
cur, language = state.currency(), lang()
settings = state.clv_settings()
try:
    with st.spinner(t("alliances.computing")):
        facts, values = state.customer_facts(settings), state.customer_values(settings)
except ModelError as error:
    empty_state(f"clv.error.{error.key}")
    st.stop()

for group, prefix in WEIGHT_KEYS.items():
    for k, v in RULES[group].items():
        st.session_state.setdefault(prefix + k, v)
rules = session_rules()
store = state.current_store()
with st.spinner(t("alliances.computing")):
    frames = alliance_frames(str(store.path), store.dataset_version, settings, json.dumps(rules, sort_keys=True),
                             facts, values)
table = frames["table"]
if table.empty:
    empty_state("alliances.empty")
    st.stop()

has_organisations = bool(table["organisation"].any())
scope = "organisations"
if has_organisations and (~table["organisation"]).any():
    scope = st.segmented_control(t("alliances.scope_label"), ["organisations", "persons"], key="keep_alliance_scope",
                                 format_func=labeller("alliances.scope_option"), default="organisations", required=True)
elif not has_organisations:
    scope = "persons"
in_scope = table["organisation"] == (scope == "organisations")
table = shown_names(table[in_scope].reset_index(drop=True))
chosen = set(table["customer_id"])
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
luxurious = table[table["luxurious"]]
row = st.columns(4)
kpi(row[0], "alliances.kpi.deepen", fmt.count(moves.at["deepen", "customers"]), "alliances.help.deepen",
    margin=fmt.money(moves.at["deepen", "margin_12m"], language, cur))
kpi(row[1], "alliances.kpi.luxurious", fmt.count(len(luxurious)), "alliances.help.luxurious",
    excess=fmt.money(moves["excess_cost"].sum(), language, cur))
kpi(row[2], "alliances.kpi.alliance_candidates",
    fmt.count(table["recommended_relationship_type"].isin(["partnership", "strategic_alliance"]).sum()),
    "alliances.help.alliance_candidates")
kpi(row[3], "alliances.kpi.keep", fmt.count(moves.at["keep", "customers"]), "alliances.help.keep")

type_label = labeller("alliances.type")


def evidence(frame: pd.DataFrame) -> pd.DataFrame:
    """Customers with the facts behind their recommendation, as the lists and the matrix show them."""
    out = frame[["customer_id", "name", "customer_class"]].copy()
    out["current_relationship_type"] = frame["current_relationship_type"].map(lambda k: type_label(k) if k else "")
    out["recommended_relationship_type"] = frame["recommended_relationship_type"].map(type_label)
    for column in ("revenue_12m", "margin_12m", "relationship_cost", "clv"):
        out[column] = frame[column].round(2)
    out["p_alive"] = frame["p_alive"]
    out["value_at_risk"] = frame["value_at_risk"].round(2)
    for column in ("importance_to_us", "importance_to_them", "switching_cost"):
        out[column] = (frame[column] * 100).round(1)
    out["balance"] = frame["balance"].map(lambda k: t(f"alliances.balance.{k}"))
    out["why"] = [conditions_text(items, cur, language) for items in frame["conditions_held"]]
    out["why_not_higher"] = [conditions_text(items, cur, language) for items in frame["conditions_failed"]]
    return out


matrix_tab, ladder_tab, lists_tab, growth_tab, rules_tab = st.tabs(
    [t(f"alliances.tab.{k}") for k in ("matrix", "ladder", "lists", "growth", "rules")])

with matrix_tab:
    left, right = st.columns(2)
    for column, group, prefix in ((left, "attractiveness_weights", "keep_alliance_wa_"),
                                  (right, "position_weights", "keep_alliance_wp_")):
        with column:
            st.markdown(f"**{t(f'alliances.axis.{group}')}**")
            parts = st.columns(len(RULES[group]))
            for part, k in zip(parts, RULES[group]):
                part.slider(t(f"alliances.weight.{k}"), 0.0, 1.0, step=0.05, key=prefix + k)
            weights = {t(f"alliances.weight.{k}"): v for k, v in rules[group].items()}
            st.caption(t("alliances.formula", formula=alliance.formula(weights)))
    hover = [t("alliances.hover", name=r.name or r.customer_id, type=type_label(r.recommended_relationship_type),
               revenue=fmt.money(r.revenue_12m, language, cur), attractiveness=percent(r.attractiveness),
               position=percent(r.position)) for r in table.itertuples()]
    corners = {"tr": "invest_to_grow", "tl": "invest_selectively", "br": "maintain", "bl": "manage_for_cash"}
    fig = charts.bubble_matrix(
        table.fillna({"attractiveness": 0, "position": 0}), "position", "attractiveness", "revenue_12m",
        "recommended_relationship_type", {k: type_label(k) for k in alliance.TYPES}, charts.RELATIONSHIP_TYPE_COLOURS,
        hover, t("alliances.chart.matrix"), t("alliances.chart.position_axis"), t("alliances.chart.attractiveness_axis"),
        RULES["quadrant_cut"], {c: t(f"alliances.quadrant.{q}") for c, q in corners.items()})
    picked = chart(fig, key="alliance_matrix", selectable=True)
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
        customer_table(evidence(shown), "alliance_matrix_customers", cur, height=320)

with ladder_tab:
    st.subheader(t("alliances.ladder_title"))
    cols = st.columns(3)
    for column, move in zip(cols, alliance.MOVES):
        column.metric(t(f"alliances.move.{move}"), fmt.count(moves.at[move, "customers"]), border=True,
                      help=t(f"alliances.help.move_{move}"))
        column.caption(t("alliances.money_line", revenue=fmt.money(moves.at[move, "revenue_12m"], language, cur),
                         margin=fmt.money(moves.at[move, "margin_12m"], language, cur),
                         clv=fmt.money(moves.at[move, "clv"], language, cur)))
    steps = alliance.transitions(table)
    counts = pd.DataFrame({"type": [type_label(k) for k in alliance.TYPES],
                           "current": steps.sum(axis=1).to_numpy(), "recommended": steps.sum(axis=0).to_numpy()})
    chart(charts.grouped_bars(counts, "type", {"current": t("alliances.current"), "recommended": t("alliances.recommended")},
                              t("alliances.chart.ladder"), "", t("alliances.chart.customers_axis")), key="alliance_ladder")
    steps = steps.rename(index=type_label, columns=type_label).rename_axis(
        index=t("alliances.current"), columns=t("alliances.recommended"))
    st.dataframe(steps, key="alliance_transitions")
    st.caption(t("alliances.transitions_caption"))

with lists_tab:
    deepen = table[table["relationship_move"] == "deepen"].sort_values("margin_12m", ascending=False)
    deepen_list = evidence(deepen)
    deepen_list.insert(5, "alliance_mode", deepen["alliance_mode"].map(
        lambda m: t(f"alliances.mode.{m}") if m else t("alliances.mode.none")).to_numpy())
    deepen_list["mode_evidence"] = [conditions_text(items, cur, language) for items in deepen["mode_evidence"]]
    deepen_list["first_steps"] = [" / ".join(tactics("alliance_mode", m, language)[:2]) if m else ""
                                  for m in deepen["alliance_mode"]]
    lux = luxurious.assign(excess=luxurious["relationship_cost"] - luxurious["relationship_value"]).sort_values(
        "excess", ascending=False)
    lux_list = evidence(lux)
    lux_list.insert(7, "excess_cost", lux["excess"].round(2).to_numpy())
    keep = table[(table["relationship_move"] == "keep") & ~table["luxurious"]].sort_values("margin_12m", ascending=False)
    keep_list = evidence(keep)
    for key, frame in (("deepen", deepen_list), ("luxurious", lux_list), ("keep", keep_list)):
        st.subheader(t(f"alliances.list.{key}", count=fmt.count(len(frame))))
        st.caption(t(f"alliances.list_caption.{key}"))
        customer_table(frame, f"alliance_{key}", cur, height=320)
    st.download_button(
        t("alliances.download_excel"), key="alliance_excel", icon=":material/table_view:",
        data=excel_bytes({
            t("alliances.sheet.deepen"): deepen_list.rename(columns=lambda c: t(f"table.{c}")),
            t("alliances.sheet.luxurious"): lux_list.rename(columns=lambda c: t(f"table.{c}")),
            t("alliances.sheet.keep"): keep_list.rename(columns=lambda c: t(f"table.{c}")),
            t("alliances.sheet.settings"): pd.DataFrame({
                t("alliances.sheet.setting"): [t("common.as_of"), t("alliances.scope_label")]
                + [t(f"alliances.condition.{c['condition']}") + f" ({type_label(c['type'])})" for c in rules["type_conditions"]],
                t("alliances.sheet.value"): [fmt.day(as_of), t(f"alliances.scope.{scope}")]
                + [c["value"] for c in rules["type_conditions"]]}),
        }),
        file_name="alliances.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with st.expander(t("alliances.playbooks_title")):
        for kind in alliance.TYPES:
            st.markdown(f"**{type_label(kind)}**")
            st.markdown("\n".join(f"- {line}" for line in tactics("relationship_type", kind, language)))

with growth_tab:
    referrals = shown_names(frames["referrals"][frames["referrals"]["customer_id"].isin(chosen)])
    st.subheader(t("alliances.referral_title", count=fmt.count(len(referrals))))
    st.caption(t("alliances.referral_caption", **RULES["referral"]))
    customer_table(referrals.assign(
        satisfaction=[fmt.count(v) if v == v else "—" for v in referrals["satisfaction"]],
        last_contact=[fmt.day(pd.Timestamp(v)) for v in referrals["last_contact"]], clv=referrals["clv"].round(2)),
        "alliance_referrals", cur, height=280)
    partners = shown_names(frames["cross_industry"][frames["cross_industry"]["customer_id"].isin(chosen)])
    st.subheader(t("alliances.cross_title", count=fmt.count(len(partners))))
    st.caption(t("alliances.cross_caption", **RULES["cross_industry"]))
    customer_table(partners.assign(revenue_12m=partners["revenue_12m"].round(2), clv=partners["clv"].round(2)),
                   "alliance_cross_industry", cur, height=280)

def rule_input(column, condition: dict, kind: str) -> None:
    """One editable threshold of a type or mode condition, labelled as the rule reads."""
    column.number_input(
        t("alliances.rule_label", name=t(f"alliances.condition.{condition['condition']}"),
          metric=t(f"alliances.metric.{condition['metric']}"),
          op=condition["op"].replace(">=", "≥").replace("<=", "≤")),
        value=float(condition["value"]), step=0.05, key=rule_key(kind, condition))


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
