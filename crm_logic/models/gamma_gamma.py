"""Gamma-Gamma spend model: Fader & Hardie (2013), "The Gamma-Gamma model of monetary value";
Colombo & Jiang (1999)."""
from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from crm_logic.models.base import MIN_CUSTOMERS, ModelError, as_array, collapse, maximise


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
        w = None if weights is None else as_array(weights)[usable]
        (x, m), counts = collapse([x[usable], m[usable]], w)
        start = np.array([1.0, 2.0, float(np.average(m, weights=counts))])

        def log_likelihood(params):
            p, q, g = params
            return float(np.sum(counts * (
                gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
                + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(g + m * x)
            )))

        def gradient(params):
            p, q, g = params
            common = digamma(p * x + q)
            return np.array([
                counts @ (x * (common - digamma(p * x) + np.log(m) + np.log(x) - np.log(g + m * x))),
                counts @ (common - digamma(q) + np.log(g) - np.log(g + m * x)),
                counts @ (q / g - (p * x + q) / (g + m * x)),
            ])

        self.params_, self.log_likelihood_, self.standard_errors_ = maximise(log_likelihood, start, self.names, gradient)
        self.n_customers_ = int(round(np.sum(counts)))
        if self.params_["q"] <= 1:
            raise ModelError("q_not_above_one", f"q = {self.params_['q']:.3f}")
        return self

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
