"""The overview figures and data-quality facts of a base, as of an analysis date.

The window is the 12 months ending at the analysis date; the comparison window is the 12 months
before it. Revenue nets returns (negative amounts); margin is the sum of known gross margins.

Each figure is a scan of every transaction, so it is computed once per data-set version and kept in the
base (`kept_in_base`, table `derived`): the first visit of a page after a restart reads a few rows.
"""
from __future__ import annotations

import functools
import json
import pickle
from datetime import date

import duckdb
import pandas as pd

from crm_logic.store import BaseBusy, Store

DERIVED_TABLE = """CREATE TABLE IF NOT EXISTS derived (
    key VARCHAR PRIMARY KEY, dataset_version INTEGER NOT NULL, value BLOB NOT NULL)"""


def kept_in_base(fn):
    """`fn(store, *args)` computed once per data-set version and kept in the base's `derived` table
    (one row per function and arguments, replaced when the data change). Derived data: keeping it does
    not change the data-set version. A read-only base computes every time. The values are pickled: the
    base is the app's own file, and a result may hold dates and frames."""
    @functools.wraps(fn)
    def kept(store: Store, *args, **kwargs):
        key = json.dumps([fn.__qualname__, *args, kwargs], default=str, sort_keys=True)
        version = store.dataset_version  # before computing: an import meanwhile leaves the row stale
        try:
            row = store.one("SELECT value FROM derived WHERE key = ? AND dataset_version = ?", [key, version])
        except duckdb.CatalogException:  # a base that has never kept anything
            row = None
        if row is not None:
            return pickle.loads(row[0])
        value = fn(store, *args, **kwargs)
        try:
            with store._write_lock, store.cursor() as cur:
                cur.execute(DERIVED_TABLE)
                cur.execute("INSERT OR REPLACE INTO derived VALUES (?, ?, ?)", [key, version, pickle.dumps(value)])
        except (duckdb.InvalidInputException, BaseBusy):  # opened read-only, or another program writes: next time
            pass
        return value
    return kept

TOP_SHARE = 0.2          # the "20" of 20/80
MAX_CATEGORIES = 12      # bars before an "other" bar
OTHER = "__other__"      # stable key the UI translates


def default_as_of(store: Store) -> date | None:
    """The analysis date a base opens on: its last order date."""
    return store.scalar("SELECT max(order_date) FROM transactions")


@kept_in_base
def overview_kpis(store: Store, as_of: date) -> dict:
    """Each KPI for the 12 months to `as_of` and for the 12 months before, keyed 'current'/'previous':
    customers who had bought by the window's end and the share of them who came back on another day
    (first day < last day), customers active in the window, revenue, margin and the top-20% share.
    One pass over the transactions, one row per customer."""
    year_ago = (pd.Timestamp(as_of) - pd.DateOffset(months=12)).date()
    two_years_ago = (pd.Timestamp(year_ago) - pd.DateOffset(months=12)).date()
    per_period = {}
    row = store.one(
        """
        WITH per_customer AS MATERIALIZED (
            SELECT min(order_date) AS first_day, max(order_date) AS last_day,
                   max(order_date) FILTER (WHERE order_date <= $year_ago) AS last_day_previous,
                   count(*) FILTER (WHERE order_date > $year_ago) AS lines_current,
                   sum(amount) FILTER (WHERE order_date > $year_ago) AS revenue_current,
                   sum(gross_margin) FILTER (WHERE order_date > $year_ago) AS margin_current,
                   count(*) FILTER (WHERE order_date <= $year_ago AND order_date > $two_years_ago) AS lines_previous,
                   sum(amount) FILTER (WHERE order_date <= $year_ago AND order_date > $two_years_ago) AS revenue_previous,
                   sum(gross_margin) FILTER (WHERE order_date <= $year_ago AND order_date > $two_years_ago)
                       AS margin_previous
            FROM transactions WHERE order_date <= $end GROUP BY customer_id
        ),
        top_current AS (
            SELECT sum(revenue_current) FILTER (WHERE rank <= greatest(1, ceil(n * $top))) / nullif(sum(revenue_current), 0)
            FROM (SELECT revenue_current, row_number() OVER (ORDER BY revenue_current DESC) AS rank, count(*) OVER () AS n
                  FROM per_customer WHERE lines_current > 0)
        ),
        top_previous AS (
            SELECT sum(revenue_previous) FILTER (WHERE rank <= greatest(1, ceil(n * $top))) / nullif(sum(revenue_previous), 0)
            FROM (SELECT revenue_previous, row_number() OVER (ORDER BY revenue_previous DESC) AS rank, count(*) OVER () AS n
                  FROM per_customer WHERE lines_previous > 0)
        )
        SELECT count(*), count(*) FILTER (WHERE last_day > first_day),
               count(*) FILTER (WHERE lines_current > 0), coalesce(sum(revenue_current), 0)::DOUBLE,
               sum(margin_current)::DOUBLE, (SELECT * FROM top_current),
               count(*) FILTER (WHERE first_day <= $year_ago), count(*) FILTER (WHERE last_day_previous > first_day),
               count(*) FILTER (WHERE lines_previous > 0), coalesce(sum(revenue_previous), 0)::DOUBLE,
               sum(margin_previous)::DOUBLE, (SELECT * FROM top_previous)
        FROM per_customer
        """,
        {"end": as_of, "year_ago": year_ago, "two_years_ago": two_years_ago, "top": TOP_SHARE},
    )
    for period, (customers, repeaters, active, revenue, margin, top_share) in (("current", row[:6]),
                                                                              ("previous", row[6:])):
        per_period[period] = {
            "customers": int(customers),
            "repeat_rate": repeaters / customers if customers else None,
            "active_customers": int(active),
            "revenue": float(revenue),
            "gross_margin": None if margin is None else float(margin),
            "top20_share": None if top_share is None else float(top_share),
        }
    return {**per_period, "window_start": year_ago, "as_of": as_of}


@kept_in_base
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


@kept_in_base
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


@kept_in_base
def quality_facts(store: Store) -> dict:
    """What a careful analyst checks before trusting a base. Exact duplicate lines are counted by a
    64-bit hash of the six columns that make a line, not by a DISTINCT over the columns themselves
    (on four million lines that DISTINCT held 400 MB of text); two different lines share a hash with
    a probability of about n² / 2⁶⁵, 5 in 10 million at four million lines."""
    rows, customers, first, last, returns, returns_sum, zero, distinct_lines = store.one(
        """
        SELECT count(*), count(DISTINCT customer_id), min(order_date), max(order_date),
               count(*) FILTER (WHERE amount < 0), coalesce(sum(amount) FILTER (WHERE amount < 0), 0),
               count(*) FILTER (WHERE amount = 0),
               count(DISTINCT hash(customer_id, order_id, order_date, amount, quantity, category))
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
