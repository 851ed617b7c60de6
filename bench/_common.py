"""What every benchmark script shares. Standard library + numpy only: it runs in all three environments."""
from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
WEEKS_PER_MONTH = 4.345  # the model's unit is the week; CLV steps are months (lifetimes' freq="W")
HORIZON_MONTHS = 12
MONTHLY_DISCOUNT = 0.01
HORIZON_WEEKS = HORIZON_MONTHS * WEEKS_PER_MONTH


def load_summary(path: Path, n: int | None = None) -> dict[str, np.ndarray]:
    """frequency, recency, T (weeks) and monetary_value of the first `n` customers."""
    with np.load(path) as data:
        return {k: np.ascontiguousarray(data[k][:n]) for k in data.files}


def timed(fn, *args, **kwargs):
    """(result, wall seconds) of one call."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0


def versions(*packages: str) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_json(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=float))


def scored(customers: int, repeat_customers: int, bg: tuple[dict, float], gg: tuple[dict, float],
           p_alive: tuple, expected: tuple, clv: tuple) -> dict:
    """The result of one library's fits (params, seconds) and scores (values, seconds), in one shape."""
    (p_alive, t_alive), (expected, t_exp), (clv, t_clv) = (
        (np.asarray(v, dtype=float), t) for v, t in (p_alive, expected, clv))
    return {
        "customers": customers,
        "repeat_customers": repeat_customers,
        "fit": {"bg_nbd": {"seconds": bg[1], "params": bg[0]}, "gamma_gamma": {"seconds": gg[1], "params": gg[0]}},
        "score": {"p_alive": t_alive, "expected_purchases": t_exp, "clv": t_clv, "total": t_alive + t_exp + t_clv,
                  "sums": {"p_alive": float(np.sum(p_alive)), "expected_purchases": float(np.sum(expected)),
                           "clv": float(np.sum(clv))}},
        "predictions": {"p_alive": p_alive, "expected_purchases": expected, "clv": clv},
    }


def main(run, description: str, library: str, packages: tuple[str, ...]) -> None:
    """Command line of a fit-and-score script: untimed warm-up on 1,000 customers, the timed run, results."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--n", type=int, default=None, help="first n customers only")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--predictions", type=Path, help="save the scores here (.npz) for comparison")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    run(load_summary(args.summary, 1000))  # warm-up, as for every library
    result = run(load_summary(args.summary, args.n))
    predictions = result.pop("predictions")
    if args.predictions:
        np.savez(args.predictions, **predictions)
    write_json(args.out, {"library": library, "versions": versions(*packages), **result})
