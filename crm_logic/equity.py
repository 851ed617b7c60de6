"""Reading customer equity out of the customer values: where it sits, how it spreads, who carries it.

Everything here works on the `scores.customer_values` frame in memory (and the facts' `groups`, aligned
with it): a setting change costs a few passes over a million floats, no query and no fit.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crm_logic.clv import average_clv, clv_bridge
from crm_logic.store import Store

SPLITS = ("customer_class", "region")
DECILES = 10
TOP_SHARE = 0.2
TOP_CUSTOMERS = 50
# A top customer's value is explained by what stands out against the base: the share of customers
# above whom they must sit for the reason to be named.
REASON_QUANTILE = 0.8
REASONS = ("frequent", "recent", "big_spender")


def ranked_clv(values: pd.DataFrame) -> np.ndarray:
    """The known CLVs in ascending order. The figures of the spread by rank (deciles, bands) read
    from this one sort: at a million customers one sort costs less than the partitions and the
    histogram's own sort it replaces."""
    clv = values["clv"].to_numpy(dtype=float)
    return np.sort(clv[~np.isnan(clv)])


def equity_summary(values: pd.DataFrame) -> dict:
    """The headline figures of the CLV page. The top-20 % share ranks every customer, those without a
    CLV last. The median and the top share come from one partition (a third of a sort's cost: the
    headline is computed on every setting change)."""
    clv = values["clv"].to_numpy(dtype=float)
    known = clv[~np.isnan(clv)]  # in the customers' order: the equity has the same bits as every other sum
    customers = len(values)
    p_alive = values["p_alive"].to_numpy(dtype=float)
    out = {
        "customers": customers, "customer_equity": None, "mean_clv": None, "median_clv": None,
        "top20_share": None, "mean_p_alive": float(p_alive.mean()) if customers else None,
        "expected_purchases_12m": float(values["expected_purchases_12m"].sum()),
    }
    if known.size:
        equity = float(known.sum())
        top = min(known.size, max(1, math.ceil(customers * TOP_SHARE)))
        middle = known.size // 2
        placed = np.partition(known, sorted({max(middle - 1, 0), middle, known.size - top}))
        median = placed[middle] if known.size % 2 else (placed[middle - 1] + placed[middle]) / 2
        out.update(customer_equity=equity, mean_clv=float(known.mean()), median_clv=float(median),
                   top20_share=float(placed[known.size - top:].sum()) / equity if equity else None)
    return out


def equity_by(values: pd.DataFrame, groups: pd.DataFrame, split: str, ranked: np.ndarray | None = None) -> pd.DataFrame:
    """Customer equity by customer class or region (largest first; "" = unknown), or by value decile
    ("1" = the top 10 % by CLV), with each group's share of the whole equity. `ranked`: `ranked_clv(values)`
    when the caller has it already."""
    clv = values["clv"].to_numpy(dtype=float)
    known = ~np.isnan(clv)
    total = clv[known].sum()
    if split == "decile":
        largest_first = (ranked_clv(values) if ranked is None else ranked)[::-1]
        size, extra = divmod(largest_first.size, DECILES)
        sizes = np.array([size + (i < extra) for i in range(DECILES)])  # as SQL's ntile: the first ones larger
        sizes = sizes[sizes > 0]
        starts = np.cumsum(sizes) - sizes
        equity = np.add.reduceat(largest_first, starts) if len(sizes) else np.array([])
        return pd.DataFrame({"group": [str(i + 1) for i in range(len(sizes))], "customers": sizes,
                             "equity": equity, "share": equity / total if total else np.nan})
    codes = groups[split].cat.codes.to_numpy()[known]
    names = groups[split].cat.categories
    equity = np.bincount(codes, weights=clv[known], minlength=len(names))
    customers = np.bincount(codes, minlength=len(names))
    frame = pd.DataFrame({"group": np.asarray(names, dtype=object), "customers": customers, "equity": equity,
                          "share": equity / total if total else np.nan})
    frame = frame[frame.customers > 0]
    return frame.sort_values("equity", ascending=False, kind="stable").reset_index(drop=True)


def clv_histogram(values: pd.DataFrame, bins: int = 30, cap_quantile: float = 0.95,
                  ranked: np.ndarray | None = None) -> pd.DataFrame:
    """Customers per CLV band of a round width (¥500, ¥2,000 ...). Customers above the `cap_quantile`
    share the last, open-ended band, so a few whales do not squeeze everyone else into one bar.
    Counted by bisecting the ranked values at the band edges (`ranked` as in `equity_by`): the
    counts of `np.histogram`, bands [low, high) and the last one closed, without its sort."""
    known = ranked_clv(values) if ranked is None else ranked
    if known.size == 0:
        return pd.DataFrame(columns=["low", "high", "customers", "open_ended"])
    low, cap = min(0.0, float(known[0])), float(np.quantile(known, cap_quantile))
    step = round_step(max(cap - low, 1.0) / bins)
    edges = np.arange(np.floor(low / step) * step, cap + step, step)
    if len(edges) < 2:
        edges = np.array([edges[0], edges[0] + step])
    below = np.searchsorted(known, edges[1:-1], side="left")  # customers under each inner edge
    counts = np.diff(np.concatenate(([0], below, [known.size])))  # whales count in the last band
    frame = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "customers": counts, "open_ended": False})
    frame.loc[frame.index[-1], "open_ended"] = bool(known[-1] > edges[-1])
    return frame


def round_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least `raw`: band widths people can read."""
    magnitude = 10 ** np.floor(np.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw))


def top_customers(store: Store, values: pd.DataFrame, groups: pd.DataFrame, limit: int = TOP_CUSTOMERS) -> pd.DataFrame:
    """The most valuable customers with who they are, their figures and why they are worth it.

    `reasons` lists stable keys: frequent (repeat purchases), recent (last purchase late in their life
    with us, recency / T), big_spender (average repeat spend) — each when above the base's 80th percentile.
    """
    frequency, recency, T, monetary = (values[c].to_numpy(dtype=float)
                                       for c in ("frequency", "recency", "T", "monetary_value"))
    lateness = np.divide(recency, T, out=np.full(len(T), np.nan), where=T != 0)
    thresholds = [np.nanquantile(column, REASON_QUANTILE) if np.isfinite(column).any() else np.nan
                  for column in (frequency, lateness, monetary)]
    clv = values["clv"].to_numpy(dtype=float)
    known = np.flatnonzero(~np.isnan(clv))
    if len(known) > limit:  # the limit largest, ties at the edge kept for the sort below
        edge = np.partition(clv[known], len(known) - limit)[len(known) - limit]
        known = known[clv[known] >= edge]
    order = known[np.lexsort((values["customer_id"].iloc[known].to_numpy(), -clv[known]))][:limit]
    frame = values.iloc[order][["customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
                                "expected_purchases_12m", "clv"]].reset_index(drop=True)
    names = store.df("SELECT customer_id, name FROM customers WHERE customer_id IN (SELECT unnest(?))",
                     [list(frame["customer_id"])])
    frame.insert(1, "name", frame["customer_id"].map(names.set_index("customer_id")["name"]))
    for position, column in enumerate(SPLITS):
        frame.insert(2 + position, column, groups[column].iloc[order].to_numpy().astype(object))
    stands_out = np.column_stack([frequency[order] > thresholds[0], lateness[order] > thresholds[1],
                                  monetary[order] > thresholds[2]])
    frame["reasons"] = [[reason for reason, yes in zip(REASONS, row) if yes] for row in stands_out]
    return frame


def comparison_inputs(values: pd.DataFrame) -> dict:
    """The per-customer means `clv_comparison` sets side by side (from one setting's values)."""
    def mean(column):
        column = column[~np.isnan(column)]
        return float(column.mean()) if column.size else None

    rate, purchases = values["margin_rate"].to_numpy(dtype=float), values["expected_purchases_horizon"].to_numpy()
    return {
        "customers": len(values),
        "revenue": float(values["revenue"].sum()),
        "past_margin": mean(values["revenue"].to_numpy(dtype=float) * rate),
        "future_margin": mean(values["expected_spend"].to_numpy(dtype=float) * rate * purchases),
        "model_clv": mean(values["clv"].to_numpy(dtype=float)),
    }


def clv_comparison(inputs: dict, marketing_spend: float, retention_cost: float) -> dict:
    """The teaching material's average CLV over the whole history beside the mean model CLV, and the
    steps between them (`clv.clv_bridge`). Every customer in the base was once new, so the acquisition
    cost per customer is the marketing spend over all customers."""
    customers = inputs["customers"]
    average = average_clv(inputs["revenue"], customers, customers, marketing_spend, retention_cost)
    bridge = ([] if inputs["model_clv"] is None else
              clv_bridge(average, inputs["past_margin"], inputs["future_margin"], inputs["model_clv"]))
    return {"average": average, "bridge": bridge}


def clv_figures(store: Store, facts, values: pd.DataFrame, part: str) -> dict:
    """What one part of the CLV page draws for one setting, computed only when that part is shown (a
    setting change recomputes the headline and the open tab, not the whole page): the headline figures,
    equity by class and region, its spread by decile and CLV band, the top customers, or the inputs of
    the classic comparison."""
    if part == "headline":
        return equity_summary(values)
    if part == "groups":
        return {split: equity_by(values, facts.groups, split) for split in SPLITS}
    if part == "spread":
        ranked = ranked_clv(values)
        return {"decile": equity_by(values, facts.groups, "decile", ranked),
                "histogram": clv_histogram(values, ranked=ranked)}
    if part == "top":
        return top_customers(store, values, facts.groups)
    if part == "comparison":
        return comparison_inputs(values)
    raise ValueError(f"no part {part!r} of the CLV page")
