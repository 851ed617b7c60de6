"""Summaries of the segment table the Segments page draws, as functions `fn(table, *args)` so that
`ui.state.segments_query` computes each once per base, data version, settings and rules."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from crm_logic import tiers
from crm_logic.tiers import UNKNOWN


def pareto_points(table: pd.DataFrame, shares: tuple[float, float]) -> pd.DataFrame:
    """The Pareto curve of the ABC measure (tiers.pareto_curve) with the tier each point falls in:
    a point belongs to the tier of the customers whose value it adds (the share before it is below
    A's share: A; below B's: B; else C)."""
    curve = tiers.pareto_curve(table["value_measure"].dropna().to_numpy())
    before = np.concatenate(([0.0], curve["measure_share"].to_numpy()[:-1]))
    return curve.assign(tier=np.where(before < shares[0], "A", np.where(before < shares[1], "B", "C")))


def prospect_breakdown(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """tiers.breakdown of the prospects (customers who have not bought) only."""
    return tiers.breakdown(table, column, table["rfm_segment"] == tiers.PROSPECT)


def cross(table: pd.DataFrame, dimension: str, by: str) -> pd.DataFrame:
    """Customers and revenue per (dimension, by) pair, missing values under UNKNOWN, dimension groups
    ordered by their revenue."""
    keys = {c: table[c].astype(object).where(table[c].notna(), UNKNOWN) for c in (dimension, by)}
    out = table.assign(**keys).groupby([dimension, by], sort=False).agg(
        customers=("customer_id", "size"), revenue=("revenue", "sum")).reset_index()
    order = out.groupby(dimension)["revenue"].sum().sort_values(ascending=False).index
    out[dimension] = pd.Categorical(out[dimension], categories=list(order), ordered=True)
    return out.sort_values([dimension, "revenue"], ascending=[True, False], ignore_index=True).astype(
        {dimension: object})


def category_split(table: pd.DataFrame, path: str, as_of: date, by: str) -> pd.DataFrame:
    """tiers.category_breakdown of the base at `path`, split by `by`."""
    from ui.state import open_base

    return tiers.category_breakdown(open_base(path), table, as_of, by)

