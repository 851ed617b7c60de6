"""The what-if engine on a small demo base: baseline identity, each lever against an independent computation
of its documented mapping, directions (property tests), segment moves, break-even."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from scipy import integrate, stats

from crm_logic import scenarios as sc
from crm_logic.clv import UNITS_PER_MONTH
from crm_logic.demo import build_demo
from crm_logic.scores import ScoreSettings, customer_facts, customer_values
from crm_logic.store import Store

SETTINGS = ScoreSettings(model="bg_nbd")
PROPERTY = hsettings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def hand_segments(values: pd.DataFrame) -> pd.DataFrame:
    """A segments frame built by hand (the segments room's table stands in): repeat buyers with P(alive)
    over 0.5 are "loyal", the others "at_risk"."""
    loyal = (values["frequency"] >= 2) & (values["p_alive"] > 0.5)
    return pd.DataFrame({"customer_id": values["customer_id"], "rfm_segment": np.where(loyal, "loyal", "at_risk")})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("whatif") / "demo.duckdb")
    build_demo(store, customers=1500, seed=3)
    facts = customer_facts(store, SETTINGS)
    values = customer_values(facts, SETTINGS)
    groups = sc.customer_groups(store).merge(hand_segments(values), on="customer_id")
    yield store, facts, values, sc.prepare(facts, SETTINGS, groups)
    store.close()


def test_no_lever_is_the_baseline_exactly(world):
    *_, base = world
    result = sc.simulate(base, {})
    assert result["scenario_equity"] == result["baseline_equity"]
    assert result["delta_equity"] == 0 and result["investment"] == 0
    assert sc.simulate(base, {"retention": 0.0, "segments": []})["scenario_equity"] == result["baseline_equity"]


def test_baseline_is_the_customer_equity_of_the_scores(world):
    _, _, values, base = world
    assert sc.simulate(base, {})["baseline_equity"] == pytest.approx(values["clv"].sum(), rel=1e-10)
    assert base.baseline.clv == pytest.approx(values["clv"].to_numpy(), rel=1e-9, abs=1e-9)


def bg_alive_expectation(params, x, T, t, keep, pace):
    """E[Y(t) | alive] by numerical integration over the posterior: λ ~ Gamma(r+x, α+T), the drop-out
    probability ~ Beta(c·a, b + (1−c)·a + x), purchases (1 − exp(−pace·λ·p·t)) / p given λ and p."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    lam = stats.gamma(r + x, scale=1 / (alpha + T))
    p = stats.beta(keep * a, b + (1 - keep) * a + x)
    inner = lambda q: integrate.quad(lambda l: lam.pdf(l) * -np.expm1(-pace * l * q * t) / q, 0, np.inf)[0]
    return integrate.quad(lambda q: p.pdf(q) * inner(q), 0, 1, limit=200)[0]


@pytest.mark.parametrize("keep, pace", [(1.0, 1.0), (0.8, 1.0), (1.0, 1.25), (1.3, 0.9)],
                         ids=["as_fitted", "less_dropout", "faster", "more_dropout_slower"])
def test_bg_nbd_levers_match_the_posterior_integral(world, keep, pace):
    _, facts, _, base = world
    x, T = np.array([0.0, 3.0, 9.0]), np.array([60.0, 80.0, 150.0])
    months = 12
    curve = sc.behaviour_curve(facts.model, "week", x, T, months, keep, pace)
    t = months * UNITS_PER_MONTH["week"]
    expected = [bg_alive_expectation(facts.model.params_, xi, Ti, t, keep, pace) for xi, Ti in zip(x, T)]
    assert curve[-1] == pytest.approx(expected, rel=1e-5)


def test_pareto_nbd_levers_scale_the_dropout_rate_and_the_purchase_rate():
    """Pareto/NBD given alive: λ ~ Gamma(r+x, α+T), μ ~ Gamma(s, β+T); E[Y(t)] = E[pace·λ] E[(1−e^(−cμt))/(cμ)]."""
    from crm_logic.models import ParetoNBDModel

    params = {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}  # CDNOW's published Pareto/NBD fit
    model = ParetoNBDModel.from_params(params)
    x, T, keep, pace, t = 4.0, 40.0, 0.7, 1.2, 12.0
    mu = stats.gamma(params["s"], scale=1 / (params["beta"] + T))
    lifetime = integrate.quad(lambda m: mu.pdf(m) * -np.expm1(-keep * m * t) / (keep * m), 0, np.inf)[0]
    expected = pace * (params["r"] + x) / (params["alpha"] + T) * lifetime
    curve = sc.behaviour_curve(model, "month", np.array([x]), np.array([T]), 12, keep, pace)  # t in months
    assert curve[-1, 0] == pytest.approx(expected, rel=1e-6)


def test_spend_and_margin_levers_scale_value_as_documented(world):
    _, _, values, base = world
    before = base.baseline.clv
    spend = sc.evaluate(base, {"spend": 0.1}).clv
    assert spend == pytest.approx(before * 1.1, rel=1e-12)
    margin = sc.evaluate(base, {"margin": 0.05}).clv
    assert margin == pytest.approx(before * (values["margin_rate"].to_numpy() + 0.05) / values["margin_rate"].to_numpy(),
                                   rel=1e-9)


def test_a_price_change_without_elasticity_adds_its_points_to_the_margin(world):
    _, _, values, base = world
    price = sc.evaluate(base, {"price": 0.04, "elasticity": 0.0}).clv
    assert price == pytest.approx(sc.evaluate(base, {"margin": 0.04}).clv, rel=1e-12)


def test_a_scoped_lever_leaves_everyone_else_alone(world):
    *_, base = world
    after = sc.evaluate(base, {"retention": 0.2, "frequency": 0.1, "classes": ["dealer"]}).clv
    dealers = (base.customers["customer_class"] == "dealer").to_numpy()
    assert dealers.any() and (~dealers).any()
    assert np.array_equal(after[~dealers], base.baseline.clv[~dealers])
    assert (after[dealers] >= base.baseline.clv[dealers]).all() and (after[dealers] > base.baseline.clv[dealers]).any()


def test_equity_is_the_discounted_sum_of_the_monthly_margin(world):
    *_, base = world
    outcome = sc.evaluate(base, {"retention": 0.1, "new_customers_per_month": 20, "moves": [
        {"from": "at_risk", "to": "loyal", "share": 0.3}]})
    assert outcome.margin_stream @ outcome.discount == pytest.approx(outcome.equity, rel=1e-10)


LEVER_DIRECTIONS = {  # lever: (strategy, does equity rise with it?)
    "retention": (st.floats(0.01, 0.9), True),
    "frequency": (st.floats(0.01, 2.0), True),
    "spend": (st.floats(0.01, 2.0), True),
    "margin": (st.floats(0.01, 0.5), True),
    "horizon_months": (st.integers(13, 60), True),
    "monthly_discount": (st.floats(0.011, 0.1), False),
    "new_customers_per_month": (st.floats(1, 1000), True),
}


@pytest.mark.parametrize("lever", LEVER_DIRECTIONS)
def test_each_lever_moves_equity_in_its_documented_direction(world, lever):
    *_, base = world
    strategy, rises = LEVER_DIRECTIONS[lever]

    @PROPERTY
    @given(value=strategy)
    def check(value):
        delta = sc.simulate(base, {lever: value})["delta_equity"]
        assert (delta > 0) if rises else (delta < 0)

    check()


@PROPERTY
@given(value=st.floats(0.01, 0.9))
def test_less_retention_lowers_equity(world, value):
    *_, base = world
    assert sc.simulate(base, {"retention": -value})["delta_equity"] < 0


@PROPERTY
@given(cut=st.floats(0.01, 0.3), elasticity=st.floats(-0.99, 0.0))
def test_an_inelastic_price_cut_loses_margin(world, cut, elasticity):
    *_, base = world
    assert sc.simulate(base, {"price": -cut, "elasticity": elasticity})["delta_equity"] < 0


@PROPERTY
@given(cost=st.floats(1, 500), effect=st.floats(0.0, 0.3))
def test_a_programme_costs_what_its_level_says(world, cost, effect):
    *_, base = world
    members = int((base.customers["customer_class"] == "consumer").sum())
    result = sc.simulate(base, {"programmes": [{"level": 2, "cost_per_member": cost, "retention": effect,
                                                "classes": ["consumer"]}]})
    monthly = members * cost / 12
    expected = sum(monthly / 1.01 ** k for k in range(1, 13))  # twelve months at 1 % a month
    assert result["investment"] == pytest.approx(expected, rel=1e-12)
    assert result["delta_equity"] >= 0


def test_a_level_one_reward_costs_its_share_of_the_members_revenue(world):
    *_, base = world
    outcome = sc.evaluate(base, {"programmes": [{"level": 1, "reward_share": 0.03}]})
    revenue = base.p_alive * base.spend * np.diff(
        sc.behaviour_curve(base.model, "week", base.x, base.T, 12, 1.0, 1.0), axis=0, prepend=0.0)[:, base.at]
    assert outcome.investment == pytest.approx(0.03 * (revenue.sum(axis=1) @ outcome.discount), rel=1e-10)


def test_acquisition_values_new_customers_with_the_models_new_customer_curve(world):
    _, facts, values, base = world
    result = sc.simulate(base, {"new_customers_per_month": 10, "acquisition_cost": 100, "acquisition_months": 1})
    # one cohort of 10 arriving at the end of month 1: a first order then repeat orders in months 2..12
    cumulative = facts.model.expected_purchases(np.arange(0, 12) * UNITS_PER_MONTH["week"])
    orders = np.concatenate([[1.0], np.diff(cumulative)])  # months 1..12
    margin_per_order = facts.spend_model.population_mean_spend() * values["margin_rate"].mean()
    value = 10 * margin_per_order * (orders @ (1.01 ** -np.arange(1, 13)))
    assert result["delta_equity"] == pytest.approx(value, rel=1e-10)
    assert result["investment"] == pytest.approx(1000 / 1.01, rel=1e-12)


def test_moving_all_of_a_segment_gives_it_the_target_segments_average_value(world):
    _, _, values, base = world
    segments = hand_segments(values)
    at_risk = (segments["rfm_segment"] == "at_risk").to_numpy()
    loyal_mean = values["clv"][~at_risk].mean()  # the scores' own CLV, computed apart from the engine
    after = sc.evaluate(base, {"moves": [{"from": "at_risk", "to": "loyal", "share": 1.0}]})
    assert after.clv[at_risk] == pytest.approx(np.full(at_risk.sum(), loyal_mean), rel=1e-9)
    assert np.array_equal(after.clv[~at_risk], base.baseline.clv[~at_risk])
    half = sc.evaluate(base, {"moves": [{"from": "at_risk", "to": "loyal", "share": 0.1}]})
    own = values["clv"][at_risk].to_numpy()
    assert half.clv[at_risk] == pytest.approx(0.9 * own + 0.1 * loyal_mean, rel=1e-9)


def test_the_break_even_effect_fed_back_breaks_even(world):
    *_, base = world
    levers = {"programmes": [{"level": 2, "cost_per_member": 40, "retention": 0.01, "segments": ["loyal"]}]}
    needed = sc.break_even(base, levers, "retention", programme=0)
    assert needed is not None and 0.01 < needed < 0.95
    levers["programmes"][0]["retention"] = needed
    result = sc.simulate(base, levers)
    assert result["delta_equity"] == pytest.approx(result["investment"], rel=1e-6)
    assert result["roi"] == pytest.approx(0.0, abs=1e-6)


def test_payback_is_the_first_month_the_gain_covers_the_cost(world):
    *_, base = world
    result = sc.simulate(base, {"programmes": [{"level": 3, "cost_per_alliance": 12_000, "alliances": 2,
                                                "frequency": 0.3, "classes": ["dealer"]}]})
    before, after = base.baseline, sc.evaluate(base, {"programmes": [{"level": 3, "cost_per_alliance": 12_000,
                                                                     "alliances": 2, "frequency": 0.3,
                                                                     "classes": ["dealer"]}]})
    cumulative = np.cumsum((after.margin_stream - before.margin_stream - 2_000) * after.discount)
    expected = next((k + 1 for k, v in enumerate(cumulative) if v >= 0), None)
    assert result["payback_months"] == expected


def test_waterfall_walks_from_baseline_to_scenario(world):
    *_, base = world
    levers = {"retention": 0.1, "spend": 0.05, "new_customers_per_month": 5, "acquisition_cost": 200,
              "moves": [{"from": "at_risk", "to": "loyal", "share": 0.1}]}
    steps = sc.waterfall(base, levers)
    assert [s["key"] for s in steps] == ["baseline", "retention", "spend", "acquisition", "moves", "investment",
                                         "scenario"]
    result = sc.simulate(base, levers)
    assert sum(s["value"] for s in steps[:-1]) == pytest.approx(steps[-1]["value"], rel=1e-12)
    assert steps[-1]["value"] == pytest.approx(result["scenario_equity"] - result["investment"], rel=1e-12)


def test_tornado_is_sorted_by_swing_and_signed_by_direction(world):
    *_, base = world
    tornado = sc.sensitivity(base, {})
    assert list(tornado["swing"]) == sorted(tornado["swing"], reverse=True)
    row = tornado.set_index("lever")
    assert row.loc["spend", "high"] == pytest.approx(0.1 * base.baseline.equity, rel=1e-9)
    assert row.loc["retention", "high"] > 0 > row.loc["retention", "low"]
    assert row.loc["monthly_discount", "high"] < 0 < row.loc["monthly_discount", "low"]


def test_top_gainers_and_segments_show_who_gains(world):
    *_, base = world
    levers = {"retention": 0.2, "segments": ["loyal"]}
    segments = sc.by_segment(base, levers)
    assert segments.iloc[0]["group"] == "loyal" and segments.iloc[0]["delta"] > 0
    assert segments.set_index("group").loc["at_risk", "delta"] == 0
    top = sc.top_gainers(base, levers, limit=5)
    assert (top["rfm_segment"] == "loyal").all()
    assert list(top["delta"]) == sorted(top["delta"], reverse=True)
    assert "name" in top


@pytest.mark.parametrize("levers, message", [
    ({"retension": 0.1}, "unknown levers"),
    ({"retention": 1.0}, "retention"),
    ({"programmes": [{"level": 1, "cost_per_member": 5}]}, "level 1 has no costs"),
    ({"moves": [{"from": "a", "to": "b", "share": 0.7}, {"from": "a", "to": "c", "share": 0.4}]}, "exceed"),
])
def test_bad_levers_are_refused_with_a_reason(levers, message):
    with pytest.raises(ValueError, match=message):
        sc.normalise(levers)


def test_a_programmes_break_even_is_judged_on_what_it_adds_to_the_rest(world):
    *_, base = world
    rest = {"spend": 0.05, "retention": 0.1}
    programme = {"level": 2, "cost_per_member": 40, "retention": 0.01, "segments": ["loyal"]}
    needed = sc.break_even(base, {**rest, "programmes": [programme]}, "retention", programme=0)
    assert needed is not None and needed > 0  # the rest pays anyway; the programme must still earn its cost
    with_it = sc.evaluate(base, {**rest, "programmes": [{**programme, "retention": needed}]})
    without = sc.evaluate(base, rest)
    assert with_it.equity - without.equity == pytest.approx(with_it.investment, rel=1e-6)


def test_a_scenario_is_evaluated_once_for_its_figures_bridge_segments_and_gainers(world, monkeypatch):
    *_, base = world
    assert base.baseline.equity > 0  # the baseline is kept for good, and not the subject here
    calls = []
    evaluate = sc.evaluate
    monkeypatch.setattr(sc, "evaluate", lambda b, levers: calls.append(levers) or evaluate(b, levers))
    levers = {"retention": 0.137, "classes": ["dealer"]}  # a scenario no other test asks for
    for _ in range(2):  # the page's rerun, and one more that moves no lever
        sc.simulate(base, levers)
        sc.waterfall(base, levers)
        sc.by_segment(base, levers)
        sc.top_gainers(base, levers)
    assert len(calls) == 1


def test_remembered_tables_are_the_callers_own(world):
    *_, base = world
    levers = {"spend": 0.11}
    first = sc.by_segment(base, levers)
    first["delta"] = 0.0
    steps = sc.waterfall(base, levers)
    steps[0]["value"] = 0.0
    assert sc.by_segment(base, levers)["delta"].max() > 0
    assert sc.waterfall(base, levers)[0]["value"] == base.baseline.equity


def test_top_gainers_are_the_highest_gains_ties_in_base_order(world):
    *_, base = world
    levers = {"retention": 0.2, "segments": ["loyal"]}  # everyone else gains exactly nothing: ties
    delta = sc.evaluate(base, levers).clv - base.baseline.clv
    expected = sorted(range(len(delta)), key=lambda i: (-delta[i], i))
    loyal = int((base.customers["rfm_segment"] == "loyal").sum())
    for limit in (5, loyal + 7):  # within the gainers, and reaching into the ties at zero
        top = sc.top_gainers(base, levers, limit=limit)
        assert list(top["customer_id"]) == list(base.customers["customer_id"].iloc[expected[:limit]])


def test_scope_options_are_the_groups_present(world):
    _, _, values, base = world
    assert base.options("rfm_segment") == sorted(set(hand_segments(values)["rfm_segment"]))
    assert base.options("no_such_column") == []
