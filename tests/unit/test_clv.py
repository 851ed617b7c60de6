"""Discounted CLV against the published CDNOW figures and closed forms; the teaching formula and the bridge."""
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_logic import clv
from crm_logic.models import BetaGeoModel, GammaGammaModel
from crm_logic.store import Store
from crm_logic.summary import customer_summary
from tests.unit.cdnow_fixture import BG_NBD_PARAMS, CALIBRATION_END, GAMMA_GAMMA_PARAMS, cdnow_base


def published_models():
    """BG/NBD and Gamma-Gamma at the published CDNOW parameters (model-anchors.md)."""
    return BetaGeoModel.from_params(BG_NBD_PARAMS), GammaGammaModel.from_params(GAMMA_GAMMA_PARAMS)


class ConstantRate:
    """A stand-in transaction model with a known answer: `rate` purchases per time unit, for everyone."""

    def __init__(self, rate):
        self.rate = rate

    def conditional_expected_purchases(self, t, frequency, recency, T):
        return self.rate * np.asarray(t) * np.ones(len(np.atleast_1d(frequency)))  # t: scalar or a column


def value(model, unit, months, discount, margin=1.0, customers=1):
    cumulative = clv.cumulative_purchases(model, np.zeros(customers), np.zeros(customers), np.ones(customers),
                                          unit, months)
    return clv.discounted_clv(cumulative, np.full(customers, margin), discount)


@pytest.fixture(scope="module")
def cdnow_calibration(tmp_path_factory):
    with cdnow_base(tmp_path_factory.mktemp("clv") / "cdnow.duckdb") as store:
        return customer_summary(store, unit="week", calibration_end=CALIBRATION_END)


def test_named_cdnow_customer_is_worth_the_published_36_28():
    """model-anchors.md: x = 2, t_x = 30.43, T = 38.86, mean repeat spend 22.345 (customer 00004),
    12 months at 1 % a month, margin 1, weekly model with f = 4.345 -> 36.28."""
    bg, gg = published_models()
    frequency, recency, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    spend = clv.expected_spend(gg, frequency, np.array([22.345]))
    cumulative = clv.cumulative_purchases(bg, frequency, recency, T, "week", 12)
    assert clv.discounted_clv(cumulative, spend, 0.01)[0] == pytest.approx(36.28, rel=1e-3)


def test_cdnow_customer_equity_is_the_published_71_509(cdnow_calibration):
    bg, gg = published_models()
    s = cdnow_calibration
    spend = clv.expected_spend(gg, s.frequency, s.monetary_value)
    cumulative = clv.cumulative_purchases(bg, s.frequency, s.recency, s["T"], "week", 12)
    values = clv.discounted_clv(cumulative, spend, 0.01)
    assert len(values) == 2357
    assert clv.customer_equity(values) == pytest.approx(71509, rel=1e-3)


def test_customers_without_usable_repeat_spend_get_the_population_mean():
    _, gg = published_models()
    population = 6.2496 * 15.4435 / (3.7442 - 1)  # p * gamma / (q - 1), Fader & Hardie (2013)
    spend = clv.expected_spend(gg, np.array([0, 3, 2]), pd.Series([None, None, 40.0]))
    assert spend[:2] == pytest.approx([population, population])
    assert spend[2] == pytest.approx(6.2496 * (15.4435 + 2 * 40.0) / (6.2496 * 2 + 3.7442 - 1))


def test_constant_rate_gives_the_geometric_sum():
    """rate r per week, f = 4.345 weeks a month: CLV = m * r * f * (1 - (1 + d)^-K) / d."""
    rate, margin, months, d = 0.5, 20.0, 12, 0.01
    expected = margin * rate * 4.345 * (1 - (1 + d) ** -months) / d
    assert value(ConstantRate(rate), "week", months, d, margin)[0] == pytest.approx(expected)


def test_undiscounted_value_is_margin_times_expected_purchases():
    assert value(ConstantRate(1.0), "month", 24, 0.0, margin=10.0)[0] == pytest.approx(240.0)


def test_a_daily_model_is_priced_in_days_not_weeks():
    """The known trap: the same behaviour modelled per day or per week must be worth the same."""
    weekly = value(ConstantRate(0.7), "week", 12, 0.01)[0]
    daily = value(ConstantRate(0.1), "day", 12, 0.01)[0]
    assert daily == pytest.approx(weekly, rel=1e-3)  # 30.4375 / 7 = 4.348 days vs 4.345 weeks a month


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 40),
    recency_share=st.floats(0, 1),
    T=st.floats(0.5, 80),
    spend=st.floats(1, 500),
    low=st.floats(0, 0.2),
    extra=st.floats(0, 0.2),
    months=st.integers(1, 60),
)
def test_clv_does_not_increase_with_the_discount_rate(x, recency_share, T, spend, low, extra, months):
    bg, _ = published_models()
    recency = 0.0 if x == 0 else recency_share * T
    cumulative = clv.cumulative_purchases(bg, np.array([x]), np.array([recency]), np.array([T]), "week", months)
    cheap = clv.discounted_clv(cumulative, np.array([spend]), low)[0]
    dear = clv.discounted_clv(cumulative, np.array([spend]), low + extra)[0]
    assert dear <= cheap + 1e-9 * abs(cheap)
    assert dear >= 0


def test_own_margin_rate_where_known_default_elsewhere():
    rates = clv.margin_rates(pd.Series([0.42, None, float("nan")]), 0.3)
    assert rates.tolist() == [0.42, 0.3, 0.3]


def test_average_clv_follows_the_teaching_formula():
    """(revenue - acquisition cost - retention cost) / customers, acquisition per customer = spend / new."""
    result = clv.average_clv(revenue=100_000, customers=400, new_customers=100, marketing_spend=5_000,
                             retention_cost=8_000)
    assert result.acquisition_cost_per_customer == pytest.approx(50.0)
    assert result.revenue_per_customer == pytest.approx(250.0)
    assert result.retention_cost_per_customer == pytest.approx(20.0)
    assert result.average_clv == pytest.approx(250.0 - 50.0 - 20.0)


def test_average_clv_needs_new_customers_for_the_acquisition_cost():
    result = clv.average_clv(revenue=1000, customers=10, new_customers=0, marketing_spend=500)
    assert result.acquisition_cost_per_customer is None and result.average_clv is None


def test_bridge_steps_add_up_from_the_average_to_the_model_value():
    average = clv.average_clv(revenue=10_000, customers=100, new_customers=50, marketing_spend=1_000,
                              retention_cost=500)
    steps = clv.clv_bridge(average, past_margin_per_customer=30.0, future_margin_per_customer=45.0,
                           model_clv_per_customer=42.0)
    assert [s["key"] for s in steps] == [
        "average_clv", "costs", "revenue_to_margin", "past_to_future", "discounting", "model_clv"]
    assert steps[0]["value"] == pytest.approx(100 - 20 - 5)
    assert sum(s["value"] for s in steps[:-1]) == pytest.approx(steps[-1]["value"])
    assert steps[2]["value"] == pytest.approx(30.0 - 100.0)


def test_period_figures_count_revenue_customers_and_new_customers(tmp_path):
    store = Store(tmp_path / "p.duckdb")
    rows = pd.DataFrame({
        "customer_id": ["old", "old", "new", "new"],
        "order_date": pd.to_datetime(["2023-05-01", "2024-02-01", "2024-03-01", "2024-03-02"]),
        "amount": [10.0, 20.0, 30.0, -5.0],
        "gross_margin": [None, 6.0, 9.0, None],
    })
    with store.transaction() as cur:
        cur.register("rows", rows)
        cur.execute("INSERT INTO transactions (customer_id, order_date, amount, gross_margin) SELECT * FROM rows")
    figures = clv.period_figures(store, date(2023, 12, 31), date(2024, 12, 31))
    assert figures == {"revenue": pytest.approx(45.0), "customers": 2, "new_customers": 1, "margin": pytest.approx(15.0)}
    store.close()
