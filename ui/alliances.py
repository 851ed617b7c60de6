"""The Alliances page's work (views/alliances.py lays it out): the rules as this session edited them, the
alliance table computed once per base, data version, CLV settings and rules, the matrix drawn from a
bounded set of customers, and the lists with the conditions behind each recommendation written out.

At a million customers nothing here makes a Python object per customer for the whole base: the table is
vectorised (crm_logic.alliance), the explanations are written for the listed rows only, and the
workbook is built when its button is clicked."""
from __future__ import annotations

import json
from datetime import date
from typing import Callable

import numpy as np
import pandas as pd
import streamlit as st

from crm_logic import alliance
from crm_logic.exports import excel_bytes
from crm_logic.playbooks import tactics
from crm_logic.tiers import DEFAULT_RULES as SEGMENT_RULES
from ui import charts, state
from ui import format as fmt
from ui.i18n import t
from ui.privacy import shown_names
from ui.widgets import SHOWN_ROWS

RULES = alliance.DEFAULT_RULES
WEIGHT_KEYS = {"attractiveness_weights": "keep_alliance_wa_", "position_weights": "keep_alliance_wp_"}
SCOPES = ("organisations", "persons")
MATRIX_POINTS = 2_000  # bubbles drawn (the largest by revenue); counts and sums always use every customer
WORKBOOK_ROWS = SHOWN_ROWS  # rows of each list in the workbook, as many as the page draws
TABLES_KEPT = 1  # rule sets whose tables stay in memory (a million customers: ~0.6 GB each)
COUNT_METRICS = ("joint_projects", "custom_requests")
LISTED_COLUMNS = {"customer_id", "name", "customer_class", "current_relationship_type", "recommended_relationship_type",
                  "relationship_move", "luxurious", "alliance_mode", "revenue_12m", "margin_12m", "relationship_cost",
                  "relationship_value", "clv", "p_alive", "value_at_risk", "importance_to_us", "importance_to_them",
                  "switching_cost", "balance"}


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


def value_at_risk(values: pd.DataFrame) -> pd.DataFrame:
    """The churn warning's value at risk per buyer: their CLV (crm_logic.churn.churn_table sets it so).
    Taken from the values, so the page does not build the whole churn table (seconds and ~1 GB at a
    million customers) for this one column."""
    return pd.DataFrame({"customer_id": values["customer_id"], "value_at_risk": values["clv"].to_numpy(float)})


def frames(rules: dict, progress: Callable[[float, str], None]) -> dict:
    """Per scope (organisations, persons): the alliance table of its buyers, its referral and
    cross-industry candidates. The evidence from the base is gathered once per data version and date,
    the table once per CLV settings and rules; a new axis weight only places the customers anew.
    `progress(fraction, stage)` hears about a computation."""
    settings = state.clv_settings()
    facts = state.customer_facts(settings, lambda f, stage: progress(0.6 * f, f"clv.stage.{stage}"))
    values = state.customer_values(settings)
    store = state.current_store()
    path, version, as_of = str(store.path), store.dataset_version, facts.as_of
    weights = {group: rules[group] for group in WEIGHT_KEYS}
    judged = {k: v for k, v in rules.items() if k not in WEIGHT_KEYS}

    def judge() -> dict:
        progress(0.6, "alliances.stage.segments")
        segments = state.segment_table(SEGMENT_RULES)
        progress(0.7, "alliances.stage.evidence")
        evidence = state.kept("alliance_evidence", (path, version, as_of),
                              lambda: alliance.evidence(state.open_base(path), as_of), 1)
        progress(0.9, "alliances.stage.rules")
        table = alliance.alliance_table(store, values, segments, value_at_risk(values), as_of, judged, evidence)
        referrals = alliance.referral_candidates(table, values, as_of, judged, segments)
        cross = alliance.cross_industry_candidates(table, judged)
        out = {}
        for scope in SCOPES:
            wanted = scope == "organisations"
            out[scope] = {
                "table": table[table["organisation"] == wanted].reset_index(drop=True),
                "referrals": referrals[referrals["customer_class"].isin(alliance.ORGANISATIONS) == wanted],
                "cross_industry": cross[cross["customer_class"].isin(alliance.ORGANISATIONS) == wanted]}
        return out

    def place() -> dict:  # the judged tables share their columns (copy on write); only the axes are new
        judged_frames = state.kept("alliance_tables", key, judge, TABLES_KEPT)
        return {scope: {**part, "table": part["table"].assign(**alliance.portfolio(part["table"], weights))}
                for scope, part in judged_frames.items()}

    key = (path, version, settings, json.dumps(judged, sort_keys=True))
    return state.kept("alliance_placed", key + (json.dumps(weights, sort_keys=True),), place, TABLES_KEPT)


def type_labels() -> dict:
    return {k: t(f"alliances.type.{k}") for k in alliance.TYPES}


def matrix(table: pd.DataFrame, language: str, cur: str):
    """The portfolio matrix figure and how many bubbles it draws: the MATRIX_POINTS largest customers
    by revenue of the last 12 months (a browser cannot draw a million bubbles; the quadrant counts and
    revenue under the chart are from every customer)."""
    drawn = shown_names(table.nlargest(MATRIX_POINTS, "revenue_12m").sort_values("customer_id", ignore_index=True))
    labels = type_labels()
    hover = [t("alliances.hover", name=r.name or r.customer_id, type=labels[r.recommended_relationship_type],
               revenue=fmt.money(r.revenue_12m, language, cur), attractiveness=fmt.pct(r.attractiveness, 0),
               position=fmt.pct(r.position, 0)) for r in drawn.itertuples()]
    corners = {"tr": "invest_to_grow", "tl": "invest_selectively", "br": "maintain", "bl": "manage_for_cash"}
    fig = charts.bubble_matrix(
        drawn.fillna({"attractiveness": 0, "position": 0}), "position", "attractiveness", "revenue_12m",
        "recommended_relationship_type", labels, charts.RELATIONSHIP_TYPE_COLOURS, hover, t("alliances.chart.matrix"),
        t("alliances.chart.position_axis"), t("alliances.chart.attractiveness_axis"), RULES["quadrant_cut"],
        {c: t(f"alliances.quadrant.{q}") for c, q in corners.items()})
    return fig, len(drawn)


def numbers(metric: str, values: np.ndarray) -> np.ndarray:
    """A condition's numbers as a manager reads them (counts, a cover like 2.5×, else a percentage)."""
    values = np.asarray(values, dtype=float)
    if metric in COUNT_METRICS or metric == "value_cover":
        out = np.array([fmt.count(v) if metric in COUNT_METRICS else "∞" if v == np.inf else f"{v:.1f}×"
                        for v in values], dtype=object)
    else:
        out = (np.char.add(np.rint(np.nan_to_num(values) * 100).astype(np.int64).astype(str), "%")).astype(object)
    out[np.isnan(values)] = "—"
    return out


def conditions_text(rows: pd.DataFrame, lines: pd.DataFrame, listed: str, language: str) -> np.ndarray:
    """Per row of `rows`, its `lines` (alliance.explanations of those rows) of kind `listed` as one
    sentence: 'Matters to us (75% ≥ 60%); …'. Written per condition for all its rows at once."""
    part = lines[lines["listed"] == listed].reset_index(drop=True)
    out = np.full(len(rows), "", dtype=object)
    if part.empty:
        return out
    pieces = np.empty(len(part), dtype=object)
    for (condition, metric, op, threshold), group in part.groupby(["condition", "metric", "op", "threshold"], sort=False):
        sign = op.replace(">=", "≥").replace("<=", "≤")
        before, after = t("alliances.condition_line", name=t(f"alliances.condition.{condition}"), value="\0", op=sign,
                          threshold=numbers(metric, [threshold])[0]).split("\0")
        pieces[group.index] = before + numbers(metric, group["value"].to_numpy()) + after
    at = rows.index.get_indexer(part["row"])
    first = np.r_[True, at[1:] != at[:-1]]  # lines come row by row
    pieces[~first] = ("；" if language == "zh" else "; ") + pieces[~first]
    starts = np.flatnonzero(first)
    out[at[starts]] = np.add.reduceat(pieces, starts)
    return out


def evidence(frame: pd.DataFrame, rules: dict, language: str, listed: tuple = ("held", "failed")) -> pd.DataFrame:
    """Customers with the facts behind their recommendation, as the lists show them (names as they may be
    shown); the explanations are written for these rows only."""
    frame = shown_names(frame.reset_index(drop=True))
    labels = type_labels()
    out = frame[["customer_id", "name", "customer_class"]].copy()
    out["current_relationship_type"] = frame["current_relationship_type"].map(labels).fillna("")
    out["recommended_relationship_type"] = frame["recommended_relationship_type"].map(labels)
    for column in ("revenue_12m", "margin_12m", "relationship_cost", "clv"):
        out[column] = frame[column].round(2)
    out["p_alive"] = frame["p_alive"]
    out["value_at_risk"] = frame["value_at_risk"].round(2)
    for column in ("importance_to_us", "importance_to_them", "switching_cost"):
        out[column] = (frame[column] * 100).round(1)
    out["balance"] = frame["balance"].map({k: t(f"alliances.balance.{k}") for k in frame["balance"].unique()})
    lines = alliance.explanations(frame, rules)
    for kind, column in (("held", "why"), ("failed", "why_not_higher"), ("mode", "mode_evidence")):
        if kind in listed:
            out[column] = conditions_text(frame, lines, kind, language)
    return out


def move_lists(table: pd.DataFrame, rules: dict, language: str) -> dict[str, pd.DataFrame]:
    """The deepen (by margin, with mode, its evidence and first steps), luxurious (by cost beyond value)
    and keep (by margin) lists, as shown and exported."""
    metrics = {c["metric"] for group in ("type_conditions", "mode_conditions") for c in rules[group]}
    table = table[[c for c in table.columns if c in LISTED_COLUMNS or c in metrics]]  # fewer columns to sort
    deepen = table[table["relationship_move"] == "deepen"].sort_values("margin_12m", ascending=False)
    deepen_list = evidence(deepen, rules, language, ("held", "failed", "mode"))
    modes = {m: t(f"alliances.mode.{m}") for m in alliance.MODES}
    deepen_list.insert(5, "alliance_mode", deepen["alliance_mode"].map(modes).fillna(t("alliances.mode.none")).to_numpy())
    deepen_list["mode_evidence"] = deepen_list.pop("mode_evidence")
    steps = {m: " / ".join(tactics("alliance_mode", m, language)[:2]) for m in alliance.MODES}
    deepen_list["first_steps"] = deepen["alliance_mode"].map(steps).fillna("").to_numpy()
    luxurious = table[table["luxurious"]]
    excess = luxurious["relationship_cost"] - luxurious["relationship_value"]
    lux = luxurious.assign(excess=excess).sort_values("excess", ascending=False)
    lux_list = evidence(lux, rules, language)
    lux_list.insert(7, "excess_cost", lux["excess"].round(2).to_numpy())
    keep = table[(table["relationship_move"] == "keep") & ~table["luxurious"]].sort_values("margin_12m", ascending=False)
    return {"deepen": deepen_list, "luxurious": lux_list, "keep": evidence(keep, rules, language)}


def workbook(lists: dict[str, pd.DataFrame], rules: dict, as_of: date, scope: str) -> Callable[[], bytes]:
    """The three lists (their first WORKBOOK_ROWS rows each: the workshop's lists; each list's CSV holds
    every row) and the rules they were made with as one workbook, built when the button is clicked
    (a spreadsheet of a million rows would take minutes and gigabytes to write)."""
    labels = type_labels()
    settings = pd.DataFrame({
        t("alliances.sheet.setting"): [t("common.as_of"), t("alliances.scope_label")]
        + [t(f"alliances.condition.{c['condition']}") + f" ({labels[c['type']]})" for c in rules["type_conditions"]],
        t("alliances.sheet.value"): [fmt.day(as_of), t(f"alliances.scope.{scope}")]
        + [c["value"] for c in rules["type_conditions"]]})
    names = {key: t(f"alliances.sheet.{key}") for key in lists}
    headers = {c: t(f"table.{c}") for frame in lists.values() for c in frame.columns}
    setting_sheet = t("alliances.sheet.settings")
    return lambda: excel_bytes({**{names[k]: f.head(WORKBOOK_ROWS).rename(columns=headers) for k, f in lists.items()},
                                setting_sheet: settings})


def growth_lists(scoped: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The referral and cross-industry candidates of a scope as listed (names as they may be shown)."""
    referrals = shown_names(scoped["referrals"])
    satisfaction = referrals["satisfaction"]
    referrals = referrals.assign(
        satisfaction=satisfaction.round().astype("Int64").astype(str).where(satisfaction.notna(), "—"),
        last_contact=pd.to_datetime(referrals["last_contact"]).dt.strftime("%Y-%m-%d"), clv=referrals["clv"].round(2))
    partners = shown_names(scoped["cross_industry"])
    return referrals, partners.assign(revenue_12m=partners["revenue_12m"].round(2), clv=partners["clv"].round(2))
