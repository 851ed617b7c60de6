"""One customer at a time, for the Customer page (customer 360): find them, who they are, what they did."""
from __future__ import annotations

from datetime import date

import pandas as pd

from crm_logic.store import Store

PROFILE_FIELDS = ("name", "customer_class", "region", "industry", "channel", "referred_by", "club_member",
                  "personality_style", "prospect_grade", "created_date")


def find_customers(store: Store, text: str, limit: int = 50) -> pd.DataFrame:
    """Customers whose id or name contains `text` (case-insensitive), exact id matches first, then the
    biggest spenders, so the one a manager means is near the top."""
    return store.df(
        """
        SELECT c.customer_id, c.name, coalesce(sum(t.amount), 0)::DOUBLE AS revenue
        FROM customers c LEFT JOIN transactions t USING (customer_id)
        WHERE c.customer_id ILIKE '%' || $text || '%' ESCAPE '\\' OR c.name ILIKE '%' || $text || '%' ESCAPE '\\'
        GROUP BY c.customer_id, c.name
        ORDER BY lower(c.customer_id) = lower($text) DESC, revenue DESC, c.customer_id LIMIT $limit
        """,
        {"text": text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"), "limit": limit},
    )


def customer_profile(store: Store, customer_id: str) -> dict | None:
    """The customer's master data (None when the id is not in the base)."""
    frame = store.df(f"SELECT {', '.join(PROFILE_FIELDS)} FROM customers WHERE customer_id = ?", [customer_id])
    return None if frame.empty else frame.iloc[0].to_dict()


def purchases(store: Store, customer_id: str, as_of: date) -> pd.DataFrame:
    """The customer's purchase days up to the analysis date: amount, margin, categories, discount."""
    return store.df(
        """
        SELECT order_date, sum(amount)::DOUBLE AS amount, sum(gross_margin)::DOUBLE AS margin,
               count(*) AS lines, string_agg(DISTINCT category, ', ' ORDER BY category) AS categories,
               bool_or(discounted) AS discounted
        FROM transactions WHERE customer_id = ? AND order_date <= ?
        GROUP BY order_date ORDER BY order_date
        """,
        [customer_id, as_of],
    )


def interactions(store: Store, customer_id: str, as_of: date) -> pd.DataFrame:
    """The customer's contacts with us up to the analysis date, newest first."""
    return store.df(
        "SELECT interaction_date, direction, kind, satisfaction FROM interactions "
        "WHERE customer_id = ? AND interaction_date <= ? ORDER BY interaction_date DESC",
        [customer_id, as_of],
    )


def with_names(store: Store, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (one row per customer_id) with the customers' names as its second column, order kept."""
    with store.cursor() as cur:
        cur.register("listed", frame[["customer_id"]])
        names = cur.execute("SELECT customer_id, c.name FROM listed LEFT JOIN customers c USING (customer_id)").df()
    named = frame.merge(names.drop_duplicates("customer_id"), on="customer_id", how="left")
    return named[["customer_id", "name", *[c for c in frame.columns if c not in ("customer_id", "name")]]]


def bought_in_category(store: Store, category: str | None, as_of: date) -> pd.DataFrame:
    """The customers with a purchase line in `category` (None: lines without a category) up to `as_of`."""
    return store.df(
        "SELECT DISTINCT customer_id FROM transactions WHERE order_date <= ? AND category IS NOT DISTINCT FROM ?",
        [as_of, category])
