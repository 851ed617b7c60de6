"""The Churn page's pieces: its editable thresholds, the call list as the shared table takes it, the summaries
it draws (`fn(table, calls, *args)`, cached by `ui.state.churn_query`) and their figures with translated
labels and hover text."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from crm_logic import churn
from crm_logic.playbooks import tactics
from ui import charts
from ui import format as fmt
from ui.i18n import group_label, labeller, t

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
LIST_COLUMNS = ["customer_id", "name", "value_at_risk", "revenue_12m", "last_purchase", "typical_gap_days",
                "days_since_last", "lateness", "next_purchase_date", "churn_probability", "p_alive", "lifecycle_state",
                "risk_band", "relationship_stage", "last_contact", "tactic"]


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


def rule_text(rules: dict, signal: str) -> str:
    """The alert rule in force, in words ("lateness over 1.5× the customer's own rhythm")."""
    threshold = {"churn_probability": rules["probability_threshold"], "p_alive": rules["p_alive_threshold"],
                 "lateness": rules["alert_multiple"], "recency": rules["fixed_days"]}[signal]
    return t(f"churn.rule_text_{signal}", value=threshold)


def call_list(calls: pd.DataFrame, language: str) -> pd.DataFrame:
    """The call-list columns for `ui.widgets.customer_table` (which translates and rounds them), with the
    first playbook tactic of each customer's lifecycle state; probabilities in percent."""
    first_tactic = {s: (tactics("lifecycle", s, language) or [""])[0] for s in churn.LIFECYCLE_STATES}
    listed = calls.assign(tactic=calls["lifecycle_state"].map(first_tactic),
                          churn_probability=(calls["churn_probability"] * 100).round(1))
    return listed[[c for c in LIST_COLUMNS if c in listed]]


# ---- summaries, cached per data version, settings and rules (ui.state.churn_query) ------------------------

def risk_split(table: pd.DataFrame, calls: pd.DataFrame, column: str) -> pd.DataFrame:
    """Alerted customers and value at risk per group of `column` (empty where the list has no such column)."""
    return churn.risk_by(calls, column) if column in calls else pd.DataFrame()


def state_counts(table: pd.DataFrame, calls: pd.DataFrame, column: str) -> pd.DataFrame:
    """Customers per lifecycle state or relationship stage (`column`), most first."""
    return table[column].value_counts().rename_axis("group").reset_index(name="customers")


def survival(table: pd.DataFrame, calls: pd.DataFrame) -> pd.DataFrame:
    """The survival curve (churn.survival_curve) in percent."""
    return churn.survival_curve(table).assign(surviving=lambda f: f["surviving"] * 100)


# ---- figures --------------------------------------------------------------------------------------------

def risk_bars(groups: pd.DataFrame, name: str, column: str, language: str, cur: str):
    """Value at risk per segment, class or region as ranked bars."""
    labels = [t(f"segments.segment.{g}") if name == "segment" else group_label(column, g) for g in groups["group"]]
    hover = [t("churn.where.hover_group", group=label, value=fmt.money(r.value_at_risk, language, cur),
               customers=fmt.count(r.customers)) for label, r in zip(labels, groups.itertuples())]
    fig = charts.ranked_bars(groups.assign(label=labels), "label", "value_at_risk", hover, t(f"churn.where.{name}"),
                             t("churn.where.value_axis", currency=cur), "")
    return charts.money_axis(fig, "x", groups["value_at_risk"].to_numpy(), language, cur)


def count_bars(counts: pd.DataFrame, kind: str, prefix: str):
    """Customers per lifecycle state or relationship stage as ranked bars."""
    labels = [t(f"{prefix}.{g}") for g in counts["group"]]
    hover = [t("churn.where.hover_count", group=label, customers=fmt.count(n))
             for label, n in zip(labels, counts["customers"])]
    return charts.ranked_bars(counts.assign(label=labels), "label", "customers", hover, t(f"churn.where.{kind}"),
                              t("churn.where.customers_axis"), "")


def signal_scores(evaluation: dict) -> tuple[pd.DataFrame, dict]:
    """How each signal did on the held-out period, as a table with translated headers, and its column config."""
    scores, name = evaluation["signals"], labeller("churn.signal")
    frame = pd.DataFrame({
        t("churn.proof.signal"): scores["signal"].map(name),
        t("churn.proof.auc"): scores["auc"].round(3),
        t("churn.proof.alerted"): scores["alerted"],
        t("churn.proof.precision"): (scores["precision"] * 100).round(1),
        t("churn.proof.recall"): (scores["recall"] * 100).round(1),
    })
    config = {t("churn.proof.auc"): st.column_config.NumberColumn(help=t("churn.proof.auc_help")),
              t("churn.proof.precision"): st.column_config.NumberColumn(format="%.1f%%"),
              t("churn.proof.recall"): st.column_config.NumberColumn(format="%.1f%%")}
    return frame, config


def lift_chart(evaluation: dict):
    """Lift by decile of each signal, side by side."""
    lift = evaluation["lift"].pivot(index="decile", columns="signal", values="lift").reset_index()
    name = labeller("churn.signal")
    return (charts.grouped_bars(lift, "decile", {s: name(s) for s in evaluation["signals"]["signal"]},
                                t("churn.proof.lift_title"), t("churn.proof.lift_axis_x"), t("churn.proof.lift_axis_y"))
            .update_layout(legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0), height=480,
                           margin=dict(b=140))
            .update_xaxes(dtick=1))


def calibration_chart(calibration: pd.DataFrame):
    """Predicted against observed churn, in percent, with the perfect line."""
    frame = calibration.assign(predicted=lambda f: f["predicted"] * 100, observed=lambda f: f["observed"] * 100,
                               perfect=lambda f: f["predicted"])
    return charts.lines(frame, "predicted", {"observed": t("churn.proof.observed"), "perfect": t("churn.proof.perfect")},
                        t("churn.proof.calibration_title"), t("churn.proof.calibration_axis_x"),
                        t("churn.proof.calibration_axis_y"))


def cohort_heatmaps(cohorts: pd.DataFrame, mode: str) -> list:
    """The cohorts' share buying in each later month (`mode`: "on" or "on_or_after") and their revenue
    retention, as two heatmaps (month 0, the first purchase, is 100 % by definition and left out)."""
    cohorts = cohorts[cohorts["month_index"] > 0]
    if cohorts.empty:
        return []
    cohorts = cohorts.assign(cohort_label=cohorts["cohort"].map(lambda d: d.strftime("%Y-%m")),
                             share=cohorts[f"{mode}_share"] * 100, revenue_pct=cohorts["revenue_share"] * 100)
    figures = []
    for value, share, title, label in (("share", "share", "heatmap_title", "share_label"),
                                       ("revenue_pct", "revenue_share", "revenue_title", "revenue_label")):
        hover = [t("churn.retention.hover_cell", cohort=r.cohort_label, month=r.month_index,
                   value=fmt.pct(getattr(r, share) / (100 if share == "share" else 1))) for r in cohorts.itertuples()]
        figures.append(charts.heatmap(cohorts, "month_index", "cohort_label", value, hover,
                                      t(f"churn.retention.{title}"), t("churn.retention.month_axis"),
                                      t("churn.retention.cohort_axis"), t(f"churn.retention.{label}")))
    return figures


def survival_chart(curve: pd.DataFrame):
    return charts.lines(curve, "days", {"surviving": t("churn.retention.survival_line")},
                        t("churn.retention.survival_title"), t("churn.retention.survival_axis_x"),
                        t("churn.retention.survival_axis_y"))
