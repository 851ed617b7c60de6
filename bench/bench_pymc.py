"""pymc-marketing: BG/NBD and Gamma-Gamma fitted by MAP (`fit(method="map")`), default priors.

Runs in bench/.venv. The timed span is what a user waits for: building the PyMC model from the
DataFrame and `find_MAP` (pytensor compiles the model's functions in it; its C cache in ~/.pytensor is
warmed by a tiny fit first, so a first-ever compile of the C modules is not counted). The default priors
pull MAP estimates away from maximum likelihood; the parameters are reported as they come.
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from _common import load_summary, timed, versions, write_json


def fit_bg(df: pd.DataFrame):
    from pymc_marketing.clv import BetaGeoModel

    model = BetaGeoModel(data=df[["customer_id", "frequency", "recency", "T"]])
    model.fit(method="map", progressbar=False)
    return model


def fit_gg(df: pd.DataFrame):
    from pymc_marketing.clv import GammaGammaModel

    model = GammaGammaModel(data=df[["customer_id", "frequency", "monetary_value"]])
    model.fit(method="map", progressbar=False)
    return model


def params(model, names: dict[str, str]) -> dict[str, float]:
    posterior = model.fit_result  # one draw: the MAP point (fit_summary() rounds to 3 decimals)
    return {ours: float(posterior[theirs].values.squeeze()) for ours, theirs in names.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--n", type=int, default=None, help="first n customers only")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    s = load_summary(args.summary, args.n)
    df = pd.DataFrame(s)
    df.insert(0, "customer_id", np.arange(len(df)))
    repeat = df[df["frequency"] > 0]

    fit_bg(df.head(1000))  # warm-up, as for every library (and pytensor's compile cache)
    fit_gg(repeat.head(1000))

    bg, t_bg = timed(fit_bg, df)
    gg, t_gg = timed(fit_gg, repeat)
    write_json(args.out, {
        "library": "pymc-marketing",
        "versions": versions("pymc-marketing", "pymc", "pytensor", "numpy", "scipy", "pandas"),
        "customers": len(df),
        "repeat_customers": len(repeat),
        "fit": {
            "bg_nbd": {"seconds": t_bg, "params": params(bg, {k: k for k in ("r", "alpha", "a", "b")})},
            "gamma_gamma": {"seconds": t_gg, "params": params(gg, {"p": "p", "q": "q", "gamma": "v"})},
        },
    })


if __name__ == "__main__":
    main()
