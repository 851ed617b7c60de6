"""BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2)."""
from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1

from crm_logic.models.base import TransactionModel, as_array


class BetaGeoModel(TransactionModel):
    """BG/NBD. While active, a customer buys at Poisson rate λ ~ Gamma(r, alpha); after each purchase
    they leave for good with probability p ~ Beta(a, b). frequency x = repeat purchases, recency t_x =
    time of the last one and T = time since the first purchase, all in one time unit."""

    names = ("r", "alpha", "a", "b")

    def _start(self, rate: float) -> np.ndarray:
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 3.0])

    @staticmethod
    def _branches(params, x, t_x, T):
        """The log-likelihood's parts: the customer still active at T, or gone after the last purchase."""
        r, alpha, a, b = params
        stays = -(r + x) * np.log(alpha + T)
        with np.errstate(divide="ignore"):
            leaves = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
        return stays, leaves

    def _log_likelihood(self, params, x, t_x, T) -> np.ndarray:
        r, alpha, a, b = params
        xs, at = self._distinct_x  # gamma-function terms once per distinct x
        common = (gammaln(r + xs) - gammaln(r) + betaln(a, b + xs) - betaln(a, b))[at] + r * np.log(alpha)
        return common + np.logaddexp(*self._branches(params, x, t_x, T))

    def _gradient(self, params, x, t_x, T, counts) -> np.ndarray:
        """d LL / d (r, alpha, a, b), summed with the counts: exact derivatives make fitting fast."""
        r, alpha, a, b = params
        stays, leaves = self._branches(params, x, t_x, T)
        gone = counts * np.exp(leaves - np.logaddexp(stays, leaves))  # posterior weight of "gone"
        active = counts - gone
        xs, at = self._distinct_x
        n_x, repeat = np.bincount(at, weights=counts), x > 0
        d_r = (n_x @ (digamma(r + xs) - digamma(r))) + counts.sum() * np.log(alpha) \
            - active @ np.log(alpha + T) - gone @ np.log(alpha + t_x)
        d_alpha = counts.sum() * r / alpha - active @ ((r + x) / (alpha + T)) - gone @ ((r + x) / (alpha + t_x))
        d_a = n_x @ (digamma(a + b) - digamma(a + b + xs)) + gone.sum() / a
        d_b = n_x @ (digamma(b + xs) - digamma(a + b + xs) - digamma(b) + digamma(a + b)) \
            - gone[repeat] @ (1 / (b + x[repeat] - 1))
        return np.array([d_r, d_alpha, d_a, d_b])

    def conditional_probability_alive(self, frequency, recency, T) -> np.ndarray:
        r, alpha, a, b = self._p()
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T], FHL (2005) eq. (10); the ₂F₁ in Euler-transformed form, which converges
        fast for heavy buyers: (1-z)^(r+x) ₂F₁(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) ₂F₁(a+b-1-r, a-1; a+b+x-1; z)."""
        r, alpha, a, b = self._p()
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        z = t / (alpha + T + t)
        tail = (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        expected = (a + b + x - 1) / (a - 1) * (1 - tail)
        return expected * self.conditional_probability_alive(x, t_x, T)

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)] for a customer who has just made a first purchase, FHL (2005) eq. (9)."""
        r, alpha, a, b = self._p()
        t = as_array(t)
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z))

    def probability_of_purchases(self, t: float, n: int) -> float:
        """P(X(t) = n) for a new customer, FHL (2005) eq. (8)."""
        r, alpha, a, b = self._p()
        log_p = r * np.log(alpha / (alpha + t))
        log_q = np.log(t / (alpha + t))
        nbd = np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1) + log_p + n * log_q)
        value = np.exp(betaln(a, b + n) - betaln(a, b)) * nbd
        if n > 0:
            j = np.arange(n)
            head = np.sum(np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + log_p + j * log_q))
            value += np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * (1 - head)
        return float(value)

    def conditional_probability_no_purchase(self, t, frequency, recency, T) -> np.ndarray:
        """P(no purchase in the next t | history): gone, or alive with λ ~ Gamma(r+x, alpha+T) and silent."""
        r, alpha, a, b = self._p()
        x, T = as_array(frequency), as_array(T)
        alive = self.conditional_probability_alive(frequency, recency, T)
        return 1 - alive + alive * ((alpha + T) / (alpha + T + t)) ** (r + x)
