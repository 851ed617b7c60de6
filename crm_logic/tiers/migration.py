"""Segment migration: each customer's RFM segment at two analysis dates and the flows between them.

Both dates are scored the same way (quantile cut-offs of that date's buyers, or the user's cut-offs),
from the transactions alone, so the later date agrees with segment_table at that date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from crm_logic.store import Store
from crm_logic.tiers.rfm import rfm_scores
from crm_logic.tiers.rules import PROSPECT, SegmentRules

ABSENT = "absent"  # not yet in the base at the earlier date
QUARTER_MONTHS = 3

_BUYERS_SQL = """
SELECT customer_id,
       count(DISTINCT order_date) FILTER (WHERE amount >= 0) AS purchases,
       date_diff('day', max(order_date) FILTER (WHERE amount >= 0), $as_of::DATE) AS days_since_last,
       sum(amount)::DOUBLE AS revenue,
       (sum(amount) FILTER (WHERE order_date > $since))::DOUBLE AS period_revenue
FROM transactions WHERE order_date <= $as_of
GROUP BY customer_id HAVING count(*) FILTER (WHERE amount >= 0) > 0
"""

_KNOWN_SQL = "SELECT customer_id FROM customers WHERE created_date IS NULL OR created_date <= $as_of"


@dataclass(frozen=True)
class Migration:
    """membership: customer_id, from_segment, to_segment, revenue (up to the later date), period_revenue
    (between the dates); flows: from_segment, to_segment, customers, revenue, period_revenue."""

    earlier: date
    as_of: date
    membership: pd.DataFrame
    flows: pd.DataFrame


def default_earlier(as_of: date) -> date:
    """One quarter before the analysis date."""
    return (pd.Timestamp(as_of) - pd.DateOffset(months=QUARTER_MONTHS)).date()


def _segments_at(store: Store, day: date, since: date, rules: SegmentRules) -> pd.DataFrame:
    buyers = store.large_df(_BUYERS_SQL, {"as_of": day, "since": since})
    if len(buyers):
        buyers["segment"] = rfm_scores(buyers, rules.rfm)[0]["rfm_segment"].to_numpy()
    else:
        buyers["segment"] = pd.Series(dtype=object)
    known = store.large_df(_KNOWN_SQL, {"as_of": day})
    prospects = known[~known["customer_id"].isin(buyers["customer_id"])].assign(segment=PROSPECT)
    return pd.concat([buyers, prospects], ignore_index=True)


def segment_migration(store: Store, as_of: date, earlier: date | None = None,
                      rules: SegmentRules | None = None) -> Migration:
    """Who was in which segment at `earlier` (default: a quarter before `as_of`) and is where now."""
    rules = rules or SegmentRules()
    as_of = pd.Timestamp(as_of).date()
    earlier = pd.Timestamp(earlier).date() if earlier is not None else default_earlier(as_of)
    if earlier >= as_of:
        raise ValueError("the earlier date must come before the analysis date")
    then = _segments_at(store, earlier, earlier, rules)[["customer_id", "segment"]]
    now = _segments_at(store, as_of, earlier, rules)
    membership = now.rename(columns={"segment": "to_segment"}).merge(
        then.rename(columns={"segment": "from_segment"}), on="customer_id", how="left")
    membership["from_segment"] = membership["from_segment"].fillna(ABSENT)
    membership[["revenue", "period_revenue"]] = membership[["revenue", "period_revenue"]].fillna(0.0)
    membership = membership[["customer_id", "from_segment", "to_segment", "revenue", "period_revenue"]]
    flows = (membership.groupby(["from_segment", "to_segment"], sort=False)
             .agg(customers=("customer_id", "size"), revenue=("revenue", "sum"), period_revenue=("period_revenue", "sum"))
             .reset_index().sort_values("customers", ascending=False, ignore_index=True))
    return Migration(earlier, as_of, membership.sort_values("customer_id", ignore_index=True), flows)


def flow_customers(migration: Migration, from_segment: str, to_segment: str) -> pd.DataFrame:
    """The customers of one flow, most revenue first."""
    m = migration.membership
    return m[(m["from_segment"] == from_segment) & (m["to_segment"] == to_segment)].sort_values(
        "revenue", ascending=False, ignore_index=True)
