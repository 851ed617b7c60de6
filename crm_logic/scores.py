"""The customer_scores table: each customer's P(alive), expected purchases, expected spend and CLV.

Scoring fits models, so it runs once per data-set version and settings: the table's meta fingerprint
says what it was computed for, and `ensure_scores` recomputes only when that no longer matches. Scores
are derived data: writing them does not bump the data-set version (that would invalidate every cache
and the fingerprint itself).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from crm_logic.clv import (
    UNITS_PER_MONTH, average_clv, clv_bridge, cumulative_purchases, discounted_clv, expected_spend, fit_spend_model,
    margin_rates,
)
from crm_logic.exports import csv_bytes, write_excel
from crm_logic.metrics import default_as_of
from crm_logic.models import MODELS, GammaGammaModel, ModelError
from crm_logic.store import Store
from crm_logic.summary import UNIT_DAYS, customer_summary
from crm_logic.validation import (
    HOLDOUT_RULES, TRANSACTION_MODELS, ModelChoice, choose_default_model, holdout_split, validate_models,
)

FINGERPRINT_KEY = "scores_fingerprint"   # what the table was computed for
INFO_KEY = "scores_info"                 # the fitted models and the model choice, for the page
CHOICE_KEY = "scores_model_choice"       # the cached "auto" choice (validation is the slow part)
PURCHASES_MONTHS = 12                    # expected_purchases_12m
SCORE_CHUNK = 200_000                    # customers scored at a time

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ScoreSettings:
    """Everything besides the data that changes the scores. as_of None = the base's last order date;
    model "auto" = the transaction model with the lowest holdout error when the base has history enough
    to hold some out, BG/NBD otherwise."""

    as_of: date | None = None
    unit: str = "week"
    model: str = "auto"
    horizon_months: int = 12
    monthly_discount: float = 0.01
    default_margin: float = 0.3

    def __post_init__(self):
        if self.unit not in UNIT_DAYS:
            raise ValueError(f"unit must be one of {sorted(UNIT_DAYS)}")
        if self.model != "auto" and self.model not in TRANSACTION_MODELS:
            raise ValueError(f"model must be 'auto' or one of {TRANSACTION_MODELS}")
        if self.horizon_months < 1:
            raise ValueError("horizon_months must be at least 1")
        if self.monthly_discount < 0:
            raise ValueError("monthly_discount cannot be negative")
        if not 0 <= self.default_margin <= 1:
            raise ValueError("default_margin is a share between 0 and 1")


def fingerprint(store: Store, settings: ScoreSettings) -> str:
    return json.dumps({"dataset_version": store.dataset_version, **asdict(settings)}, sort_keys=True, default=str)


def scores_are_fresh(store: Store, settings: ScoreSettings) -> bool:
    """True when customer_scores exists and was computed for this data-set version and these settings."""
    return _has_scores(store) and store.get_meta(FINGERPRINT_KEY) == fingerprint(store, settings)


def ensure_scores(store: Store, settings: ScoreSettings = ScoreSettings(), progress: Progress | None = None) -> bool:
    """Bring customer_scores up to date for `settings`; True when it had to be recomputed.

    Raises ModelError (with its `.key`) when the transaction model cannot be fitted to this base.
    """
    if scores_are_fresh(store, settings):
        return False
    stamp = fingerprint(store, settings)  # taken first: an import meanwhile leaves the result stale
    frame, info = compute_scores(store, settings, progress)
    (progress or _quiet)(0.95, "write")
    meta = {FINGERPRINT_KEY: stamp, INFO_KEY: json.dumps(info)}
    if info["choice_key"] is not None:
        meta[CHOICE_KEY] = json.dumps({"key": info["choice_key"], "choice": info["choice"]})
    _write(store, frame, meta)
    (progress or _quiet)(1.0, "write")
    return True


@dataclass
class CustomerFacts:
    """What scoring knows before any money setting: the customer summary, the fitted purchase and spend
    models and each customer's P(alive). It depends only on the data-set version, the analysis date, the
    time unit and the model choice; discount, horizon and margin are applied to it by `customer_values`."""

    as_of: date
    unit: str
    summary: pd.DataFrame
    model: object
    spend_model: GammaGammaModel | None
    spend_error: str | None
    choice: ModelChoice
    choice_key: dict | None
    p_alive: np.ndarray


def customer_facts(store: Store, settings: ScoreSettings, progress: Progress | None = None) -> CustomerFacts:
    """Summarise and fit (reads only). Only `settings.as_of`, `.unit` and `.model` matter here.

    Raises ModelError (with its `.key`) when the transaction model cannot be fitted to this base.
    """
    report = progress or _quiet
    as_of = settings.as_of or default_as_of(store)
    report(0.0, "summary")
    summary = customer_summary(store, as_of=as_of, unit=settings.unit, orders=False)
    if summary.empty:
        raise ModelError("too_few_customers")
    choice, choice_key = _model_choice(store, settings, as_of, report)
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    report(0.6, "fit")
    model = MODELS[choice.model]().fit(f, r, T)
    report(0.75, "spend")
    spend_model, spend_error = _fit_spend(summary)
    return CustomerFacts(as_of, settings.unit, summary, model, spend_model, spend_error, choice, choice_key,
                         model.conditional_probability_alive(f, r, T))


def customer_values(facts: CustomerFacts, settings: ScoreSettings, progress: Progress | None = None) -> pd.DataFrame:
    """One row per buyer with P(alive), expected purchases, expected spend and CLV under `settings`
    (horizon, discount, margin): the frame every page slices."""
    (progress or _quiet)(0.8, "score")
    summary = facts.summary
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    rate = margin_rates(summary["margin_rate"], settings.default_margin)
    spend = None if facts.spend_model is None else expected_spend(facts.spend_model, f, summary["monetary_value"])
    purchases_12m, purchases_horizon, clv = _purchases_and_clv(facts.model, f, r, T, settings,
                                                               None if spend is None else spend * rate)
    frame = summary[["customer_id", "frequency", "recency", "T", "monetary_value", "first_purchase",
                     "last_purchase", "revenue", "margin"]].copy()
    frame["margin_rate"] = rate
    frame["p_alive"] = facts.p_alive
    frame["expected_purchases_12m"] = purchases_12m
    frame["expected_purchases_horizon"] = purchases_horizon
    frame["expected_spend"] = spend
    frame["clv"] = clv
    frame["model"] = facts.choice.model
    return frame


def facts_info(facts: CustomerFacts, settings: ScoreSettings) -> dict:
    """The facts of the fit, for the page and the command line."""
    return {
        "as_of": facts.as_of.isoformat(),
        "settings": {**asdict(settings), "as_of": None if settings.as_of is None else settings.as_of.isoformat()},
        "customers": len(facts.summary),
        "model": facts.choice.model,
        "choice": asdict(facts.choice),
        "choice_key": facts.choice_key,
        "params": _plain(facts.model.params_),
        "log_likelihood": float(facts.model.log_likelihood_),
        "spend_params": None if facts.spend_model is None else _plain(facts.spend_model.params_),
        "spend_error": facts.spend_error,
    }


def compute_scores(store: Store, settings: ScoreSettings, progress: Progress | None = None) -> tuple[pd.DataFrame, dict]:
    """Score every customer (reads only): the frame for customer_scores and the facts of the fit."""
    facts = customer_facts(store, settings, progress)
    return customer_values(facts, settings, progress), facts_info(facts, settings)


def _purchases_and_clv(model, frequency, recency, T, settings: ScoreSettings, margin_per_purchase):
    """Expected purchases in 12 months and over the horizon, and the CLV (None without a margin per
    purchase), SCORE_CHUNK customers at a time: the month-by-month purchases of a million customers at
    once would be a hundred megabytes written once and thrown away."""
    f, r, T = (np.asarray(column, dtype=float) for column in (frequency, recency, T))
    months = max(settings.horizon_months, PURCHASES_MONTHS)
    purchases_12m, purchases_horizon = np.empty(len(f)), np.empty(len(f))
    clv = None if margin_per_purchase is None else np.empty(len(f))
    for start in range(0, len(f), SCORE_CHUNK):
        part = slice(start, start + SCORE_CHUNK)
        cumulative = cumulative_purchases(model, f[part], r[part], T[part], settings.unit, months)
        purchases_12m[part] = cumulative[PURCHASES_MONTHS - 1]
        purchases_horizon[part] = cumulative[settings.horizon_months - 1]
        if clv is not None:
            clv[part] = discounted_clv(cumulative[: settings.horizon_months], margin_per_purchase[part],
                                       settings.monthly_discount)
    return purchases_12m, purchases_horizon, clv


def _quiet(fraction: float, stage: str) -> None:
    """The progress callback when nobody listens."""


def _plain(values: dict | None) -> dict | None:
    return None if values is None else {k: float(v) for k, v in values.items()}


def _model_choice(store: Store, settings: ScoreSettings, as_of: date, report: Progress) -> tuple[ModelChoice, dict | None]:
    """The transaction model to score with, and for "auto" what the choice holds for (data-set version,
    as_of, unit: horizon, discount and margin do not change it), so the next run can skip validation."""
    if settings.model != "auto":
        return ModelChoice(settings.model, "chosen_in_settings", {}), None
    key = {"dataset_version": store.dataset_version, "as_of": as_of.isoformat(), "unit": settings.unit}
    cached = json.loads(store.get_meta(CHOICE_KEY) or "null")
    if cached and cached["key"] == key:
        return ModelChoice(**cached["choice"]), key
    split = holdout_split(store, as_of)
    if split is None:
        choice = ModelChoice("bg_nbd", "not_enough_history", {"min_history_days": HOLDOUT_RULES["min_history_days"]})
    else:
        result = validate_models(
            store, *split, unit=settings.unit, progress=lambda fraction, stage: report(0.05 + 0.5 * fraction, stage)
        )
        choice = choose_default_model(result)
    return choice, key


def _fit_spend(summary: pd.DataFrame) -> tuple[GammaGammaModel | None, str | None]:
    """The spend model, or None and its ModelError key: scores then keep P(alive) and purchases, no CLV."""
    try:
        return fit_spend_model(summary), None
    except ModelError as error:
        return None, error.key


def _has_scores(store: Store) -> bool:
    return bool(store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'customer_scores'"
    ))


def _write(store: Store, frame: pd.DataFrame, meta: dict[str, str]) -> None:
    """Replace customer_scores with `frame` in one bulk insert, with its meta, all or nothing.

    Not `store.transaction()`: that bumps the data-set version, and scores are derived from the data.
    The frame goes in as an Arrow table: on a million customers that writes in half the time of the
    pandas frame itself.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with store._write_lock, store.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.register("scores_frame", table)
            cur.execute(
                """CREATE OR REPLACE TABLE customer_scores AS
                   SELECT * REPLACE (first_purchase::DATE AS first_purchase, last_purchase::DATE AS last_purchase,
                                     expected_spend::DOUBLE AS expected_spend, clv::DOUBLE AS clv)
                   FROM scores_frame"""
            )
            cur.unregister("scores_frame")
            for key, value in meta.items():
                Store.set_meta(cur, key, value)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise


def load_scores(store: Store, limit: int | None = None) -> pd.DataFrame:
    """The scores with each customer's name, most valuable customers first (those without a CLV last)."""
    return store.df(
        """SELECT s.customer_id, c.name, s.* EXCLUDE (customer_id)
           FROM customer_scores s LEFT JOIN customers c USING (customer_id)
           ORDER BY s.clv DESC NULLS LAST, s.customer_id LIMIT ?""",
        [limit],
    )


def score_info(store: Store) -> dict | None:
    """What the current scores were computed with: settings, model, its parameters and why it was chosen."""
    info = store.get_meta(INFO_KEY)
    return None if info is None else json.loads(info)


def equity_summary(store: Store) -> dict:
    """The headline figures of the CLV page, from customer_scores."""
    customers, equity, mean, median, top, alive, purchases = store.one(
        """
        WITH ranked AS (
            SELECT clv, p_alive, expected_purchases_12m,
                   row_number() OVER (ORDER BY clv DESC NULLS LAST) AS rank, count(*) OVER () AS n
            FROM customer_scores
        )
        SELECT count(*), sum(clv), avg(clv), median(clv),
               sum(clv) FILTER (WHERE rank <= greatest(1, ceil(n * 0.2))) / nullif(sum(clv), 0),
               avg(p_alive), sum(expected_purchases_12m)
        FROM ranked
        """
    )
    return {
        "customers": int(customers), "customer_equity": equity, "mean_clv": mean, "median_clv": median,
        "top20_share": top, "mean_p_alive": alive, "expected_purchases_12m": purchases,
    }


def clv_comparison(store: Store, marketing_spend: float, retention_cost: float) -> dict:
    """The teaching material's average CLV over the whole history beside the mean model CLV, and the
    steps between them (`clv.clv_bridge`). Every customer in the base was once new, so the acquisition
    cost per customer is the marketing spend over all customers."""
    customers, revenue, past_margin, future_margin, model_clv = store.one(
        """SELECT count(*), sum(revenue), avg(revenue * margin_rate),
                  avg(expected_spend * margin_rate * expected_purchases_horizon), avg(clv)
           FROM customer_scores"""
    )
    average = average_clv(revenue or 0.0, int(customers), int(customers), marketing_spend, retention_cost)
    bridge = [] if model_clv is None else clv_bridge(average, past_margin, future_margin, model_clv)
    return {"average": average, "bridge": bridge}


def explain_parameters(model: str, params: dict, unit: str) -> list[dict]:
    """Plain-language readings of fitted parameters: [{"key", "values"}], phrased by clv.explain.<key>.

    BG/NBD and MBG/NBD: a typical active customer buys every alpha/r units and leaves after a purchase
    with probability a/(a+b). Pareto/NBD: the share of customers who leave within a month,
    1 - (beta/(beta+f))^s. Gamma-Gamma: the mean spend per purchase p*gamma/(q-1).
    """
    days = UNIT_DAYS[unit]
    per_month = UNITS_PER_MONTH[unit]
    if model == "gamma_gamma":
        return [{"key": "typical_spend", "values": {"spend": params["p"] * params["gamma"] / (params["q"] - 1)}}]
    interval = params["alpha"] / params["r"]
    out = [{"key": "purchase_interval", "values": {"days": interval * days, "weeks": interval * days / 7}}]
    if model in ("bg_nbd", "mbg_nbd"):
        out.append({"key": "dropout_per_purchase", "values": {"share": params["a"] / (params["a"] + params["b"])}})
    else:
        month_share = 1 - (params["beta"] / (params["beta"] + per_month)) ** params["s"]
        out.append({"key": "dropout_per_month", "values": {"share": month_share}})
    return out


EXPORT_WRITERS = {
    ".csv": lambda frame, path: Path(path).write_bytes(csv_bytes(frame)),  # BOM: Chinese Excel
    ".xlsx": lambda frame, path: write_excel({"customer_scores": frame}, path),
    ".parquet": lambda frame, path: frame.to_parquet(path, index=False),
}


def export_scores(store: Store, path: Path, extra: list[pd.DataFrame] | None = None) -> int:
    """Write customer_scores to a .csv (UTF-8 with BOM), .xlsx or .parquet file; the number of rows.
    `extra`: frames keyed by customer_id whose columns are added (segments, churn, alliances)."""
    path = Path(path)
    if path.suffix.lower() not in EXPORT_WRITERS:
        raise ValueError(f"export format must be one of {sorted(EXPORT_WRITERS)}")
    frame = load_scores(store)
    for table in extra or []:
        frame = frame.merge(table, on="customer_id", how="left")
    EXPORT_WRITERS[path.suffix.lower()](frame, path)
    return len(frame)
