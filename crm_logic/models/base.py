"""What every model here shares: maximum-likelihood fitting on collapsed data, standard errors, errors.

Customers with the same (x, t_x, T) contribute identical likelihood terms, so the data are collapsed to
unique rows with counts before fitting. Parameters are optimised on the log scale (they are all
positive). Models that know their exact first and second derivatives (BG/NBD, Gamma-Gamma) are fitted
by Newton's method, which needs a handful of passes over the data, starting from a fit on a sample of
customers when the base is large; the others by L-BFGS-B on numerical derivatives. Standard errors come
from the Hessian at the optimum (delta method back to the natural scale).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy.optimize import minimize

MIN_CUSTOMERS = 10
NEWTON_MAX_STEPS = 200
START_SAMPLE = 20_000  # customers in the preliminary fit that gives Newton's method its start on a large base


class ModelError(Exception):
    """A model that cannot give a trustworthy answer for these data; `.key` names why, for the UI."""

    def __init__(self, key: str, detail: str = ""):
        super().__init__(f"{key}: {detail}" if detail else key)
        self.key = key


def as_array(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _row_keys(columns: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One integer per row naming its combination of values (mixed radix over each column's distinct
    values, found by hashing), and those distinct values."""
    key, size, distinct = np.zeros(len(columns[0]), dtype=np.int64), 1, []
    for column in columns:
        codes, values = pd.factorize(column)
        size *= len(values)
        if size >= 2 ** 62:
            raise ValueError("too many distinct value combinations to group")
        key = key * len(values) + codes
        distinct.append(values)
    return key, distinct


def _decode(keys: np.ndarray, distinct: list[np.ndarray]) -> list[np.ndarray]:
    columns = []
    for values in reversed(distinct):
        keys, codes = np.divmod(keys, len(values))
        columns.append(as_array(values)[codes])
    return columns[::-1]


def collapse(columns: list[np.ndarray], weights=None) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the columns and their (weighted) counts."""
    key, distinct = _row_keys(columns)
    if weights is None:
        keys, counts = np.unique(key, return_counts=True)  # a sort of integers: fast
    else:
        keys, inverse = np.unique(key, return_inverse=True)
        counts = np.bincount(inverse, weights=as_array(weights))
    return _decode(keys, distinct), counts.astype(float)


def distinct_rows(columns: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the columns, and each row's position among them."""
    key, distinct = _row_keys(columns)
    keys, inverse = np.unique(key, return_inverse=True)
    return _decode(keys, distinct), inverse


def per_distinct(columns: list[np.ndarray], compute) -> np.ndarray:
    """`compute(*columns)` evaluated once per distinct row and spread back to every customer (last axis):
    a term that depends on (x, T) alone costs a few thousand evaluations, not a million."""
    if columns[0].ndim != 1 or len(columns[0]) < 2:
        return compute(*columns)
    rows, inverse = distinct_rows(columns)
    return compute(*rows)[..., inverse]


def sample_rows(n: int, size: int) -> np.ndarray | None:
    """A fixed random sample of row positions (the same on every run), or None when n is small."""
    if n <= size:
        return None
    return np.sort(np.random.default_rng(20050401).choice(n, size, replace=False))


def newton_maximise(derivatives, start: np.ndarray, names: tuple[str, ...]) -> tuple[dict, float, dict | None]:
    """Maximise a log-likelihood given `derivatives(params) -> (value, gradient, Hessian)` on the natural
    scale, by Newton's method on the log scale with backtracking. Where the Hessian is not negative
    definite (far from the optimum) its eigenvalues are mirrored, so every step goes uphill."""
    log_params = np.log(start)

    def on_log_scale(log_params):
        params = np.exp(log_params)
        value, gradient, hessian = derivatives(params)
        return value, gradient * params, hessian * np.outer(params, params) + np.diag(gradient * params)

    value, gradient, hessian = on_log_scale(log_params)
    if not np.isfinite(value):
        raise ModelError("not_converged", "log-likelihood not finite at the start")
    for _ in range(NEWTON_MAX_STEPS):
        eigenvalues, vectors = np.linalg.eigh(hessian)
        floor = 1e-10 * max(1.0, np.abs(eigenvalues).max())
        step = vectors @ ((vectors.T @ gradient) / np.maximum(np.abs(eigenvalues), floor))
        step *= min(1.0, 2.0 / max(np.abs(step).max(), 1e-300))  # at most a factor e² per step
        if np.abs(step).max() < 1e-6:  # converging quadratically: after this step the error is ~1e-12
            log_params = log_params + step
            break
        size = 1.0
        while True:
            trial = on_log_scale(log_params + size * step)
            if np.isfinite(trial[0]) and np.all(np.isfinite(trial[1])) and trial[0] >= value - 1e-12 * abs(value):
                break
            size /= 2
            if size < 1e-12:
                raise ModelError("not_converged", f"no uphill step from {np.exp(log_params)}")
        log_params = log_params + size * step
        value, gradient, hessian = trial
    else:
        raise ModelError("not_converged", f"{NEWTON_MAX_STEPS} Newton steps, parameters {np.exp(log_params)}")
    if np.any(np.abs(log_params) > 30):
        raise ModelError("not_converged", f"parameters {np.exp(log_params)}")
    params = np.exp(log_params)
    return dict(zip(names, params)), float(value), _standard_errors(-hessian, params, names)


def maximise(log_likelihood, start: np.ndarray, names: tuple[str, ...]) -> tuple[dict, float, Callable]:
    """Maximise `log_likelihood(params)` over positive params without derivatives: L-BFGS-B on numerical
    gradients, and Nelder-Mead from there when L-BFGS-B stops short; returns params, LL and a function
    giving the standard errors (its numerical Hessian costs 40 more likelihood evaluations: taken only
    when someone asks)."""

    def objective(log_params):
        value = log_likelihood(np.exp(log_params))
        return -value if np.isfinite(value) else 1e300

    best = minimize(objective, np.log(start), method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-6, "ftol": 1e-12})
    if not best.success:
        polished = minimize(objective, best.x, method="Nelder-Mead", options={"maxiter": 5000, "xatol": 1e-10, "fatol": 1e-10})
        best = polished if polished.fun <= best.fun else best
    log_params = best.x
    value = log_likelihood(np.exp(log_params))
    if not np.isfinite(value) or not np.all(np.isfinite(log_params)) or np.any(np.abs(log_params) > 30):
        raise ModelError("not_converged", f"log-likelihood {value}, parameters {np.exp(log_params)}")
    params = np.exp(log_params)
    return dict(zip(names, params)), float(value), lambda: _standard_errors(_hessian(objective, log_params), params, names)


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

    @property
    def standard_errors_(self) -> dict | None:
        """Standard errors of the fitted parameters (None when the Hessian is not invertible)."""
        if callable(self._standard_errors):
            self._standard_errors = self._standard_errors()
        return self._standard_errors

    def __getstate__(self) -> dict:
        """A pickled model (the app caches fitted ones) carries its standard errors, not their recipe."""
        if callable(self.__dict__.get("_standard_errors")):
            self.standard_errors_
        return self.__dict__

    def fit(self, frequency, recency, T, weights=None) -> "TransactionModel":
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        if len(x) < MIN_CUSTOMERS or not np.any(x > 0):
            raise ModelError("too_few_customers", f"{len(x)} customers, {int(np.sum(x > 0))} with repeat purchases")
        if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9):
            raise ValueError("frequency and recency must be non-negative and recency at most T")
        rate = np.sum(x if weights is None else x * as_array(weights)) / max(np.sum(T if weights is None else T * as_array(weights)), 1e-9)
        start = self._start(rate)
        derivatives = getattr(self, "_derivatives", None)
        sample = sample_rows(len(x), START_SAMPLE) if derivatives else None
        if sample is not None and np.any(x[sample] > 0):
            first = type(self)().fit(x[sample], t_x[sample], T[sample], None if weights is None else as_array(weights)[sample])
            start = np.array(first._p())
        (x, t_x, T), counts = collapse([x, t_x, T], weights)
        if derivatives:
            data = self._prepare(x, t_x, T, counts)
            self.params_, self.log_likelihood_, self._standard_errors = newton_maximise(
                lambda p: derivatives(p, data), start, self.names)
        else:
            self.params_, self.log_likelihood_, self._standard_errors = maximise(
                lambda p: float(np.sum(counts * self._log_likelihood(p, x, t_x, T))), start, self.names)
        self.n_customers_ = int(round(np.sum(counts)))
        return self
