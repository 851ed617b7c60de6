"""P(no purchase in the next t | history) against a Monte Carlo simulation of each model's own story.

The simulation draws each customer's rates from the model's prior, weights each draw by the probability
of the observed history (x repeat purchases, the last at t_x, watched until T) under those rates, split
into "still alive at T" and "left before T", and then plays the future forward: for an alive customer it
draws the waiting time to the next purchase (and, Pareto/NBD, the remaining lifetime). No closed form of
the conditional distribution is used, so the test checks the formulas of crm_logic.churn, not restates them.
"""
import numpy as np
import pytest

from crm_logic.churn import no_purchase_probability
from crm_logic.models import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel

DRAWS = 400_000
HORIZON = 13.0  # weeks
HISTORIES = [(0, 0.0, 30.0), (2, 20.0, 40.0), (5, 10.0, 40.0), (4, 36.0, 38.0)]  # (x, t_x, T) in weeks

# CDNOW-like parameters (BG/NBD: Fader, Hardie & Lee 2005; Pareto/NBD: Fader, Hardie & Lee 2005b)
BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def weighted_mean(alive_w, dead_w, silent_if_alive):
    """P(no purchase) = (dead + alive·silent) / (dead + alive), with its Monte Carlo standard error."""
    total = alive_w + dead_w
    y = (dead_w + alive_w * silent_if_alive) / np.where(total > 0, total, 1)
    weights = total / total.sum()
    estimate = float(np.sum(weights * y))
    se = float(np.sqrt(np.sum(weights ** 2 * (y - estimate) ** 2)))
    return estimate, se


def simulate_beta_geo(params, x, t_x, T, leaves_at_first):
    rng = np.random.default_rng(12)
    lam = rng.gamma(params["r"], 1 / params["alpha"], DRAWS)
    p = rng.beta(params["a"], params["b"], DRAWS)
    # leaving chances: after each repeat purchase (BG/NBD), or after every purchase (MBG/NBD)
    chances = x + 1 if leaves_at_first else x
    log_history = x * np.log(lam)
    alive = np.exp(log_history - lam * T + chances * np.log1p(-p))
    if chances > 0:
        dead = np.exp(log_history - lam * t_x + np.log(p) + (chances - 1) * np.log1p(-p))
    else:
        dead = np.zeros(DRAWS)
    silent = rng.exponential(1.0, DRAWS) / lam > HORIZON  # the next purchase comes after the horizon
    return weighted_mean(alive, dead, silent)


def simulate_pareto(params, x, t_x, T):
    rng = np.random.default_rng(13)
    lam = rng.gamma(params["r"], 1 / params["alpha"], DRAWS)
    mu = rng.gamma(params["s"], 1 / params["beta"], DRAWS)
    total = lam + mu
    log_history = x * np.log(lam)
    alive = np.exp(log_history - total * T)
    # left at some moment in (t_x, T], having made no purchase after t_x
    dead = np.exp(log_history - total * t_x) * mu / total * -np.expm1(-total * (T - t_x))
    next_purchase = rng.exponential(1.0, DRAWS) / lam
    leaves = rng.exponential(1.0, DRAWS) / mu
    silent = (next_purchase > HORIZON) | (leaves < next_purchase)
    return weighted_mean(alive, dead, silent)


CASES = [
    ("bg_nbd", lambda: BetaGeoModel.from_params(BG), lambda h: simulate_beta_geo(BG, *h, leaves_at_first=False)),
    ("mbg_nbd", lambda: ModifiedBetaGeoModel.from_params(BG), lambda h: simulate_beta_geo(BG, *h, leaves_at_first=True)),
    ("pareto_nbd", lambda: ParetoNBDModel.from_params(PARETO), lambda h: simulate_pareto(PARETO, *h)),
]


@pytest.mark.parametrize("name, model, simulate", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("history", HISTORIES, ids=[f"x{h[0]}_tx{h[1]:g}_T{h[2]:g}" for h in HISTORIES])
def test_no_purchase_probability_matches_a_simulation(name, model, simulate, history):
    expected, se = simulate(history)
    x, t_x, T = history
    got = float(no_purchase_probability(model(), HORIZON, [x], [t_x], [T])[0])
    assert got == pytest.approx(expected, abs=4 * se + 2e-3)


def test_bg_nbd_one_time_buyers_are_alive_but_may_still_not_buy():
    """The trap the page explains: P(alive) = 1 for a one-time buyer, yet a long-silent one is unlikely to buy."""
    model = BetaGeoModel.from_params(BG)
    assert model.conditional_probability_alive([0], [0.0], [60.0])[0] == 1.0
    assert no_purchase_probability(model, HORIZON, [0], [0.0], [60.0])[0] > 0.8
