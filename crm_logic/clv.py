"""What a customer is worth: discounted CLV on gross margin, customer equity, and the teaching formula.

Model CLV (../docs/model-anchors.md): the expected margin of the purchases a customer will make month by
month over a horizon of K months, each month discounted at the monthly rate d:

    CLV = sum_{k=1..K} m * [E(Y(k*f)) - E(Y((k-1)*f))] / (1 + d)^k

E(Y(t)) is the transaction model's expected number of purchases in the next t model time units given
the customer's history; f converts months into those units (a weekly model priced as if daily would
inflate CLV many times); m is the Gamma-Gamma expected spend per purchase times the customer's margin
rate. Customer equity (顾客资产) is the sum over customers.

Average CLV (the teaching material, crm-concepts.md section 3) looks back instead:
(revenue - acquisition cost - retention cost) / customers, with acquisition cost per customer =
marketing spend / new customers. `clv_bridge` walks from one figure to the other, step by step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from crm_logic.models import GammaGammaModel
from crm_logic.store import Store

# Model time units per month (f). 4.345 weeks is the figure the published CLV anchors use.
UNITS_PER_MONTH = {"day": 30.4375, "week": 4.345, "month": 1.0}


def fit_spend_model(summary: pd.DataFrame) -> GammaGammaModel:
    """Gamma-Gamma on the customers with a repeat purchase and a positive mean repeat spend (the others
    carry no spend information it can use: the model leaves them out). Raises ModelError, e.g.
    "q_not_above_one"."""
    return GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])


def margin_rates(margin_rate: pd.Series, default_margin: float) -> np.ndarray:
    """Each customer's own margin rate (margin / revenue) where the base knows it, `default_margin` otherwise."""
    return pd.to_numeric(margin_rate, errors="coerce").fillna(default_margin).to_numpy(dtype=float)


def expected_spend(spend_model, frequency, monetary_value) -> np.ndarray:
    """Gamma-Gamma expected spend per future purchase.

    Customers without a usable repeat spend (no repeat purchase, or repeat days that net to 0 or less)
    tell the spend model nothing: they get the population mean, which is what Gamma-Gamma gives at x = 0.
    """
    frequency = np.asarray(frequency, dtype=float)
    monetary = pd.to_numeric(pd.Series(monetary_value), errors="coerce").to_numpy(dtype=float)
    known = (frequency > 0) & np.isfinite(monetary) & (monetary > 0)
    out = np.full(len(frequency), spend_model.population_mean_spend(), dtype=float)
    if known.any():
        out[known] = spend_model.conditional_expected_average_profit(frequency[known], monetary[known])
    return out


def cumulative_purchases(model, frequency, recency, T, unit: str, months: int) -> np.ndarray:
    """E(Y(k*f)) for k = 1..months: a months x customers array of expected purchases to each month end
    (the model takes all the horizons at once, so what depends on the customer alone is computed once)."""
    horizons = (np.arange(1, months + 1) * UNITS_PER_MONTH[unit])[:, None]
    return np.atleast_2d(model.conditional_expected_purchases(horizons, frequency, recency, T))


def discount_weights(monthly_discount: float, horizon_months: int, months: int | None = None) -> np.ndarray:
    """Weights w_1..w_months that turn cumulative expected purchases C_1..C_months into the discounted
    purchases of the first `horizon_months`: sum_k d_k (C_k - C_(k-1)) with C_0 = 0 is
    sum_k C_k (d_k - d_(k+1)), d_k = (1 + monthly_discount)^-k up to the horizon and 0 after it. One
    weighted sum over the months, no array of monthly differences for a million customers."""
    discount = np.zeros((months or horizon_months) + 1)
    discount[:horizon_months] = (1.0 + monthly_discount) ** -np.arange(1, horizon_months + 1, dtype=float)
    return -np.diff(discount)


def discounted_clv(cumulative: np.ndarray, margin_per_purchase, monthly_discount: float) -> np.ndarray:
    """CLV per customer from `cumulative_purchases` over all its months: each month's expected
    purchases, priced and discounted."""
    weights = discount_weights(monthly_discount, cumulative.shape[0])
    return np.asarray(margin_per_purchase, dtype=float) * (weights @ cumulative)


def customer_equity(clv) -> float:
    """顾客资产: the sum of the customers' discounted CLVs."""
    return float(np.nansum(np.asarray(clv, dtype=float)))


@dataclass(frozen=True)
class AverageCLV:
    """The teaching material's average CLV and its pieces (money in the base's currency)."""

    revenue: float
    customers: int
    new_customers: int
    marketing_spend: float
    retention_cost: float
    acquisition_cost_per_customer: float | None
    revenue_per_customer: float | None
    retention_cost_per_customer: float | None
    average_clv: float | None


def average_clv(
    revenue: float, customers: int, new_customers: int, marketing_spend: float = 0.0, retention_cost: float = 0.0
) -> AverageCLV:
    """(revenue - acquisition cost - retention cost) / customers, acquisition cost per customer =
    marketing spend / new customers; every customer counts as acquired at that cost."""
    acquisition = marketing_spend / new_customers if new_customers else None
    if not customers:
        return AverageCLV(revenue, 0, new_customers, marketing_spend, retention_cost, acquisition, None, None, None)
    revenue_per = revenue / customers
    retention_per = retention_cost / customers
    value = None if acquisition is None else revenue_per - acquisition - retention_per
    return AverageCLV(
        revenue, customers, new_customers, marketing_spend, retention_cost, acquisition, revenue_per,
        retention_per, value,
    )


def period_figures(store: Store, start: date | None, end: date) -> dict:
    """Revenue, customers and new customers of the period (start, end] (start None: from the beginning),
    the inputs `average_clv` takes from the base; `margin` is the known gross margin (None if unknown)."""
    revenue, customers, margin, new_customers = store.one(
        """
        WITH firsts AS (SELECT customer_id, min(order_date) AS first_order FROM transactions GROUP BY customer_id)
        SELECT coalesce(sum(t.amount), 0)::DOUBLE, count(DISTINCT t.customer_id), sum(t.gross_margin)::DOUBLE,
               (SELECT count(*) FROM firsts
                WHERE first_order <= $end AND ($start IS NULL OR first_order > $start))
        FROM transactions t
        WHERE t.order_date <= $end AND ($start IS NULL OR t.order_date > $start)
        """,
        {"start": start, "end": end},
    )
    return {"revenue": revenue, "customers": int(customers), "new_customers": int(new_customers), "margin": margin}


def clv_bridge(average: AverageCLV, past_margin_per_customer: float, future_margin_per_customer: float,
               model_clv_per_customer: float) -> list[dict]:
    """Why the two figures differ, as steps from the average CLV to the mean model CLV (a waterfall).

    Each step is {"key", "value"}: "average_clv" (start), "costs" (the model leaves acquisition and
    retention costs out), "revenue_to_margin" (the model counts margin, not revenue), "past_to_future"
    (the model forecasts the horizon instead of summing the past), "discounting" (future money is worth
    less today), "model_clv" (the end, equal to the start plus the steps).
    """
    if average.average_clv is None:
        return []
    past_revenue = average.revenue_per_customer
    return [
        {"key": "average_clv", "value": average.average_clv},
        {"key": "costs", "value": past_revenue - average.average_clv},
        {"key": "revenue_to_margin", "value": past_margin_per_customer - past_revenue},
        {"key": "past_to_future", "value": future_margin_per_customer - past_margin_per_customer},
        {"key": "discounting", "value": model_clv_per_customer - future_margin_per_customer},
        {"key": "model_clv", "value": model_clv_per_customer},
    ]
