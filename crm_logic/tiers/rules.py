"""The rules that place customers in groups, kept as data with the defaults of crm-concepts.md 4a.

Every rule is a frozen dataclass (hashable, so pages can cache on it) that the Segments page edits with
`dataclasses.replace`. The RFM grid is kept cell by cell, as the page shows it: `grid[i][j]` names the
segment of R = scale - i and F = j + 1 (the top row is the most recent customers, the left column the
least frequent), exactly the table of crm-concepts.md 4a.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

SEGMENTS = ("champions", "loyal", "potential_loyalists", "new_customers", "promising", "need_attention",
            "about_to_sleep", "at_risk", "cant_lose_them", "hibernating")
PROSPECT = "prospect"  # rfm_segment of customers who have not bought
ABSENT = "absent"      # migration: not yet in the base at the earlier date
TIERS = ("A", "B", "C")
QUADRANTS = ("core", "rising", "harvest", "marginal")  # current × predicted value: hh, lh, hl, ll
FORMS = ("basic", "passive", "responsible", "proactive", "partner")
LEVELS = ("level_1_financial", "level_2_social", "level_3_structural")
BEHAVIOURS = ("loyal", "discount_hunter", "target", "incidental")
MATURITIES = ("current", "target", "potential")
ABC_MEASURES = ("revenue", "margin", "clv")
RFM_MEASURES = ("recency", "frequency", "monetary")

Grid = tuple[tuple[str, ...], ...]

DEFAULT_GRID: Grid = (  # R = 5 .. 1 top to bottom, F = 1 .. 5 left to right
    ("new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
)


def categorical(codes, categories) -> pd.Categorical:
    """Group codes as a pandas Categorical (code -1 = no group): a million of them cost a million small
    integers, not a million strings. The codes are ours, so pandas need not check them."""
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(categories), validate=False)


def as_text(codes, categories) -> pd.Series:
    """Group codes (-1 = missing) as a plain text column, through Arrow's dictionary cast: the consumers
    of segment_table get ordinary strings, and a million of them cost about 10 ms per column."""
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    text = pa.DictionaryArray.from_arrays(indices, pa.array(list(categories), pa.string())).cast(pa.string())
    return pd.Series(text.to_pandas())


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def default_grid(scale: int = 5) -> Grid:
    """The default map stretched to another scale: score s of `scale` reads the 5-point cell
    1 + round(4 (s - 1) / (scale - 1)), so every scale keeps the four corners of the 5-point map."""
    def five(score: int) -> int:
        return 1 + round(4 * (score - 1) / (scale - 1))
    return tuple(tuple(DEFAULT_GRID[5 - five(r)][five(f) - 1] for f in range(1, scale + 1))
                 for r in range(scale, 0, -1))


@dataclass(frozen=True)
class GridProblem:
    """One thing wrong with a grid: `kind` (hole, overlap, reserved, bad_name, shape) at R, F (1-based
    scores; None when the whole grid is the wrong shape), and the offending cell content."""

    kind: str
    r: int | None
    f: int | None
    content: str = ""


def validate_grid(grid, scale: int = 5) -> list[GridProblem]:
    """Problems that make a grid unusable; an empty list means every buyer lands in exactly one segment.

    A hole is a cell (or a missing row/column) without a segment; an overlap is a cell naming more than
    one segment ("loyal, champions" or a list); names are lower-case codes (a-z, 0-9, _); "prospect" and
    "absent" are kept for customers who have not bought and for those not yet in the base.
    """
    problems: list[GridProblem] = []
    rows = list(grid) if grid is not None else []
    if len(rows) > scale:
        problems.append(GridProblem("shape", None, None, f"{len(rows)} rows"))
    for i in range(scale):
        r = scale - i
        row = list(rows[i]) if i < len(rows) and rows[i] is not None else []
        if len(row) > scale:
            problems.append(GridProblem("shape", r, None, f"{len(row)} columns"))
        for j in range(scale):
            f = j + 1
            cell = row[j] if j < len(row) else None
            names = _cell_names(cell)
            text = "" if cell is None else (", ".join(map(str, cell)) if isinstance(cell, (list, tuple)) else str(cell))
            if not names:
                problems.append(GridProblem("hole", r, f, text))
            elif len(set(names)) > 1:
                problems.append(GridProblem("overlap", r, f, text))
            elif names[0] in (PROSPECT, ABSENT):
                problems.append(GridProblem("reserved", r, f, text))
            elif not _NAME.match(names[0]):
                problems.append(GridProblem("bad_name", r, f, text))
    return problems


def _cell_names(cell) -> list[str]:
    if cell is None:
        return []
    if isinstance(cell, (list, tuple, set)):
        parts = [str(c) for c in cell]
    else:
        if isinstance(cell, float) and cell != cell:  # NaN from an edited DataFrame
            return []
        parts = re.split(r"[,;/|+]", str(cell))
    return [p.strip() for p in parts if p is not None and p.strip()]


def normalise_grid(grid, scale: int = 5) -> Grid:
    """An accepted grid (validate_grid returned nothing) as a tuple of tuples of codes."""
    problems = validate_grid(grid, scale)
    if problems:
        raise ValueError(f"invalid grid: {problems}")
    return tuple(tuple(_cell_names(grid[i][j])[0] for j in range(scale)) for i in range(scale))


def grid_frame(grid: Grid) -> pd.DataFrame:
    """The grid as the page edits it: rows R = scale .. 1, columns F = 1 .. scale (integer labels)."""
    scale = len(grid)
    return pd.DataFrame([list(row) for row in grid], index=pd.Index(range(scale, 0, -1), name="R"),
                        columns=pd.Index(range(1, scale + 1), name="F"))


def grid_from_frame(frame: pd.DataFrame) -> list[list]:
    """An edited grid frame back to rows of cells, in the frame's R-descending order (check it with
    validate_grid, then normalise_grid)."""
    ordered = frame.sort_index(ascending=False).sort_index(axis=1)
    return [[None if (isinstance(v, float) and v != v) else v for v in row] for row in ordered.to_numpy().tolist()]


@dataclass(frozen=True)
class RfmRules:
    """How R, F and M become scores and R × F a segment.

    scale: scores 1..scale (2-9), 5 = most recent / most frequent / highest spend.
    cutoffs: None = balanced quantiles; or {measure: (scale - 1 ascending numbers)} for some measures:
      recency in days since the last purchase, upper bounds of scores scale..2 (30 → R = scale up to 30 days);
      frequency in purchase days and monetary in money, lower bounds of scores 2..scale.
    grid: the segment of each R × F cell (see the module docstring); None = default_grid(scale).
    """

    scale: int = 5
    cutoffs: tuple[tuple[str, tuple[float, ...]], ...] = ()
    grid: Grid | None = None

    def __post_init__(self):
        if not 2 <= self.scale <= 9:
            raise ValueError("scale must be between 2 and 9 (rfm_score is one digit per measure)")
        if self.grid is not None and validate_grid(self.grid, self.scale):
            raise ValueError(f"invalid grid: {validate_grid(self.grid, self.scale)}")

    def cutoffs_for(self, measure: str) -> tuple[float, ...] | None:
        return dict(self.cutoffs).get(measure)

    def segment_grid(self) -> Grid:
        return self.grid if self.grid is not None else default_grid(self.scale)


@dataclass(frozen=True)
class ValueRules:
    """ABC tiers and the core-customer quadrant.

    abc_measure: revenue, margin (gross margin; revenue × the default margin rate where none is known) or clv.
    abc_shares: cumulative shares that close A and B (default A = first 80 %, B = next 15 %, C = rest).
      A customer is in A when the customers worth strictly more than it together make less than 80 % of the
      total (so the customer who crosses 80 % is in A, and equal values share a tier); likewise B below 95 %.
      Values at or below zero are C. The total is the sum of the positive values.
    core_current: the current-value axis of the 2×2 (revenue or margin); the predicted axis is the CLV.
    core_high_share: "high" on an axis = above the (1 - share) quantile of the buyers (0.5 = above the median).
    """

    abc_measure: str = "revenue"
    abc_shares: tuple[float, float] = (0.80, 0.95)
    core_current: str = "revenue"
    core_high_share: float = 0.5

    def __post_init__(self):
        if self.abc_measure not in ABC_MEASURES:
            raise ValueError(f"abc_measure must be one of {ABC_MEASURES}")
        if not 0 < self.abc_shares[0] < self.abc_shares[1] <= 1:
            raise ValueError("abc_shares must satisfy 0 < A < B <= 1")
        if self.core_current not in ("revenue", "margin"):
            raise ValueError("core_current is revenue or margin")
        if not 0 < self.core_high_share < 1:
            raise ValueError("core_high_share is a share between 0 and 1")


@dataclass(frozen=True)
class LadderRules:
    """The five relationship forms from contacts in the last `window_days`, checked from the top:

    partner      ≥ partner_min_joint_projects joint projects;
    proactive    ≥ proactive_min_contacts contacts from us not within follow_up_days after a purchase;
    responsible  a contact from us within follow_up_days after at least responsible_min_share of the
                 purchase days in the window (and after one at least);
    passive      ≥ passive_min_inbound contacts from the customer (inquiries, complaints);
    basic        none of these: no contact after purchases.
    Maturity: current = bought in the window; target = no purchase in the window but a contact in it;
    potential = neither.
    """

    window_days: int = 365
    follow_up_days: int = 30
    responsible_min_share: float = 0.5
    proactive_min_contacts: int = 4
    partner_min_joint_projects: int = 1
    passive_min_inbound: int = 1
    levels: tuple[tuple[str, str], ...] = (
        ("basic", "level_1_financial"), ("passive", "level_1_financial"),
        ("responsible", "level_2_social"), ("proactive", "level_2_social"),
        ("partner", "level_3_structural"),
    )

    def __post_init__(self):
        if {form for form, _ in self.levels} != set(FORMS) or not {level for _, level in self.levels} <= set(LEVELS):
            raise ValueError("levels must map every form to one of the three levels")


@dataclass(frozen=True)
class BehaviourRules:
    """The four behavioural types, checked in this order:

    discount_hunter  ≥ hunter_min_purchases purchase days and ≥ hunter_min_share of the orders on discount;
    loyal            ≥ loyal_min_purchases purchase days over ≥ loyal_min_tenure_days since the first,
                     or ≥ loyal_min_referrals customers referred and ≥ 2 purchase days;
    target           spend per purchase and purchases per year within target_max_distance (in standard
                     deviations of the log, on each) of the median of the A-tier customers;
    incidental       the rest (one purchase, or no pattern yet).
    """

    hunter_min_share: float = 0.5
    hunter_min_purchases: int = 2
    loyal_min_purchases: int = 4
    loyal_min_tenure_days: int = 365
    loyal_min_referrals: int = 1
    target_max_distance: float = 1.0
    target_min_tenure_days: int = 90  # purchases per year count tenure as at least this long


@dataclass(frozen=True)
class SegmentRules:
    rfm: RfmRules = field(default_factory=RfmRules)
    value: ValueRules = field(default_factory=ValueRules)
    ladder: LadderRules = field(default_factory=LadderRules)
    behaviour: BehaviourRules = field(default_factory=BehaviourRules)


DEFAULT_RULES = SegmentRules()
