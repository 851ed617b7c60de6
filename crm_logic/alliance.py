"""Which relationships to deepen, keep or stop over-serving (crm-concepts.md, sections 2 and 5).

No relationship type is better in itself: partnership or a strategic alliance is right only where both
sides matter to each other, neither can dictate to the other, they need each other and switching costs
are high; a preferred-supplier relationship is enough for most; a relationship that costs more than it
brings is "luxurious" (奢侈的关系). Per customer this module gathers the evidence for those conditions —
from the `accounts` attributes where a base has them, from documented proxies where it has not — checks
the conditions, kept as editable rows of data, and says which held and which failed (`explanations`, for
the rows one shows: at a million customers the table keeps numbers and codes, no lists per customer).
The SQL part (`evidence`) depends on the data only, so a caller can compute it once and try rules on it.

Evidence (one row per buyer; ranks are taken among organisations and among persons separately):
- importance to us: mean percentile rank of the last 12 months' revenue and gross margin and of CLV;
- importance to them: `accounts.wallet_share`, else the dependence proxy = mean of purchase regularity
  (share of the last 8 quarters, or of the quarters since the first purchase, with a purchase), tenure
  (years / `tenure_full_years`, at most 1), category breadth (our categories they bought / all our
  categories) and criticality (their spend share in our big-ticket categories: mean order above the
  base's mean order);
- bargaining power (theirs over us, 0.5 balanced): `accounts.bargaining_power`, else
  0.5 + (importance to us − importance to them) / 2; power gap = |power − 0.5|;
- switching cost: `accounts.switching_cost`, else mean of tenure, joint projects in the last 12 months
  (/ `joint_projects_full`) and custom requests (/ `custom_requests_full`, when the base has them);
- relationship cost per year: `accounts.relationship_cost`, else cost to serve = the last 12 months'
  interactions × cost per kind + discounts given (discounted revenue × `discount_rate`);
- relationship value: gross margin of the last 12 months (CLV beside it); value cover = value / cost.
"""
from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd

from crm_logic.store import Store

__all__ = ["DEFAULT_RULES", "TYPES", "MOVES", "QUADRANTS", "MODES", "evidence", "alliance_table", "portfolio",
           "explanations",
           "ladder", "quadrant_summary",
           "transitions", "referral_candidates", "cross_industry_candidates", "missing_attributes", "formula", "score_columns"]

TYPES = ("transactional", "preferred_supplier", "partnership", "strategic_alliance")  # the ladder, bottom up
MOVES = ("deepen", "keep", "simplify")
MODES = ("partner", "customisation", "guide")
QUADRANTS = ("invest_to_grow", "invest_selectively", "maintain", "manage_for_cash")
ORGANISATIONS = ("enterprise", "intermediary", "dealer")
ACCOUNT_ATTRIBUTES = ("wallet_share", "bargaining_power", "switching_cost", "relationship_cost",
                      "product_utilisation", "custom_requests")
OPS = {">=": np.greater_equal, "<=": np.less_equal}
# The material's conditions for partnership and alliance: both sides matter, neither dictates, they need
# each other, switching is costly, and the relationship is worth what it costs.
MUTUAL_CONDITIONS = (("matters_to_us", "importance_to_us", ">="), ("matters_to_them", "importance_to_them", ">="),
                     ("balanced_power", "power_gap", "<="), ("mutual_need", "p_alive", ">="),
                     ("high_switching_cost", "switching_cost", ">="), ("worth_the_cost", "value_cover", ">="))


def _mutual(kind: str, thresholds: tuple) -> list[dict]:
    """The mutual conditions of one type, each with its threshold (in MUTUAL_CONDITIONS' order)."""
    return [{"type": kind, "condition": c, "metric": m, "op": op, "value": v}
            for (c, m, op), v in zip(MUTUAL_CONDITIONS, thresholds)]


DEFAULT_RULES: dict = {
    # Yearly cost to serve where accounts.relationship_cost is unknown: money per interaction of each kind.
    "interaction_cost": {"inquiry": 150.0, "complaint": 600.0, "follow_up": 200.0, "visit": 1500.0,
                         "new_product_info": 100.0, "joint_project": 8000.0, "club_event": 300.0, "survey": 50.0},
    "discount_rate": 0.15,  # share of a discounted order's amount given away
    "proxy": {"tenure_full_years": 3.0, "joint_projects_full": 3.0, "custom_requests_full": 5.0},
    "balance_tolerance": 0.15,  # power within 0.5 ± this is balanced
    # Today's type from the relationship form (segments); a partner form with this many joint projects in
    # the last 12 months is already an alliance.
    "current_by_form": {"basic": "transactional", "passive": "transactional", "responsible": "preferred_supplier",
                        "proactive": "preferred_supplier", "partner": "partnership"},
    "alliance_joint_projects": 6,
    "current_when_unknown": "transactional",  # no contact history: sells, then no contact (the basic form)
    # A type is recommended when all its conditions hold (checked from the top of the ladder down).
    "type_conditions": [
        *_mutual("strategic_alliance", (0.8, 0.6, 0.15, 0.6, 0.7, 3.0)),
        *_mutual("partnership", (0.6, 0.45, 0.15, 0.5, 0.5, 1.5)),
        {"type": "preferred_supplier", "condition": "matters_to_us", "metric": "importance_to_us", "op": ">=", "value": 0.35},
        {"type": "preferred_supplier", "condition": "mutual_need", "metric": "p_alive", "op": ">=", "value": 0.3},
    ],
    # For a deepen case, the first mode (in this order) with any condition holding.
    "mode_conditions": [
        {"mode": "partner", "condition": "joint_projects", "metric": "joint_projects", "op": ">=", "value": 1.0},
        {"mode": "partner", "condition": "mutual_importance", "metric": "mutual_importance", "op": ">=", "value": 0.7},
        {"mode": "customisation", "condition": "custom_requests", "metric": "custom_requests", "op": ">=", "value": 3.0},
        {"mode": "customisation", "condition": "complex_needs", "metric": "category_breadth", "op": ">=", "value": 0.6},
        {"mode": "guide", "condition": "low_utilisation", "metric": "product_utilisation", "op": "<=", "value": 0.6},
        {"mode": "guide", "condition": "under_used_categories", "metric": "category_breadth", "op": "<=", "value": 0.4},
    ],
    "attractiveness_weights": {"value": 0.5, "growth": 0.2, "p_alive": 0.3},
    "position_weights": {"dependence": 0.4, "switching_cost": 0.3, "wallet_share": 0.3},
    "quadrant_cut": 0.5,
    # Growth through relationships (section 5).
    "referral": {"min_purchases": 3, "min_p_alive": 0.5, "min_satisfaction": 4.0, "contact_days": 90},
    "cross_industry": {"min_categories": 4, "min_p_alive": 0.5},
}


def rules_with(rules: dict | None) -> dict:
    """The default rules with a user's overrides laid over them (one level deep for the dicts)."""
    merged = copy.deepcopy(DEFAULT_RULES)
    for key, value in (rules or {}).items():
        merged[key] = {**merged[key], **value} if isinstance(merged.get(key), dict) else value
    return merged


def _evidence_sql() -> str:
    return """
WITH t AS (SELECT * FROM transactions WHERE order_date <= $as_of),
big_ticket AS (  -- our categories whose mean order is above the mean order of the base
    SELECT category FROM t WHERE amount > 0 AND category IS NOT NULL GROUP BY category
    HAVING avg(amount) > (SELECT avg(amount) FROM t WHERE amount > 0)
),
tx AS (
    SELECT customer_id,
           coalesce(sum(amount) FILTER (WHERE order_date > $year_ago), 0)::DOUBLE AS revenue_12m,
           coalesce(sum(gross_margin) FILTER (WHERE order_date > $year_ago), 0)::DOUBLE AS known_margin_12m,
           coalesce(sum(amount) FILTER (WHERE order_date > $year_ago AND gross_margin IS NULL), 0)::DOUBLE
               AS unknown_margin_revenue_12m,
           coalesce(sum(amount) FILTER (WHERE order_date > $two_years_ago AND order_date <= $year_ago), 0)::DOUBLE
               AS revenue_prev_12m,
           coalesce(sum(amount) FILTER (WHERE order_date > $year_ago AND discounted), 0)::DOUBLE AS discounted_revenue_12m,
           count(DISTINCT category) AS categories,
           array_to_string(list_sort(list_distinct(list(category) FILTER (WHERE category IS NOT NULL))), '、')
               AS category_mix,
           count(DISTINCT date_diff('day', order_date, $as_of) // 91)
               FILTER (WHERE amount > 0 AND date_diff('day', order_date, $as_of) < 728) AS active_quarters,
           min(order_date) FILTER (WHERE amount > 0) AS first_order,
           (coalesce(sum(amount) FILTER (WHERE category IN (SELECT category FROM big_ticket) AND amount > 0), 0)
               / nullif(sum(amount) FILTER (WHERE amount > 0), 0))::DOUBLE AS criticality
    FROM t GROUP BY customer_id
),
contacts AS (
    SELECT customer_id,
           count(*) FILTER (WHERE kind = 'joint_project' AND interaction_date > $year_ago) AS joint_projects,
           max(interaction_date) AS last_contact,
           arg_max(satisfaction, interaction_date) FILTER (WHERE satisfaction IS NOT NULL) AS satisfaction,
           count(*) FILTER (WHERE kind = 'complaint' AND interaction_date > $year_ago) AS complaints_12m
    FROM interactions WHERE interaction_date <= $as_of GROUP BY customer_id
),
referrals AS (SELECT referred_by AS customer_id, count(*) AS referrals_made FROM customers
              WHERE referred_by IS NOT NULL GROUP BY 1)
SELECT tx.*, c.name, c.customer_class, c.industry,
       coalesce(i.joint_projects, 0) AS joint_projects, i.last_contact, i.satisfaction,
       coalesce(i.complaints_12m, 0) AS complaints_12m,
       coalesce(r.referrals_made, 0) AS referrals_made,
       a.wallet_share, a.bargaining_power, a.switching_cost AS account_switching_cost,
       a.relationship_cost::DOUBLE AS account_relationship_cost, a.product_utilisation,
       a.custom_requests::DOUBLE AS custom_requests,
       (SELECT count(DISTINCT category) FROM t) AS base_categories
FROM tx
LEFT JOIN customers c USING (customer_id)
LEFT JOIN contacts i USING (customer_id)
LEFT JOIN referrals r USING (customer_id)
LEFT JOIN accounts a USING (customer_id)
"""


class Evidence(NamedTuple):
    """What the base says per buyer up to a date, before any rule: `buyers` one row each (_evidence_sql),
    `contacts` the last 12 months' interactions counted per customer and kind (for the cost to serve)."""
    buyers: pd.DataFrame
    contacts: pd.DataFrame


def evidence(store: Store, as_of: date) -> Evidence:
    """The base's evidence as of `as_of` (the SQL part of alliance_table: compute it once per data version,
    then apply any rules to it)."""
    params = {"as_of": as_of, "year_ago": as_of - timedelta(days=365), "two_years_ago": as_of - timedelta(days=730)}
    contacts = store.df("""
        SELECT customer_id, kind, count(*) AS contacts FROM interactions
        WHERE interaction_date <= $as_of AND interaction_date > $year_ago GROUP BY ALL""",
                        {"as_of": as_of, "year_ago": params["year_ago"]})
    return Evidence(store.df(_evidence_sql(), params), contacts)


def _mean_of(parts: list[pd.Series]) -> pd.Series:
    """Row mean of the parts that are known (a proxy uses what the base has)."""
    return pd.concat(parts, axis=1).mean(axis=1, skipna=True)


def _weighted(parts: dict[str, pd.Series], weights: dict[str, float]) -> pd.Series:
    """Weighted mean per row over the parts known for that row (weights renormalised)."""
    frame = pd.DataFrame(parts)
    w = pd.Series({k: float(weights.get(k, 0.0)) for k in frame.columns})
    known = frame.notna()
    total = known.mul(w, axis=1).sum(axis=1)
    return frame.fillna(0).mul(w, axis=1).sum(axis=1).div(total.where(total > 0))


def _check(frame: pd.DataFrame, conditions: list[dict]) -> pd.DataFrame:
    """One boolean column per condition row (unknown metric values fail)."""
    out = {}
    for i, c in enumerate(conditions):
        metric = pd.to_numeric(frame[c["metric"]], errors="coerce")
        out[i] = pd.Series(OPS[c["op"]](metric.to_numpy(float), float(c["value"])), index=frame.index) & metric.notna()
    return pd.DataFrame(out, index=frame.index)


def alliance_table(store: Store, values: pd.DataFrame, segments: pd.DataFrame | None, churn: pd.DataFrame | None,
                   as_of: date, rules: dict | None = None, facts: Evidence | None = None) -> pd.DataFrame:
    """One row per buyer: the evidence, today's and the recommended relationship type, the move, the
    luxurious flag, the alliance mode for deepen cases and the portfolio axes; `explanations` lists the
    conditions that held and failed for the rows one shows. `segments` brings relationship_form (and
    behaviour_type); `churn` value_at_risk; `facts` the base's `evidence(store, as_of)` when already at hand."""
    r = rules_with(rules)
    facts = facts or evidence(store, as_of)
    frame = values[["customer_id", "clv", "p_alive", "margin_rate"]].merge(facts.buyers, on="customer_id", how="inner")
    if segments is not None and "relationship_form" in segments:
        frame = frame.merge(segments[["customer_id", "relationship_form"]], on="customer_id", how="left")
    else:
        frame["relationship_form"] = None
    if churn is not None and "value_at_risk" in churn:
        frame = frame.merge(churn[["customer_id", "value_at_risk"]], on="customer_id", how="left")
    if frame.empty:
        return _empty()
    frame["organisation"] = frame["customer_class"].isin(ORGANISATIONS)
    proxy = r["proxy"]

    # Importance to us: revenue, margin and CLV, ranked among organisations and among persons.
    frame["margin_12m"] = frame["known_margin_12m"] + frame["unknown_margin_revenue_12m"] * frame["margin_rate"]
    group = frame.groupby("organisation")
    for column in ("revenue_12m", "margin_12m"):
        total = group[column].transform(lambda s: s.clip(lower=0).sum())
        frame[f"share_of_{column[:-4]}"] = frame[column].clip(lower=0) / total.where(total > 0)
    ranks = {c: group[c].rank(pct=True) for c in ("revenue_12m", "margin_12m", "clv")}
    frame["importance_to_us"] = _mean_of(list(ranks.values()))
    frame["value_rank"] = ranks["clv"]
    biggest = np.maximum(frame["revenue_12m"], frame["revenue_prev_12m"])
    frame["growth"] = ((frame["revenue_12m"] - frame["revenue_prev_12m"]) / biggest.where(biggest > 0)).clip(-1, 1)

    # Importance to them: wallet share where known, else the dependence proxy.
    tenure_years = (pd.Timestamp(as_of) - pd.to_datetime(frame["first_order"])).dt.days / 365.25
    frame["tenure_years"] = tenure_years
    tenure = (tenure_years / proxy["tenure_full_years"]).clip(0, 1)
    quarters = np.clip(np.ceil((tenure_years * 365.25 + 1) / 91), 1, 8)
    frame["regularity"] = (frame["active_quarters"] / quarters).clip(0, 1)
    frame["category_breadth"] = frame["categories"] / frame["base_categories"].where(frame["base_categories"] > 0)
    frame["dependence"] = _mean_of([frame["regularity"], tenure, frame["category_breadth"], frame["criticality"]])
    frame["importance_to_them"] = frame["wallet_share"].fillna(frame["dependence"])
    frame["importance_source"] = np.where(frame["wallet_share"].notna(), "account", "proxy")
    frame["mutual_importance"] = np.minimum(frame["importance_to_us"], frame["importance_to_them"])

    # Bargaining balance.
    frame["bargaining_power"] = frame["bargaining_power"].fillna(
        0.5 + (frame["importance_to_us"] - frame["importance_to_them"]) / 2)
    frame["power_gap"] = (frame["bargaining_power"] - 0.5).abs()
    tol = float(r["balance_tolerance"])
    frame["balance"] = np.select([frame["bargaining_power"] > 0.5 + tol, frame["bargaining_power"] < 0.5 - tol],
                                 ["we_depend_on_them", "they_depend_on_us"], "balanced")

    # Switching cost.
    joint = (frame["joint_projects"] / proxy["joint_projects_full"]).clip(0, 1)
    custom = (frame["custom_requests"] / proxy["custom_requests_full"]).clip(0, 1)
    frame["switching_cost"] = frame["account_switching_cost"].fillna(_mean_of([tenure, joint, custom]))
    frame["switching_source"] = np.where(frame["account_switching_cost"].notna(), "account", "proxy")

    # Cost against value.
    contacts = facts.contacts
    spent = (contacts["kind"].map(r["interaction_cost"]).astype(float).fillna(0.0) * contacts["contacts"]).groupby(
        contacts["customer_id"]).sum()
    frame["cost_to_serve"] = frame["customer_id"].map(spent).astype(float).fillna(0.0).to_numpy()
    frame["cost_to_serve"] += frame["discounted_revenue_12m"].clip(lower=0) * float(r["discount_rate"])
    frame["relationship_cost"] = frame["account_relationship_cost"].fillna(frame["cost_to_serve"])
    frame["cost_source"] = np.where(frame["account_relationship_cost"].notna(), "account", "estimate")
    frame["relationship_value"] = frame["margin_12m"]
    frame["value_cover"] = np.where(frame["relationship_cost"] > 0,
                                    frame["relationship_value"] / frame["relationship_cost"].where(frame["relationship_cost"] > 0),
                                    np.inf)
    frame["luxurious"] = frame["relationship_cost"] > frame["relationship_value"]

    # Today's type, the recommended type and the move.
    current = frame["relationship_form"].map(r["current_by_form"])
    alliance_now = (frame["relationship_form"] == "partner") & (frame["joint_projects"] >= r["alliance_joint_projects"])
    frame["current_relationship_type"] = current.where(~alliance_now, "strategic_alliance").fillna(r["current_when_unknown"])
    frame["current_assumed"] = current.isna()
    type_rules = list(r["type_conditions"])
    checks = _check(frame, type_rules)
    recommended = pd.Series("transactional", index=frame.index)
    for kind in TYPES[1:]:  # bottom up: the highest type whose conditions all hold wins
        cols = [i for i, c in enumerate(type_rules) if c["type"] == kind]
        if cols:
            recommended = recommended.mask(checks[cols].all(axis=1), kind)
    frame["recommended_relationship_type"] = recommended
    rank = {t: i for i, t in enumerate(TYPES)}
    now = frame["current_relationship_type"].map(rank)
    wanted = recommended.map(rank)
    frame["relationship_move"] = np.select([wanted > now, wanted < now], ["deepen", "simplify"], "keep")

    # Alliance mode for deepen cases.
    mode_rules = list(r["mode_conditions"])
    mode_checks = _check(frame, mode_rules)
    mode = pd.Series(None, index=frame.index, dtype=object)
    for kind in reversed(list(dict.fromkeys(c["mode"] for c in mode_rules))):  # first in the list wins
        cols = [i for i, c in enumerate(mode_rules) if c["mode"] == kind]
        mode = mode.mask(mode_checks[cols].any(axis=1), kind)
    frame["alliance_mode"] = mode.where(frame["relationship_move"] == "deepen", None)

    frame = frame.assign(**portfolio(frame, r))
    return frame[COLUMNS + (["value_at_risk"] if "value_at_risk" in frame else [])].sort_values(
        "customer_id", ignore_index=True)


def portfolio(table: pd.DataFrame, rules: dict | None = None) -> dict[str, pd.Series]:
    """The portfolio matrix's axes and quadrant of each row of alliance_table under the rules' weights:
    attractiveness from the CLV rank, growth and P(alive); our position from their dependence on us,
    switching cost and wallet share (weights renormalised over the parts known for the row). Cheap:
    a new weight needs only this, not the whole table again."""
    r = rules_with(rules)
    attractiveness = _weighted({"value": table["value_rank"], "growth": (table["growth"] + 1) / 2,
                                "p_alive": table["p_alive"]}, r["attractiveness_weights"])
    position = _weighted({"dependence": table["dependence"], "switching_cost": table["switching_cost"],
                          "wallet_share": table["wallet_share"]}, r["position_weights"])
    cut = float(r["quadrant_cut"])
    high_a, high_p = attractiveness >= cut, position >= cut
    quadrant = pd.Series(np.select([high_a & high_p, high_a, high_p], QUADRANTS[:3], QUADRANTS[3]), index=table.index)
    return {"attractiveness": attractiveness, "position": position, "quadrant": quadrant}


COLUMNS = [
    "customer_id", "name", "customer_class", "industry", "organisation",
    "current_relationship_type", "current_assumed", "recommended_relationship_type", "relationship_move", "luxurious", "alliance_mode",
    "attractiveness", "position", "quadrant",
    "revenue_12m", "revenue_prev_12m", "margin_12m", "share_of_revenue", "share_of_margin", "growth", "clv",
    "value_rank", "p_alive",
    "importance_to_us", "importance_to_them", "importance_source", "wallet_share", "dependence", "regularity",
    "tenure_years", "categories", "category_breadth", "criticality", "category_mix", "mutual_importance",
    "bargaining_power", "power_gap", "balance", "switching_cost", "switching_source",
    "joint_projects", "custom_requests", "product_utilisation", "relationship_form",
    "relationship_cost", "cost_source", "cost_to_serve", "relationship_value", "value_cover",
    "last_contact", "satisfaction", "complaints_12m", "referrals_made",
]


def explanations(rows: pd.DataFrame, rules: dict | None = None) -> pd.DataFrame:
    """Why each of `rows` (rows of alliance_table) got its recommendation, one line per row and condition:
    `listed` "held" (the recommended type's conditions that held), "failed" (the next type up's that
    failed: why not higher) or "mode" (the alliance mode's conditions that held); with the condition,
    metric, op, threshold and the row's value (NaN when unknown: an unknown value fails). `row` is the
    row's index label. Ask it for the rows shown: the checks are redone on them, not kept per customer."""
    r = rules_with(rules)
    above = rows["recommended_relationship_type"].map(dict(zip(TYPES, TYPES[1:])))
    lists = (("held", r["type_conditions"], rows["recommended_relationship_type"], True),
             ("failed", r["type_conditions"], above, False), ("mode", r["mode_conditions"], rows["alliance_mode"], True))
    parts = []
    for order, (listed, conditions, pick, held) in enumerate(lists):
        checks = _check(rows, list(conditions)).to_numpy()
        for i, c in enumerate(conditions):
            at = np.flatnonzero((pick.to_numpy() == c.get("type", c.get("mode"))) & (checks[:, i] == held))
            parts.append(pd.DataFrame({
                "position": at, "order": order, "row": rows.index[at], "listed": listed, "condition": c["condition"],
                "metric": c["metric"], "op": c["op"], "threshold": float(c["value"]),
                "value": pd.to_numeric(rows[c["metric"]], errors="coerce").to_numpy(float)[at]}))
    out = pd.concat(parts, ignore_index=True).sort_values(["position", "order"], kind="stable")
    return out.drop(columns=["position", "order"]).reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def ladder(table: pd.DataFrame) -> pd.DataFrame:
    """Current × recommended type: customers, revenue, margin and CLV of each move, and the money a
    luxurious relationship costs beyond what it brings."""
    if table.empty:
        return pd.DataFrame(columns=["relationship_move", "customers", "revenue_12m", "margin_12m", "clv",
                                     "luxurious", "excess_cost"])
    frame = table.assign(excess_cost=(table["relationship_cost"] - table["relationship_value"]).where(table["luxurious"], 0.0))
    out = frame.groupby("relationship_move").agg(
        customers=("customer_id", "size"), revenue_12m=("revenue_12m", "sum"), margin_12m=("margin_12m", "sum"),
        clv=("clv", "sum"), luxurious=("luxurious", "sum"), excess_cost=("excess_cost", "sum"))
    return out.reindex(list(MOVES)).fillna(0).reset_index()


def transitions(table: pd.DataFrame) -> pd.DataFrame:
    """Customers from each current type to each recommended type (rows: current; columns: recommended)."""
    counts = pd.crosstab(table["current_relationship_type"], table["recommended_relationship_type"])
    return counts.reindex(index=list(TYPES), columns=list(TYPES), fill_value=0)


def quadrant_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Customers and revenue per quadrant of the portfolio matrix."""
    out = table.groupby("quadrant").agg(customers=("customer_id", "size"), revenue_12m=("revenue_12m", "sum"))
    return out.reindex(list(QUADRANTS)).fillna(0).reset_index()


def formula(weights: dict[str, float]) -> str:
    """The axis formula as written under the chart, e.g. '0.50·value + 0.20·growth + 0.30·p_alive'."""
    total = sum(weights.values()) or 1.0
    return " + ".join(f"{w / total:.2f}·{k}" for k, w in weights.items())


def missing_attributes(store: Store) -> list[str]:
    """The account attributes the base lacks entirely: each would replace a proxy with a fact."""
    counts = store.one("SELECT " + ", ".join(f"count({a})" for a in ACCOUNT_ATTRIBUTES) + " FROM accounts")
    return [a for a, n in zip(ACCOUNT_ATTRIBUTES, counts) if not n]


def referral_candidates(table: pd.DataFrame, values: pd.DataFrame, as_of: date, rules: dict | None = None,
                        segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Loyal, satisfied, recently contacted customers, with the referrals they already made.
    Loyal: behaviour_type 'loyal' from the segments, else at least `min_purchases` purchases and P(alive) at
    least `min_p_alive`; satisfied:
    last survey at least `min_satisfaction`, or no survey and no complaint in the last 12 months;
    recently contacted: a contact within `contact_days`."""
    r = rules_with(rules)["referral"]
    frame = table.merge(values[["customer_id", "frequency"]], on="customer_id", how="left")
    if segments is not None and "behaviour_type" in segments:
        loyal = frame["customer_id"].map(segments.set_index("customer_id")["behaviour_type"]).eq("loyal")
    else:
        loyal = (frame["frequency"] + 1 >= r["min_purchases"]) & (frame["p_alive"] >= r["min_p_alive"])
    satisfied = frame["satisfaction"].ge(r["min_satisfaction"]) | (frame["satisfaction"].isna() & frame["complaints_12m"].eq(0))
    recent = pd.to_datetime(frame["last_contact"]) >= pd.Timestamp(as_of - timedelta(days=int(r["contact_days"])))
    picked = frame[loyal & satisfied & recent]
    return picked.sort_values(["referrals_made", "clv"], ascending=False, ignore_index=True)[
        ["customer_id", "name", "customer_class", "referrals_made", "satisfaction", "last_contact", "clv", "p_alive"]]


def cross_industry_candidates(table: pd.DataFrame, rules: dict | None = None) -> pd.DataFrame:
    """Customers whose needs reach beyond what we sell: alive, buying across at least `min_categories` of
    our categories — their wider need (a home, a hotel, a shop to fit out) is what a partner in a related
    trade can serve with us (异业联盟)."""
    r = rules_with(rules)["cross_industry"]
    picked = table[(table["categories"] >= r["min_categories"]) & (table["p_alive"] >= r["min_p_alive"])]
    return picked.sort_values(["clv"], ascending=False, ignore_index=True)[
        ["customer_id", "name", "customer_class", "industry", "category_mix", "revenue_12m", "clv", "p_alive"]]


def score_columns(store: Store, facts, values: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The command line's columns (SCORE_TABLES): the contract's seven, under the default rules."""
    from crm_logic.tiers import segment_table

    table = alliance_table(store, values, segment_table(store, values, as_of), None, as_of)
    return table[["customer_id", "current_relationship_type", "recommended_relationship_type", "relationship_move",
                  "luxurious", "alliance_mode", "attractiveness", "position"]]
