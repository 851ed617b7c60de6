"""Who is slipping away, what it costs, and which warning predicted it best on the base's own history.

Signals per customer (all vectorised; a million customers are a few array passes and two SQL queries):

- churn_probability = P(no purchase in the next h days | history) from the fitted purchase model. A
  customer is either gone, or alive at T with purchase rate λ ~ Gamma(r+x, alpha+T) (and, Pareto/NBD,
  dropout rate μ ~ Gamma(s, beta+T)), independently, since the likelihood of an alive history is
  λ^x e^(-λT) [e^(-μT)]:
      BG/NBD, MBG/NBD:  P0(h) = 1 - P(alive) + P(alive) ((alpha+T)/(alpha+T+h))^(r+x)
        (while alive a customer can only leave at a purchase, so silence means no purchase event);
      Pareto/NBD:       P0(h) = 1 - P(alive) ∫_0^h E[λ e^(-λu)] E[e^(-μu)] du
                              = 1 - P(alive) ∫_0^h (R/A) (A/(A+u))^(R+1) (B/(B+u))^s du,
        R = r+x, A = alpha+T, B = beta+T (the first purchase comes at u while still alive), by
        Gauss-Legendre quadrature. A test checks all three against a Monte Carlo simulation.
- P(alive) beside it. Its trap: under BG/NBD a customer without a repeat purchase has P(alive) = 1.
- Purchase rhythm: the median of the customer's own gaps between purchase days when they have at least
  `min_own_purchases` of them, else their segment's typical gap (the median of its members' own gaps,
  given enough members), else the base's. Lateness = days since the last purchase / that gap. A base
  where nobody has bought three times has no rhythm to learn: the fixed-days rule's gap stands in.
- The alert: one signal past its threshold (RULES). "auto" takes the signal that best predicted a held
  out period of this base (`evaluate_signals`), the rhythm rule when the history is too short to test.
- lifecycle_state, risk_band and relationship_stage: thresholds in RULES (crm-concepts.md 4a), data.
- value_at_risk: the customer's CLV, what the base loses if they leave now; revenue_12m beside it.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from crm_logic.models import MODELS, ModelError, ParetoNBDModel
from crm_logic.models.base import per_distinct
from crm_logic.store import Store
from crm_logic.summary import UNIT_DAYS, _purchase_days, buyers_estimate, customer_summary, length_in_units
from crm_logic.validation import HOLDOUT_RULES, holdout_split

SIGNALS = ("churn_probability", "p_alive", "lateness", "recency")
LIFECYCLE_STATES = ("new", "active", "dormant", "drifting", "lost", "prospect")
RISK_BANDS = ("low", "medium", "high")
STAGES = ("exploration", "formation", "stability", "decline")
QUADRATURE_NODES = 48

RULES = {
    # the alert: "auto" or one of SIGNALS, and each signal's threshold
    "alert_rule": "auto",
    "probability_threshold": 0.5,  # churn_probability at or above
    "p_alive_threshold": 0.5,      # P(alive) below
    "alert_multiple": 1.5,         # lateness at or above
    "fixed_days": 113,             # days since the last purchase at or above (the firm-wide rule)
    "horizon_days": 90,            # churn_probability = P(no purchase in the next horizon_days)
    # rhythm
    "min_own_purchases": 3,
    "min_group_customers": 20,
    # lifecycle (crm-concepts.md 4a): lateness bands, P(alive) floor, what "new" means
    "new_days": 90, "new_below_purchases": 2,
    "active_below": 1.5, "dormant_below": 3.0, "drifting_below": 5.0, "lost_p_alive": 0.1,
    # risk band on churn_probability
    "risk_medium": 0.5, "risk_high": 0.8,
    # relationship stage: tenure, and spend and contact in the last trend_months against the ones before
    "exploration_days": 182, "formation_days": 730, "trend_months": 6,
    "decline_drop": 0.3, "growth_rise": 0.2, "contact_drop": 0.5,
}


def rules_with(rules: dict | None) -> dict:
    """RULES with the caller's changes; unknown names are an error, not a silent no-op."""
    unknown = set(rules or {}) - set(RULES)
    if unknown:
        raise ValueError(f"unknown churn rules: {sorted(unknown)}")
    return {**RULES, **(rules or {})}


# ---- the purchase model -------------------------------------------------------------------------------

def no_purchase_probability(model, t: float, frequency, recency, T) -> np.ndarray:
    """P(no purchase in the next t model time units | x, t_x, T) (module docstring)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    alive = model.conditional_probability_alive(x, t_x, T)
    if not isinstance(model, ParetoNBDModel):
        r, alpha = model.params_["r"], model.params_["alpha"]
        return 1 - alive + alive * ((alpha + T) / (alpha + T + t)) ** (r + x)
    p = model.params_
    nodes, weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    u = (nodes + 1) * t / 2
    w = weights * t / 2

    def buys_if_alive(x, T):
        R, A, B = (p["r"] + x)[:, None], (p["alpha"] + T)[:, None], (p["beta"] + T)[:, None]
        density = R / A * (A / (A + u)) ** (R + 1) * (B / (B + u)) ** p["s"]
        return density @ w

    return 1 - alive * per_distinct([x, T], buys_if_alive)


# ---- the data ----------------------------------------------------------------------------------------

def purchase_gaps(store: Store, end: date, share: float | None = None) -> pd.DataFrame:
    """customer_id and median_gap: the median of each customer's own gaps (days) between purchase days
    up to `end` (purchase days as the customer summary defines them: same-day lines merge)."""
    return store.large_df(
        f"""
        WITH days AS ({_purchase_days("$end")}),
        gaps AS (
            SELECT customer_id,
                   date_diff('day', lag(order_date) OVER (PARTITION BY customer_id ORDER BY order_date),
                             order_date) AS gap
            FROM days
        )
        SELECT customer_id, median(gap)::DOUBLE AS median_gap FROM gaps GROUP BY customer_id
        """,
        {"end": end, "share": share},
    )


def customer_activity(store: Store, end: date, trend_months: int, share: float | None = None) -> pd.DataFrame:
    """Per customer up to `end`: revenue in the last 12 months, spend and contacts (interactions) in the
    last `trend_months` and in the `trend_months` before, and the last contact date."""
    sample = "($share IS NULL OR hash(customer_id) % 1000000 < $share * 1000000)"
    return store.large_df(
        f"""
        WITH spend AS (
            SELECT customer_id,
                   sum(amount) FILTER (WHERE order_date > $end - to_months(12))::DOUBLE AS revenue_12m,
                   coalesce(sum(amount) FILTER (WHERE order_date > $end - to_months($m)), 0)::DOUBLE AS spend_recent,
                   coalesce(sum(amount) FILTER (WHERE order_date <= $end - to_months($m)), 0)::DOUBLE AS spend_prior
            FROM transactions
            WHERE order_date <= $end AND order_date > $end - to_months(2 * $m) AND {sample}
            GROUP BY customer_id
        ),
        contact AS (
            SELECT customer_id,
                   count(*) FILTER (WHERE interaction_date > $end - to_months($m)) AS contacts_recent,
                   count(*) FILTER (WHERE interaction_date <= $end - to_months($m)
                                      AND interaction_date > $end - to_months(2 * $m)) AS contacts_prior,
                   max(interaction_date) AS last_contact
            FROM interactions WHERE interaction_date <= $end AND {sample}
            GROUP BY customer_id
        )
        SELECT * FROM spend FULL JOIN contact USING (customer_id)
        """,
        {"end": end, "m": int(trend_months), "share": share},
    )


def prospects(store: Store, end: date, buyers: pd.Series) -> pd.Series:
    """The customers known by `end` who had not bought by then."""
    known = store.large_df("SELECT customer_id FROM customers WHERE created_date IS NULL OR created_date <= ?",
                           [end])["customer_id"]
    return known[~known.isin(buyers)].reset_index(drop=True)


# ---- signals -----------------------------------------------------------------------------------------

def typical_gaps(summary: pd.DataFrame, gaps: pd.DataFrame, rules: dict,
                 segments: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Each customer's typical gap in days, where it came from ("own", "segment", "base"), and the
    base's typical gap. `segments`: customer_id and rfm_segment (crm_logic.tiers), optional."""
    frame = summary[["customer_id", "frequency"]].merge(gaps, on="customer_id", how="left")
    own = (frame["frequency"] + 1 >= rules["min_own_purchases"]).to_numpy() & frame["median_gap"].notna().to_numpy()
    own_gap = frame["median_gap"].to_numpy(dtype=float)
    base = float(np.median(own_gap[own])) if own.any() else float(rules["fixed_days"])
    gap = np.where(own, own_gap, base)
    source = np.where(own, "own", "base").astype(object)
    if segments is not None and "rfm_segment" in segments:
        segment = frame[["customer_id"]].merge(segments[["customer_id", "rfm_segment"]], on="customer_id",
                                               how="left")["rfm_segment"].to_numpy()
        members = pd.DataFrame({"segment": segment[own], "gap": own_gap[own]}).groupby("segment")["gap"]
        usable = members.median()[members.size() >= rules["min_group_customers"]]
        segment_gap = pd.Series(segment).map(usable).to_numpy(dtype=float)
        take = ~own & ~np.isnan(segment_gap)
        gap = np.where(take, segment_gap, gap)
        source[take] = "segment"
    return gap, source, base


def signals(summary: pd.DataFrame, model, unit: str, gaps: pd.DataFrame, as_of: date, rules: dict,
            horizon_days: float, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The signals of every buyer in `summary` as of `as_of`; `model` None (not fitted) leaves the
    model's columns empty."""
    f, r, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    out = summary[["customer_id"]].copy()
    if model is None:
        for column in ("churn_probability", "purchase_probability_30d", "purchase_probability_90d", "p_alive"):
            out[column] = np.nan
    else:
        days = UNIT_DAYS[unit]
        out["churn_probability"] = no_purchase_probability(model, horizon_days / days, f, r, T)
        out["purchase_probability_30d"] = 1 - no_purchase_probability(model, 30 / days, f, r, T)
        out["purchase_probability_90d"] = 1 - no_purchase_probability(model, 90 / days, f, r, T)
        out["p_alive"] = model.conditional_probability_alive(f, r, T)
    gap, source, _ = typical_gaps(summary, gaps, rules, segments)
    last = pd.to_datetime(summary["last_purchase"]).to_numpy()
    since = (np.datetime64(as_of, "D") - last.astype("datetime64[D]")).astype(float)
    out["purchase_days"] = summary["frequency"].to_numpy() + 1
    out["typical_gap_days"] = gap
    out["gap_source"] = source
    out["days_since_last"] = since
    out["lateness"] = since / gap
    out["next_purchase_date"] = (last.astype("datetime64[D]") + np.round(gap).astype("timedelta64[D]"))
    out["tenure_days"] = (np.datetime64(as_of, "D") - pd.to_datetime(summary["first_purchase"]).to_numpy()
                          .astype("datetime64[D]")).astype(float)
    return out


def alert_rule(rules: dict, evaluation: dict | None) -> str:
    """The signal the alert uses: the rule's, or for "auto" the evaluation's best (rhythm without one)."""
    if rules["alert_rule"] != "auto":
        return rules["alert_rule"]
    return evaluation["best"] if evaluation and evaluation.get("best") else "lateness"


def alerted(frame: pd.DataFrame, signal: str, rules: dict) -> np.ndarray:
    """Whether each customer's `signal` is past its alert threshold."""
    if signal == "churn_probability":
        return (frame["churn_probability"] >= rules["probability_threshold"]).to_numpy()
    if signal == "p_alive":
        return (frame["p_alive"] < rules["p_alive_threshold"]).to_numpy()
    if signal == "lateness":
        return (frame["lateness"] >= rules["alert_multiple"]).to_numpy()
    if signal == "recency":
        return (frame["days_since_last"] >= rules["fixed_days"]).to_numpy()
    raise ValueError(f"alert rule must be 'auto' or one of {SIGNALS}")


def lifecycle_states(frame: pd.DataFrame, rules: dict) -> np.ndarray:
    """new / active / dormant / drifting / lost by crm-concepts.md 4a, first match wins."""
    lateness = frame["lateness"].to_numpy(dtype=float)
    p_alive = frame["p_alive"].to_numpy(dtype=float)
    new = (frame["tenure_days"] <= rules["new_days"]).to_numpy() & \
        (frame["purchase_days"] < rules["new_below_purchases"]).to_numpy()
    lost = (lateness > rules["drifting_below"]) | (p_alive < rules["lost_p_alive"])
    return np.select(
        [new, lost, lateness >= rules["dormant_below"], lateness >= rules["active_below"]],
        ["new", "lost", "drifting", "dormant"], "active",
    ).astype(object)


def risk_bands(churn_probability: pd.Series, rules: dict) -> np.ndarray:
    p = churn_probability.to_numpy(dtype=float)
    band = np.select([p >= rules["risk_high"], p >= rules["risk_medium"]], ["high", "medium"], "low").astype(object)
    band[np.isnan(p)] = None
    return band


def relationship_stages(frame: pd.DataFrame, rules: dict) -> np.ndarray:
    """exploration (young), decline (spend or contact fell, or no spend for two trend windows),
    formation (young-ish or growing), stability (the rest); first match wins."""
    recent, prior = frame["spend_recent"].to_numpy(dtype=float), frame["spend_prior"].to_numpy(dtype=float)
    c_recent = frame["contacts_recent"].to_numpy(dtype=float)
    c_prior = frame["contacts_prior"].to_numpy(dtype=float)
    tenure = frame["tenure_days"].to_numpy(dtype=float)
    spend_fell = (prior > 0) & (recent < (1 - rules["decline_drop"]) * prior)
    silent = (prior <= 0) & (recent <= 0)
    contact_fell = (c_prior >= 2) & (c_recent < (1 - rules["contact_drop"]) * c_prior)
    growing = (prior > 0) & (recent > (1 + rules["growth_rise"]) * prior)
    return np.select(
        [tenure < rules["exploration_days"], spend_fell | silent | contact_fell,
         (tenure < rules["formation_days"]) | growing],
        ["exploration", "decline", "formation"], "stability",
    ).astype(object)


# ---- the table ---------------------------------------------------------------------------------------

TABLE_COLUMNS = [
    "customer_id", "churn_probability", "purchase_probability_30d", "purchase_probability_90d", "purchase_days",
    "typical_gap_days", "gap_source", "days_since_last", "lateness", "churn_alert", "alert_signal", "risk_band",
    "lifecycle_state", "relationship_stage", "next_purchase_date", "value_at_risk", "revenue_12m", "last_contact",
    "tenure_days",
]


def churn_table(store: Store, facts, values: pd.DataFrame, as_of: date, rules: dict | None = None,
                segments: pd.DataFrame | None = None, evaluation: dict | None = None) -> pd.DataFrame:
    """One row per customer (buyers from `facts.summary`, then prospects) with the churn signals, the
    alert, lifecycle state, risk band, relationship stage and value at risk (TABLE_COLUMNS).

    `facts`/`values`: crm_logic.scores.customer_facts / customer_values. With alert rule "auto" and no
    `evaluation` given, the base's history is evaluated here (`evaluate`)."""
    rules = rules_with(rules)
    if rules["alert_rule"] == "auto" and evaluation is None:
        evaluation = evaluate(store, as_of, facts.unit, facts.choice.model, rules)
    summary = facts.summary
    frame = signals(summary, facts.model, facts.unit, purchase_gaps(store, as_of), as_of, rules,
                    rules["horizon_days"], segments)
    frame["p_alive"] = facts.p_alive
    activity = customer_activity(store, as_of, rules["trend_months"])
    frame = frame.merge(activity, on="customer_id", how="left")
    for column in ("revenue_12m", "spend_recent", "spend_prior", "contacts_recent", "contacts_prior"):
        frame[column] = frame[column].fillna(0)
    signal = alert_rule(rules, evaluation)
    frame["churn_alert"] = alerted(frame, signal, rules)
    frame["alert_signal"] = signal
    frame["risk_band"] = risk_bands(frame["churn_probability"], rules)
    frame["lifecycle_state"] = lifecycle_states(frame, rules)
    frame["relationship_stage"] = relationship_stages(frame, rules)
    frame["value_at_risk"] = values["clv"].to_numpy(dtype=float)
    waiting = prospects(store, as_of, summary["customer_id"])
    if len(waiting):
        frame = pd.concat([frame, pd.DataFrame({"customer_id": waiting, "lifecycle_state": "prospect",
                                                "churn_alert": False})], ignore_index=True)
    frame["churn_alert"] = frame["churn_alert"].astype(bool)
    frame["purchase_days"] = frame["purchase_days"].astype("Int64")  # prospects have none
    frame["last_contact"] = pd.to_datetime(frame["last_contact"])
    return frame[TABLE_COLUMNS]


def score_columns(store: Store, facts, values: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The churn columns `python -m crm_logic score` adds (its SCORE_TABLES entry), default rules."""
    return churn_table(store, facts, values, as_of, segments=segment_frame(store, values, as_of))


def segment_frame(store: Store, values: pd.DataFrame, as_of: date) -> pd.DataFrame | None:
    """The segments (crm_logic.tiers, the segments room) for the rhythm's fallback, when they exist."""
    try:
        from crm_logic.tiers import segment_table
    except ImportError:
        return None
    return segment_table(store, values, as_of)


def new_alerts(store: Store, facts, table: pd.DataFrame, since: date, rules: dict | None = None,
               segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of `table` (churn_table as of facts.as_of) whose alert fires now but did not on `since`:
    the same model and rule applied to the history as it stood then."""
    rules = rules_with(rules)
    now = table[table["churn_alert"]]
    if since >= facts.as_of or now.empty:
        return now.iloc[0:0] if since >= facts.as_of else now
    summary = customer_summary(store, as_of=since, unit=facts.unit, orders=False)
    if summary.empty:
        return now
    before = signals(summary, facts.model, facts.unit, purchase_gaps(store, since), since, rules,
                     rules["horizon_days"], segments)
    signal = now["alert_signal"].iloc[0]
    already = set(before.loc[alerted(before, signal, rules), "customer_id"])
    return now[~now["customer_id"].isin(already)]


# ---- proof on the base's own history ----------------------------------------------------------------

def evaluation_frame(store: Store, as_of: date, unit: str, model: str, rules: dict | None = None) -> pd.DataFrame | None:
    """Hold out the last period (validation.holdout_split), score the customers as they stood at its
    start, and note who bought in it: customer_id, the signals (SIGNALS) and churned (no purchase in
    the holdout). None when the history is too short to hold a period out. A base of more than
    HOLDOUT_RULES["max_customers"] buyers is evaluated on the same fixed random sample as validation."""
    rules = rules_with(rules)
    split = holdout_split(store, as_of)
    if split is None:
        return None
    calibration_end, holdout_end = split
    buyers = buyers_estimate(store)
    share = HOLDOUT_RULES["max_customers"] / buyers if buyers > HOLDOUT_RULES["max_customers"] else None
    summary = customer_summary(store, unit=unit, calibration_end=calibration_end, holdout_end=holdout_end,
                               share=share, orders=False)
    try:
        fitted = MODELS[model]().fit(summary["frequency"], summary["recency"], summary["T"])
    except ModelError:
        fitted = None
    holdout_days = (holdout_end - calibration_end).days
    frame = signals(summary, fitted, unit, purchase_gaps(store, calibration_end, share), calibration_end, rules,
                    holdout_days)
    frame["recency"] = frame["days_since_last"]
    frame["churned"] = (summary["holdout_frequency"] == 0).to_numpy()
    frame.attrs = {"calibration_end": calibration_end, "holdout_end": holdout_end, "sample_share": share,
                   "holdout_days": holdout_days, "model": model if fitted is not None else None,
                   "holdout_units": length_in_units(calibration_end, holdout_end, unit)}
    return frame


def risk_score(frame: pd.DataFrame, signal: str) -> np.ndarray:
    """A signal turned so that higher means more likely to churn (P(alive) is the one that runs the other way)."""
    values = frame[signal].to_numpy(dtype=float)
    return 1 - values if signal == "p_alive" else values


def roc_auc(score, positive) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half: the chance that a random
    churner scores higher than a random stayer."""
    score, positive = np.asarray(score, dtype=float), np.asarray(positive, dtype=bool)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def lift_by_decile(score, positive) -> pd.DataFrame:
    """Churn rate per tenth of the customers ranked by risk (1 = riskiest) over the base's churn rate.
    Tied scores share a decile (a tenth can then hold more or fewer customers)."""
    score, positive = np.asarray(score, dtype=float), np.asarray(positive, dtype=bool)
    n = len(score)
    ranks = pd.Series(-score).rank(method="average").to_numpy()
    decile = np.clip(np.ceil(ranks / n * 10), 1, 10).astype(int)
    table = pd.DataFrame({"decile": decile, "churned": positive}).groupby("decile")["churned"].agg(["size", "mean"])
    table = table.reindex(range(1, 11)).reset_index()
    table.columns = ["decile", "customers", "churn_rate"]
    table["customers"] = table["customers"].fillna(0).astype(int)
    table["lift"] = table["churn_rate"] / positive.mean()
    return table


def calibration_table(probability, positive, bins: int = 10) -> pd.DataFrame:
    """Predicted against observed churn in tenths of the predicted probability (empty tenths left out)."""
    probability, positive = np.asarray(probability, dtype=float), np.asarray(positive, dtype=bool)
    band = np.clip((probability * bins).astype(int), 0, bins - 1)
    table = pd.DataFrame({"band": band, "predicted": probability, "observed": positive}).groupby("band").agg(
        customers=("predicted", "size"), predicted=("predicted", "mean"), observed=("observed", "mean"))
    return table.reset_index()


def evaluate_signals(frame: pd.DataFrame | None, rules: dict | None = None) -> dict | None:
    """How well each signal predicted who did not buy in the holdout: ROC AUC, and precision and recall
    of its alert; lift by decile; calibration of churn_probability; the best signal and why."""
    if frame is None or frame.empty or frame["churned"].all() or not frame["churned"].any():
        return None
    rules = rules_with(rules)
    churned = frame["churned"].to_numpy()
    rows, lifts = [], []
    usable = [s for s in SIGNALS if frame[s].notna().all()]
    for signal in usable:
        flag = alerted(frame, signal, rules)
        hits = (flag & churned).sum()
        rows.append({"signal": signal, "auc": roc_auc(risk_score(frame, signal), churned),
                     "alerted": int(flag.sum()), "precision": hits / flag.sum() if flag.any() else np.nan,
                     "recall": hits / churned.sum()})
        lifts.append(lift_by_decile(risk_score(frame, signal), churned).assign(signal=signal))
    table = pd.DataFrame(rows)
    order = table.assign(baseline=table["signal"] == "recency").sort_values(["auc", "baseline"], ascending=False)
    best = order.iloc[0]
    recency_auc = float(table.loc[table["signal"] == "recency", "auc"].iloc[0])
    others = order[order["signal"] != best["signal"]]
    return {
        "signals": table,
        "lift": pd.concat(lifts, ignore_index=True),
        "calibration": calibration_table(frame["churn_probability"], churned) if "churn_probability" in usable else None,
        "best": best["signal"],
        "reason": "recency_best" if best["signal"] == "recency" else "highest_auc",
        "numbers": {"auc": float(best["auc"]), "recency_auc": recency_auc,
                    "runner_up": None if others.empty else others.iloc[0]["signal"],
                    "runner_up_auc": None if others.empty else float(others.iloc[0]["auc"])},
        "customers": len(frame), "churn_rate": float(churned.mean()), **frame.attrs,
    }


def evaluate(store: Store, as_of: date, unit: str, model: str, rules: dict | None = None) -> dict | None:
    """`evaluate_signals` on the base's own held-out history (None when it is too short)."""
    return evaluate_signals(evaluation_frame(store, as_of, unit, model, rules), rules)


# ---- retention ---------------------------------------------------------------------------------------

def cohort_retention(store: Store, as_of: date) -> pd.DataFrame:
    """Per first-purchase month (cohort) and month since (0 = the first month): the cohort's size, the
    customers buying in that month ("on"), those buying in it or any later month up to `as_of`
    ("on_or_after"), their shares, and the cohort's revenue that month and as a share of month 0."""
    return store.df(
        f"""
        WITH days AS ({_purchase_days("$end")}),
        months AS (
            SELECT customer_id, date_trunc('month', order_date) AS month, sum(spend) AS revenue
            FROM days GROUP BY customer_id, month
        ),
        firsts AS (
            SELECT customer_id, min(month) AS cohort, max(month) AS last_month FROM months GROUP BY customer_id
        ),
        sizes AS (SELECT cohort, count(*) AS customers FROM firsts GROUP BY cohort),
        grid AS (
            SELECT cohort, customers, generate_series AS month_index
            FROM sizes, generate_series(0, date_diff('month', cohort, date_trunc('month', $end::DATE)))
        ),
        active AS (
            SELECT f.cohort, date_diff('month', f.cohort, m.month) AS month_index,
                   count(*) AS on_month, sum(m.revenue) AS revenue
            FROM months m JOIN firsts f USING (customer_id) GROUP BY ALL
        ),
        later AS (
            SELECT g.cohort, g.month_index, count(f.customer_id) AS on_or_after
            FROM grid g LEFT JOIN firsts f
              ON f.cohort = g.cohort AND date_diff('month', f.cohort, f.last_month) >= g.month_index
            GROUP BY ALL
        )
        SELECT g.cohort::DATE AS cohort, g.month_index, g.customers,
               coalesce(a.on_month, 0) AS "on", l.on_or_after,
               coalesce(a.on_month, 0) / g.customers AS on_share,
               l.on_or_after / g.customers AS on_or_after_share,
               coalesce(a.revenue, 0) AS revenue,
               coalesce(a.revenue, 0) / nullif(first_value(coalesce(a.revenue, 0)) OVER
                   (PARTITION BY g.cohort ORDER BY g.month_index), 0) AS revenue_share
        FROM grid g
        LEFT JOIN active a USING (cohort, month_index)
        JOIN later l USING (cohort, month_index)
        ORDER BY cohort, month_index
        """,
        {"end": as_of, "share": None},
    )


def survival_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier share of customers still buying d days after their first purchase. A customer's
    time is first to last purchase; it ends (an event) when their alert has fired, and is cut off
    (censored) at their tenure otherwise: they may still be buying. days, at_risk, ended, surviving."""
    buyers = table[table["lifecycle_state"] != "prospect"]
    lasted = (buyers["tenure_days"] - buyers["days_since_last"]).to_numpy(dtype=float)
    ended = buyers["churn_alert"].to_numpy(dtype=bool)
    duration = np.where(ended, lasted, buyers["tenure_days"].to_numpy(dtype=float))
    days, inverse = np.unique(duration, return_inverse=True)
    events = np.bincount(inverse, weights=ended)
    leaving = np.bincount(inverse)
    at_risk = len(duration) - np.concatenate([[0], np.cumsum(leaving)[:-1]])
    surviving = np.cumprod(1 - events / at_risk)
    return pd.DataFrame({"days": days, "at_risk": at_risk, "ended": events.astype(int), "surviving": surviving})


# ---- for the page and the alerts command ---------------------------------------------------------------

def call_list(store: Store, table: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """The alerted customers with name, class and region, last purchase and P(alive), most value at
    risk first (then last-12-month revenue)."""
    alerted_rows = table[table["churn_alert"]]
    people = store.large_df("SELECT customer_id, name, customer_class, region FROM customers")
    out = (alerted_rows.merge(people, on="customer_id", how="left")
           .merge(values[["customer_id", "last_purchase", "p_alive"]], on="customer_id", how="left"))
    return out.sort_values(["value_at_risk", "revenue_12m", "customer_id"], ascending=[False, False, True],
                           na_position="last").reset_index(drop=True)


def risk_by(calls: pd.DataFrame, column: str) -> pd.DataFrame:
    """Alerted customers and their value and revenue at risk per group of `column`, most value first
    (a missing group is "")."""
    groups = calls[column].fillna("").astype(str)
    table = calls.assign(group=groups).groupby("group").agg(
        customers=("customer_id", "size"), value_at_risk=("value_at_risk", "sum"), revenue_12m=("revenue_12m", "sum"))
    return table.sort_values(["value_at_risk", "revenue_12m"], ascending=False).reset_index()
