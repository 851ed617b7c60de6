"""What every model here shares: maximum-likelihood fitting on collapsed data, standard errors, errors.

Customers with the same (x, t_x, T) contribute identical likelihood terms, so the data are collapsed to
unique rows with counts before fitting: on daily data of a million customers that is a large saving.
Parameters are optimised on the log scale (they are all positive); standard errors come from a
numerical Hessian of the log-likelihood at the optimum (delta method back to the natural scale).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize

MIN_CUSTOMERS = 10


class ModelError(Exception):
    """A model that cannot give a trustworthy answer for these data; `.key` names why, for the UI."""

    def __init__(self, key: str, detail: str = ""):
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key


def as_array(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def collapse(columns: list[np.ndarray], weights=None) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the columns and their (weighted) counts, by a hash group-by (no sorting)."""
    frame = pd.DataFrame({i: column for i, column in enumerate(columns)})
    frame["count"] = 1.0 if weights is None else as_array(weights)
    grouped = frame.groupby(list(range(len(columns))), sort=False)["count"].sum()
    return [grouped.index.get_level_values(i).to_numpy(float) for i in range(len(columns))], grouped.to_numpy()


def maximise(log_likelihood, start: np.ndarray, names: tuple[str, ...], gradient=None) -> tuple[dict, float, dict | None]:
    """Maximise `log_likelihood(params)` over positive params; returns params, LL and standard errors.

    With `gradient(params)` (d LL / d params) L-BFGS-B gets exact derivatives; otherwise it
    differentiates numerically and Nelder-Mead polishes the result.
    """

    def objective(log_params):
        value = log_likelihood(np.exp(log_params))
        return -value if np.isfinite(value) else 1e300

    def objective_and_gradient(log_params):
        params = np.exp(log_params)
        value, grad = log_likelihood(params), gradient(params) * params
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(log_params)
        return -value, -grad

    options = {"maxiter": 5000, "gtol": 1e-9, "ftol": 1e-15}
    if gradient is not None:
        best = minimize(objective_and_gradient, np.log(start), jac=True, method="L-BFGS-B", options=options)
    else:
        best = minimize(objective, np.log(start), method="L-BFGS-B", options=options)
    if gradient is None or not best.success:
        polished = minimize(objective, best.x, method="Nelder-Mead",
                            options={"maxiter": 5000, "xatol": 1e-10, "fatol": 1e-10})
        best = polished if polished.fun <= best.fun else best
    log_params = best.x
    value = log_likelihood(np.exp(log_params))
    if not np.isfinite(value) or not np.all(np.isfinite(log_params)) or np.any(np.abs(log_params) > 30):
        raise ModelError("not_converged", f"log-likelihood {value}, parameters {np.exp(log_params)}")
    params = np.exp(log_params)
    hessian = _hessian(objective, log_params) if gradient is None else _hessian_from_gradient(
        lambda lp: objective_and_gradient(lp)[1], log_params)
    return dict(zip(names, params)), float(value), _standard_errors(hessian, params, names)


def _hessian(objective, log_params, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of the objective on the log scale."""
    k = len(log_params)
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            def f(di, dj):
                shifted = log_params.copy()
                shifted[i] += di
                shifted[j] += dj
                return objective(shifted)
            hessian[i, j] = hessian[j, i] = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h)
    return hessian


def _hessian_from_gradient(gradient, log_params, h: float = 1e-5) -> np.ndarray:
    """Hessian as central differences of the exact gradient: 2k evaluations instead of 4k²."""
    columns = []
    for i in range(len(log_params)):
        step = np.zeros_like(log_params)
        step[i] = h
        columns.append((gradient(log_params + step) - gradient(log_params - step)) / (2 * h))
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


def _standard_errors(hessian, params, names) -> dict | None:
    """Delta-method standard errors from the Hessian of the negative log-likelihood on the log scale."""
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return None
    variances = np.diag(covariance)
    if np.any(variances < 0) or not np.all(np.isfinite(variances)):
        return None
    return dict(zip(names, params * np.sqrt(variances)))


class TransactionModel:
    """A buy-till-you-die model of how many purchases each customer makes, and whether they are still there."""

    names: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params: dict) -> "TransactionModel":
        """A model with known parameters (a published fit, a saved one), ready to predict."""
        model = cls()
        model.params_ = {name: float(params[name]) for name in cls.names}
        return model

    def _p(self) -> tuple[float, ...]:
        return tuple(self.params_[name] for name in self.names)

    def fit(self, frequency, recency, T, weights=None) -> "TransactionModel":
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        if len(x) < MIN_CUSTOMERS or not np.any(x > 0):
            raise ModelError("too_few_customers", f"{len(x)} customers, {int(np.sum(x > 0))} with repeat purchases")
        if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9):
            raise ValueError("frequency and recency must be non-negative and recency at most T")
        (x, t_x, T), counts = collapse([x, t_x, T], weights)
        self._distinct_x = np.unique(x, return_inverse=True)  # for terms that depend on x alone
        rate = np.sum(counts * x) / max(np.sum(counts * T), 1e-9)
        gradient = getattr(self, "_gradient", None)
        self.params_, self.log_likelihood_, self.standard_errors_ = maximise(
            lambda p: float(np.sum(counts * self._log_likelihood(p, x, t_x, T))), self._start(rate), self.names,
            None if gradient is None else (lambda p: gradient(p, x, t_x, T, counts)),
        )
        self.n_customers_ = int(round(np.sum(counts)))
        del self._distinct_x
        return self

