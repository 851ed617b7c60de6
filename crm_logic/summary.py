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
- orders (unless left out), revenue and margin cover every line up to the end date. orders counts
  distinct order ids (a line without one is an order of its own); margin is the sum of the known gross
  margins (NULL when none is known) and margin_rate the margin over the revenue of the lines whose
  margin is known.
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


# Purchase days are counted in bitstrings, one bit per calendar day, over slots of SLOT_DAYS days
# counted from the base's first order date: merging a customer's same-day lines that way takes a row
# per customer and slot instead of a hash table with a row per customer and day (the summary of the
# benchmark's ten million lines: 2.2 s instead of 3.5 s). Most customers fit in one slot.
SLOT_DAYS = 1024


def _purchase_days(until: str, after: str | None = None, among: str = "TRUE") -> str:
    """SQL for the purchase days in (after, until] of the customers `among` says; the arguments are
    SQL text naming query parameters, never values."""
    window = f"order_date <= {until}" + (f" AND order_date > {after}" if after else "")
    return f"""
        SELECT customer_id, order_date, sum(amount) AS spend
        FROM transactions WHERE {window} AND {IN_SAMPLE} AND {among}
        GROUP BY customer_id, order_date
        HAVING bool_or(amount >= 0)
    """


def _summary_sql(with_holdout: bool, with_orders: bool) -> str:
    """The summary query. One pass gives every column but the repeat spend of customers whose first
    purchase day holds more than one line or who ever returned something: their first day's spend or
    their return-only days need the lines merged into days, which a second pass does for them alone.
    The holdout purchases and the order count are run only when asked for (an empty holdout window
    still costs a pass over the transactions; a distinct count over every line is the costliest column
    of all, and the models do not need it)."""
    holdout = f""",
holdout AS (
    SELECT customer_id, count(*) AS holdout_frequency
    FROM ({_purchase_days("$holdout_end", after="$end")}) GROUP BY customer_id
)""" if with_holdout else ""
    orders = f""",
orders AS (
    SELECT customer_id, count(DISTINCT order_id) + count(*) FILTER (WHERE order_id IS NULL) AS orders
    FROM transactions WHERE order_date <= $end AND {IN_SAMPLE} GROUP BY customer_id
)""" if with_orders else ""
    return f"""
WITH slots AS (
    SELECT customer_id,
           day // {SLOT_DAYS} AS slot,
           bitstring_agg(day % {SLOT_DAYS}, 0, {SLOT_DAYS - 1}) FILTER (WHERE amount >= 0) AS purchase_days,
           min(order_date) FILTER (WHERE amount >= 0) AS first_purchase,
           max(order_date) FILTER (WHERE amount >= 0) AS last_purchase,
           (min(order_date, 2))[2] AS second_date,
           arg_min(amount, order_date) AS first_amount,
           count(*) FILTER (WHERE amount < 0) AS return_lines,
           sum(amount) AS revenue,
           sum(gross_margin) AS margin,
           sum(amount) FILTER (WHERE gross_margin IS NOT NULL) AS margin_revenue
    FROM (SELECT *, date_diff('day', (SELECT min(order_date) FROM transactions), order_date) AS day
          FROM transactions WHERE order_date <= $end AND {IN_SAMPLE})
    GROUP BY customer_id, slot
),
buyers AS MATERIALIZED (
    SELECT customer_id,
           (sum(bit_count(purchase_days)) - 1)::BIGINT AS frequency,
           min(first_purchase) AS first_purchase,
           max(last_purchase) AS last_purchase,
           -- without returns the first line is on the first purchase day; alone there when the next
           -- line is later: the repeat days then spent the revenue less that line
           sum(return_lines) = 0 AND coalesce(arg_min(second_date, slot) > min(first_purchase), TRUE) AS one_pass,
           sum(revenue) - arg_min(first_amount, slot) AS repeat_revenue,
           sum(revenue)::DOUBLE AS revenue,
           sum(margin)::DOUBLE AS margin,
           sum(margin_revenue)::DOUBLE AS margin_revenue
    FROM slots GROUP BY customer_id
    HAVING count(first_purchase) > 0
),
merged AS (
    SELECT customer_id, (sum(spend) - arg_min(spend, order_date))::DOUBLE / nullif(count(*) - 1, 0) AS repeat_spend
    FROM ({_purchase_days("$end", among="customer_id IN (SELECT customer_id FROM buyers WHERE NOT one_pass)")})
    GROUP BY customer_id
){holdout}{orders}
SELECT b.customer_id,
       b.frequency,
       date_diff('day', b.first_purchase, b.last_purchase) / $unit_days AS recency,
       date_diff('day', b.first_purchase, $end::DATE) / $unit_days AS "T",
       CASE WHEN b.one_pass AND b.frequency > 0 AND b.repeat_revenue > 0 THEN b.repeat_revenue::DOUBLE / b.frequency
            WHEN NOT b.one_pass AND m.repeat_spend > 0 THEN m.repeat_spend END AS monetary_value,
       b.first_purchase,
       b.last_purchase,
       {"o.orders," if with_orders else ""}
       b.revenue,
       b.margin,
       CASE WHEN b.margin_revenue > 0 THEN b.margin / b.margin_revenue END AS margin_rate
       {", coalesce(h.holdout_frequency, 0) AS holdout_frequency" if with_holdout else ""}
FROM buyers b
LEFT JOIN merged m USING (customer_id)
{"JOIN orders o USING (customer_id)" if with_orders else ""}
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
    orders: bool = True,
) -> pd.DataFrame:
    """One row per customer who had bought by the end date (see the module docstring).

    Without `calibration_end` the end date is `as_of` (default: the last order date of the base). With
    it, frequency/recency/T stop at `calibration_end` and the `holdout_frequency` column counts the
    repeat purchase days up to `holdout_end` (default: `as_of`). With `share`, only that fixed random
    share of the customers (see IN_SAMPLE). `orders=False` leaves out the order count, the costliest
    column (a distinct count over every line) and one the models do not need.
    """
    as_of = as_of or default_as_of(store)
    if as_of is None:
        return _empty_summary(calibration_end is not None, orders)
    end = calibration_end or as_of
    split = calibration_end is not None
    params = {"end": end, "unit_days": UNIT_DAYS[unit], "share": share}
    frame = store.large_df(_summary_sql(split, orders), {**params, "holdout_end": holdout_end or as_of} if split else params)
    frame["frequency"] = frame["frequency"].astype("int64")
    if split:
        frame["holdout_frequency"] = frame["holdout_frequency"].astype("int64")
    return frame


def _empty_summary(with_holdout: bool, with_orders: bool) -> pd.DataFrame:
    columns = ["customer_id", "frequency", "recency", "T", "monetary_value", "first_purchase", "last_purchase",
               *(["orders"] if with_orders else []), "revenue", "margin", "margin_rate",
               *(["holdout_frequency"] if with_holdout else [])]
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
