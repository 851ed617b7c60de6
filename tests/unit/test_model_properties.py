"""Properties every fitted model must keep, whatever the customer (hypothesis), and recovery of known
parameters from data simulated by the model's own story."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_logic.models import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from tests.unit.cdnow_fixture import BG_NBD_PARAMS

MODELS = [
    BetaGeoModel.from_params(BG_NBD_PARAMS),
    ModifiedBetaGeoModel.from_params({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
    ParetoNBDModel.from_params({"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150}),
]


@st.composite
def customers(draw):
    T = draw(st.floats(0.1, 500))
    x = draw(st.integers(0, 300))
    t_x = 0.0 if x == 0 else draw(st.floats(0.0, T))
    return x, t_x, T


@given(customers())
@settings(max_examples=200, deadline=None)
def test_p_alive_is_a_probability(customer):
    for model in MODELS:
        assert 0 <= float(model.conditional_probability_alive(*customer)) <= 1


@given(st.floats(0.1, 500))
def test_no_repeat_means_alive_under_bg_nbd(T):
    assert float(MODELS[0].conditional_probability_alive(0, 0, T)) == 1


@given(customers(), st.floats(0.1, 200), st.floats(0.1, 200))
@settings(max_examples=200, deadline=None)
def test_expected_purchases_grow_with_the_horizon(customer, t1, t2):
    short, long = sorted((t1, t2))
    for model in MODELS:
        a = float(model.conditional_expected_purchases(short, *customer))
        b = float(model.conditional_expected_purchases(long, *customer))
        assert np.isfinite(a) and b >= a - 1e-9 * max(1, a)


def simulate_bg_nbd(rng, n, r, alpha, a, b, T_max=52.0):
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.uniform(T_max / 4, T_max, n)
    x, t_x, t, alive = np.zeros(n), np.zeros(n), np.zeros(n), np.ones(n, bool)
    while alive.any():
        i = np.flatnonzero(alive)
        t[i] += rng.exponential(1 / lam[i])
        inside = t[i] <= T[i]
        alive[i[~inside]] = False
        i = i[inside]
        x[i] += 1
        t_x[i] = t[i]
        alive[i[rng.random(len(i)) < p[i]]] = False
    return x, t_x, T


def test_bg_nbd_recovers_the_parameters_it_was_simulated_with():
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 3.0}
    x, t_x, T = simulate_bg_nbd(np.random.default_rng(42), 20_000, **truth)
    model = BetaGeoModel().fit(x, t_x, T)
    for key, value in truth.items():
        assert abs(model.params_[key] - value) < 4 * model.standard_errors_[key], (key, model.params_[key])


def test_gamma_gamma_recovers_the_parameters_it_was_simulated_with():
    rng = np.random.default_rng(7)
    p, q, gamma, n = 6.0, 4.0, 15.0, 20_000
    x = rng.integers(1, 8, n)
    nu = rng.gamma(q, 1 / gamma, n)
    mean_spend = np.array([rng.gamma(p, 1 / v, k).mean() for v, k in zip(nu, x)])
    model = GammaGammaModel().fit(x, mean_spend)
    for key, value in {"p": p, "q": q, "gamma": gamma}.items():
        assert abs(model.params_[key] - value) < 4 * model.standard_errors_[key], key


def test_weights_are_the_same_as_repeated_rows():
    x, t_x, T = simulate_bg_nbd(np.random.default_rng(3), 3000, 0.5, 5.0, 0.8, 3.0)
    once = BetaGeoModel().fit(np.r_[x, x], np.r_[t_x, t_x], np.r_[T, T])
    weighted = BetaGeoModel().fit(x, t_x, T, weights=np.full(len(x), 2.0))
    for key in once.params_:
        assert weighted.params_[key] == pytest.approx(once.params_[key], rel=1e-5)
