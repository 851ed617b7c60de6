"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987); likelihood as in Fader & Hardie (2005),
"A note on deriving the Pareto/NBD model and related expressions"."""
from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyp2f1, roots_genlaguerre

from crm_logic.models.base import TransactionModel, as_array

QUADRATURE_NODES = 64


def _log_a0(r, alpha, s, beta, x, t_x, T) -> np.ndarray:
    """log A0 of the note: a difference of two ₂F₁ terms, taken in logs.

    Each ₂F₁ is Euler-transformed so its series has first parameter 1 and positive terms that shrink at
    least like z^k: alpha >= beta: ₂F₁(r+s+x, s+1; r+s+x+1; z) = (1-z)^(-s) ₂F₁(1, r+x; r+s+x+1; z);
    alpha < beta: ₂F₁(r+s+x, r+x; r+s+x+1; z) = (1-z)^(1-r-x) ₂F₁(1, s+1; r+s+x+1; z).
    """
    rsx = r + s + x
    if alpha >= beta:
        lead, gap, power, second = alpha, alpha - beta, -s, r + x
    else:
        lead, gap, power, second = beta, beta - alpha, 1 - r - x, s + 1

    def term(end):
        z = gap / (lead + end)
        return power * np.log1p(-z) + np.log(hyp2f1(1.0, second, rsx + 1, z)) - rsx * np.log(lead + end)

    upper, lower = term(t_x), term(T)
    with np.errstate(divide="ignore"):
        return upper + np.log1p(-np.exp(np.minimum(lower - upper, 0.0)))


class ParetoNBDModel(TransactionModel):
    """Pareto/NBD. While active a customer buys at Poisson rate λ ~ Gamma(r, alpha) and leaves at an
    exponentially distributed moment with rate μ ~ Gamma(s, beta), whether or not they buy."""

    names = ("r", "alpha", "s", "beta")

    def _start(self, rate: float) -> np.ndarray:
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 1.0 / max(rate, 1e-6)])

    @staticmethod
    def _parts(params, x, t_x, T):
        r, alpha, s, beta = params
        stays = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        leaves = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, t_x, T)
        return stays, leaves

    @classmethod
    def _log_likelihood(cls, params, x, t_x, T) -> np.ndarray:
        r, alpha, s, beta = params
        stays, leaves = cls._parts(params, x, t_x, T)
        return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(stays, leaves)

    def conditional_probability_alive(self, frequency, recency, T) -> np.ndarray:
        stays, leaves = self._parts(self._p(), as_array(frequency), as_array(recency), as_array(T))
        return np.exp(stays - np.logaddexp(stays, leaves))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        r, alpha, s, beta = self._p()
        x, T_ = as_array(frequency), as_array(T)
        if abs(s - 1) < 1e-8:
            rate_part = (beta + T_) * np.log((beta + T_ + t) / (beta + T_))
        else:
            rate_part = (beta + T_) / (s - 1) * (1 - ((beta + T_) / (beta + T_ + t)) ** (s - 1))
        return (r + x) / (alpha + T_) * rate_part * self.conditional_probability_alive(frequency, recency, T)

    def expected_purchases(self, t) -> np.ndarray:
        r, alpha, s, beta = self._p()
        t = as_array(t)
        if abs(s - 1) < 1e-8:
            return r * beta / alpha * np.log((beta + t) / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def probability_of_purchases(self, t: float, n: int) -> float:
        """P(X(t) = n) for a new customer: the note's P(X(t)=n | λ, μ) averaged over the two gamma
        distributions by generalised Gauss-Laguerre quadrature."""
        r, alpha, s, beta = self._p()
        u, wu = roots_genlaguerre(QUADRATURE_NODES, r - 1)
        v, wv = roots_genlaguerre(QUADRATURE_NODES, s - 1)
        lam, mu = (u / alpha)[:, None], (v / beta)[None, :]
        total = lam + mu
        i = np.arange(n + 1)[:, None, None]
        partial = np.exp(i * np.log(total * t) - total * t - gammaln(i + 1)).sum(axis=0)
        log_nbd = n * np.log(lam * t) - lam * t - gammaln(n + 1)
        p = np.exp(log_nbd - mu * t) + mu * np.exp(n * np.log(lam) - (n + 1) * np.log(total)) * (1 - partial)
        weights = np.outer(wu, wv) / np.exp(gammaln(r) + gammaln(s))
        return float(np.sum(weights * p))
