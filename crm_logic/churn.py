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

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crm_logic.models import MODELS, ModelError, ParetoNBDModel
from crm_logic.models.base import per_distinct
from crm_logic.store import Store
from crm_logic.summary import UNIT_DAYS, buyers_estimate, customer_summary, length_in_units
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

def buyer_history(store: Store, ids: pd.Series, end: date, trend_months: int,
                  share: float | None = None) -> pd.DataFrame:
    """For each customer of `ids` (row for row), up to `end`: median_gap, the median of their own gaps
    (days) between purchase days as the customer summary counts them (days with a line of non-negative
    amount: consecutive such lines a day or more apart; lines of the same day are 0 apart); revenue_12m;
    spend_recent and spend_prior, their spend in the last `trend_months` and the `trend_months` before;
    contacts_recent, contacts_prior (interactions, the same windows) and last_contact. One query: the
    customers go in as an Arrow table and come back in their order, no join in pandas."""
    sample = "($share IS NULL OR hash(customer_id) % 1000000 < $share * 1000000)"
    sql = f"""
        WITH gaps AS (
            SELECT customer_id, (median(gap) FILTER (WHERE gap > 0))::DOUBLE AS median_gap FROM (
                SELECT customer_id,
                       date_diff('day', lag(order_date) OVER (PARTITION BY customer_id ORDER BY order_date),
                                 order_date) AS gap
                FROM transactions WHERE order_date <= $end AND amount >= 0 AND {sample})
            GROUP BY customer_id
        ),
        spend AS (
            SELECT customer_id,
                   sum(amount) FILTER (WHERE order_date > $end - to_months(12))::DOUBLE AS revenue_12m,
                   sum(amount) FILTER (WHERE order_date > $end - to_months($m))::DOUBLE AS spend_recent,
                   sum(amount) FILTER (WHERE order_date <= $end - to_months($m)
                                         AND order_date > $end - to_months(2 * $m))::DOUBLE AS spend_prior
            FROM transactions
            WHERE order_date <= $end AND order_date > $end - to_months(greatest(2 * $m, 12)) AND {sample}
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
        SELECT g.median_gap, coalesce(s.revenue_12m, 0) AS revenue_12m,
               coalesce(s.spend_recent, 0) AS spend_recent, coalesce(s.spend_prior, 0) AS spend_prior,
               coalesce(c.contacts_recent, 0) AS contacts_recent, coalesce(c.contacts_prior, 0) AS contacts_prior,
               c.last_contact
        FROM buyer_ids b
        LEFT JOIN gaps g USING (customer_id) LEFT JOIN spend s USING (customer_id)
        LEFT JOIN contact c USING (customer_id)
        ORDER BY b.position
    """
    buyers = pa.table({"customer_id": pa.array(ids, pa.string()), "position": np.arange(len(ids))})
    with store.cursor() as cur:
        cur.register("buyer_ids", buyers)
        return cur.sql(sql, params={"end": end, "m": int(trend_months), "share": share}) \
            .to_arrow_table().to_pandas(date_as_object=False)


def prospects(store: Store, end: date) -> pd.Series:
    """The customers known by `end` who had not bought by then (no line with a non-negative amount: the
    customer summary's buyers are the others)."""
    return store.large_df(
        """SELECT customer_id FROM customers c
           WHERE (created_date IS NULL OR created_date <= $end)
             AND NOT EXISTS (SELECT 1 FROM transactions t
                             WHERE t.customer_id = c.customer_id AND t.order_date <= $end AND t.amount >= 0)
           ORDER BY customer_id""",
        {"end": end},
    )["customer_id"]


# ---- signals -----------------------------------------------------------------------------------------

def typical_gaps(summary: pd.DataFrame, median_gap: np.ndarray, rules: dict,
                 segments: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's typical gap in days and where it came from ("own", "segment", "base").
    `median_gap`: each customer's own (buyer_history); `segments`: customer_id and
    rfm_segment (crm_logic.tiers), optional."""
    own_gap = np.asarray(median_gap, dtype=float)
    own = (summary["frequency"].to_numpy() + 1 >= rules["min_own_purchases"]) & ~np.isnan(own_gap)
    base = float(np.median(own_gap[own])) if own.any() else float(rules["fixed_days"])
    gap = np.where(own, own_gap, base)
    source = np.where(own, "own", "base").astype(object)
    if segments is not None and "rfm_segment" in segments:
        segment = lookup(summary["customer_id"], segments["customer_id"], segments["rfm_segment"])
        members = pd.DataFrame({"segment": segment[own], "gap": own_gap[own]}).groupby("segment")["gap"]
        usable = members.median()[members.size() >= rules["min_group_customers"]]
        segment_gap = pd.Series(segment).map(usable).to_numpy(dtype=float)
        take = ~own & ~np.isnan(segment_gap)
        gap = np.where(take, segment_gap, gap)
        source[take] = "segment"
    return gap, source


def signals(summary: pd.DataFrame, model, unit: str, history: pd.DataFrame, as_of: date, rules: dict,
            horizon_days: float, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The signals of every buyer in `summary` as of `as_of`, with their `history` (buyer_history, row
    for row) alongside; `model` None (not fitted) leaves the model's columns empty."""
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
    gap, source = typical_gaps(summary, history["median_gap"].to_numpy(dtype=float), rules, segments)
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
    for column in history.columns.drop("median_gap"):
        out[column] = history[column].to_numpy()
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
    """low / medium / high at the rules' churn-probability thresholds (None without a model)."""
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
    history = buyer_history(store, summary["customer_id"], as_of, rules["trend_months"])
    frame = signals(summary, facts.model, facts.unit, history, as_of, rules, rules["horizon_days"], segments)
    frame["p_alive"] = facts.p_alive
    signal = alert_rule(rules, evaluation)
    frame["churn_alert"] = alerted(frame, signal, rules)
    frame["alert_signal"] = signal
    frame["risk_band"] = risk_bands(frame["churn_probability"], rules)
    frame["lifecycle_state"] = lifecycle_states(frame, rules)
    frame["relationship_stage"] = relationship_stages(frame, rules)
    frame["value_at_risk"] = values["clv"].to_numpy(dtype=float)
    waiting = prospects(store, as_of)
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


def new_alerts(facts, table: pd.DataFrame, since: date, rules: dict | None = None) -> pd.DataFrame:
    """The rows of `table` (churn_table as of facts.as_of: buyers first, in facts.summary's order) whose
    alert fires now and did not on `since`. A customer who has bought since then counts as new when
    alerted (their alert fired again). For the others nothing happened in between but time: their
    history then was the same with `since` as the end, judged by the same model and today's rhythm."""
    rules = rules_with(rules)
    if since >= facts.as_of:
        return table.iloc[0:0]
    summary = facts.summary
    buyers = table.iloc[:len(summary)]
    elapsed = (facts.as_of - since).days
    then = pd.DataFrame({"days_since_last": buyers["days_since_last"].to_numpy(dtype=float) - elapsed})
    quiet = then["days_since_last"].to_numpy() >= 0  # no purchase after `since`
    signal = buyers["alert_signal"].iloc[0] if len(buyers) else "lateness"
    then["lateness"] = then["days_since_last"] / buyers["typical_gap_days"].to_numpy(dtype=float)
    if signal in ("churn_probability", "p_alive") and facts.model is not None:
        f, r = summary["frequency"].to_numpy(dtype=float), summary["recency"].to_numpy(dtype=float)
        T = np.maximum(summary["T"].to_numpy(dtype=float) - elapsed / UNIT_DAYS[facts.unit], r)
        then["churn_probability"] = no_purchase_probability(facts.model, rules["horizon_days"] / UNIT_DAYS[facts.unit],
                                                            f, r, T)
        then["p_alive"] = facts.model.conditional_probability_alive(f, r, T)
    fired_then = quiet & alerted(then, signal, rules)
    now = buyers["churn_alert"].to_numpy(dtype=bool)
    return buyers[now & ~fired_then]


def lookup(ids: pd.Series, keys: pd.Series, values: pd.Series) -> np.ndarray:
    """values[keys == id] for each id (missing: None), by Arrow's hash lookup."""
    at = pc.index_in(pa.array(ids), value_set=pa.array(keys))
    return pa.array(values).take(at).to_numpy(zero_copy_only=False)


def is_in(ids: pd.Series, among: pd.Series) -> np.ndarray:
    """Which of `ids` are among `among`, by Arrow's hash lookup (pandas' isin on text columns builds a
    Python object per value: seconds on a million customers)."""
    return pc.is_in(pa.array(ids), value_set=pa.array(among)).to_numpy(zero_copy_only=False)


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
    history = buyer_history(store, summary["customer_id"], calibration_end, rules["trend_months"], share)
    frame = signals(summary, fitted, unit, history, calibration_end, rules, holdout_days)
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
    ("on_or_after"), their shares, and the cohort's revenue that month (all its lines, returns netted)
    and as a share of month 0. A month counts as bought in when it holds a purchase day (a line with a
    non-negative amount), as in the customer summary."""
    return store.df(
        """
        WITH months AS (
            SELECT customer_id, date_trunc('month', order_date) AS month, sum(amount)::DOUBLE AS revenue
            FROM transactions WHERE order_date <= $end
            GROUP BY customer_id, month HAVING bool_or(amount >= 0)
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
        lasts AS (
            SELECT cohort, date_diff('month', cohort, last_month) AS month_index, count(*) AS stopped
            FROM firsts GROUP BY ALL
        ),
        cells AS (
            SELECT g.cohort, g.month_index, g.customers, coalesce(a.on_month, 0) AS "on",
                   sum(coalesce(l.stopped, 0)) OVER (PARTITION BY g.cohort ORDER BY g.month_index DESC) AS on_or_after,
                   coalesce(a.revenue, 0) AS revenue
            FROM grid g LEFT JOIN active a USING (cohort, month_index) LEFT JOIN lasts l USING (cohort, month_index)
        )
        SELECT cohort::DATE AS cohort, month_index, customers, "on", on_or_after::BIGINT AS on_or_after,
               "on" / customers AS on_share, on_or_after / customers AS on_or_after_share, revenue,
               revenue / nullif(first_value(revenue) OVER (PARTITION BY cohort ORDER BY month_index), 0)
                   AS revenue_share
        FROM cells ORDER BY cohort, month_index
        """,
        {"end": as_of},
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

def call_list(store: Store, table: pd.DataFrame, values: pd.DataFrame,
              segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The alerted customers with name, class and region, last purchase and P(alive) (and their RFM
    segment, given `segments`), most value at risk first (then last-12-month revenue)."""
    alerted_rows = table[table["churn_alert"]]
    people = store.large_df("SELECT customer_id, name, customer_class, region FROM customers")
    out = (alerted_rows.merge(people, on="customer_id", how="left")
           .merge(values[["customer_id", "last_purchase", "p_alive"]], on="customer_id", how="left"))
    if segments is not None:
        out = out.merge(segments[["customer_id", "rfm_segment"]], on="customer_id", how="left")
    return out.sort_values(["value_at_risk", "revenue_12m", "customer_id"], ascending=[False, False, True],
                           na_position="last").reset_index(drop=True)


def risk_by(calls: pd.DataFrame, column: str) -> pd.DataFrame:
    """Alerted customers and their value and revenue at risk per group of `column`, most value first
    (a missing group is "")."""
    groups = calls[column].fillna("").astype(str)
    table = calls.assign(group=groups).groupby("group").agg(
        customers=("customer_id", "size"), value_at_risk=("value_at_risk", "sum"), revenue_12m=("revenue_12m", "sum"))
    return table.sort_values(["value_at_risk", "revenue_12m"], ascending=False).reset_index()
