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
import pyarrow as pa
import pyarrow.compute as pc

from crm_logic.store import Store
from crm_logic.summary import customer_summary
from crm_logic.tiers.rfm import rfm_scores
from crm_logic.tiers.rules import ABSENT, PROSPECT, SegmentRules, as_text

QUARTER_MONTHS = 3

_KNOWN_SQL = "SELECT customer_id, created_date FROM customers"  # prospects are the known who have not bought


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
        "customer_id": summary["customer_id"].array,
        "purchases": summary["frequency"].to_numpy(np.int64) + 1,
        "days_since_last": (pd.Timestamp(day) - pd.to_datetime(summary["last_purchase"])).dt.days.to_numpy(),
        "revenue": summary["revenue"].to_numpy(float),
    })


def _members(buyers: pd.DataFrame, known: pa.Table, day: date, rules: SegmentRules, names: list[str]):
    """(customer ids, segment codes into `names`, revenue) of the buyers and then the prospects known by
    `day`. Ids stay in Arrow: pandas' isin on a million strings runs in Python."""
    ids = pa.array(buyers["customer_id"], pa.string())
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids  # arrow-backed pandas text
    codes = np.empty(0, np.int64)
    if len(buyers):
        segment = rfm_scores(buyers, rules.rfm)[0]["rfm_segment"].array
        codes = np.array([names.index(name) for name in segment.categories])[segment.codes]
    created = known["created_date"]
    prospect = pc.and_(pc.invert(pc.is_in(known["customer_id"], value_set=ids)),
                       pc.or_kleene(pc.is_null(created), pc.less_equal(created, pa.scalar(day, pa.date32()))))
    prospects = pc.filter(known["customer_id"], prospect)
    return (pa.concat_arrays([ids, prospects.combine_chunks()]),
            np.concatenate([codes, np.full(len(prospects), names.index(PROSPECT))]),
            np.concatenate([buyers["revenue"].to_numpy(float), np.zeros(len(prospects))]))


def segment_migration(store: Store, as_of: date, earlier: date | None = None, rules: SegmentRules | None = None,
                      values: pd.DataFrame | None = None) -> Migration:
    """Who was in which segment at `earlier` (default: a quarter before `as_of`) and is where now.
    `values`: customer_values at `as_of`, when the caller has them (saves one customer summary)."""
    rules = rules or SegmentRules()
    as_of = pd.Timestamp(as_of).date()
    earlier = pd.Timestamp(earlier).date() if earlier is not None else default_earlier(as_of)
    if earlier >= as_of:
        raise ValueError("the earlier date must come before the analysis date")
    names = [*dict.fromkeys(name for row in rules.rfm.segment_grid() for name in row), PROSPECT, ABSENT]
    with store.cursor() as cur:
        known = cur.sql(_KNOWN_SQL).to_arrow_table()
    then_ids, then_codes, then_revenue = _members(_buyers_at(store, earlier), known, earlier, rules, names)
    ids, to_codes, revenue = _members(_buyers_at(store, as_of, values), known, as_of, rules, names)
    at = pc.fill_null(pc.index_in(ids, value_set=then_ids), -1).to_numpy()
    found = at >= 0
    from_codes = np.where(found, then_codes[at], names.index(ABSENT))
    period_revenue = revenue - np.where(found, then_revenue[at], 0.0)
    membership = pd.DataFrame({
        "customer_id": ids.to_pandas().array,
        "from_segment": as_text(from_codes, names).array,
        "to_segment": as_text(to_codes, names).array,
        "revenue": revenue,
        "period_revenue": period_revenue,
    })
    pair = from_codes * len(names) + to_codes
    flows = pd.DataFrame({"pair": pair, "revenue": revenue, "period_revenue": period_revenue}).groupby("pair").agg(
        customers=("revenue", "size"), revenue=("revenue", "sum"), period_revenue=("period_revenue", "sum"))
    flows.insert(0, "to_segment", [names[p % len(names)] for p in flows.index])
    flows.insert(0, "from_segment", [names[p // len(names)] for p in flows.index])
    flows = flows.reset_index(drop=True).sort_values("customers", ascending=False, ignore_index=True)
    return Migration(earlier, as_of, membership, flows)


def flow_customers(migration: Migration, from_segment: str, to_segment: str) -> pd.DataFrame:
    """The customers of one flow, most revenue first."""
    m = migration.membership
    return m[(m["from_segment"] == from_segment) & (m["to_segment"] == to_segment)].sort_values(
        "revenue", ascending=False, ignore_index=True)
