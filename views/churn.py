"""Churn risk: who is late, what it costs, whom to call this week, and why to trust the ranking."""
from datetime import timedelta

import streamlit as st

from crm_logic import churn
from crm_logic.models import ModelError
from ui import churn_view as view
from ui import format as fmt
from ui import state
from ui.i18n import labeller, lang, t
from ui.page import titled_page
from ui.widgets import chart, customer_table, empty_state, kpi

as_of = titled_page("churn")
cur, language = state.currency(), lang()
RULES = churn.RULES

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
        thresholds = view.threshold_inputs()
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
    calls = state.churn_calls(rules)

rule_text = view.rule_text(rules, signal)
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

with tab_calls:
    st.subheader(t("churn.calls.title"))
    st.caption(t("churn.calls.caption", **rules))
    if calls.empty:
        st.info(t("churn.calls.none"))
    else:
        customer_table(view.call_list(calls, language), "churn_call_list", cur, height=420,
                       filters={t("churn.settings.rule"): rule_text})

with tab_where:
    left, right = st.columns(2)
    splits = [("segment", "rfm_segment")] if "rfm_segment" in calls else []
    splits += [("customer_class", "customer_class"), ("region", "region")]
    for i, (name, column) in enumerate(splits):
        place = left if i % 2 == 0 else right
        groups = state.churn_query(view.risk_split, rules, column)
        if groups.empty or (groups["group"] == "").all():
            place.info(t("churn.where.no_group", group=t(f"table.{column}")))
            continue
        with place:
            chart(view.risk_bars(groups, name, column, language, cur), key=f"risk_{name}")
    stage_words = {"months": rules["trend_months"], "double": 2 * rules["trend_months"]}
    for place, column, kind, key, caption in (
            (left, "lifecycle_state", "lifecycle", "churn.lifecycle", t("churn.where.lifecycle_caption", **rules)),
            (right, "relationship_stage", "stage", "churn.stage",
             t("churn.where.stage_caption", **{**rules, **stage_words}))):
        with place:
            chart(view.count_bars(state.churn_query(view.state_counts, rules, column), kind, key), key=f"count_{kind}")
            st.caption(caption)

with tab_new:
    since = st.columns(4)[0].date_input(t("churn.new.since"), value=as_of - timedelta(days=7), max_value=as_of,
                          key="churn_since", help=t("churn.new.since_help"), format="YYYY-MM-DD")
    if since >= as_of:
        st.info(t("churn.new.bad_since"))
    else:
        fresh_calls = state.churn_new_calls(rules, since)
        kpi(st.columns(4)[0], "churn.new.count", fmt.count(len(fresh_calls)), "churn.new.count_help",
            since=fmt.day(since), as_of=fmt.day(as_of))
        if not fresh_calls.empty:
            customer_table(view.call_list(fresh_calls, language), "churn_new_alerts", cur, height=320)

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
        scores, config = view.signal_scores(evaluation)
        st.dataframe(scores, hide_index=True, column_config=config)
        left, right = st.columns(2)
        with left:
            chart(view.lift_chart(evaluation), key="churn_lift")
        if evaluation["calibration"] is not None:
            with right:
                chart(view.calibration_chart(evaluation["calibration"]), key="churn_calibration")
    with st.expander(t("churn.proof.trap_title"), expanded=True):
        st.markdown(t("churn.proof.trap"))

with tab_retention:
    modes = {m: t(f"churn.retention.mode_{m}") for m in ("on", "on_or_after")}
    mode = st.segmented_control(t("churn.retention.mode"), tuple(modes), key="keep_churn_retention_mode",
                                default="on", required=True, format_func=modes.get)
    heatmaps = view.cohort_heatmaps(state.query(churn.cohort_retention, as_of), mode)
    if heatmaps:
        st.caption(t("churn.retention.heatmap_caption"))
        for fig, key in zip(heatmaps, ("churn_cohorts", "churn_revenue_cohorts")):
            chart(fig, key=key)
    st.caption(t("churn.retention.survival_caption"))
    chart(view.survival_chart(state.churn_query(view.survival, rules)), key="churn_survival")
