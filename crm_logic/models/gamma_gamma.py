"""Gamma-Gamma spend model: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value";
Colombo & Jiang (1999)."""
from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from crm_logic.models.base import MIN_CUSTOMERS, ModelError, as_array, newton_maximise


class GammaGammaModel:
    """A customer's spend per purchase varies around their own mean, which varies across customers:
    z ~ Gamma(p, ν), ν ~ Gamma(q, gamma). Fitted on repeat customers only (frequency > 0) with a positive
    average repeat spend: a refund-only average cannot be a spend level. Needs q > 1 for a finite mean."""

    names = ("p", "q", "gamma")

    @classmethod
    def from_params(cls, params: dict) -> "GammaGammaModel":
        model = cls()
        model.params_ = {name: float(params[name]) for name in cls.names}
        return model

    def fit(self, frequency, monetary_value, weights=None) -> "GammaGammaModel":
        x, m = as_array(frequency), as_array(monetary_value)
        usable = (x > 0) & np.isfinite(m) & (m > 0)
        if usable.sum() < MIN_CUSTOMERS:
            raise ModelError("too_few_customers", f"{int(usable.sum())} repeat customers with positive spend")
        c = np.ones(int(usable.sum())) if weights is None else as_array(weights)[usable]
        self.params_, self.log_likelihood_, self.standard_errors_ = newton_maximise(
            self._derivatives(x[usable], m[usable], c), np.array([1.0, 2.0, float(np.average(m[usable], weights=c))]),
            self.names)
        self.n_customers_ = int(round(np.sum(c)))
        if self.params_["q"] <= 1:
            raise ModelError("q_not_above_one", f"q = {self.params_['q']:.3f}")
        return self

    @staticmethod
    def _derivatives(x, m, c):
        """Log-likelihood, gradient and Hessian in (p, q, gamma), Fader & Hardie (2013) eq. (2) summed over
        customers. Gamma-function terms depend on x alone (evaluated once per distinct x) and the terms
        in ln m are fixed sums; only ln(gamma + m x) and its powers are per customer at each step."""
        xs, at = np.unique(x, return_inverse=True)
        n_x = np.bincount(at, weights=c)
        n = c.sum()
        cx, mx = c * x, m * x
        fixed = cx @ np.log(m), c @ np.log(m), n_x @ (xs * np.log(xs))

        def derivatives(params):
            p, q, g = params
            u = g + mx
            log_u, inv_u = np.log(u), 1 / u
            inv_u2 = inv_u * inv_u
            s_log, sx_log = c @ log_u, cx @ log_u
            s_inv, sx_inv = c @ inv_u, cx @ inv_u
            s_inv2, sx_inv2 = c @ inv_u2, cx @ inv_u2
            px = p * xs
            ll = (n_x @ (gammaln(px + q) - gammaln(px)) - n * gammaln(q) + n * q * np.log(g)
                  + p * fixed[0] - fixed[1] + p * fixed[2] - p * sx_log - q * s_log)
            gradient = np.array([
                n_x @ (xs * (digamma(px + q) - digamma(px))) + fixed[0] + fixed[2] - sx_log,
                n_x @ digamma(px + q) - n * digamma(q) + n * np.log(g) - s_log,
                n * q / g - p * sx_inv - q * s_inv,
            ])
            t_pq = polygamma(1, px + q)
            pq, qg = n_x @ (xs * t_pq), n / g - s_inv
            pg = -sx_inv
            hessian = np.array([
                [n_x @ (xs * xs * (t_pq - polygamma(1, px))), pq, pg],
                [pq, n_x @ t_pq - n * polygamma(1, q), qg],
                [pg, qg, -n * q / g ** 2 + p * sx_inv2 + q * s_inv2],
            ])
            return float(ll), gradient, hessian

        return derivatives

    def conditional_expected_average_profit(self, frequency, monetary_value) -> np.ndarray:
        """E[spend per purchase | x, m̄]: a weighted mean of the customer's own average and the population's;
        customers with no repeat purchase (or no usable average) get the population mean."""
        p, q, g = (self.params_[n] for n in self.names)
        x, m = as_array(frequency), as_array(monetary_value)
        known = (x > 0) & np.isfinite(m)
        m = np.where(known, m, 0.0)
        x = np.where(known, x, 0.0)
        return p * (g + x * m) / (p * x + q - 1)

    def population_mean_spend(self) -> float:
        p, q, g = (self.params_[n] for n in self.names)
        return p * g / (q - 1)
