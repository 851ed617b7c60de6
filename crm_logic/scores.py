"""Per-customer facts and values: each customer's P(alive), expected purchases, expected spend and CLV.

Two stages, so that a setting costs a click and not a refit:
- `customer_facts(store, settings)` reads the base and fits, once per data-set version, analysis date,
  time unit and model: the customer summary, the model choice (holdout validation), the purchase and
  spend models, P(alive), expected spend, and every customer's expected purchases to the end of each of
  the next MAX_HORIZON_MONTHS months (one row per distinct frequency, recency and age: on a million demo
  customers half a million rows, about 240 MB).
- `customer_values(facts, settings)` applies horizon, discount rate and default margin in memory: the
  month table times the discount weights, a few tens of milliseconds on a million customers.
Nothing that depends on a setting is written to the base, so two people with different settings never
see each other's figures. (There is no customer_scores table any more: the command line's `score`
writes `customer_values` straight to its file.)

Interface added for the other rooms (issue 10): `CustomerFacts` also carries `expected_purchases_12m`,
`expected_spend` (None without a spend model), `groups` (customer_class and region of each buyer,
aligned with `summary`), `purchases` / `purchase_row` (the month table); `customer_facts` takes an
optional `validate` (the app passes its cached holdout validation, so validation runs once); the horizon
is at most MAX_HORIZON_MONTHS.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from crm_logic.clv import (
    UNITS_PER_MONTH, cumulative_purchases, discount_weights, expected_spend, fit_spend_model, margin_rates,
)
from crm_logic.exports import csv_bytes, write_excel
from crm_logic.metrics import default_as_of
from crm_logic.models import MODELS, GammaGammaModel, ModelError
from crm_logic.models.base import distinct_rows
from crm_logic.store import Store
from crm_logic.summary import UNIT_DAYS, customer_summary
from crm_logic.validation import (
    HOLDOUT_RULES, TRANSACTION_MODELS, ModelChoice, ValidationResult, choose_default_model, holdout_split,
    validate_models,
)

PURCHASES_MONTHS = 12                    # expected_purchases_12m
MAX_HORIZON_MONTHS = 60                  # the longest CLV horizon: the month table's width
SCORE_CHUNK = 200_000                    # rows of the month table computed at a time
GROUP_COLUMNS = ("customer_class", "region")
VALUE_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value", "first_purchase", "last_purchase",
                 "revenue", "margin")

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
        if not 1 <= self.horizon_months <= MAX_HORIZON_MONTHS:
            raise ValueError(f"horizon_months must be between 1 and {MAX_HORIZON_MONTHS}")
        if self.monthly_discount < 0:
            raise ValueError("monthly_discount cannot be negative")
        if not 0 <= self.default_margin <= 1:
            raise ValueError("default_margin is a share between 0 and 1")

    @property
    def fit_key(self) -> "ScoreSettings":
        """The settings the facts depend on (analysis date, unit, model); the money settings at their defaults."""
        return ScoreSettings(as_of=self.as_of, unit=self.unit, model=self.model)


def holdout_validation(store: Store, as_of: date, unit: str, progress: Progress | None = None) -> ValidationResult | None:
    """The models tested on the later part of the history up to `as_of`, or None when it is too short."""
    split = holdout_split(store, as_of)
    return None if split is None else validate_models(store, *split, unit=unit, progress=progress)


@dataclass(frozen=True, eq=False)
class CustomerFacts:
    """What scoring knows before any money setting. It depends only on the data-set version, the
    analysis date, the time unit and the model choice; every array is aligned with `summary`.
    Read-only: the app shares one per base among every session."""

    as_of: date
    unit: str
    summary: pd.DataFrame
    model: object
    spend_model: GammaGammaModel | None
    spend_error: str | None
    choice: ModelChoice
    p_alive: np.ndarray
    expected_purchases_12m: np.ndarray
    expected_spend: np.ndarray | None     # per future purchase; None without a spend model
    groups: pd.DataFrame                  # customer_class, region (categorical)
    purchases: np.ndarray                 # MAX_HORIZON_MONTHS x distinct rows: expected purchases to each month end
    purchase_row: np.ndarray              # each customer's column in `purchases`


def customer_facts(store: Store, settings: ScoreSettings, progress: Progress | None = None,
                   validate: Callable = holdout_validation) -> CustomerFacts:
    """Summarise and fit (reads only). Only `settings.as_of`, `.unit` and `.model` matter here;
    `validate(store, as_of, unit, progress)` gives the holdout validation that model "auto" chooses by.

    Raises ModelError (with its `.key`) when the transaction model cannot be fitted to this base.
    """
    report = progress or _quiet
    as_of = settings.as_of or default_as_of(store)
    report(0.0, "summary")
    summary = customer_summary(store, as_of=as_of, unit=settings.unit, orders=False)
    if summary.empty:
        raise ModelError("too_few_customers")
    choice = _model_choice(store, settings, as_of, report, validate)
    f, r, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    report(0.6, "fit")
    model = MODELS[choice.model]().fit(f, r, T)
    report(0.7, "spend")
    spend_model, spend_error = _fit_spend(summary)
    spend = None if spend_model is None else expected_spend(spend_model, f, summary["monetary_value"])
    report(0.75, "score")
    purchases, purchase_row = _month_table(model, f, r, T, settings.unit)
    report(0.95, "score")
    groups = _groups(store, summary["customer_id"])
    report(1.0, "score")
    return CustomerFacts(as_of, settings.unit, summary, model, spend_model, spend_error, choice,
                         model.conditional_probability_alive(f, r, T),
                         purchases[PURCHASES_MONTHS - 1][purchase_row], spend, groups, purchases, purchase_row)


def customer_values(facts: CustomerFacts, settings: ScoreSettings) -> pd.DataFrame:
    """One row per buyer with P(alive), expected purchases, expected spend and CLV under `settings`
    (horizon, discount, margin), computed in memory from `facts`: the frame every page slices. It
    shares the summary's columns (copy-on-write): read-only."""
    summary, row = facts.summary, facts.purchase_row
    rate = margin_rates(summary["margin_rate"], settings.default_margin)
    missing = np.full(len(summary), np.nan)
    clv = missing
    if facts.expected_spend is not None:
        weights = discount_weights(settings.monthly_discount, settings.horizon_months, MAX_HORIZON_MONTHS)
        clv = facts.expected_spend * rate * (weights @ facts.purchases)[row]
    return pd.DataFrame({
        **{column: summary[column] for column in VALUE_COLUMNS},
        "margin_rate": rate,
        "p_alive": facts.p_alive,
        "expected_purchases_12m": facts.expected_purchases_12m,
        "expected_purchases_horizon": facts.purchases[settings.horizon_months - 1][row],
        "expected_spend": missing if facts.expected_spend is None else facts.expected_spend,
        "clv": clv,
        "model": pd.Categorical.from_codes(np.zeros(len(summary), dtype=np.int8), [facts.choice.model]),  # no text copies
    }, copy=False)


def facts_info(facts: CustomerFacts) -> dict:
    """The facts of the fit, for the page and the command line."""
    return {
        "as_of": facts.as_of.isoformat(),
        "unit": facts.unit,
        "customers": len(facts.summary),
        "model": facts.choice.model,
        "choice": asdict(facts.choice),
        "params": _plain(facts.model.params_),
        "log_likelihood": float(facts.model.log_likelihood_),
        "spend_params": None if facts.spend_model is None else _plain(facts.spend_model.params_),
        "spend_error": facts.spend_error,
    }


def compute_scores(store: Store, settings: ScoreSettings, progress: Progress | None = None) -> tuple[pd.DataFrame, dict]:
    """Score every customer from scratch (reads only): the values and the facts of the fit."""
    facts = customer_facts(store, settings, progress)
    return customer_values(facts, settings), facts_info(facts)


def _month_table(model, frequency, recency, T, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases to the end of each month 1..MAX_HORIZON_MONTHS, once per distinct (frequency,
    recency, T), and each customer's column: customers alike in all three are alike in every figure,
    so the table is about half as wide as the base, SCORE_CHUNK columns computed at a time."""
    rows, row_of = distinct_rows([frequency, recency, T])
    table = np.empty((MAX_HORIZON_MONTHS, len(rows[0])))
    for start in range(0, len(rows[0]), SCORE_CHUNK):
        part = slice(start, start + SCORE_CHUNK)
        table[:, part] = cumulative_purchases(model, *(column[part] for column in rows), unit, MAX_HORIZON_MONTHS)
    return table, row_of


def _groups(store: Store, customer_ids: pd.Series) -> pd.DataFrame:
    """Each buyer's customer class and region, aligned with `customer_ids` ("" when unknown): joined in
    DuckDB and handed over dictionary-encoded (a million short texts compared in pandas take seconds)."""
    buyers = pa.table({"customer_id": pa.array(customer_ids), "position": np.arange(len(customer_ids))})
    columns = ", ".join(f"coalesce(c.{c}, '') AS {c}" for c in GROUP_COLUMNS)  # fixed names, not user text
    with store.cursor() as cur:
        cur.register("buyers", buyers)
        table = cur.sql(f"SELECT {columns} FROM buyers b LEFT JOIN customers c USING (customer_id) "
                        "ORDER BY b.position").to_arrow_table()
    groups = {}
    for column in GROUP_COLUMNS:
        encoded = table[column].combine_chunks().dictionary_encode()
        groups[column] = pd.Categorical.from_codes(encoded.indices.to_numpy(), encoded.dictionary.to_pylist())
    return pd.DataFrame(groups)


def _quiet(fraction: float, stage: str) -> None:
    """The progress callback when nobody listens."""


def _plain(values: dict | None) -> dict | None:
    return None if values is None else {k: float(v) for k, v in values.items()}


def _model_choice(store: Store, settings: ScoreSettings, as_of: date, report: Progress, validate: Callable) -> ModelChoice:
    """The transaction model to score with: the one chosen in the settings, or for "auto" the one with
    the lowest holdout error (BG/NBD when the history is too short to hold part of it out)."""
    if settings.model != "auto":
        return ModelChoice(settings.model, "chosen_in_settings", {})
    result = validate(store, as_of, settings.unit, lambda fraction, stage: report(0.05 + 0.5 * fraction, stage))
    if result is None:
        return ModelChoice("bg_nbd", "not_enough_history", {"min_history_days": HOLDOUT_RULES["min_history_days"]})
    return choose_default_model(result)


def _fit_spend(summary: pd.DataFrame) -> tuple[GammaGammaModel | None, str | None]:
    """The spend model, or None and its ModelError key: scores then keep P(alive) and purchases, no CLV."""
    try:
        return fit_spend_model(summary), None
    except ModelError as error:
        return None, error.key


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


def export_scores(store: Store, values: pd.DataFrame, path: Path, extra: list[pd.DataFrame] | None = None) -> int:
    """Write the values with each customer's name, most valuable first (those without a CLV last), to a
    .csv (UTF-8 with BOM), .xlsx or .parquet file; the number of rows. `extra`: frames keyed by
    customer_id whose columns are added (segments, churn, alliances)."""
    path = Path(path)
    if path.suffix.lower() not in EXPORT_WRITERS:
        raise ValueError(f"export format must be one of {sorted(EXPORT_WRITERS)}")
    names = store.large_df("SELECT customer_id, name FROM customers")
    frame = values.merge(names, on="customer_id", how="left")
    frame = frame[["customer_id", "name", *values.columns.drop("customer_id")]]
    frame = frame.sort_values("clv", ascending=False, kind="stable", na_position="last").reset_index(drop=True)
    for table in extra or []:
        frame = frame.merge(table, on="customer_id", how="left")
    EXPORT_WRITERS[path.suffix.lower()](frame, path)
    return len(frame)
