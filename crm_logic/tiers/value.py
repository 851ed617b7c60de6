"""Value tiers (ABC on a chosen measure, the Pareto curve) and the core-customer quadrant.

See ValueRules for the exact boundary rule: tiers depend on the values only (never on the order of
equal values), and the customer who carries the total across 80 % is still in A.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crm_logic.tiers.rules import QUADRANTS, TIERS, ValueRules, categorical


def share_ahead(values) -> np.ndarray:
    """For each customer, the share of the total (positive values) made by customers worth strictly
    more: 0 for the most valuable, 1 for those worth nothing. NaN counts as 0."""
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0).clip(min=0)
    total = v.sum()
    if total <= 0:
        return np.ones(len(v))
    distinct, inverse = np.unique(-v, return_inverse=True)  # most valuable first
    group_sum = np.bincount(inverse, weights=v, minlength=len(distinct))
    ahead = np.cumsum(group_sum) - group_sum
    return ahead[inverse] / total


def abc_tiers(values, shares: tuple[float, float] = (0.80, 0.95)) -> pd.Categorical:
    """"A", "B" or "C" per customer (see ValueRules.abc_shares)."""
    return tiers_from_share(share_ahead(values), values, shares)


def tiers_from_share(ahead: np.ndarray, values, shares: tuple[float, float]) -> pd.Categorical:
    """abc_tiers from share_ahead's result (computed once when the table needs both)."""
    a, b = shares
    if not 0 < a < b <= 1:
        raise ValueError("abc_shares must satisfy 0 < A < B <= 1")
    positive = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0) > 0
    return categorical(np.where(positive & (ahead < a), 0, np.where(positive & (ahead < b), 1, 2)), TIERS)


def pareto_curve(values, points: int = 201) -> pd.DataFrame:
    """The Pareto (Lorenz-style) curve: customer_share (most valuable first) -> measure_share, with
    `points` points from (0, 0) to (1, 1) for a chart. Negative values count as 0."""
    v = np.sort(np.nan_to_num(np.asarray(values, dtype=float), nan=0.0).clip(min=0))[::-1]
    n = len(v)
    if n == 0 or v.sum() <= 0:
        return pd.DataFrame({"customer_share": [0.0, 1.0], "measure_share": [0.0, 0.0 if n == 0 else 0.0]})
    cum = np.concatenate(([0.0], np.cumsum(v) / v.sum()))
    at = np.unique(np.round(np.linspace(0, n, min(points, n + 1))).astype(int))
    return pd.DataFrame({"customer_share": at / n, "measure_share": cum[at]})


def high_threshold(values, high_share: float) -> float:
    """The value above which a customer is "high" on a core axis: the (1 - share) quantile."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    return float(np.quantile(x, 1 - high_share)) if len(x) else np.nan


def core_quadrants(current, predicted, rules: ValueRules) -> tuple[pd.Categorical, dict]:
    """core (high now, high predicted), rising (low now, high predicted), harvest (high now, low
    predicted), marginal (low, low); None where a value is unknown. Also the two thresholds."""
    cur, pred = np.asarray(current, dtype=float), np.asarray(predicted, dtype=float)
    t_cur, t_pred = high_threshold(cur, rules.core_high_share), high_threshold(pred, rules.core_high_share)
    hc, hp = cur > t_cur, pred > t_pred
    codes = np.select([hc & hp, ~hc & hp, hc & ~hp], [0, 1, 2], 3)  # QUADRANTS order
    codes[np.isnan(cur) | np.isnan(pred)] = -1
    return categorical(codes, QUADRANTS), {"current": t_cur, "predicted": t_pred}
