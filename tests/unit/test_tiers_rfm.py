"""RFM scores and the editable R × F grid: ties, custom cut-offs, every default segment, grid validation."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_logic.tiers import (
    DEFAULT_GRID, PROSPECT, RfmRules, default_grid, grid_frame, grid_from_frame, normalise_grid, rfm_scores,
    validate_grid,
)
from crm_logic.tiers.rfm import quantile_bounds, score

# crm-concepts.md 4a, typed from the page: rows R = 5 .. 1, columns F = 1 .. 5.
CONCEPTS_GRID = """
5 | new customers | potential loyalists | potential loyalists | champions | champions
4 | promising | potential loyalists | potential loyalists | loyal | loyal
3 | about to sleep | about to sleep | need attention | loyal | loyal
2 | hibernating | hibernating | at risk | at risk | can't lose them
1 | hibernating | hibernating | at risk | at risk | can't lose them
"""
CODE = {"new customers": "new_customers", "potential loyalists": "potential_loyalists", "champions": "champions",
        "promising": "promising", "loyal": "loyal", "about to sleep": "about_to_sleep",
        "need attention": "need_attention", "hibernating": "hibernating", "at risk": "at_risk",
        "can't lose them": "cant_lose_them"}


def concepts_cells() -> dict[tuple[int, int], str]:
    cells = {}
    for line in CONCEPTS_GRID.strip().splitlines():
        r, *names = [part.strip() for part in line.split("|")]
        for f, name in enumerate(names, start=1):
            cells[(int(r), f)] = CODE[name]
    return cells


def frequency_scores(values, scale=5):
    return score("frequency", values, tuple(quantile_bounds(np.asarray(values, float), scale)), scale)


def test_quintiles_cut_only_between_distinct_values():
    # 10 customers, distinct values 1..6 with counts 3,2,1,1,2,1: the cuts nearest to 2, 4, 6 and 8
    # customers that fall between distinct values are after 3, 5, 6 and 7 customers.
    values = [1, 1, 1, 2, 2, 3, 4, 5, 5, 6]
    assert list(frequency_scores(values)) == [1, 1, 1, 2, 2, 3, 4, 5, 5, 5]


def test_quintiles_of_distinct_values_are_equal_groups():
    values = np.arange(100)[::-1]
    scores = frequency_scores(values)
    assert list(np.bincount(scores)[1:]) == [20] * 5
    assert scores[values == 0] == 1 and scores[values == 99] == 5


def test_fewer_distinct_values_than_scores_spread_from_lowest_to_highest():
    assert list(frequency_scores([1, 1, 2, 2, 2])) == [1, 1, 5, 5, 5]
    assert list(frequency_scores([1, 2, 3, 3])) == [1, 1 + 2, 5, 5]
    assert list(frequency_scores([7, 7, 7])) == [1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=300), st.integers(2, 9), st.sampled_from([1, 2.5, 1e6]))
def test_equal_values_get_equal_scores_and_every_score_is_used(values, scale, unit):
    values = np.array(values) / unit  # whole numbers are counted, fractions and wide ranges sorted
    scores = frequency_scores(values, scale)
    for v in np.unique(values):
        assert len(set(scores[values == v])) == 1
    order = np.argsort(values, kind="stable")
    assert (np.diff(scores[order]) >= 0).all()  # more is never scored lower
    if len(np.unique(values)) >= scale:
        assert set(scores) == set(range(1, scale + 1))
    assert scores.min() >= 1 and scores.max() <= scale


def test_recency_scores_run_the_other_way():
    days = np.array([0, 5, 5, 40, 100, 400, 400, 401, 900, 1000])
    frame = pd.DataFrame({"days_since_last": days, "purchases": 1, "revenue": 1.0})
    r = rfm_scores(frame, RfmRules())[0]["r_score"].to_numpy()
    assert r[0] == 5 and r[-1] == 1
    assert (np.diff(r) <= 0).all() and r[1] == r[2] and r[5] == r[6]


def test_custom_cutoffs_are_upper_bounds_for_recency_and_lower_bounds_for_the_others():
    rules = RfmRules(cutoffs=(("recency", (30, 90, 180, 365)), ("frequency", (2, 3, 5, 10)),
                              ("monetary", (100, 500, 1000, 5000))))
    frame = pd.DataFrame({
        "days_since_last": [0, 30, 31, 90, 91, 365, 366],
        "purchases": [1, 2, 3, 4, 5, 10, 11],
        "revenue": [99.99, 100, 499, 500, 1000, 4999, 5000],
    })
    scores, cutoffs = rfm_scores(frame, rules)
    assert list(scores["r_score"]) == [5, 5, 4, 4, 3, 2, 1]
    assert list(scores["f_score"]) == [1, 2, 3, 3, 4, 5, 5]
    assert list(scores["m_score"]) == [1, 2, 2, 3, 4, 4, 5]
    assert list(scores["rfm_score"]) == ["511", "522", "432", "433", "344", "254", "155"]
    assert cutoffs["recency"] == (30, 90, 180, 365)


def test_custom_cutoffs_for_one_measure_leave_quantiles_for_the_others():
    frame = pd.DataFrame({"days_since_last": np.arange(10), "purchases": np.arange(10), "revenue": np.arange(10.0)})
    scores, cutoffs = rfm_scores(frame, RfmRules(cutoffs=(("frequency", (100, 200, 300, 400)),)))
    assert set(scores["f_score"]) == {1}
    assert list(np.bincount(scores["r_score"])[1:]) == [2] * 5


@pytest.mark.parametrize("cutoffs", [(1, 2, 3), (1, 2, 2, 3), (5, 4, 3, 2), (1, 2, float("nan"), 4)])
def test_bad_cutoffs_are_refused(cutoffs):
    frame = pd.DataFrame({"days_since_last": [1], "purchases": [1], "revenue": [1.0]})
    with pytest.raises(ValueError):
        rfm_scores(frame, RfmRules(cutoffs=(("recency", cutoffs),)))


def test_every_segment_of_the_default_grid_is_reached_by_customers_with_known_scores():
    # cut-offs that make R and F known by hand: days 5/15/25/35/45 -> R 5..1, purchases p -> F p
    rules = RfmRules(cutoffs=(("recency", (10, 20, 30, 40)), ("frequency", (2, 3, 4, 5))))
    cells = concepts_cells()
    days_for_r = {5: 5, 4: 15, 3: 25, 2: 35, 1: 45}
    frame = pd.DataFrame([{"days_since_last": days_for_r[r], "purchases": f, "revenue": 10.0} for r, f in cells])
    scores, _ = rfm_scores(frame, rules)
    assert list(zip(scores["r_score"], scores["f_score"])) == list(cells)
    assert list(scores["rfm_segment"]) == list(cells.values())
    assert set(scores["rfm_segment"]) == set(CODE.values())


def test_default_grid_is_the_concepts_page_table():
    assert {(5 - i, j + 1): DEFAULT_GRID[i][j] for i in range(5) for j in range(5)} == concepts_cells()
    assert default_grid(5) == DEFAULT_GRID


@pytest.mark.parametrize("scale", range(2, 10))
def test_stretched_default_grids_keep_the_corners(scale):
    grid = default_grid(scale)
    assert not validate_grid(grid, scale)
    assert (grid[0][0], grid[0][-1], grid[-1][0], grid[-1][-1]) == (
        "new_customers", "champions", "hibernating", "cant_lose_them")


def test_validator_names_holes_and_overlaps_with_their_cells():
    frame = grid_frame(DEFAULT_GRID)
    frame.loc[3, 3] = None
    frame.loc[5, 1] = "loyal, champions"
    frame.loc[1, 5] = "  "
    frame.loc[2, 2] = PROSPECT
    frame.loc[4, 1] = "Big Fish"
    found = {(p.kind, p.r, p.f) for p in validate_grid(grid_from_frame(frame))}
    assert found == {("hole", 3, 3), ("overlap", 5, 1), ("hole", 1, 5), ("reserved", 2, 2), ("bad_name", 4, 1)}


def test_validator_names_missing_rows_and_columns():
    short = [list(row) for row in DEFAULT_GRID[:4]]
    short[0] = short[0][:3]
    found = {(p.kind, p.r, p.f) for p in validate_grid(short)}
    assert found == {("hole", 5, 4), ("hole", 5, 5), *{("hole", 1, f) for f in range(1, 6)}}
    assert any(p.kind == "shape" for p in validate_grid([list(DEFAULT_GRID[0])] * 6))


def test_an_edited_grid_moves_customers_and_custom_names_are_allowed():
    grid = [list(row) for row in DEFAULT_GRID]
    grid[0][0] = "first_timers"
    assert not validate_grid(grid)
    rules = RfmRules(cutoffs=(("recency", (10, 20, 30, 40)), ("frequency", (2, 3, 4, 5))), grid=normalise_grid(grid))
    frame = pd.DataFrame({"days_since_last": [1, 1], "purchases": [1, 5], "revenue": [1.0, 1.0]})
    assert list(rfm_scores(frame, rules)[0]["rfm_segment"]) == ["first_timers", "champions"]
    with pytest.raises(ValueError):
        RfmRules(grid=(("loyal",) * 5,) * 4)


CELL = st.one_of(st.sampled_from(["champions", "loyal", "at_risk", "hibernating", "vip_2"]),
                 st.sampled_from([None, "", " ", "loyal,champions", "at_risk / loyal", PROSPECT, "absent", "Bad Name"]),
                 st.lists(st.sampled_from(["loyal", "champions"]), min_size=0, max_size=2))


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.lists(CELL, min_size=n, max_size=n), min_size=n, max_size=n),
    st.lists(st.tuples(st.integers(0, 400), st.integers(1, 40), st.floats(0, 1e5)), min_size=1, max_size=60))))
def test_any_accepted_grid_places_every_buyer_in_exactly_one_segment(case):
    scale, grid, customers = case
    problems = validate_grid(grid, scale)
    if problems:
        bad = {(p.r, p.f) for p in problems}
        assert all(1 <= r <= scale and 1 <= f <= scale for r, f in bad)
        return
    rules = RfmRules(scale=scale, grid=normalise_grid(grid, scale))
    frame = pd.DataFrame(customers, columns=["days_since_last", "purchases", "revenue"])
    scores = rfm_scores(frame, rules)[0]
    def mentions(cell):  # the names a raw, accepted cell holds
        return {c.strip() for c in cell} if isinstance(cell, list) else {cell.strip()}

    for r, f, segment in zip(scores["r_score"], scores["f_score"], scores["rfm_segment"]):
        assert mentions(grid[scale - r][f - 1]) == {segment}  # exactly one segment, the one given
