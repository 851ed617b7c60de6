"""Churn risk: who is late, what it costs, whom to call this week, and why to trust the ranking."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from crm_logic import churn
from crm_logic.models import ModelError
from crm_logic.playbooks import tactics
from ui import charts, state
from ui import format as fmt
from ui.i18n import group_label, labeller, lang, t
from ui.privacy import shown_names
from ui.widgets import chart, customer_table, empty_state, kpi

st.title(t("churn.title"))
as_of = state.as_of()
if as_of is None:
    empty_state("churn.empty")
    st.stop()
cur, language = state.currency(), lang()
RULES = churn.RULES

# The editable thresholds (RULES names, crm-concepts.md 4a): the widget's bounds and step; percentages
# are shown ×100. Each row of the expander is one group whose bounds must rise from left to right.
THRESHOLDS = {
    "lifecycle": {"new_days": (1, 3650, 30), "new_below_purchases": (1, 50, 1), "active_below": (0.1, 50.0, 0.5),
                  "dormant_below": (0.1, 50.0, 0.5), "drifting_below": (0.1, 50.0, 0.5),
                  "lost_p_alive": (0.0, 99.0, 5.0)},
    "risk": {"risk_medium": (1.0, 99.0, 5.0), "risk_high": (1.0, 99.0, 5.0)},
    "stage": {"exploration_days": (1, 3650, 30), "formation_days": (1, 3650, 30), "decline_drop": (0.0, 100.0, 5.0),
              "growth_rise": (0.0, 500.0, 5.0), "contact_drop": (0.0, 100.0, 5.0)},
}
ORDERED = {"lifecycle": ("active_below", "dormant_below", "drifting_below"), "risk": ("risk_medium", "risk_high"),
           "stage": ("exploration_days", "formation_days")}
PERCENT = {"lost_p_alive", "risk_medium", "risk_high", "decline_drop", "growth_rise", "contact_drop"}


def reset_thresholds() -> None:
    """Back to RULES: the widgets start again from their defaults."""
    for group in THRESHOLDS.values():
        for name in group:
            st.session_state.pop(f"keep_churn_{name}", None)


def threshold_inputs() -> dict:
    """The thresholds this session set, per group; a group whose bounds do not rise is said so and left
    at its defaults (with dormant starting before active, the states would not mean what they say)."""
    chosen = {}
    for group, fields in THRESHOLDS.items():
        cells = st.columns(6)
        values = {}
        for cell, (name, (low, high, step)) in zip(cells, fields.items()):
            scale = 100 if name in PERCENT else 1
            default = type(low)(round(RULES[name] * scale, 6))
            values[name] = cell.number_input(t(f"churn.settings.{name}"), low, high, default, step=step,
                                             format="%d" if isinstance(low, int) else "%.1f" if scale == 1 else "%.0f",
                                             key=f"keep_churn_{name}") / scale
        bounds = [values[name] for name in ORDERED[group]]
        if any(a >= b for a, b in zip(bounds, bounds[1:])):
            st.warning(t(f"churn.settings.unordered_{group}"))
            values = {name: RULES[name] for name in fields}
        chosen |= values
    st.button(t("churn.settings.reset"), key="churn_reset_thresholds", on_click=reset_thresholds)
    return {name: int(v) if isinstance(RULES[name], int) else v for name, v in chosen.items()}


with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1.2])
    multiple = c2.number_input(t("churn.settings.multiple"), 1.0, 10.0, RULES["alert_multiple"], step=0.1,
                               format="%.1f", key="keep_churn_multiple", help=t("churn.settings_help.multiple"))
    fixed_days = c3.number_input(t("churn.settings.fixed_days"), 7, 730, RULES["fixed_days"], step=1,
                                 key="keep_churn_fixed_days", help=t("churn.settings_help.fixed_days"))
    probability = c4.number_input(t("churn.settings.probability"), 5.0, 99.0, RULES["probability_threshold"] * 100,
                                  step=5.0, format="%.0f", key="keep_churn_probability",
                                  help=t("churn.settings_help.probability"))
    horizons = {d: t("churn.settings.days", days=d) for d in (30, 90, 180, 365)}  # format_func may run after the run
    horizon_days = c5.selectbox(t("churn.settings.horizon"), tuple(horizons), index=1, key="keep_churn_horizon",
                                format_func=horizons.get,
                                help=t("churn.settings_help.horizon"))
    with st.expander(t("churn.settings.thresholds")):
        thresholds = threshold_inputs()
rules = churn.rules_with({"alert_multiple": multiple, "fixed_days": int(fixed_days),
                          "probability_threshold": probability / 100, "horizon_days": horizon_days, **thresholds})

try:
    with st.spinner(t("churn.computing")):
        facts = state.customer_facts()
        evaluation = state.churn_evaluation(rules)
except ModelError as error:
    empty_state(f"clv.error.{error.key}")
    st.stop()
signal_name = labeller("churn.signal")
auto_label = t("churn.auto_is", signal=signal_name(evaluation["best"])) if evaluation else t("churn.auto_no_history")
rule = c1.selectbox(t("churn.settings.rule"), ("auto",) + churn.SIGNALS, key="keep_churn_rule",
                    format_func=lambda key: auto_label if key == "auto" else signal_name(key),
                    help=t("churn.settings_help.rule"))
signal = churn.alert_rule({**rules, "alert_rule": rule}, evaluation)
rules["alert_rule"] = signal
with st.spinner(t("churn.computing")):
    table = state.churn_table(rules)
values = state.customer_values()
calls = churn.call_list(state.current_store(), table, values, state.churn_segments())

threshold = {"churn_probability": rules["probability_threshold"], "p_alive": rules["p_alive_threshold"],
             "lateness": multiple, "recency": fixed_days}[signal]
rule_text = t(f"churn.rule_text_{signal}", value=threshold)
segments_used = table["gap_source"].eq("segment").any()
st.caption(t("churn.caption", as_of=fmt.day(as_of), rule=rule_text, days=rules["horizon_days"],
             model=t(f"clv.model.{facts.choice.model}"),
             segments=t("churn.segments_used" if segments_used else "churn.segments_missing")))

buyers = int((table["lifecycle_state"] != "prospect").sum())
horizon = state.clv_settings().horizon_months
row = st.columns(4)
kpi(row[0], "churn.kpi.alerted", fmt.count(len(calls)), "churn.help.alerted", as_of=fmt.day(as_of))
kpi(row[1], "churn.kpi.value_at_risk", fmt.money(calls["value_at_risk"].sum(), language, cur),
    "churn.help.value_at_risk", months=horizon)
kpi(row[2], "churn.kpi.revenue_at_risk", fmt.money(calls["revenue_12m"].sum(), language, cur),
    "churn.help.revenue_at_risk", as_of=fmt.day(as_of))
kpi(row[3], "churn.kpi.alerted_share", fmt.pct(len(calls) / buyers if buyers else None), "churn.help.alerted_share",
    customers=fmt.count(buyers))

tab_calls, tab_where, tab_new, tab_proof, tab_retention = st.tabs(
    [t(f"churn.tab.{name}") for name in ("calls", "where", "new", "proof", "retention")])

LIST_COLUMNS = ["customer_id", "name", "value_at_risk", "revenue_12m", "last_purchase", "typical_gap_days",
                "days_since_last", "lateness", "next_purchase_date", "churn_probability", "p_alive", "lifecycle_state",
                "risk_band", "relationship_stage", "last_contact", "tactic"]


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """The call-list columns in the reader's language: states translated, probabilities in percent,
    the first playbook tactic of each customer's lifecycle state."""
    shown = shown_names(frame).copy()
    first_tactic = {s: (tactics("lifecycle", s, language) or [""])[0] for s in churn.LIFECYCLE_STATES}
    shown["tactic"] = shown["lifecycle_state"].map(first_tactic)
    shown["churn_probability"] = (shown["churn_probability"] * 100).round(1)
    shown["lateness"] = shown["lateness"].round(1)
    shown["typical_gap_days"] = shown["typical_gap_days"].round(1)
    for column in ("last_purchase", "next_purchase_date", "last_contact"):
        shown[column] = pd.to_datetime(shown[column]).dt.date
    shown["lifecycle_state"] = shown["lifecycle_state"].map(labeller("churn.lifecycle"))
    shown["risk_band"] = shown["risk_band"].map(lambda b: t(f"churn.risk.{b}") if isinstance(b, str) else "")
    shown["relationship_stage"] = shown["relationship_stage"].map(labeller("churn.stage"))
    columns = [c for c in LIST_COLUMNS if c in shown and not (c == "last_contact" and shown[c].isna().all())]
    return shown[columns]


with tab_calls:
    st.subheader(t("churn.calls.title"))
    st.caption(t("churn.calls.caption", **rules))
    if calls.empty:
        st.info(t("churn.calls.none"))
    else:
        shown = for_people(calls)
        customer_table(shown, "churn_call_list", cur, height=420, filters={t("churn.settings.rule"): rule_text})

with tab_where:
    left, right = st.columns(2)
    splits = [("segment", "rfm_segment")] if "rfm_segment" in calls else []
    splits += [("customer_class", "customer_class"), ("region", "region")]
    for i, (name, column) in enumerate(splits):
        place = left if i % 2 == 0 else right
        groups = churn.risk_by(calls, column) if column in calls else pd.DataFrame()
        if groups.empty or (groups["group"] == "").all():
            place.info(t("churn.where.no_group", group=t(f"table.{column}")))
            continue
        labels = [t(f"segments.segment.{g}") if name == "segment" else group_label(column, g) for g in groups["group"]]
        hover = [t("churn.where.hover_group", group=lab, value=fmt.money(r.value_at_risk, language, cur),
                   customers=fmt.count(r.customers)) for lab, r in zip(labels, groups.itertuples())]
        with place:
            fig = charts.ranked_bars(groups.assign(label=labels), "label", "value_at_risk", hover,
                                     t(f"churn.where.{name}"), t("churn.where.value_axis", currency=cur), "")
            chart(charts.money_axis(fig, "x", groups["value_at_risk"].to_numpy(), language, cur), key=f"risk_{name}")
    stage_words = {"months": rules["trend_months"], "double": 2 * rules["trend_months"]}
    for place, column, kind, key, caption in (
            (left, "lifecycle_state", "lifecycle", "churn.lifecycle", t("churn.where.lifecycle_caption", **rules)),
            (right, "relationship_stage", "stage", "churn.stage",
             t("churn.where.stage_caption", **{**rules, **stage_words}))):
        counts = table[column].value_counts().rename_axis("group").reset_index(name="customers")
        labels = [t(f"{key}.{g}") for g in counts["group"]]
        hover = [t("churn.where.hover_count", group=lab, customers=fmt.count(n)) for lab, n in zip(labels, counts["customers"])]
        with place:
            chart(charts.ranked_bars(counts.assign(label=labels), "label", "customers", hover, t(f"churn.where.{kind}"),
                                     t("churn.where.customers_axis"), ""), key=f"count_{kind}")
            st.caption(caption)

with tab_new:
    since = st.columns(4)[0].date_input(t("churn.new.since"), value=as_of - timedelta(days=7), max_value=as_of,
                          key="churn_since", help=t("churn.new.since_help"), format="YYYY-MM-DD")
    if since >= as_of:
        st.info(t("churn.new.bad_since"))
    else:
        fresh = churn.new_alerts(facts, table, since, rules)
        fresh_calls = calls[churn.is_in(calls["customer_id"], fresh["customer_id"])]
        kpi(st.columns(4)[0], "churn.new.count", fmt.count(len(fresh_calls)), "churn.new.count_help",
            since=fmt.day(since), as_of=fmt.day(as_of))
        if not fresh_calls.empty:
            customer_table(for_people(fresh_calls), "churn_new_alerts", cur, height=320)

with tab_proof:
    st.subheader(t("churn.proof.title"))
    if evaluation is None:
        st.info(t("churn.proof.too_short", min_history_days=churn.HOLDOUT_RULES["min_history_days"]))
    else:
        st.caption(t("churn.proof.intro", calibration_end=fmt.day(evaluation["calibration_end"]),
                     holdout_end=fmt.day(evaluation["holdout_end"]), days=evaluation["holdout_days"],
                     churn_rate=fmt.pct(evaluation["churn_rate"]), customers=fmt.count(evaluation["customers"])))
        if evaluation["sample_share"] is not None:
            st.caption(t("churn.proof.sampled", customers=fmt.count(evaluation["customers"]),
                         share=fmt.pct(evaluation["sample_share"])))
        numbers = dict(evaluation["numbers"])
        numbers["runner_up"] = signal_name(numbers["runner_up"]) if numbers["runner_up"] else "—"
        st.markdown(t(f"churn.proof.reason_{evaluation['reason']}", signal=signal_name(evaluation["best"]),
                      **{k: (v if v is not None else float("nan")) for k, v in numbers.items()}))
        scores_table = evaluation["signals"]
        st.dataframe(pd.DataFrame({
            t("churn.proof.signal"): scores_table["signal"].map(signal_name),
            t("churn.proof.auc"): scores_table["auc"].round(3),
            t("churn.proof.alerted"): scores_table["alerted"],
            t("churn.proof.precision"): (scores_table["precision"] * 100).round(1),
            t("churn.proof.recall"): (scores_table["recall"] * 100).round(1),
        }), hide_index=True, column_config={t("churn.proof.auc"): st.column_config.NumberColumn(
            help=t("churn.proof.auc_help")),
            t("churn.proof.precision"): st.column_config.NumberColumn(format="%.1f%%"),
            t("churn.proof.recall"): st.column_config.NumberColumn(format="%.1f%%")})
        left, right = st.columns(2)
        lift = evaluation["lift"].pivot(index="decile", columns="signal", values="lift").reset_index()
        with left:
            chart(charts.grouped_bars(lift, "decile", {s: signal_name(s) for s in scores_table["signal"]},
                                      t("churn.proof.lift_title"), t("churn.proof.lift_axis_x"),
                                      t("churn.proof.lift_axis_y"))
                  .update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0),
                                 height=480, margin=dict(b=140))
                  .update_xaxes(dtick=1), key="churn_lift")
        if evaluation["calibration"] is not None:
            calibration = evaluation["calibration"].assign(
                predicted=lambda f: f["predicted"] * 100, observed=lambda f: f["observed"] * 100,
                perfect=lambda f: f["predicted"])
            with right:
                chart(charts.lines(calibration, "predicted", {"observed": t("churn.proof.observed"),
                                                              "perfect": t("churn.proof.perfect")},
                                   t("churn.proof.calibration_title"), t("churn.proof.calibration_axis_x"),
                                   t("churn.proof.calibration_axis_y")), key="churn_calibration")
    with st.expander(t("churn.proof.trap_title"), expanded=True):
        st.markdown(t("churn.proof.trap"))

with tab_retention:
    modes = {m: t(f"churn.retention.mode_{m}") for m in ("on", "on_or_after")}
    mode = st.segmented_control(t("churn.retention.mode"), tuple(modes), key="keep_churn_retention_mode",
                                default="on", required=True, format_func=modes.get)
    cohorts = state.query(churn.cohort_retention, as_of)
    cohorts = cohorts[cohorts["month_index"] > 0]  # month 0 is the first purchase: 100 % by definition
    if not cohorts.empty:
        st.caption(t("churn.retention.heatmap_caption"))
        cohorts = cohorts.assign(cohort_label=cohorts["cohort"].map(lambda d: d.strftime("%Y-%m")),
                                 share=cohorts[f"{mode}_share"] * 100,
                                 revenue_pct=cohorts["revenue_share"] * 100)
        hover = [t("churn.retention.hover_cell", cohort=r.cohort_label, month=r.month_index, value=fmt.pct(r.share / 100))
                 for r in cohorts.itertuples()]
        chart(charts.heatmap(cohorts, "month_index", "cohort_label", "share", hover, t("churn.retention.heatmap_title"),
                             t("churn.retention.month_axis"), t("churn.retention.cohort_axis"),
                             t("churn.retention.share_label")), key="churn_cohorts")
        hover = [t("churn.retention.hover_cell", cohort=r.cohort_label, month=r.month_index,
                   value=fmt.pct(r.revenue_share)) for r in cohorts.itertuples()]
        chart(charts.heatmap(cohorts, "month_index", "cohort_label", "revenue_pct", hover,
                             t("churn.retention.revenue_title"), t("churn.retention.month_axis"),
                             t("churn.retention.cohort_axis"), t("churn.retention.revenue_label")),
              key="churn_revenue_cohorts")
    survival = churn.survival_curve(table).assign(surviving=lambda f: f["surviving"] * 100)
    st.caption(t("churn.retention.survival_caption"))
    chart(charts.lines(survival, "days", {"surviving": t("churn.retention.survival_line")},
                       t("churn.retention.survival_title"), t("churn.retention.survival_axis_x"),
                       t("churn.retention.survival_axis_y")), key="churn_survival")
