"""lifetimes 0.11.3: fit BG/NBD and Gamma-Gamma, then score every customer, timed step by step.

Runs in bench/.venv, on the same numpy/scipy/pandas as ours (lifetimes 0.11.3 runs unchanged on them;
on its own era's stack, numpy 1.23.5 / scipy 1.10.1 / pandas 1.5.3 / autograd 1.5, it gave the same
numbers within 10 % either way: see README). Called the way its documentation calls it: one row per customer, pandas Series in, default optimiser settings, CLV from
`GammaGammaFitter.customer_lifetime_value(..., freq="W")`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

from _common import HORIZON_MONTHS, HORIZON_WEEKS, MONTHLY_DISCOUNT, main, scored, timed


def run(s: dict[str, np.ndarray]) -> dict:
    df = pd.DataFrame(s)
    repeat = df[df["frequency"] > 0]
    f, r, T, m = df["frequency"], df["recency"], df["T"], df["monetary_value"]

    bgf, t_bg = timed(BetaGeoFitter().fit, f, r, T)
    ggf, t_gg = timed(GammaGammaFitter().fit, repeat["frequency"], repeat["monetary_value"])
    p_alive, t_alive = timed(bgf.conditional_probability_alive, f, r, T)
    expected, t_exp = timed(bgf.conditional_expected_number_of_purchases_up_to_time, HORIZON_WEEKS, f, r, T)
    clv, t_clv = timed(
        ggf.customer_lifetime_value, bgf, f, r, T, m,
        time=HORIZON_MONTHS, discount_rate=MONTHLY_DISCOUNT, freq="W",
    )
    return scored(len(df), len(repeat), ({k: float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")}, t_bg),
                  ({"p": float(ggf.params_["p"]), "q": float(ggf.params_["q"]), "gamma": float(ggf.params_["v"])}, t_gg),
                  (p_alive, t_alive), (expected, t_exp), (clv, t_clv))


if __name__ == "__main__":
    main(run, __doc__.splitlines()[0], "lifetimes", ("lifetimes", "numpy", "scipy", "pandas", "autograd"))
