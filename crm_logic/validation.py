"""Does a model predict? Fit it on a calibration period, predict the holdout, compare with what happened.

The checks are those of Fader, Hardie & Lee (2005): holdout purchases by calibration frequency, the
weekly cumulative tracking curve (each customer enters on their own first purchase day), plus the mean
absolute error of the per-customer predictions against a naive baseline (each customer's past rate of
repeat purchases times the holdout length) and the calibration log-likelihood (every transaction model
here has four parameters, so the likelihoods compare directly).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

import numpy as np
import pandas as pd

from crm_logic.metrics import default_as_of
from crm_logic.models import MODELS, ModelError
from crm_logic.store import Store
from crm_logic.summary import (
    UNIT_DAYS, buyers_estimate, customer_summary, first_purchases_by_day, length_in_units, repeat_purchases_by_day,
)

TRANSACTION_MODELS = ("bg_nbd", "pareto_nbd", "mbg_nbd")
TOP_FREQUENCY = 7  # calibration frequencies 0..6 get a bin each, the rest share "7+"

# When a base has history enough to hold part of it out: the holdout is the later half of the span
# from the first purchase to the analysis date, at most a year; under min_history_days there is none.
# A base with more than max_customers buyers is validated on a fixed random sample of about that many:
# enough to rank the models, and seconds instead of minutes on a million customers.
HOLDOUT_RULES = {"holdout_share": 0.5, "max_holdout_days": 365, "min_history_days": 182, "max_customers": 10_000}


@dataclass(frozen=True)
class ValidationResult:
    """Everything the validation view shows; frames hold one column per successfully fitted model."""

    calibration_end: date
    holdout_end: date
    unit: str
    holdout_length: float            # in model time units
    calibration_weeks: float         # where the tracking chart's calibration period ends
    customers: pd.DataFrame          # customer_id, frequency, recency, T, actual, naive, <model>...
    by_frequency: pd.DataFrame       # frequency_bin ("0".."6", "7+"), customers, actual, naive, <model>...
    tracking: pd.DataFrame           # week, actual, <model>... (cumulative repeat purchases)
    models: pd.DataFrame             # model, log_likelihood, mae, predicted, actual; best MAE first
    naive_mae: float
    sample_share: float | None       # the share of the base's customers validated (None: all of them)
    fitted: dict                     # model name -> fitted model
    failures: dict                   # model name -> ModelError key of the models that could not be fitted


@dataclass(frozen=True)
class ModelChoice:
    """The chosen transaction model and why: a stable reason key and the numbers to phrase it with."""

    model: str
    reason: str
    numbers: dict


def holdout_split(store: Store, as_of: date | None = None, rules: dict = HOLDOUT_RULES) -> tuple[date, date] | None:
    """(calibration_end, holdout_end) for a base, or None when its history is too short to hold part out."""
    as_of = as_of or default_as_of(store)
    first = store.scalar("SELECT min(order_date) FROM transactions WHERE order_date <= ?", [as_of])
    if first is None:
        return None
    span = (as_of - first).days
    if span < rules["min_history_days"]:
        return None
    holdout_days = min(math.ceil(span * rules["holdout_share"]), rules["max_holdout_days"])
    return as_of - timedelta(days=holdout_days), as_of


def frequency_bin(frequency: pd.Series) -> pd.Series:
    """"0".."6" and "7+": the rows of the published holdout table."""
    capped = frequency.clip(upper=TOP_FREQUENCY).astype(int).astype(str)
    return capped.where(frequency < TOP_FREQUENCY, f"{TOP_FREQUENCY}+")


def validate_models(
    store: Store,
    calibration_end: date,
    holdout_end: date | None = None,
    unit: str = "week",
    models: tuple[str, ...] = TRANSACTION_MODELS,
    progress: Callable[[float, str], None] | None = None,
    max_customers: int = HOLDOUT_RULES["max_customers"],
) -> ValidationResult:
    """Fit each model on the purchases up to `calibration_end`, predict (calibration_end, holdout_end];
    on a base with more than `max_customers` buyers, for a fixed random sample of about that many."""
    report = progress or (lambda fraction, stage: None)
    holdout_end = holdout_end or default_as_of(store)
    report(0.0, "summary")
    buyers = buyers_estimate(store)
    share = max_customers / buyers if buyers > max_customers else None
    summary = customer_summary(store, unit=unit, calibration_end=calibration_end, holdout_end=holdout_end, share=share,
                               orders=False)
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    holdout = length_in_units(calibration_end, holdout_end, unit)

    customers = summary[["customer_id", "frequency", "recency", "T"]].copy()
    customers["actual"] = summary["holdout_frequency"]
    customers["naive"] = np.where(T > 0, f / T.where(T > 0, 1.0), 0.0) * holdout
    fitted, failures, rows = {}, {}, []
    for i, name in enumerate(models):
        report(0.1 + 0.8 * i / len(models), "validation")
        try:
            model = MODELS[name]().fit(f, r, T)
        except ModelError as error:
            failures[name] = error.key
            continue
        fitted[name] = model
        customers[name] = model.conditional_expected_purchases(holdout, f, r, T)
        rows.append({
            "model": name,
            "log_likelihood": float(model.log_likelihood_),
            "mae": float(np.mean(np.abs(customers[name] - customers["actual"]))),
            "predicted": float(customers[name].sum()),
            "actual": float(customers["actual"].sum()),
        })
    report(0.9, "validation")
    tracking, calibration_weeks = tracking_curve(store, calibration_end, holdout_end, unit, fitted, share)
    report(1.0, "validation")
    return ValidationResult(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        unit=unit,
        holdout_length=holdout,
        calibration_weeks=calibration_weeks,
        customers=customers,
        by_frequency=_by_frequency(customers, ["actual", "naive", *fitted]),
        tracking=tracking,
        models=pd.DataFrame(rows, columns=["model", "log_likelihood", "mae", "predicted", "actual"])
        .sort_values("mae", kind="stable").reset_index(drop=True),
        naive_mae=float(np.mean(np.abs(customers["naive"] - customers["actual"]))),
        sample_share=share,
        fitted=fitted,
        failures=failures,
    )


def _by_frequency(customers: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Customers and mean holdout purchases (actual and predicted) per calibration-frequency bin."""
    table = (
        customers.assign(frequency_bin=frequency_bin(customers["frequency"]))
        .groupby("frequency_bin")
        .agg(customers=("customer_id", "size"), **{c: (c, "mean") for c in columns})
        .reset_index()
    )
    order = table["frequency_bin"].str.rstrip("+").astype(int)
    return table.iloc[order.argsort()].reset_index(drop=True)


def tracking_curve(
    store: Store, calibration_end: date, holdout_end: date, unit: str, fitted: dict, share: float | None = None
) -> tuple[pd.DataFrame, float]:
    """Weekly cumulative repeat purchases of the calibration cohort: actual, and each model's expectation.

    Week w ends on day 7w - 1 counted from the cohort's first purchase day (so the week ends on the same
    day as T and the holdout do). A customer who first bought on day s contributes E[X(day - s)], the
    unconditional expectation of a new customer, from that day on.
    """
    firsts = first_purchases_by_day(store, calibration_end, share)
    repeats = repeat_purchases_by_day(store, calibration_end, holdout_end, share)
    start = firsts["day"].min()
    last_day = (pd.Timestamp(holdout_end) - start).days
    weeks = np.arange(1, math.ceil((last_day + 1) / 7) + 1)
    week_end = np.minimum(7 * weeks - 1, last_day)
    repeat_day = (repeats["day"] - start).dt.days.to_numpy()
    counts = repeats["repeat_purchases"].to_numpy()
    curve = pd.DataFrame({
        "week": weeks,
        "actual": [int(counts[repeat_day <= end].sum()) for end in week_end],
    })
    first_day = (firsts["day"] - start).dt.days.to_numpy()
    cohort = firsts["customers"].to_numpy(dtype=float)
    elapsed = np.clip(week_end[:, None] - first_day[None, :], 0, None) / UNIT_DAYS[unit]
    for name, model in fitted.items():
        expected = np.asarray(model.expected_purchases(elapsed.ravel()), dtype=float).reshape(elapsed.shape)
        curve[name] = expected @ cohort
    calibration_weeks = ((pd.Timestamp(calibration_end) - start).days + 1) / 7
    return curve, calibration_weeks


def choose_default_model(result: ValidationResult) -> ModelChoice:
    """The transaction model with the lowest holdout MAE; BG/NBD when none could be fitted."""
    if result.models.empty:
        return ModelChoice("bg_nbd", "no_model_fitted", {"failures": dict(result.failures)})
    best = result.models.iloc[0]
    runner_up = result.models.iloc[1] if len(result.models) > 1 else None
    return ModelChoice(
        model=best["model"],
        reason="lowest_holdout_mae",
        numbers={
            "mae": float(best["mae"]),
            "naive_mae": result.naive_mae,
            "runner_up": None if runner_up is None else runner_up["model"],
            "runner_up_mae": None if runner_up is None else float(runner_up["mae"]),
            "holdout_weeks": result.holdout_length * UNIT_DAYS[result.unit] / 7,
            "customers": len(result.customers),
        },
    )
