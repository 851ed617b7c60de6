"""ABC tiers on a hand-computed example, the Pareto curve and the core-customer quadrant."""
import numpy as np
import pandas as pd
import pytest

from crm_logic.tiers import ValueRules, abc_tiers, pareto_curve
from crm_logic.tiers.value import core_quadrants, share_ahead


def test_abc_boundaries_on_a_hand_computed_example():
    # total of the positive values = 100. Worth strictly more than each: 50 -> 0 %, 20 -> 50 %,
    # both 10s -> 70 % (< 80 %: A, although the second one carries the total to 90 %), 5 -> 90 % (B),
    # 3 -> 95 % (not below 95 %: C), 2 -> 98 %, 0 and -4: no value, C.
    values = [10, 50, 3, 20, 10, 0, 5, 2, -4]
    assert list(abc_tiers(values)) == ["A", "A", "C", "A", "A", "C", "B", "C", "C"]
    assert list(share_ahead(values)) == pytest.approx([0.7, 0, 0.95, 0.5, 0.7, 1.0, 0.9, 0.98, 1.0])


def test_the_customer_who_crosses_the_line_is_in_the_upper_tier():
    assert list(abc_tiers([40, 40, 20])) == ["A", "A", "B"]       # 20 has 80 % ahead: not below 80 %
    assert list(abc_tiers([79, 16, 5])) == ["A", "A", "C"]        # 16 crosses 80 % -> A; 5 has 95 % ahead
    assert list(abc_tiers([60, 30, 10], (0.5, 0.9))) == ["A", "B", "C"]  # 60 crosses 50 %; 30 has 60 % ahead


def test_equal_values_share_a_tier_whatever_their_order():
    values = np.array([5.0] * 10 + [100.0])
    tiers = abc_tiers(values)
    assert tiers[-1] == "A" and len(set(tiers[:10])) == 1
    shuffled = np.random.default_rng(1).permutation(len(values))
    assert list(abc_tiers(values[shuffled])) == list(tiers[shuffled])


def test_nothing_to_share_puts_everyone_in_c():
    assert list(abc_tiers([0, 0, -3])) == ["C", "C", "C"]
    assert list(abc_tiers([np.nan, 10])) == ["C", "A"]


def test_bad_shares_are_refused():
    with pytest.raises(ValueError):
        abc_tiers([1, 2], (0.95, 0.8))
    with pytest.raises(ValueError):
        ValueRules(abc_measure="profit")


def test_pareto_curve_runs_from_nothing_to_everything_through_hand_points():
    curve = pareto_curve([50, 30, 10, 10], points=5)
    assert list(curve["customer_share"]) == [0, 0.25, 0.5, 0.75, 1]
    assert list(curve["measure_share"]) == pytest.approx([0, 0.5, 0.8, 0.9, 1.0])


def test_pareto_curve_is_thinned_to_the_points_asked_for():
    curve = pareto_curve(np.arange(10_000.0), points=101)
    assert len(curve) == 101 and curve["measure_share"].is_monotonic_increasing
    assert curve["measure_share"].iloc[-1] == pytest.approx(1.0)


def test_core_quadrants_split_at_the_medians():
    current = [10, 20, 30, 40]    # median 25
    predicted = [4, 1, 3, 2]      # median 2.5
    quadrant, thresholds = core_quadrants(current, predicted, ValueRules())
    assert list(quadrant) == ["rising", "marginal", "core", "harvest"]
    assert thresholds == {"current": 25, "predicted": 2.5}


def test_core_quadrants_with_a_top_share_and_unknown_values():
    current = [1, 2, 3, 4, 5, np.nan]
    predicted = [5, 4, 3, 2, 1, np.nan]
    quadrant, _ = core_quadrants(current, predicted, ValueRules(core_high_share=0.2))  # above the 80th percentile
    assert list(pd.Series(quadrant).astype(object).fillna("unknown")) == ["rising", "marginal", "marginal", "marginal", "harvest", "unknown"]
