"""crm_logic.models: fit BG/NBD and Gamma-Gamma, then score every customer, timed step by step.

Runs in the app's own environment (.venv at the repository root, the stack the app ships with), with the
repository on PYTHONPATH. Same inputs, same steps and the same warm-up as bench_lifetimes.py.
"""
from __future__ import annotations

import numpy as np

from _common import HORIZON_MONTHS, HORIZON_WEEKS, MONTHLY_DISCOUNT, main, scored, timed
from crm_logic.clv import cumulative_purchases, discounted_clv, expected_spend
from crm_logic.models import BetaGeoModel, GammaGammaModel


def customer_value(bg, gg, f, r, T, m) -> np.ndarray:
    """12-month CLV the way crm_logic.scores computes it, at margin 1 (lifetimes prices revenue, not margin)."""
    cumulative = cumulative_purchases(bg, f, r, T, "week", HORIZON_MONTHS)
    return discounted_clv(cumulative, expected_spend(gg, f, m), MONTHLY_DISCOUNT)


def run(s: dict[str, np.ndarray]) -> dict:
    f, r, T, m = s["frequency"], s["recency"], s["T"], s["monetary_value"]
    repeat = f > 0
    bg, t_bg = timed(BetaGeoModel().fit, f, r, T)
    gg, t_gg = timed(GammaGammaModel().fit, f[repeat], m[repeat])
    p_alive, t_alive = timed(bg.conditional_probability_alive, f, r, T)
    expected, t_exp = timed(bg.conditional_expected_purchases, HORIZON_WEEKS, f, r, T)
    clv, t_clv = timed(customer_value, bg, gg, f, r, T, m)
    return scored(len(f), int(repeat.sum()), ({k: float(bg.params_[k]) for k in ("r", "alpha", "a", "b")}, t_bg),
                  ({k: float(gg.params_[k]) for k in ("p", "q", "gamma")}, t_gg),
                  (p_alive, t_alive), (expected, t_exp), (clv, t_clv))


if __name__ == "__main__":
    main(run, __doc__.splitlines()[0], "ours (crm_logic)", ("numpy", "scipy", "pandas"))
