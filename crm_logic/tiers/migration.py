"""Segment migration: each customer's RFM segment at two analysis dates and the flows between them.

Both dates are scored the same way (quantile cut-offs of that date's buyers, or the user's cut-offs) from
the customer summary at that date, so each date agrees with segment_table there. Revenue is net revenue up
to the later date; period_revenue what the customer spent between the two dates.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from crm_logic.store import Store
from crm_logic.summary import customer_summary
from crm_logic.tiers.rfm import rfm_scores
from crm_logic.tiers.rules import PROSPECT, SegmentRules

ABSENT = "absent"  # not yet in the base at the earlier date
QUARTER_MONTHS = 3

_KNOWN_SQL = "SELECT customer_id, created_date FROM customers"


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


def _buyers_at(store: Store, day: date, values: pd.DataFrame | None = None) -> pd.DataFrame:
    """customer_id, purchases, days_since_last and revenue of everyone who had bought by `day`, from the
    customer summary (or from `values`, customer_values at that day, which holds the same columns)."""
    summary = customer_summary(store, as_of=day, orders=False) if values is None else values
    return pd.DataFrame({
        "customer_id": summary["customer_id"].to_numpy(),
        "purchases": summary["frequency"].to_numpy(np.int64) + 1,
        "days_since_last": (pd.Timestamp(day) - pd.to_datetime(summary["last_purchase"])).dt.days.to_numpy(),
        "revenue": summary["revenue"].to_numpy(float),
    })


def _segments(buyers: pd.DataFrame, known: pd.DataFrame, day: date, rules: SegmentRules) -> pd.DataFrame:
    """customer_id, segment (codes as text) and revenue of the buyers and of the customers known by `day`."""
    segment = rfm_scores(buyers, rules.rfm)[0]["rfm_segment"].astype(object) if len(buyers) else []
    created = pd.to_datetime(known["created_date"])
    known = known.loc[(created.isna() | (created <= pd.Timestamp(day))).to_numpy()
                      & ~known["customer_id"].isin(buyers["customer_id"]).to_numpy(), ["customer_id"]]
    return pd.concat([buyers[["customer_id"]].assign(segment=segment, revenue=buyers["revenue"]),
                      known.assign(segment=PROSPECT, revenue=0.0)], ignore_index=True)


def segment_migration(store: Store, as_of: date, earlier: date | None = None, rules: SegmentRules | None = None,
                      values: pd.DataFrame | None = None) -> Migration:
    """Who was in which segment at `earlier` (default: a quarter before `as_of`) and is where now.
    `values`: customer_values at `as_of`, when the caller has them (saves one customer summary)."""
    rules = rules or SegmentRules()
    as_of = pd.Timestamp(as_of).date()
    earlier = pd.Timestamp(earlier).date() if earlier is not None else default_earlier(as_of)
    if earlier >= as_of:
        raise ValueError("the earlier date must come before the analysis date")
    known = store.large_df(_KNOWN_SQL)
    then = _segments(_buyers_at(store, earlier), known, earlier, rules).rename(
        columns={"segment": "from_segment", "revenue": "revenue_then"})
    now = _segments(_buyers_at(store, as_of, values), known, as_of, rules).rename(columns={"segment": "to_segment"})
    membership = now.merge(then, on="customer_id", how="left")
    membership["from_segment"] = membership["from_segment"].fillna(ABSENT)
    membership["period_revenue"] = membership["revenue"] - membership.pop("revenue_then").fillna(0.0)
    membership = membership[["customer_id", "from_segment", "to_segment", "revenue", "period_revenue"]]
    flows = (membership.groupby(["from_segment", "to_segment"], sort=False)
             .agg(customers=("customer_id", "size"), revenue=("revenue", "sum"), period_revenue=("period_revenue", "sum"))
             .reset_index().sort_values("customers", ascending=False, ignore_index=True))
    return Migration(earlier, as_of, membership, flows)


def flow_customers(migration: Migration, from_segment: str, to_segment: str) -> pd.DataFrame:
    """The customers of one flow, most revenue first."""
    m = migration.membership
    return m[(m["from_segment"] == from_segment) & (m["to_segment"] == to_segment)].sort_values(
        "revenue", ascending=False, ignore_index=True)
