"""Transactions -> one row per customer: the inputs of the buy-till-you-die models and of Gamma-Gamma.

Definitions (../docs/model-anchors.md, Fader, Hardie & Lee 2005):
- A *purchase day* is a calendar day on which the customer bought: all lines of that day merge into one
  purchase, returns netted within the day. A day holding only returns is not a purchase (it is still
  revenue). Zero-value lines are purchases (CDNOW has 80 of them).
- frequency = repeat purchase days = purchase days - 1.
- recency = last purchase day - first purchase day; T = end date - first purchase day. Both are counted
  in calendar days and divided by the length of the time unit (week = 7 days, month = 365.25/12 days),
  never rounded to whole units: rounding gives different model parameters.
- monetary_value = mean spend of the repeat purchase days (the first purchase day is left out). A mean
  of 0 or less (the customer returned more than bought) cannot enter Gamma-Gamma: it is NULL, as it is
  for customers without a repeat purchase.
- The end date is `as_of`, or `calibration_end` when the summary is split for validation; only customers
  whose first purchase falls on or before it appear. With a split, holdout_frequency counts the repeat
  purchase days in (calibration_end, holdout_end].
- orders, revenue and margin cover every line up to the end date. orders counts distinct order ids
  (a line without one is an order of its own); margin is the sum of the known gross margins (NULL when
  none is known) and margin_rate the margin over the revenue of the lines whose margin is known.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from crm_logic.metrics import default_as_of
from crm_logic.store import Store

UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


# A customer is in the sample of share s when hash(customer_id) mod a million is below s million: the
# same customers on every run, and no list of them to carry around. $share NULL = every customer.
IN_SAMPLE = "($share IS NULL OR hash(customer_id) % 1000000 < $share * 1000000)"


def _purchase_days(until: str, after: str | None = None) -> str:
    """SQL for the purchase days in (after, until]; the arguments name query parameters, never values."""
    window = f"order_date <= {until}" + (f" AND order_date > {after}" if after else "")
    return f"""
        SELECT customer_id, order_date, sum(amount)::DOUBLE AS spend
        FROM transactions WHERE {window} AND {IN_SAMPLE}
        GROUP BY customer_id, order_date
        HAVING bool_or(amount >= 0)
    """


def _summary_sql(with_holdout: bool) -> str:
    """The summary query; the holdout purchases are counted only when there is a holdout (an empty
    window still costs a pass over the transactions)."""
    holdout = f""",
holdout AS (
    SELECT customer_id, count(*) AS holdout_frequency
    FROM ({_purchase_days("$holdout_end", after="$end")}) GROUP BY customer_id
)""" if with_holdout else ""
    return f"""
WITH days AS ({_purchase_days("$end")}),
buyers AS (
    SELECT customer_id,
           min(order_date) AS first_purchase,
           max(order_date) AS last_purchase,
           count(*) - 1 AS frequency,
           (sum(spend) - arg_min(spend, order_date)) / nullif(count(*) - 1, 0) AS repeat_spend
    FROM days GROUP BY customer_id
),
lines AS (
    SELECT customer_id,
           count(DISTINCT order_id) + count(*) FILTER (WHERE order_id IS NULL) AS orders,
           sum(amount)::DOUBLE AS revenue,
           sum(gross_margin)::DOUBLE AS margin,
           sum(amount) FILTER (WHERE gross_margin IS NOT NULL)::DOUBLE AS margin_revenue
    FROM transactions WHERE order_date <= $end AND {IN_SAMPLE} GROUP BY customer_id
){holdout}
SELECT b.customer_id,
       b.frequency,
       date_diff('day', b.first_purchase, b.last_purchase) / $unit_days AS recency,
       date_diff('day', b.first_purchase, $end::DATE) / $unit_days AS "T",
       CASE WHEN b.repeat_spend > 0 THEN b.repeat_spend END AS monetary_value,
       b.first_purchase,
       b.last_purchase,
       l.orders,
       l.revenue,
       l.margin,
       CASE WHEN l.margin_revenue > 0 THEN l.margin / l.margin_revenue END AS margin_rate
       {", coalesce(h.holdout_frequency, 0) AS holdout_frequency" if with_holdout else ""}
FROM buyers b
JOIN lines l USING (customer_id)
{"LEFT JOIN holdout h USING (customer_id)" if with_holdout else ""}
ORDER BY b.customer_id
"""


def customer_summary(
    store: Store,
    as_of: date | None = None,
    unit: str = "week",
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    share: float | None = None,
) -> pd.DataFrame:
    """One row per customer who had bought by the end date (see the module docstring).

    Without `calibration_end` the end date is `as_of` (default: the last order date of the base). With
    it, frequency/recency/T stop at `calibration_end` and the `holdout_frequency` column counts the
    repeat purchase days up to `holdout_end` (default: `as_of`). With `share`, only that fixed random
    share of the customers (see IN_SAMPLE).
    """
    as_of = as_of or default_as_of(store)
    if as_of is None:
        return _empty_summary(calibration_end is not None)
    end = calibration_end or as_of
    split = calibration_end is not None
    params = {"end": end, "unit_days": UNIT_DAYS[unit], "share": share}
    frame = store.df(_summary_sql(split), {**params, "holdout_end": holdout_end or as_of} if split else params)
    frame["frequency"] = frame["frequency"].astype("int64")
    if split:
        frame["holdout_frequency"] = frame["holdout_frequency"].astype("int64")
    return frame


def _empty_summary(with_holdout: bool) -> pd.DataFrame:
    columns = ["customer_id", "frequency", "recency", "T", "monetary_value", "first_purchase", "last_purchase",
               "orders", "revenue", "margin", "margin_rate"] + (["holdout_frequency"] if with_holdout else [])
    return pd.DataFrame(columns=columns)


def buyers_estimate(store: Store) -> int:
    """About how many customers have bought (HyperLogLog): enough to size a sample, cheap on any base."""
    return int(store.scalar("SELECT approx_count_distinct(customer_id) FROM transactions") or 0)


def length_in_units(start: date, end: date, unit: str) -> float:
    """The span between two dates in model time units (calendar days / unit length)."""
    return (pd.Timestamp(end) - pd.Timestamp(start)).days / UNIT_DAYS[unit]


def first_purchases_by_day(store: Store, cohort_end: date, share: float | None = None) -> pd.DataFrame:
    """How many customers (of the sample, with `share`) made their first purchase on each day up to
    `cohort_end` (day, customers)."""
    return store.df(
        f"""
        WITH days AS ({_purchase_days("$end")})
        SELECT first_purchase AS day, count(*) AS customers
        FROM (SELECT customer_id, min(order_date) AS first_purchase FROM days GROUP BY customer_id)
        GROUP BY day ORDER BY day
        """,
        {"end": cohort_end, "share": share},
    )


def repeat_purchases_by_day(store: Store, cohort_end: date, end: date, share: float | None = None) -> pd.DataFrame:
    """Repeat purchase days per calendar day up to `end`, of the customers (of the sample, with `share`)
    who first bought by `cohort_end`."""
    return store.df(
        f"""
        WITH days AS ({_purchase_days("$end")}),
        cohort AS (
            SELECT customer_id, min(order_date) AS first_purchase FROM days
            GROUP BY customer_id HAVING min(order_date) <= $cohort_end
        )
        SELECT d.order_date AS day, count(*) AS repeat_purchases
        FROM days d JOIN cohort c USING (customer_id)
        WHERE d.order_date > c.first_purchase
        GROUP BY day ORDER BY day
        """,
        {"end": end, "cohort_end": cohort_end, "share": share},
    )
