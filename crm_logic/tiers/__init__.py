"""Segments and tiers: who the customers are, in the groups managers use (issue 11, crm-concepts 1, 2, 4a).

`segment_table(store, values, as_of, rules)` gives one row per customer (buyers and prospects) with the
RFM scores and segment, the ABC value tier, the core-customer quadrant, the relationship form and level,
the behavioural type, maturity and the customer's attributes, plus the facts the rules read, so every
placement can be explained (`reasons`). All groups are stable English codes; locales/*/segments.toml
names them. Rules are data (crm_logic.tiers.rules) with the defaults of crm-concepts.md 4a.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from crm_logic.store import Store
from crm_logic.tiers.ladder import (
    BEHAVIOUR_RULES, behaviour_types, customer_facts, maturity, relationship_forms, relationship_levels,
)
from crm_logic.tiers.migration import ABSENT, Migration, flow_customers, segment_migration
from crm_logic.tiers.rfm import rfm_cutoffs, rfm_scores, validate_cutoffs
from crm_logic.tiers.rules import (
    BEHAVIOURS, DEFAULT_GRID, DEFAULT_RULES, FORMS, LEVELS, MATURITIES, PROSPECT, QUADRANTS, SEGMENTS, TIERS,
    BehaviourRules, GridProblem, LadderRules, RfmRules, SegmentRules, ValueRules, as_text, categorical, default_grid,
    grid_frame, grid_from_frame, normalise_grid, validate_grid,
)
from crm_logic.tiers.value import abc_tiers, core_quadrants, pareto_curve, share_ahead, tiers_from_share

__all__ = [
    "ABSENT", "BEHAVIOURS", "CONCEPT_COLUMNS", "DEFAULT_GRID", "DEFAULT_RULES", "FORMS", "LEVELS", "MATURITIES",
    "PROSPECT", "QUADRANTS", "SCORE_COLUMNS", "SEGMENTS", "TIERS", "UNKNOWN", "BehaviourRules", "GridProblem",
    "LadderRules", "Migration", "RfmRules", "SegmentRules", "ValueRules", "abc_tiers", "breakdown",
    "category_breakdown", "default_grid", "describe_rules", "flow_customers", "grid_counts", "grid_frame",
    "grid_from_frame", "group_customers", "missing_concepts", "normalise_grid", "pareto_curve", "reasons",
    "rfm_cutoffs", "rfm_scores", "score_segments", "segment_migration", "segment_table", "validate_cutoffs",
    "validate_grid",
]

# The columns `score` adds to its output (issue 11, item 8).
SCORE_COLUMNS = ("rfm_score", "rfm_segment", "value_tier", "core_quadrant", "relationship_form",
                 "relationship_level", "behaviour_type")
UNKNOWN = "__unknown__"  # group key of customers without a value in a breakdown column


def _abc_measure(values: pd.DataFrame, measure: str) -> np.ndarray:
    """revenue, margin (known margin, else revenue × the margin rate in force) or clv, per buyer."""
    if measure == "revenue":
        return values["revenue"].to_numpy(float)
    if measure == "margin":
        known = values["margin"].to_numpy(float)
        return np.where(np.isnan(known), values["revenue"].to_numpy(float) * values["margin_rate"].to_numpy(float), known)
    if measure == "clv":
        return values["clv"].to_numpy(float)
    raise ValueError(f"measure must be revenue, margin or clv, not {measure!r}")


def _extend(column, prospects: int):
    """A buyer-aligned column followed by `prospects` missing values (groups become text)."""
    if isinstance(column, pd.Categorical):
        return as_text(np.concatenate([column.codes, np.full(prospects, -1)]), column.categories).array
    array = np.asarray(column)
    if array.dtype.kind in "iu":
        return pd.arrays.IntegerArray(np.concatenate([array, np.zeros(prospects)]).astype(np.int64),
                                      np.concatenate([np.zeros(len(array), bool), np.ones(prospects, bool)]))
    return np.concatenate([array.astype(float), np.full(prospects, np.nan)])


def segment_table(store: Store, values: pd.DataFrame, as_of: date, rules: SegmentRules | None = None) -> pd.DataFrame:
    """One row per customer known by `as_of`: the buyers in the order of `values` (crm_logic.scores.
    customer_values, sorted by customer_id), then the prospects by customer_id (in customers, no purchase
    by `as_of`: rfm_segment "prospect", no scores, tier, quadrant, form or behaviour type).

    Columns: customer_id, the customers attributes (customer_class, region, industry, club_member,
    personality_style, prospect_grade, created_date); purchases, days_since_last, tenure_days, revenue
    (0 for prospects), clv, p_alive; r_score, f_score, m_score, rfm_score, rfm_segment; value_measure,
    value_share_ahead, value_tier, core_quadrant; the contact counts, relationship_form (missing for
    everyone when the base has no interactions at all), relationship_level; discount_share, referrals,
    best_distance, behaviour_type, behaviour_rule; maturity. Group columns hold the stable codes as text.
    """
    rules = rules or DEFAULT_RULES
    as_of = pd.Timestamp(as_of).date()
    as_of_ts = pd.Timestamp(as_of)
    buyers = pd.DataFrame({
        "purchases": values["frequency"].to_numpy(np.int64) + 1,
        "days_since_last": (as_of_ts - pd.to_datetime(values["last_purchase"])).dt.days.to_numpy(np.int64),
        "tenure_days": (as_of_ts - pd.to_datetime(values["first_purchase"])).dt.days.to_numpy(np.int64),
        "revenue": values["revenue"].to_numpy(float),
        "clv": values["clv"].to_numpy(float),
        "p_alive": values["p_alive"].to_numpy(float),
    })
    scores, _ = rfm_scores(buyers, rules.rfm)
    measure = _abc_measure(values, rules.value.abc_measure)
    ahead = share_ahead(measure)
    buyer_columns = {
        **{name: buyers[name].array for name in buyers},
        **{name: scores[name].array for name in scores},
        "value_measure": measure,
        "value_share_ahead": ahead,
        "value_tier": tiers_from_share(ahead, measure, rules.value.abc_shares),
        "core_quadrant": core_quadrants(_abc_measure(values, rules.value.core_current), values["clv"],
                                        rules.value)[0],
    }

    keys = pd.DataFrame({"customer_id": values["customer_id"].array, "buyer_row": np.arange(len(values))})
    table = customer_facts(store, keys, as_of, rules.ladder).drop(columns="buyer_row")  # buyers first, in order
    is_buyer = np.arange(len(table)) < len(values)
    (buyer_columns["behaviour_type"], buyer_columns["behaviour_rule"], buyer_columns["best_distance"]) = behaviour_types(
        buyers["purchases"], buyers["tenure_days"], buyers["revenue"], table["discount_share"].to_numpy()[:len(values)],
        table["referrals"].to_numpy()[:len(values)], np.asarray(buyer_columns["value_tier"] == "A"), rules.behaviour)
    for name, column in buyer_columns.items():
        table[name] = _extend(column, len(table) - len(values))
    table["revenue"] = table["revenue"].fillna(0.0)
    table["rfm_segment"] = table["rfm_segment"].fillna(PROSPECT)
    has_interactions = bool(store.scalar("SELECT count(*) > 0 FROM interactions WHERE interaction_date <= ?", [as_of]))
    forms = relationship_forms(table, rules.ladder)
    forms = categorical(np.where(is_buyer & has_interactions, forms.codes, -1), FORMS)
    levels = relationship_levels(forms, rules.ladder)
    bought = is_buyer & (table["days_since_last"].fillna(rules.ladder.window_days).to_numpy() < rules.ladder.window_days)
    stage = maturity(bought, table["contacts"].to_numpy() > 0)
    for name, column in (("relationship_form", forms), ("relationship_level", levels), ("maturity", stage)):
        table[name] = as_text(column.codes, column.categories).array
    return table


def score_segments(store: Store, facts, values: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The SCORE_TABLES entry of the command line: the SCORE_COLUMNS of every buyer."""
    return segment_table(store, values, as_of).iloc[:len(values)][["customer_id", *SCORE_COLUMNS]]  # buyers first


def grid_counts(table: pd.DataFrame, rules: SegmentRules | None = None) -> pd.DataFrame:
    """Customers and revenue in every R × F cell (all cells, empty ones at 0) with the cell's segment."""
    rules = rules or DEFAULT_RULES
    scale, grid = rules.rfm.scale, rules.rfm.segment_grid()
    scored = table["r_score"].notna().to_numpy()
    r = table["r_score"].to_numpy(np.int64, na_value=1)[scored]
    f = table["f_score"].to_numpy(np.int64, na_value=1)[scored]
    cell = (scale - r) * scale + (f - 1)  # rows R scale..1, columns F 1..scale: the grid's own order
    out = pd.DataFrame({"r_score": np.repeat(np.arange(scale, 0, -1), scale),
                        "f_score": np.tile(np.arange(1, scale + 1), scale),
                        "customers": np.bincount(cell, minlength=scale * scale),
                        "revenue": np.bincount(cell, weights=table["revenue"].to_numpy(float)[scored],
                                               minlength=scale * scale)})
    out["segment"] = [grid[scale - r][f - 1] for r, f in zip(out["r_score"], out["f_score"])]
    return out


def breakdown(table: pd.DataFrame, by: str, among: pd.Series | None = None) -> pd.DataFrame:
    """Customers, revenue and their shares per value of column `by` (missing values under UNKNOWN),
    largest revenue first; `among` (a boolean mask) restricts the customers."""
    rows = table if among is None else table[among]
    keys = rows[by].astype(object).where(rows[by].notna(), UNKNOWN)
    out = rows.assign(**{by: keys}).groupby(by, sort=False).agg(
        customers=("customer_id", "size"), revenue=("revenue", "sum")).reset_index()
    out["customer_share"] = out["customers"] / max(out["customers"].sum(), 1)
    total = out["revenue"].sum()
    out["revenue_share"] = out["revenue"] / total if total else 0.0
    return out.sort_values(["revenue", "customers"], ascending=False, ignore_index=True)


def category_breakdown(store: Store, table: pd.DataFrame, as_of: date, by: str | None = None) -> pd.DataFrame:
    """Buying customers and revenue per product category up to `as_of` (category UNKNOWN when the lines
    have none), split by column `by` of the segment table when given."""
    groups = table[["customer_id"]].assign(group=table[by].astype(object) if by else "all")
    with store.cursor() as cur:
        cur.register("segment_groups", groups)
        frame = cur.execute(
            """WITH bought AS (  -- one row per customer and category: customers are counted, not distinct lines
                   SELECT coalesce(category, ?) AS category, customer_id, sum(amount) AS revenue FROM transactions
                   WHERE order_date <= ? GROUP BY ALL)
               SELECT b.category, g."group", count(*) AS customers, sum(b.revenue)::DOUBLE AS revenue
               FROM bought b JOIN segment_groups g USING (customer_id) GROUP BY ALL ORDER BY revenue DESC""",
            [UNKNOWN, as_of]).df()
    frame = frame.rename(columns={"group": by}) if by else frame.drop(columns="group")
    return frame


def group_customers(table: pd.DataFrame, column: str, value) -> pd.DataFrame:
    """The customers of one group (UNKNOWN = those without a value), most revenue first."""
    mask = table[column].isna() if value == UNKNOWN else table[column] == value
    return table[mask].sort_values("revenue", ascending=False, na_position="last", ignore_index=True)


# Concepts a base may lack, and the columns (table.column) that unlock them.
CONCEPT_COLUMNS = {
    "relationship_form": ("interactions.customer_id", "interactions.interaction_date", "interactions.direction",
                          "interactions.kind"),
    "maturity_target": ("interactions.customer_id", "interactions.interaction_date"),
    "customer_class": ("customers.customer_class",),
    "discount_hunter": ("transactions.discounted",),
    "loyal_referrer": ("customers.referred_by",),
    "margin": ("transactions.gross_margin",),
    "region": ("customers.region",),
    "industry": ("customers.industry",),
    "category": ("transactions.category",),
    "prospect_grade": ("customers.prospect_grade",),
    "personality_style": ("customers.personality_style",),
    "prospects": ("customers.customer_id (customers without orders)",),
}

_PRESENT_SQL = {
    "relationship_form": "SELECT count(*) > 0 FROM interactions",
    "maturity_target": "SELECT count(*) > 0 FROM interactions",
    "customer_class": "SELECT count(customer_class) > 0 FROM customers",
    "discount_hunter": "SELECT count(discounted) > 0 FROM transactions",
    "loyal_referrer": "SELECT count(referred_by) > 0 FROM customers",
    "margin": "SELECT count(gross_margin) > 0 FROM transactions",
    "region": "SELECT count(region) > 0 FROM customers",
    "industry": "SELECT count(industry) > 0 FROM customers",
    "category": "SELECT count(category) > 0 FROM transactions",
    "prospect_grade": "SELECT count(prospect_grade) > 0 FROM customers",
    "personality_style": "SELECT count(personality_style) > 0 FROM customers",
    "prospects": "SELECT count(*) > 0 FROM customers c ANTI JOIN transactions t USING (customer_id)",
}


def missing_concepts(store: Store) -> list[dict]:
    """The concepts this base has no data for: [{"concept": key, "columns": [table.column, ...]}]; the
    page shows these instead of an empty chart (locale keys segments.concept.<key>)."""
    return [{"concept": concept, "columns": list(CONCEPT_COLUMNS[concept])}
            for concept, sql in _PRESENT_SQL.items() if not store.scalar(sql)]


def describe_rules(rules: SegmentRules | None = None) -> dict[str, list[tuple[str, str, dict]]]:
    """The rules in force, for the page to print: {"form": [(code, locale key, params), ...], "behaviour":
    [...], "maturity": [...], "tier": [...]}, checked in the order given (keys under segments.rule,
    segments.maturity_help and segments.tier_help)."""
    rules = rules or DEFAULT_RULES
    l, b, v = rules.ladder, rules.behaviour, rules.value
    months = round(l.window_days / 30.44)
    form = {"months": months, "joint_projects": l.partner_min_joint_projects, "proactive": l.proactive_min_contacts,
            "days": l.follow_up_days, "share": l.responsible_min_share, "inbound": l.passive_min_inbound}
    behaviour = {"min_share": b.hunter_min_share, "hunter_purchases": b.hunter_min_purchases,
                 "min_purchases": b.loyal_min_purchases, "min_tenure_days": b.loyal_min_tenure_days,
                 "referrals": b.loyal_min_referrals, "max_distance": b.target_max_distance}
    return {
        "form": [(code, f"segments.rule.form.{code}", form) for code in reversed(FORMS)],
        "behaviour": [(rule, f"segments.rule.behaviour.{rule}", behaviour) for rule in BEHAVIOUR_RULES],
        "maturity": [(code, f"segments.maturity_help.{code}", {"months": months}) for code in MATURITIES],
        "tier": [(code, f"segments.tier_help.{code}",
                  {"a": v.abc_shares[0], "b": v.abc_shares[1], "c": 1 - v.abc_shares[1]}) for code in TIERS],
    }


def reasons(row, rules: SegmentRules | None = None) -> list[tuple[str, dict]]:
    """Why one customer (a row of segment_table) is where it is: (locale key, parameters) pairs for
    translate(), one per concept that applies. Keys live under segments.reason."""
    rules = rules or DEFAULT_RULES
    months = round(rules.ladder.window_days / 30.44)
    out: list[tuple[str, dict]] = []
    if row.get("rfm_segment") == PROSPECT:
        out.append(("segments.reason.prospect", {}))
    if pd.notna(row.get("r_score")):
        out.append(("segments.reason.rfm", {"r": int(row["r_score"]), "f": int(row["f_score"]),
                                             "m": int(row["m_score"]), "days": int(row["days_since_last"]),
                                             "purchases": int(row["purchases"]), "segment": row["rfm_segment"]}))
    if pd.notna(row.get("value_tier")):
        out.append((f"segments.reason.tier.{row['value_tier']}",
                    {"ahead": float(row["value_share_ahead"]), "a": rules.value.abc_shares[0],
                     "b": rules.value.abc_shares[1], "measure": rules.value.abc_measure}))
    if pd.notna(row.get("core_quadrant")):
        out.append((f"segments.reason.quadrant.{row['core_quadrant']}", {"share": rules.value.core_high_share}))
    form = row.get("relationship_form")
    if pd.notna(form):
        l = rules.ladder
        share = row["followed_purchases"] / row["window_purchases"] if row["window_purchases"] else 0.0
        out.append((f"segments.reason.form.{form}", {
            "months": months, "joint_projects": int(row["joint_projects"]), "proactive": int(row["proactive_contacts"]),
            "min_proactive": l.proactive_min_contacts, "followed": int(row["followed_purchases"]),
            "purchases": int(row["window_purchases"]), "share": share, "min_share": l.responsible_min_share,
            "days": l.follow_up_days, "inbound": int(row["inbound_contacts"])}))
    if pd.notna(row.get("behaviour_rule")):
        b = rules.behaviour
        out.append((f"segments.reason.behaviour.{row['behaviour_rule']}", {
            "purchases": int(row["purchases"]), "tenure_days": int(row["tenure_days"]),
            "discount_share": float(np.nan_to_num(row.get("discount_share", np.nan))),
            "min_share": b.hunter_min_share, "min_purchases": b.loyal_min_purchases,
            "min_tenure_days": b.loyal_min_tenure_days, "referrals": int(row.get("referrals", 0)),
            "distance": float(row["best_distance"]) if np.isfinite(row["best_distance"]) else -1.0,
            "max_distance": b.target_max_distance}))
    if pd.notna(row.get("maturity")):
        out.append((f"segments.reason.maturity.{row['maturity']}", {"months": months}))
    return out

