"""Modified BG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of
models for customer base analysis", International Journal of Research in Marketing 24(3)."""
from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from crm_logic.models.base import as_array, per_distinct
from crm_logic.models.bg_nbd import BetaGeoModel


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD: as BG/NBD, but a customer may also leave straight after the first purchase, so a customer
    with no repeat purchase is not certainly alive."""

    _leaves_at_first_purchase = True  # fitted with BG/NBD's exact derivatives, shifted (see there)

    def conditional_probability_alive(self, frequency, recency, T) -> np.ndarray:
        r, alpha, a, b = self._p()
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        log_ratio = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700)))

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """Batislam et al. (2007); ₂F₁(r+x, b+x+1; a+b+x; z) taken in its Euler-transformed form."""
        r, alpha, a, b = self._p()
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        t = as_array(t)

        def if_alive(x, T):
            z = t / (alpha + T + t)
            return (a + b + x) / (a - 1) * (1 - (1 - z) ** (a - 1) * hyp2f1(a + b - r, a - 1, a + b + x, z))

        return per_distinct([x, T], if_alive) * self.conditional_probability_alive(x, t_x, T)

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)] = b/(a-1) [1 - (1-z)^r ₂F₁(r, b+1; a+b; z)], z = t/(alpha+t), Euler-transformed."""
        r, alpha, a, b = self._p()
        z = as_array(t) / (alpha + as_array(t))
        return b / (a - 1) * (1 - (1 - z) ** (a - 1) * hyp2f1(a + b - r, a - 1, a + b, z))

    def probability_of_purchases(self, t: float, n: int) -> float:
        """P(X(t) = n) for a new customer: the BG/NBD sum with a possible drop-out at time zero."""
        r, alpha, a, b = self._p()
        log_p, log_q = r * np.log(alpha / (alpha + t)), np.log(t / (alpha + t))
        j = np.arange(n + 1)
        nbd = np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + log_p + j * log_q)
        # alive throughout with n purchases, or left after the k-th purchase (k = 0..n) having made n
        value = np.exp(betaln(a, b + n + 1) - betaln(a, b)) * nbd[n]
        if n == 0:
            return float(value + a / (a + b))
        return float(value + np.exp(betaln(a + 1, b + n) - betaln(a, b)) * (1 - nbd[:n].sum()))

    def conditional_probability_no_purchase(self, t, frequency, recency, T) -> np.ndarray:
        r, alpha, a, b = self._p()
        x, T = as_array(frequency), as_array(T)
        alive = self.conditional_probability_alive(frequency, recency, T)
        return 1 - alive + alive * ((alpha + T) / (alpha + T + t)) ** (r + x)

