"""BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln, hyp2f1, polygamma

from crm_logic.models.base import TransactionModel, as_array, per_distinct


class BetaGeoModel(TransactionModel):
    """BG/NBD. While active, a customer buys at Poisson rate λ ~ Gamma(r, alpha); after each purchase
    they leave for good with probability p ~ Beta(a, b). frequency x = repeat purchases, recency t_x =
    time of the last one and T = time since the first purchase, all in one time unit."""

    names = ("r", "alpha", "a", "b")

    def _start(self, rate: float) -> np.ndarray:
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 3.0])

    # MBG/NBD differs only in when a customer may leave: also at the first purchase. Its terms are BG/NBD's
    # with b + x - 1 read as b + x (and B(a, b+x) as B(a, b+x+1)), and every customer may have left.
    _leaves_at_first_purchase = False

    def _prepare(self, x, t_x, T, counts) -> dict:
        """What the derivatives need that does not change with the parameters. Terms that depend on x,
        t_x or T alone are evaluated once per distinct value (a few hundred), and sums over all customers
        of functions of T reduce to sums over distinct T with fixed weights."""
        at, xs = pd.factorize(x)
        T_at, T_values = pd.factorize(T)
        repeat = np.full(len(x), True) if self._leaves_at_first_purchase else x > 0
        t_at, t_values = pd.factorize(t_x[repeat])
        return {"shift": float(self._leaves_at_first_purchase),
                "n": counts.sum(), "xs": xs, "n_x": np.bincount(at, weights=counts), "x_at": at[repeat],
                "T_values": T_values, "c_T": np.bincount(T_at, weights=counts, minlength=len(T_values)),
                "cx_T": np.bincount(T_at, weights=counts * x, minlength=len(T_values)), "T_at": T_at[repeat],
                "t_values": t_values, "t_at": t_at, "xr": x[repeat], "cr": counts[repeat]}

    @staticmethod
    def _derivatives(params, d) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-likelihood, gradient and Hessian in (r, alpha, a, b). Each customer is either still active
        at T (branch S) or, for repeat buyers, gone after the last purchase (branch L); per customer
        LL = c(x) + r ln alpha + ln(e^S + e^L). With w = P(gone | data) the derivatives of the last term are
        dS + w (dL-dS) and d²S + w (d²L-d²S) + w(1-w) (dL-dS)(dL-dS)ᵀ; S is summed over distinct T."""
        r, alpha, a, b = params
        n, xs, n_x, xr, cr = d["n"], d["xs"], d["n_x"], d["xr"], d["cr"]
        xb = xs + d["shift"]  # x as the dropout terms see it
        log_T, inv_T = np.log(alpha + d["T_values"]), 1 / (alpha + d["T_values"])
        log_t, inv_t = np.log(alpha + d["t_values"]), 1 / (alpha + d["t_values"])
        inv_bx_values = 1 / np.maximum(b + xb - 1, 1e-300)
        c_T, cx_T = d["c_T"], d["cx_T"]
        # the repeat buyers, row by row
        gap = log_T[d["T_at"]] - log_t[d["t_at"]]  # ln(alpha+T) - ln(alpha+t_x)
        inv_gap = inv_T[d["T_at"]] - inv_t[d["t_at"]]
        inv_bx = inv_bx_values[d["x_at"]]
        rx = r + xr
        lead = (np.log(a) + np.log(inv_bx_values))[d["x_at"]] + rx * gap  # L - S
        softplus = np.logaddexp(0.0, lead)
        w = np.exp(lead - softplus)
        cw = cr * w
        cwv = cw * (1 - w)
        v_alpha = rx * inv_gap  # d(L-S)/d alpha
        s_w, s_gap, s_v, s_bx = cw.sum(), cw @ gap, cw @ v_alpha, cw @ inv_bx
        ll = (n_x @ (gammaln(r + xs) - gammaln(r) + betaln(a, b + xb) - betaln(a, b)) + n * r * np.log(alpha)
              - (r * c_T + cx_T) @ log_T + cr @ softplus)
        gradient = np.array([
            n_x @ (digamma(r + xs) - digamma(r)) + n * np.log(alpha) - c_T @ log_T + s_gap,
            n * r / alpha - (r * c_T + cx_T) @ inv_T + s_v,
            n_x @ (digamma(a + b) - digamma(a + b + xb)) + s_w / a,
            n_x @ (digamma(b + xb) - digamma(a + b + xb) - digamma(b) + digamma(a + b)) - s_bx,
        ])
        h = np.zeros((4, 4))
        h[0, 0] = n_x @ (polygamma(1, r + xs) - polygamma(1, r))
        h[0, 1] = n / alpha - c_T @ inv_T + cw @ inv_gap
        h[1, 1] = -n * r / alpha ** 2 + (r * c_T + cx_T) @ inv_T ** 2 \
            - cw @ (v_alpha * (inv_T[d["T_at"]] + inv_t[d["t_at"]]))
        ab = n_x @ (polygamma(1, a + b) - polygamma(1, a + b + xb))
        h[2, 2] = ab - s_w / a ** 2
        h[2, 3] = ab
        h[3, 3] = ab + n_x @ (polygamma(1, b + xb) - polygamma(1, b)) + cw @ (inv_bx * inv_bx)
        # the mixing term, v = d(L-S) = (gap, v_alpha, 1/a, -1/(b+x-1))
        m_gap, m_v, m_bx = cwv @ gap, cwv @ v_alpha, cwv @ inv_bx
        h[0, 0] += cwv @ (gap * gap)
        h[0, 1] += cwv @ (gap * v_alpha)
        h[0, 2] += m_gap / a
        h[0, 3] -= cwv @ (gap * inv_bx)
        h[1, 1] += cwv @ (v_alpha * v_alpha)
        h[1, 2] += m_v / a
        h[1, 3] -= cwv @ (v_alpha * inv_bx)
        h[2, 2] += cwv.sum() / a ** 2
        h[2, 3] -= m_bx / a
        h[3, 3] += cwv @ (inv_bx * inv_bx)
        h = np.triu(h) + np.triu(h, 1).T
        return float(ll), gradient, h

    def conditional_probability_alive(self, frequency, recency, T) -> np.ndarray:
        r, alpha, a, b = self._p()
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)

    def conditional_expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T], FHL (2005) eq. (10); the ₂F₁ in Euler-transformed form, which converges
        fast for heavy buyers: (1-z)^(r+x) ₂F₁(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) ₂F₁(a+b-1-r, a-1; a+b+x-1; z).
        `t` may be a column of horizons (k x 1): the result is then k x customers."""
        r, alpha, a, b = self._p()
        x, t_x, T = as_array(frequency), as_array(recency), as_array(T)
        t = as_array(t)

        def if_alive(x, T):  # depends on (x, T) only: once per distinct pair
            z = t / (alpha + T + t)
            return (a + b + x - 1) / (a - 1) * (1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z))

        return per_distinct([x, T], if_alive) * self.conditional_probability_alive(x, t_x, T)

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
