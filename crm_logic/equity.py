"""Reading customer equity out of customer_scores: where it sits, how it spreads, who carries it.

Everything here reads the scores table that `scores.ensure_scores` keeps fresh; nothing is fitted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_logic.store import Store

SPLITS = {"customer_class": "c.customer_class", "region": "c.region"}
DECILES = 10
# A top customer's value is explained by what stands out against the base: the share of customers
# above whom they must sit for the reason to be named.
REASON_QUANTILE = 0.8
REASONS = ("frequent", "recent", "big_spender")


def equity_by(store: Store, split: str) -> pd.DataFrame:
    """Customer equity by customer class, region or value decile (1 = the top 10 % by CLV)."""
    if split == "decile":
        return store.df(
            f"""
            SELECT CAST(decile AS VARCHAR) AS "group", count(*) AS customers, sum(clv) AS equity,
                   sum(clv) / (SELECT sum(clv) FROM customer_scores) AS share
            FROM (SELECT clv, ntile({DECILES}) OVER (ORDER BY clv DESC) AS decile
                  FROM customer_scores WHERE clv IS NOT NULL)
            GROUP BY decile ORDER BY decile
            """
        )
    column = SPLITS[split]  # a fixed column expression, never user text
    return store.df(
        f"""
        SELECT coalesce({column}, '') AS "group", count(*) AS customers, sum(s.clv) AS equity,
               sum(s.clv) / (SELECT sum(clv) FROM customer_scores) AS share
        FROM customer_scores s LEFT JOIN customers c USING (customer_id)
        WHERE s.clv IS NOT NULL GROUP BY 1 ORDER BY equity DESC
        """
    )


def clv_histogram(store: Store, bins: int = 30, cap_quantile: float = 0.95) -> pd.DataFrame:
    """Customers per CLV band of a round width (¥500, ¥2,000 ...). Customers above the `cap_quantile`
    share the last, open-ended band, so a few whales do not squeeze everyone else into one bar."""
    values = store.df("SELECT clv FROM customer_scores WHERE clv IS NOT NULL")["clv"].to_numpy()
    if values.size == 0:
        return pd.DataFrame(columns=["low", "high", "customers", "open_ended"])
    low, cap = min(0.0, float(values.min())), float(np.quantile(values, cap_quantile))
    step = round_step(max(cap - low, 1.0) / bins)
    edges = np.arange(np.floor(low / step) * step, cap + step, step)
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0] + step])
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    frame = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "customers": counts, "open_ended": False})
    frame.loc[frame.index[-1], "open_ended"] = bool(values.max() > edges[-1])
    return frame


def round_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least `raw`: band widths people can read."""
    magnitude = 10 ** np.floor(np.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw))


def top_customers(store: Store, limit: int = 20) -> pd.DataFrame:
    """The most valuable customers with who they are, their figures and why they are worth it.

    `reasons` lists stable keys: frequent (repeat purchases), recent (last purchase late in their life
    with us, recency / T), big_spender (average repeat spend) — each when above the base's 80th percentile.
    """
    frame = store.df(
        """
        WITH thresholds AS (
            SELECT quantile_cont(frequency, $q) AS f, quantile_cont(recency / nullif(T, 0), $q) AS r,
                   quantile_cont(monetary_value, $q) AS m
            FROM customer_scores
        )
        SELECT s.customer_id, c.name, c.customer_class, c.region, s.frequency, s.recency, s.T,
               s.monetary_value, s.p_alive, s.expected_purchases_12m, s.clv,
               s.frequency > t.f AS frequent, s.recency / nullif(s.T, 0) > t.r AS recent,
               coalesce(s.monetary_value > t.m, FALSE) AS big_spender
        FROM customer_scores s LEFT JOIN customers c USING (customer_id), thresholds t
        WHERE s.clv IS NOT NULL ORDER BY s.clv DESC, s.customer_id LIMIT $limit
        """,
        {"q": REASON_QUANTILE, "limit": limit},
    )
    frame["reasons"] = [
        [reason for reason in REASONS if bool(row[reason])] for _, row in frame.iterrows()
    ]
    return frame.drop(columns=list(REASONS))
