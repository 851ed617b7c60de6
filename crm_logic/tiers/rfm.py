"""RFM scores and the R × F segment of every buyer, vectorised in numpy.

Measures (as of the analysis date): recency = days since the last purchase day, frequency = purchase
days, monetary = net revenue. Scores run 1..scale, higher = better (more recent, more frequent, more
spend). Without user cut-offs the scores are balanced quantiles that respect ties: the cut falls only
between distinct values (equal values, equal scores), as near to equal-sized groups as the ties allow,
and every score is used whenever there are at least `scale` distinct values (with fewer, each value is a
group of its own and the groups are spread over 1..scale, lowest to 1 and highest to scale).
"""
from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd

from crm_logic.tiers.rules import PROSPECT, RFM_MEASURES, Grid, RfmRules, categorical

RFM_COLUMNS = {"recency": "days_since_last", "frequency": "purchases", "monetary": "revenue"}


def _goodness(measure: str, values) -> np.ndarray:
    """The measure with higher = better (recency in days is turned round)."""
    x = np.asarray(values, dtype=float)
    return -x if measure == "recency" else x


def _to_user(measure: str, bounds: np.ndarray) -> tuple[float, ...]:
    """Internal lower bounds on goodness -> the cut-offs as users write them (recency: ascending days,
    upper bounds of scores scale..2; the others: lower bounds of scores 2..scale)."""
    return tuple(float(b) for b in (-bounds[::-1] if measure == "recency" else bounds))


def _from_user(measure: str, cutoffs) -> np.ndarray:
    c = np.asarray(cutoffs, dtype=float)
    return -c[::-1] if measure == "recency" else c


def quantile_bounds(goodness: np.ndarray, scale: int) -> np.ndarray:
    """Lower bounds (on goodness) of scores 2..scale for balanced, tie-respecting quantile groups."""
    x = goodness[~np.isnan(goodness)]
    if len(x) == 0:
        return np.full(scale - 1, np.inf)
    distinct, counts = _distinct_counts(x)
    k = len(distinct)
    groups = min(scale, k)
    before = np.concatenate(([0], np.cumsum(counts)))  # customers below distinct value b
    starts = [0]
    for i in range(1, groups):
        target = len(x) * i / groups
        lo, hi = starts[-1] + 1, k - (groups - i)
        b = int(np.clip(np.argmin(np.abs(before[lo:hi + 1] - target)) + lo, lo, hi))
        starts.append(b)
    if groups == 1:
        group_scores = np.array([1])
    elif groups < scale:
        group_scores = 1 + np.round(np.arange(groups) * (scale - 1) / (groups - 1)).astype(int)
    else:
        group_scores = np.arange(1, groups + 1)
    # lower bound of score s = the first value of the first group scoring at least s (none: +inf)
    bounds = np.full(scale - 1, np.inf)
    for s in range(2, scale + 1):
        reach = np.nonzero(group_scores >= s)[0]
        if len(reach):
            bounds[s - 2] = distinct[starts[reach[0]]]
    return bounds


def _distinct_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(x, return_counts=True), by counting instead of sorting when x holds whole numbers of a
    modest range (days, purchase days): the common case, and ten times faster at a million customers."""
    low, high = x.min(), x.max()
    if high - low <= 4 * len(x) + 1000 and np.array_equal(x, np.round(x)):
        counts = np.bincount((x - low).astype(np.int64))
        present = np.flatnonzero(counts)
        return present + low, counts[present]
    return np.unique(x, return_counts=True)


def validate_cutoffs(measure: str, cutoffs, scale: int) -> str | None:
    """Why user cut-offs cannot be used (a locale key under segments.cutoff_error), or None."""
    if measure not in RFM_MEASURES:
        return "measure"
    c = np.asarray(cutoffs, dtype=float)
    if c.ndim != 1 or len(c) != scale - 1:
        return "count"
    if np.isnan(c).any() or (len(c) > 1 and not (np.diff(c) > 0).all()):
        return "order"
    return None


def rfm_cutoffs(frame: pd.DataFrame, rules: RfmRules) -> dict[str, tuple[float, ...]]:
    """The cut-offs in force for each measure, in the users' units: the user's own where set, the
    balanced quantiles of `frame` (days_since_last, purchases, revenue) otherwise."""
    out = {}
    for measure in RFM_MEASURES:
        given = rules.cutoffs_for(measure)
        if given is not None:
            problem = validate_cutoffs(measure, given, rules.scale)
            if problem:
                raise ValueError(f"{measure} cut-offs: {problem}")
            out[measure] = tuple(float(v) for v in given)
        else:
            out[measure] = _to_user(measure, quantile_bounds(_goodness(measure, frame[RFM_COLUMNS[measure]]), rules.scale))
    return out


def score(measure: str, values, cutoffs, scale: int) -> np.ndarray:
    """Scores 1..scale of `values` under cut-offs in the users' units."""
    bounds = _from_user(measure, cutoffs)
    return 1 + np.searchsorted(bounds, _goodness(measure, values), side="right")


def segment_of(r, f, grid: Grid) -> pd.Categorical:
    """The grid's segment for each (R, F) pair (grid rows run from R = scale down to 1); the categories
    are the grid's names in reading order, then "prospect" (for tables that add the prospects)."""
    names = list(dict.fromkeys(name for row in grid for name in row))
    cells = np.array([[names.index(name) for name in row] for row in grid])
    return categorical(cells[len(grid) - np.asarray(r), np.asarray(f) - 1], [*names, PROSPECT])


def rfm_scores(frame: pd.DataFrame, rules: RfmRules) -> tuple[pd.DataFrame, dict]:
    """r_score, f_score, m_score, rfm_score ("545") and rfm_segment for each row of `frame`
    (days_since_last, purchases, revenue), and the cut-offs used."""
    cutoffs = rfm_cutoffs(frame, rules)
    n = rules.scale
    r = score("recency", frame["days_since_last"], cutoffs["recency"], n)
    f = score("frequency", frame["purchases"], cutoffs["frequency"], n)
    m = score("monetary", frame["revenue"], cutoffs["monetary"], n)
    out = pd.DataFrame({"r_score": r, "f_score": f, "m_score": m}, index=frame.index)
    labels = [f"{a}{b}{c}" for a, b, c in product(range(1, n + 1), repeat=3)]
    out["rfm_score"] = categorical((r - 1) * n * n + (f - 1) * n + (m - 1), labels)
    out["rfm_segment"] = segment_of(r, f, rules.segment_grid())
    return out, cutoffs
