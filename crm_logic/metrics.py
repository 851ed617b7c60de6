"""The overview figures and data-quality facts of a base, as of an analysis date.

The window is the 12 months ending at the analysis date; the comparison window is the 12 months
before it. Revenue nets returns (negative amounts); margin is the sum of known gross margins.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from crm_logic.store import Store

TOP_SHARE = 0.2          # the "20" of 20/80
MAX_CATEGORIES = 12      # bars before an "other" bar
OTHER = "__other__"      # stable key the UI translates


def default_as_of(store: Store) -> date | None:
    """The analysis date a base opens on: its last order date."""
    return store.scalar("SELECT max(order_date) FROM transactions")


def _window_figures(store: Store, start: date | None, end: date) -> dict:
    """Customers, revenue, margin and top-20% share for orders in (start, end]."""
    row = store.one(
        """
        WITH w AS (
            SELECT customer_id, amount, gross_margin FROM transactions
            WHERE order_date <= $end AND ($start IS NULL OR order_date > $start)
        ), per_customer AS (
            SELECT customer_id, sum(amount) AS revenue FROM w GROUP BY customer_id
        ), ranked AS (
            SELECT revenue, row_number() OVER (ORDER BY revenue DESC) AS rank, count(*) OVER () AS n
            FROM per_customer
        )
        SELECT
            (SELECT count(*) FROM per_customer),
            (SELECT coalesce(sum(amount), 0) FROM w),
            (SELECT sum(gross_margin) FROM w),
            (SELECT sum(revenue) FILTER (WHERE rank <= greatest(1, ceil(n * $top)))
                    / nullif(sum(revenue), 0) FROM ranked)
        """,
        {"start": start, "end": end, "top": TOP_SHARE},
    )
    customers, revenue, margin, top_share = row
    return {
        "active_customers": int(customers),
        "revenue": float(revenue),
        "gross_margin": None if margin is None else float(margin),
        "top20_share": None if top_share is None else float(top_share),
    }


def _cumulative_figures(store: Store, end: date) -> dict:
    """Customers who have bought by `end`, and the share who came back on another day."""
    customers, repeaters = store.one(
        """
        SELECT count(*), count(*) FILTER (WHERE days >= 2) FROM (
            SELECT customer_id, count(DISTINCT order_date) AS days FROM transactions
            WHERE order_date <= $end GROUP BY customer_id
        )
        """,
        {"end": end},
    )
    return {"customers": int(customers), "repeat_rate": repeaters / customers if customers else None}


def overview_kpis(store: Store, as_of: date) -> dict:
    """Each KPI for the 12 months to `as_of` and for the 12 months before, keyed 'current'/'previous'."""
    year_ago = pd.Timestamp(as_of) - pd.DateOffset(months=12)
    two_years_ago = year_ago - pd.DateOffset(months=12)
    current = _window_figures(store, year_ago.date(), as_of) | _cumulative_figures(store, as_of)
    previous = _window_figures(store, two_years_ago.date(), year_ago.date()) | _cumulative_figures(
        store, year_ago.date()
    )
    return {"current": current, "previous": previous, "window_start": year_ago.date(), "as_of": as_of}


def monthly_new_vs_returning(store: Store, as_of: date, months: int = 24) -> pd.DataFrame:
    """Revenue per month split into new customers (first purchase that month) and returning ones."""
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=months - 1)).replace(day=1).date()
    return store.df(
        """
        WITH first AS (
            SELECT customer_id, date_trunc('month', min(order_date)) AS first_month
            FROM transactions GROUP BY customer_id
        )
        SELECT date_trunc('month', t.order_date) AS month,
               CASE WHEN date_trunc('month', t.order_date) = f.first_month THEN 'new' ELSE 'returning' END
                   AS customer_kind,
               sum(t.amount)::DOUBLE AS revenue
        FROM transactions t JOIN first f USING (customer_id)
        WHERE t.order_date >= $start AND t.order_date <= $end
        GROUP BY ALL ORDER BY month, customer_kind
        """,
        {"start": start, "end": as_of},
    )


BREAKDOWNS = {"region": "region", "customer_class": "customer_class"}


def revenue_by(store: Store, dimension: str, as_of: date) -> pd.DataFrame:
    """Revenue of the last 12 months by a customer attribute, largest first, the tail as one OTHER row."""
    column = BREAKDOWNS[dimension]  # a fixed column name, never user text
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=12)).date()
    frame = store.df(
        f"""
        SELECT coalesce(c.{column}, '') AS "group", sum(t.amount)::DOUBLE AS revenue,
               count(DISTINCT t.customer_id) AS customers
        FROM transactions t LEFT JOIN customers c USING (customer_id)
        WHERE t.order_date > $start AND t.order_date <= $end
        GROUP BY 1 ORDER BY revenue DESC
        """,
        {"start": start, "end": as_of},
    )
    if len(frame) > MAX_CATEGORIES:
        head, tail = frame.iloc[: MAX_CATEGORIES - 1], frame.iloc[MAX_CATEGORIES - 1 :]
        other = pd.DataFrame([{"group": OTHER, "revenue": tail.revenue.sum(), "customers": tail.customers.sum()}])
        frame = pd.concat([head, other], ignore_index=True)
    return frame


def quality_facts(store: Store) -> dict:
    """What a careful analyst checks before trusting a base."""
    rows, customers, first, last, returns, returns_sum, zero, distinct_lines = store.one(
        """
        SELECT count(*), count(DISTINCT customer_id), min(order_date), max(order_date),
               count(*) FILTER (WHERE amount < 0), coalesce(sum(amount) FILTER (WHERE amount < 0), 0),
               count(*) FILTER (WHERE amount = 0),
               (SELECT count(*) FROM (SELECT DISTINCT customer_id, order_id, order_date, amount, quantity,
                                             category FROM transactions))
        FROM transactions
        """
    )
    prospects = store.scalar(
        "SELECT count(*) FROM customers c WHERE NOT EXISTS "
        "(SELECT 1 FROM transactions t WHERE t.customer_id = c.customer_id)"
    )
    return {
        "rows": int(rows),
        "customers": int(customers),
        "first_date": first,
        "last_date": last,
        "returns": int(returns),
        "returns_amount": float(returns_sum),
        "zero_value_orders": int(zero),
        "duplicate_rows": int(rows - distinct_lines),
        "customers_without_orders": int(prospects),
        "interactions": int(store.scalar("SELECT count(*) FROM interactions")),
    }


def customers_in_group(store: Store, dimension: str, group: str, as_of: date, limit: int = 500) -> pd.DataFrame:
    """The customers behind one bar of `revenue_by` (OTHER: the folded tail), biggest spenders first."""
    column = BREAKDOWNS[dimension]  # a fixed column name, never user text
    start = (pd.Timestamp(as_of) - pd.DateOffset(months=12)).date()
    return store.df(
        f"""
        WITH w AS (
            SELECT t.*, coalesce(c.{column}, '') AS grp, c.name, c.customer_class, c.region
            FROM transactions t LEFT JOIN customers c USING (customer_id)
            WHERE t.order_date > $start AND t.order_date <= $end
        ), ranked AS (
            SELECT grp, row_number() OVER (ORDER BY sum(amount) DESC) AS rank FROM w GROUP BY grp
        )
        SELECT customer_id, any_value(name) AS name, any_value(customer_class) AS customer_class,
               any_value(region) AS region, sum(amount)::DOUBLE AS revenue,
               count(DISTINCT order_date) AS purchase_days, max(order_date) AS last_order
        FROM w WHERE grp IN (
            SELECT grp FROM ranked WHERE CASE WHEN $group = $other THEN rank >= $max ELSE grp = $group END
        )
        GROUP BY customer_id ORDER BY revenue DESC LIMIT $limit
        """,
        {"start": start, "end": as_of, "group": group, "other": OTHER, "max": MAX_CATEGORIES, "limit": limit},
    )
