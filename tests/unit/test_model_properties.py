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


def bg_nbd_log_likelihood(params, x, t_x, T):
    """FHL (2005) eq. (6), written out directly: an independent check on the fitted models."""
    r, alpha, a, b = params
    from scipy.special import betaln, gammaln
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    stays = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        leaves = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(np.sum(head + np.logaddexp(stays, leaves)))


def test_a_large_base_is_fitted_to_the_maximum_of_the_likelihood():
    """Above START_SAMPLE customers the fit starts from a sample's estimate: it must still end at the
    maximum of the full data's likelihood (checked with an independent likelihood and finite differences)."""
    from crm_logic.models.base import START_SAMPLE
    x, t_x, T = simulate_bg_nbd(np.random.default_rng(11), 3 * START_SAMPLE, 0.7, 4.0, 0.6, 2.5)
    T = np.round(T * 7) / 7  # daily dates in weeks: many customers share (x, t_x, T)
    t_x = np.minimum(np.round(t_x * 7) / 7, T)
    model = BetaGeoModel().fit(x, t_x, T)
    best = np.array([model.params_[k] for k in ("r", "alpha", "a", "b")])
    ll = bg_nbd_log_likelihood(best, x, t_x, T)
    assert model.log_likelihood_ == pytest.approx(ll, rel=1e-10)
    for i in range(4):
        for factor in (1 - 1e-3, 1 + 1e-3):
            moved = best.copy()
            moved[i] *= factor
            assert bg_nbd_log_likelihood(moved, x, t_x, T) < ll


def mbg_nbd_log_likelihood(params, x, t_x, T):
    """Batislam, Denizel & Filiztekin (2007), written out directly."""
    r, alpha, a, b = params
    from scipy.special import betaln, gammaln
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
    return float(np.sum(head + np.logaddexp(-(r + x) * np.log(alpha + T),
                                            np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x))))


@pytest.mark.parametrize("kind", ["bg_nbd", "mbg_nbd", "gamma_gamma"])
def test_exact_derivatives_agree_with_finite_differences(kind):
    """Newton's method relies on the analytic gradient and Hessian: compare them with central
    differences of the log-likelihood itself, away from the optimum."""
    rng = np.random.default_rng(5)
    if kind != "gamma_gamma":
        x, t_x, T = simulate_bg_nbd(rng, 2000, 0.5, 5.0, 0.8, 3.0)
        model = BetaGeoModel() if kind == "bg_nbd" else ModifiedBetaGeoModel()
        data = model._prepare(x, t_x, T, np.ones(len(x)))
        f = lambda p: model._derivatives(p, data)  # noqa: E731
        point = np.array([0.6, 4.0, 1.1, 2.0])
        independent = bg_nbd_log_likelihood if kind == "bg_nbd" else mbg_nbd_log_likelihood
        assert f(point)[0] == pytest.approx(independent(point, x, t_x, T), rel=1e-12)
    else:
        x = rng.integers(1, 8, 2000).astype(float)
        m = rng.gamma(6.0, 1 / rng.gamma(4.0, 1 / 15.0, 2000))
        f = GammaGammaModel._derivatives(x, m, np.ones(len(x)))
        point = np.array([4.0, 3.0, 12.0])
    value, gradient, hessian = f(point)
    for i in range(len(point)):
        h = 1e-5 * point[i]
        up, down = point.copy(), point.copy()
        up[i] += h
        down[i] -= h
        assert gradient[i] == pytest.approx((f(up)[0] - f(down)[0]) / (2 * h), rel=1e-5)
        assert hessian[i] == pytest.approx((f(up)[1] - f(down)[1]) / (2 * h), rel=1e-4, abs=1e-6 * np.abs(hessian).max())


def test_collapse_counts_each_distinct_row_once():
    import pandas as pd

    from crm_logic.models.base import collapse
    rng = np.random.default_rng(2)
    columns = [rng.integers(0, 5, 5000).astype(float), rng.integers(0, 7, 5000) / 7, rng.integers(0, 3, 5000) * 0.5]
    weights = rng.uniform(0.5, 2, 5000)
    (a, b, c), counts = collapse(columns, weights)
    expected = pd.DataFrame({"a": columns[0], "b": columns[1], "c": columns[2], "w": weights}).groupby(["a", "b", "c"])["w"].sum()
    got = pd.Series(counts, index=pd.MultiIndex.from_arrays([a, b, c], names=["a", "b", "c"])).sort_index()
    assert len(got) == len(expected)
    assert np.allclose(got.to_numpy(), expected.to_numpy())


@pytest.mark.parametrize("model", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_many_horizons_at_once_equal_one_at_a_time(model):
    """CLV asks for every month end in one call (k x 1 horizons); each row must be the single-horizon answer."""
    params = {"bg_nbd": BG_NBD_PARAMS, "pareto_nbd": {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}}
    fitted = model.from_params(params["pareto_nbd" if model is ParetoNBDModel else "bg_nbd"])
    x, t_x, T = simulate_bg_nbd(np.random.default_rng(8), 3000, 0.5, 5.0, 0.8, 3.0)
    T = np.round(T)  # shared (x, T) pairs
    t_x = np.minimum(t_x, T)
    horizons = np.array([4.345, 13.0, 52.14])
    together = fitted.conditional_expected_purchases(horizons[:, None], x, t_x, T)
    for row, t in zip(together, horizons):
        one_by_one = [fitted.conditional_expected_purchases(t, *c)[()] for c in zip(x[:300], t_x[:300], T[:300])]
        np.testing.assert_allclose(row[:300], one_by_one, rtol=1e-12)
