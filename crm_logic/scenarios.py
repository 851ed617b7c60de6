"""What-if: move levers on the fitted model, see customer equity move; scenarios kept in the base.

A scenario never refits and never reads the transactions again: `prepare` compresses the fitted facts
once (each customer's P(alive), spend and margin per order, and an index into the distinct (x, T) pairs
of the customer summary); a lever change re-evaluates the model's expected purchases once per distinct
(x, T) and behaviour, and spreads them back to the customers.

How each lever maps onto the model (the page says the same, whatif.how):

- retention ρ: every customer's future drop-out × (1 − ρ). P(alive) today is what the data say; levers
  change the future, not the past.
  BG/NBD and MBG/NBD: the probability p of leaving after a purchase. A customer's p given their history is
  Beta(a, b + x); (a, b) → (c·a, b + (1 − c)·a), c = 1 − ρ, scales every customer's expected p by c and
  keeps a + b (how much customers differ) as fitted. c is capped below (a + b)/a, where the average p
  would reach 1.
  Pareto/NBD: the drop-out rate μ. c·μ given a history is Gamma(s, (β + T)/c) exactly, and the expected
  purchases under c·μ over t are those under μ over c·t, divided by c.
- frequency φ: every customer's purchase rate λ × (1 + φ) (α / (1 + φ)). BG/NBD: the whole process
  (purchases and the drop-outs that follow them) runs 1 + φ times as fast: E[Y(t)] → E[Y((1 + φ)·t)].
  Pareto/NBD: drop-out runs on the clock, so E[Y(t)] × (1 + φ).
- spend σ: the Gamma-Gamma expected spend per order × (1 + σ).
- price π with elasticity ε: orders × (1 + π)^ε (through λ as frequency does), revenue per order
  × (1 + π); the cost of an order stays, so the margin per order goes from spend·m to spend·(m + π).
- margin g: every customer's margin rate + g. monthly_discount and horizon_months replace the settings'.
- acquisition: new customers each month for `acquisition_months`, each worth the model's expected value
  of a new customer: a first order plus E[X(t)] repeat orders (the model's new-customer curve) until the
  horizon, at the base's mean spend and margin rate, discounted from the month they arrive.
- programmes (relationship marketing, levels 1–3): a cost and the behaviour change it is expected to buy
  (retention, frequency, spend as above) for the customers in its scope. Level 1 costs `reward_share` of
  the members' revenue; level 2 `cost_per_member` plus `contacts_per_year` × `cost_per_contact` a year
  per member; level 3 `cost_per_alliance` a year per alliance.
- moves: `share` of segment `from` takes the average behaviour of segment `to`: each moved customer's
  expected monthly margin and revenue become (1 − share) of their own plus share of the target's average.

Money is present value at the (scenario's) monthly discount rate: equity, investment, net gain.
"""
from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from crm_logic.clv import UNITS_PER_MONTH, margin_rates
from crm_logic.models import ModelError, ParetoNBDModel
from crm_logic.store import Store

SCOPE_KEYS = {"segments": "rfm_segment", "classes": "customer_class", "regions": "region"}
EFFECTS = ("retention", "frequency", "spend")
LEVERS = {
    "retention": 0.0, "frequency": 0.0, "spend": 0.0, "price": 0.0, "elasticity": -1.5,
    "segments": [], "classes": [], "regions": [],
    "margin": 0.0, "monthly_discount": None, "horizon_months": None,
    "new_customers_per_month": 0.0, "acquisition_cost": 0.0, "acquisition_months": 12,
    "programmes": [], "moves": [],
}
PROGRAMME_COSTS = {1: ("reward_share",), 2: ("cost_per_member", "cost_per_contact", "contacts_per_year"),
                   3: ("cost_per_alliance", "alliances")}
PROGRAMME = {"level": 1, "reward_share": 0.0, "cost_per_member": 0.0, "cost_per_contact": 0.0,
             "contacts_per_year": 0.0, "cost_per_alliance": 0.0, "alliances": None,
             "retention": 0.0, "frequency": 0.0, "spend": 0.0, "segments": [], "classes": [], "regions": []}
MOVE = {"from": None, "to": None, "share": 0.0}
LEVERS_HELP = """levers (JSON object; every key optional, {} = the baseline):
  retention 0.05        five percent less drop-out (BG/NBD: p per purchase; Pareto/NBD: rate mu)
  frequency 0.05        purchase rate x 1.05
  spend 0.05            spend per order x 1.05
  price -0.05           price change; orders x (1+price)^elasticity, margin per order m -> m + price
  elasticity -1.5       price elasticity of demand
  segments / classes / regions ["at_risk"]   who the five above apply to (default: everyone)
  margin 0.02           gross margin +2 points, everyone
  monthly_discount 0.01 / horizon_months 24  replace the settings
  new_customers_per_month 100, acquisition_cost 300, acquisition_months 12
  programmes [{"level": 1, "reward_share": 0.02, "retention": 0.05, "segments": [...]},
              {"level": 2, "cost_per_member": 50, "cost_per_contact": 5, "contacts_per_year": 4, ...},
              {"level": 3, "cost_per_alliance": 20000, "alliances": 10, "frequency": 0.1, ...}]
  moves [{"from": "at_risk", "to": "loyal", "share": 0.1}]"""
STEPS = ("retention", "frequency", "spend", "price", "margin", "monthly_discount", "horizon_months",
         "acquisition", "programmes", "moves")
STEP_KEYS = {"price": ("price", "elasticity"), "acquisition": ("new_customers_per_month", "acquisition_cost",
                                                                "acquisition_months")}
SENSITIVITY_STEP = 0.10  # the tornado: each lever ±10 %
TOP_GAINERS = 20
CURVES_KEPT = 8
OUTCOMES_KEPT = 4   # per-customer arrays: ~30 MB each at a million customers
RESULTS_KEPT = 64   # headline figures, bridges, tornados, break-evens, tables: small


# ---------------------------------------------------------------- levers

def normalise(levers: dict | None) -> dict:
    """The levers with every default filled in, checked; ValueError names what is wrong. Two lever sets
    that mean the same scenario normalise to the same dict."""
    given = dict(levers or {})
    unknown = set(given) - set(LEVERS)
    if unknown:
        raise ValueError(f"unknown levers: {sorted(unknown)}")
    out = {**LEVERS, **given}
    for key in ("retention", "frequency", "spend", "price", "elasticity", "margin", "new_customers_per_month",
                "acquisition_cost"):
        out[key] = float(out[key])
    _check(-1 < out["retention"] < 1, "retention is a share between -1 and 1")
    _check(out["frequency"] > -1 and out["spend"] > -1, "frequency and spend cannot fall by 100 % or more")
    _check(-1 < out["price"] < 1, "price is a change between -100 % and +100 %")
    _check(-1 <= out["margin"] <= 1, "margin is a change in points of a share, between -1 and 1")
    _check(out["new_customers_per_month"] >= 0 and out["acquisition_cost"] >= 0, "acquisition figures cannot be negative")
    out["acquisition_months"] = int(out["acquisition_months"])
    _check(out["acquisition_months"] >= 1, "acquisition_months must be at least 1")
    if out["monthly_discount"] is not None:
        out["monthly_discount"] = float(out["monthly_discount"])
        _check(out["monthly_discount"] >= 0, "monthly_discount cannot be negative")
    if out["horizon_months"] is not None:
        out["horizon_months"] = int(out["horizon_months"])
        _check(1 <= out["horizon_months"] <= 240, "horizon_months is between 1 and 240")
    for key in SCOPE_KEYS:
        out[key] = sorted(str(v) for v in out[key])
    out["programmes"] = [_programme(p) for p in out["programmes"]]
    out["moves"] = [_move(m) for m in out["moves"]]
    moved = pd.Series([m["share"] for m in out["moves"]], [m["from"] for m in out["moves"]], dtype=float)
    _check(bool((moved.groupby(level=0).sum() <= 1 + 1e-12).all()), "the shares moved out of a segment exceed 100 %")
    return out


def _programme(given: dict) -> dict:
    level = int(given.get("level", 1))
    _check(level in PROGRAMME_COSTS, "a programme's level is 1, 2 or 3")
    foreign = {k for c in PROGRAMME_COSTS.values() for k in c} - set(PROGRAMME_COSTS[level])
    unknown = set(given) - set(PROGRAMME)
    _check(not unknown, f"unknown programme keys: {sorted(unknown)}")
    _check(not (foreign & {k for k, v in given.items() if v}), f"level {level} has no costs {sorted(foreign & set(given))}")
    out = {**PROGRAMME, **given, "level": level}
    for key in ("reward_share", "cost_per_member", "cost_per_contact", "contacts_per_year", "cost_per_alliance",
                "retention", "frequency", "spend"):
        out[key] = float(out[key])
    _check(min(out[k] for k in PROGRAMME_COSTS[level] if out[k] is not None) >= 0, "costs cannot be negative")
    _check(-1 < out["retention"] < 1 and out["frequency"] > -1 and out["spend"] > -1, "effects out of range")
    if out["alliances"] is not None:
        out["alliances"] = float(out["alliances"])
    for key in SCOPE_KEYS:
        out[key] = sorted(str(v) for v in out[key])
    return out


def _move(given: dict) -> dict:
    unknown = set(given) - set(MOVE)
    _check(not unknown, f"unknown move keys: {sorted(unknown)}")
    out = {**MOVE, **given}
    _check(bool(out["from"]) and bool(out["to"]), "a move names a segment to move from and one to move to")
    out["share"] = float(out["share"])
    _check(0 <= out["share"] <= 1, "a move's share is between 0 and 1")
    return out


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _key(levers: dict) -> str:
    """Lever sets that mean the same scenario share one key."""
    return json.dumps(normalise(levers), sort_keys=True)


def moved_levers(levers: dict) -> dict:
    """Only the levers that differ from the defaults (what is worth storing and showing)."""
    normal = normalise(levers)
    return {k: v for k, v in normal.items() if v != LEVERS[k]}


# ---------------------------------------------------------------- the prepared base

@dataclass
class Base:
    """A fitted base compressed for lever changes: per customer P(alive), spend and margin rate, the index
    of their (x, T) among the distinct pairs, and who they are (segment, class, region, name)."""

    model: object
    unit: str
    horizon_months: int
    monthly_discount: float
    customers: pd.DataFrame          # customer_id, name, rfm_segment, customer_class, region
    p_alive: np.ndarray
    spend: np.ndarray
    rate: np.ndarray
    x: np.ndarray                    # distinct frequencies
    T: np.ndarray                    # distinct ages, same length
    at: np.ndarray                   # per customer, the row of (x, T)
    new_spend: float
    new_rate: float
    _baseline: "Outcome | None" = field(default=None, repr=False)
    _curves: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _outcomes: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _results: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _remembered(self, kept: OrderedDict, limit: int, key, compute):
        """compute(), kept under `key` among the last `limit` used. A Base is shared by every session on
        the server, so the bookkeeping is locked (the computing is not: two sessions may both compute)."""
        with self._lock:
            if key in kept:
                kept.move_to_end(key)
                return kept[key]
        value = compute()
        with self._lock:
            kept[key] = value
            while len(kept) > limit:
                kept.popitem(last=False)
        return value

    def curve(self, months: int, keep: float, pace: float) -> np.ndarray:
        """`behaviour_curve` over the distinct (x, T), remembered for the last few behaviours: the
        customers a lever leaves alone keep the curve they had (CURVES_KEPT of them; ~4 MB each at a
        million customers and 12 months)."""
        return self._remembered(self._curves, CURVES_KEPT, (months, float(keep), float(pace)),
                                lambda: behaviour_curve(self.model, self.unit, self.x, self.T, months, keep, pace))

    def outcome(self, levers: dict) -> "Outcome":
        """`evaluate`, remembered for the last few scenarios: one rerun of the page asks for a scenario's
        figures, bridge, segments and gainers, and every rerun a lever did not change asks again."""
        return self._remembered(self._outcomes, OUTCOMES_KEPT, _key(levers), lambda: evaluate(self, levers))

    def result(self, kind: str, levers: dict, compute, *args):
        """A small result derived from a scenario (`kind` and `args` say which), remembered likewise."""
        return self._remembered(self._results, RESULTS_KEPT, (kind, _key(levers), *args), compute)

    def has(self, column: str) -> bool:
        return bool(self.options(column))

    def options(self, column: str) -> list[str]:
        """The groups of a scope column present in the base, sorted (its categories: no pass over the
        customers on every rerun)."""
        if column not in self.customers or not isinstance(self.customers[column].dtype, pd.CategoricalDtype):
            return []
        return sorted(self.customers[column].cat.categories)

    @property
    def baseline(self) -> "Outcome":
        if self._baseline is None:
            self._baseline = evaluate(self, {})
        return self._baseline


def customer_groups(store: Store, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who each customer is, for scopes and lists: id, name, class, region and, given the segment table
    (`tiers.segment_table`, which the app shares between pages), the RFM segment."""
    groups = store.df("SELECT customer_id, name, customer_class, region FROM customers")
    if segments is None:
        return groups
    segments = segments[["customer_id", "rfm_segment"]].astype({"rfm_segment": object})
    return groups.merge(segments, on="customer_id", how="left")


def prepare(facts, settings, groups: pd.DataFrame | None = None) -> Base:
    """Compress the fitted facts for what-ifs under `settings` (horizon, discount, default margin).
    `groups`: a frame keyed by customer_id with any of name, rfm_segment, customer_class, region.
    Raises ModelError when the base has no spend model (no value without a spend per order)."""
    if facts.spend_model is None:
        raise ModelError(facts.spend_error or "no_spend_model")
    from crm_logic.clv import expected_spend

    summary = facts.summary
    f, T = summary["frequency"].to_numpy(dtype=float), summary["T"].to_numpy(dtype=float)
    f_codes, f_values = pd.factorize(f)
    T_codes, T_values = pd.factorize(T)
    pairs, at = np.unique(f_codes.astype(np.int64) * len(T_values) + T_codes, return_inverse=True)
    x_d, T_d = f_values[pairs // len(T_values)], T_values[pairs % len(T_values)]
    customers = summary[["customer_id"]].copy()
    if groups is not None and not groups.empty:
        customers = customers.merge(groups, on="customer_id", how="left")
        for column in SCOPE_KEYS.values():  # categories: a scope is then a match on small integer codes
            if column in customers:
                customers[column] = customers[column].astype("category")
    spend = expected_spend(facts.spend_model, f, summary["monetary_value"])
    rate = margin_rates(summary["margin_rate"], settings.default_margin)
    return Base(facts.model, facts.unit, settings.horizon_months, settings.monthly_discount, customers,
                np.asarray(facts.p_alive, dtype=float), spend, rate, x_d, T_d, at,
                float(facts.spend_model.population_mean_spend()), float(np.mean(rate)))


# ---------------------------------------------------------------- evaluation

@dataclass
class Outcome:
    """One evaluation: per customer values, and month-by-month streams over the horizon (undiscounted
    money; `discount` holds each month's factor)."""

    clv: np.ndarray
    revenue_12m: np.ndarray
    margin_12m: np.ndarray
    margin_stream: np.ndarray        # existing customers (after moves) + new customers, per month
    cost_stream: np.ndarray          # programme and acquisition costs, per month
    discount: np.ndarray
    new_customer_value: float        # one new customer at arrival (present value at arrival)
    new_equity: float
    new_revenue_12m: float
    new_margin_12m: float
    programme_costs: list[float]     # present value, per programme
    acquisition_investment: float

    @property
    def existing_equity(self) -> float:
        return float(np.sum(self.clv))

    @property
    def equity(self) -> float:
        return self.existing_equity + self.new_equity

    @property
    def investment(self) -> float:
        return float(self.cost_stream @ self.discount)


def _scope(base: Base, scope: dict) -> np.ndarray:
    """Customers in a lever's scope: in every named list (segments ∧ classes ∧ regions); empty lists: all."""
    mask = np.ones(len(base.p_alive), dtype=bool)
    for key, column in SCOPE_KEYS.items():
        if scope[key]:
            _check(column in base.customers, f"{key}: this base has no {column} for its customers")
            mask &= base.customers[column].isin(scope[key]).to_numpy()
    return mask


def _alive_curve(model, x, T, horizons) -> np.ndarray:
    """E[Y(t) | alive] per distinct (x, T) and horizon (rows): the model's own conditional expectation for
    a customer seen buying at T (t_x = T), divided by its P(alive) there."""
    horizons = np.asarray(horizons, dtype=float)[:, None]
    return np.atleast_2d(model.conditional_expected_purchases(horizons, x, T, T)) / model.conditional_probability_alive(x, T, T)


def behaviour_curve(model, unit: str, x, T, months: int, keep: float, pace: float) -> np.ndarray:
    """Expected purchases to each month end (months × distinct pairs) of a customer still alive, when their
    drop-out is × `keep` (c = 1 − retention) and their purchase rate × `pace`; see the module docstring."""
    horizons = np.arange(1, months + 1) * UNITS_PER_MONTH[unit]
    if isinstance(model, ParetoNBDModel):
        return pace / keep * _alive_curve(model, x, T, keep * horizons)
    params = dict(model.params_)
    a, b = params["a"], params["b"]
    keep = min(keep, 0.999 * (a + b) / a)
    a_new = keep * a
    if abs(a_new - 1) < 1e-6:  # the closed form has a removable singularity at a = 1
        a_new = 1 + 1e-6 if keep >= 1 else 1 - 1e-6
    scaled = type(model).from_params({**params, "a": a_new, "b": a + b - a_new})
    return _alive_curve(scaled, x, T, pace * horizons)


def _weights(months: int, monthly_discount: float) -> np.ndarray:
    return (1.0 + monthly_discount) ** -np.arange(1, months + 1, dtype=float)


def evaluate(base: Base, levers: dict) -> Outcome:
    """Customer values and streams under `levers` (normalised here). `evaluate(base, {})` is the baseline."""
    lv = normalise(levers)
    horizon = lv["horizon_months"] or base.horizon_months
    discount = _weights(horizon, base.monthly_discount if lv["monthly_discount"] is None else lv["monthly_discount"])
    months = max(horizon, 12)
    n = len(base.p_alive)

    keep, pace, spend_factor = np.ones(n), np.ones(n), np.ones(n)
    price, cell = np.zeros(n), np.zeros(n, dtype=np.int64)
    top = _scope(base, lv)
    behaviours = [(top, lv["retention"], lv["frequency"], lv["spend"])]
    behaviours += [(_scope(base, p), p["retention"], p["frequency"], p["spend"]) for p in lv["programmes"]]
    for bit, (mask, retention, frequency, spend) in enumerate(behaviours):
        keep[mask] *= 1 - retention
        pace[mask] *= 1 + frequency
        spend_factor[mask] *= 1 + spend
        if retention or frequency or (bit == 0 and lv["price"]):
            cell[mask] |= 1 << bit
    if lv["price"]:
        pace[top] *= (1 + lv["price"]) ** lv["elasticity"]
        price[top] = lv["price"]

    revenue_per_order = base.spend * spend_factor * (1 + price)
    margin_per_order = base.spend * spend_factor * (base.rate + lv["margin"] + price)
    weight = base.p_alive * margin_per_order
    revenue_weight = base.p_alive * revenue_per_order

    # per distinct behaviour: the curve once per distinct (x, T), spread to its customers
    value, purchases_12m = np.empty(n), np.empty(n)
    monthly = []  # (customers of the cell, monthly purchase increments months × pairs)
    discounted = np.append(discount, 0.0)
    for key in np.unique(cell):
        members = np.flatnonzero(cell == key)
        first = members[0]
        curve = base.curve(months, keep[first], pace[first])
        within = curve[:horizon]
        per_pair = (discounted[:-1] - discounted[1:]) @ within  # sum_k C_k (d_k - d_k+1)
        value[members] = per_pair[base.at[members]]
        purchases_12m[members] = curve[11][base.at[members]]
        monthly.append((members, np.diff(within, axis=0, prepend=0.0)))

    def stream(per_customer: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Money per month: sum over customers (in mask) of per_customer × their monthly purchases."""
        total = np.zeros(horizon)
        for members, increments in monthly:
            chosen = members if mask is None else members[mask[members]]
            total += increments @ np.bincount(base.at[chosen], per_customer[chosen], minlength=len(base.x))
        return total

    clv = weight * value
    revenue_12m = revenue_weight * purchases_12m
    margin_12m = weight * purchases_12m
    margin_stream = stream(weight)
    clv, revenue_12m, margin_12m, margin_stream = _apply_moves(base, lv["moves"], clv, revenue_12m, margin_12m,
                                                               margin_stream, weight, stream)

    # new customers: arrive at the end of months 1..A, first order then the model's new-customer curve
    arrivals = np.zeros(horizon)
    arrivals[: min(lv["acquisition_months"], horizon)] = lv["new_customers_per_month"]
    new_curve = np.diff(np.asarray(base.model.expected_purchases(np.arange(0, months + 1) * UNITS_PER_MONTH[base.unit]),
                                   dtype=float))
    new_orders = np.convolve(arrivals, np.concatenate([[1.0], new_curve]))[:horizon]  # orders per month
    new_rate = base.new_rate + lv["margin"]
    new_margin_per_order = base.new_spend * new_rate
    new_customer_value = new_margin_per_order * (1 + new_curve[:horizon] @ discount)
    new_stream = new_orders * new_margin_per_order
    new_orders_12m = np.convolve(arrivals[:12], np.concatenate([[1.0], new_curve]))[:12].sum()

    cost_stream = arrivals * lv["acquisition_cost"]
    acquisition_investment = float(cost_stream @ discount)
    programme_costs = []
    for programme, (mask, *_effects) in zip(lv["programmes"], behaviours[1:]):
        costs = _programme_costs(programme, int(mask.sum()), stream(revenue_weight, mask), horizon)
        programme_costs.append(float(costs @ discount))
        cost_stream = cost_stream + costs
    return Outcome(
        clv=clv, revenue_12m=revenue_12m, margin_12m=margin_12m, margin_stream=margin_stream + new_stream,
        cost_stream=cost_stream, discount=discount, new_customer_value=float(new_customer_value),
        new_equity=float(new_stream @ discount), new_revenue_12m=float(new_orders_12m * base.new_spend),
        new_margin_12m=float(new_orders_12m * new_margin_per_order), programme_costs=programme_costs,
        acquisition_investment=acquisition_investment,
    )


def _programme_costs(programme: dict, members: int, member_revenue: np.ndarray, horizon: int) -> np.ndarray:
    """A programme's cost per month: level 1 a share of its members' revenue, level 2 a yearly cost per
    member (membership and contacts), level 3 a yearly cost per alliance (default: one per member)."""
    if programme["level"] == 1:
        return programme["reward_share"] * member_revenue
    if programme["level"] == 2:
        yearly = members * (programme["cost_per_member"] + programme["contacts_per_year"] * programme["cost_per_contact"])
    else:
        alliances = members if programme["alliances"] is None else programme["alliances"]
        yearly = alliances * programme["cost_per_alliance"]
    return np.full(horizon, yearly / 12)


def _apply_moves(base, moves, clv, revenue_12m, margin_12m, margin_stream, weight, stream):
    """Share s of segment A takes segment B's average behaviour: every A customer's expected money becomes
    (1 − s) of their own plus s of B's average (all from the values before any move)."""
    if not moves:
        return clv, revenue_12m, margin_12m, margin_stream
    segment = base.customers["rfm_segment"].to_numpy() if "rfm_segment" in base.customers else np.full(len(clv), None)
    before = {"clv": clv, "revenue": revenue_12m, "margin": margin_12m}
    after = {k: v.copy() for k, v in before.items()}
    margin_stream = margin_stream.copy()
    for move in moves:
        source, target = segment == move["from"], segment == move["to"]
        if not source.any() or not target.any() or move["share"] == 0:
            continue
        share = move["share"]
        for key, values in before.items():
            after[key][source] += share * (values[target].mean() - values[source])
        margin_stream += share * (source.sum() * stream(weight, target) / target.sum() - stream(weight, source))
    return after["clv"], after["revenue"], after["margin"], margin_stream


# ---------------------------------------------------------------- results

def simulate(base: Base, levers: dict) -> dict:
    """The headline figures of a scenario against the baseline (same code path: `evaluate`)."""
    return dict(base.result("simulate", levers, lambda: summarise(base.baseline, base.outcome(levers))))


def summarise(before: Outcome, after: Outcome) -> dict:
    delta = after.equity - before.equity
    investment = after.investment
    net = delta - investment
    return {
        "baseline_equity": before.equity, "scenario_equity": after.equity, "delta_equity": delta,
        "investment": investment, "net_gain": net, "roi": net / investment if investment > 0 else None,
        "payback_months": payback_months(before, after),
        "baseline_revenue_12m": float(before.revenue_12m.sum()) + before.new_revenue_12m,
        "scenario_revenue_12m": float(after.revenue_12m.sum()) + after.new_revenue_12m,
        "baseline_margin_12m": float(before.margin_12m.sum()) + before.new_margin_12m,
        "scenario_margin_12m": float(after.margin_12m.sum()) + after.new_margin_12m,
        "new_customer_value": after.new_customer_value,
        "acquisition_investment": after.acquisition_investment,
        "programme_costs": after.programme_costs,
    }


def payback_months(before: Outcome, after: Outcome) -> int | None:
    """The first month by whose end the discounted extra margin has paid back the discounted investment
    so far; None without investment or when it does not pay back within the horizon."""
    if after.investment <= 0:
        return None
    months = max(len(before.margin_stream), len(after.margin_stream))
    gain = _pad(after.margin_stream * after.discount, months) - _pad(before.margin_stream * before.discount, months)
    net = np.cumsum(gain - _pad(after.cost_stream * after.discount, months))
    paid = np.flatnonzero(net >= 0)
    return int(paid[0]) + 1 if paid.size else None


def _pad(values: np.ndarray, length: int) -> np.ndarray:
    return np.concatenate([values, np.zeros(length - len(values))])


def _steps(lv: dict) -> list[tuple[str, dict]]:
    """The moved levers, one waterfall step each, in a fixed order: [(step key, the levers it sets)]."""
    out = []
    for step in STEPS:
        keys = STEP_KEYS.get(step, (step,))
        part = {k: lv[k] for k in keys if lv[k] != LEVERS[k]}
        if step == "price" and lv["price"] == 0:
            part = {}
        if step == "acquisition" and lv["new_customers_per_month"] == 0:
            part = {}
        if part:
            out.append((step, part))
    return out


def waterfall(base: Base, levers: dict) -> list[dict]:
    """From baseline to scenario equity net of investment, lever by lever (each step adds its levers to the
    ones before; the scope applies throughout): [{"key", "value"}], first "baseline", then each moved
    step's change in equity, then "investment" (negative, when there is one), last "scenario" (equity −
    investment)."""
    return [dict(step) for step in base.result("waterfall", levers, lambda: _waterfall(base, normalise(levers)))]


def _waterfall(base: Base, lv: dict) -> list[dict]:
    previous = base.baseline.equity
    out, applied = [{"key": "baseline", "value": previous}], {k: lv[k] for k in SCOPE_KEYS}
    last, steps = base.baseline, _steps(lv)
    for number, (step, part) in enumerate(steps, 1):
        applied.update(part)
        # the last step is the whole scenario (the levers no step takes change nothing): the page has it already
        last = base.outcome(lv) if number == len(steps) else evaluate(base, applied)
        out.append({"key": step, "value": last.equity - previous})
        previous = last.equity
    if last.investment > 0:
        out.append({"key": "investment", "value": -last.investment})
    out.append({"key": "scenario", "value": last.equity - last.investment})
    return out


def sensitivity(base: Base, levers: dict, step: float = SENSITIVITY_STEP) -> pd.DataFrame:
    """The tornado: how far equity moves when each lever moves by ±`step` from the scenario (retention,
    frequency, spend and price by ±10 points, within the scenario's scope; margin by ±10 % of the average
    margin rate; discount rate and horizon by ±10 % of their value). Sorted by swing, widest first."""
    return base.result("sensitivity", levers, lambda: _sensitivity(base, normalise(levers), step), step).copy()


def _sensitivity(base: Base, lv: dict, step: float) -> pd.DataFrame:
    centre = base.outcome(lv).equity
    horizon = lv["horizon_months"] or base.horizon_months
    discount = base.monthly_discount if lv["monthly_discount"] is None else lv["monthly_discount"]
    moves = {
        "retention": lambda s: {"retention": min(max(lv["retention"] + s, -0.99), 0.99)},
        "frequency": lambda s: {"frequency": lv["frequency"] + s},
        "spend": lambda s: {"spend": lv["spend"] + s},
        "price": lambda s: {"price": lv["price"] + s},
        "margin": lambda s: {"margin": lv["margin"] + s * float(np.mean(base.rate))},
        "monthly_discount": lambda s: {"monthly_discount": discount * (1 + s)},
        "horizon_months": lambda s: {"horizon_months": max(1, round(horizon * (1 + s)))},
    }
    rows = []
    for key, move in moves.items():
        low, high = (evaluate(base, {**lv, **move(sign * step)}).equity - centre for sign in (-1, 1))
        rows.append({"lever": key, "low": low, "high": high, "swing": abs(high - low)})
    return pd.DataFrame(rows).sort_values("swing", ascending=False, ignore_index=True)


def break_even(base: Base, levers: dict, effect: str = "retention", programme: int | None = None,
               bounds: tuple[float, float] = (-0.95, 0.95)) -> float | None:
    """The size of one effect (retention, frequency or spend) at which it exactly pays for itself. Of a
    programme: the equity it adds to the rest of the scenario equals its own cost. Of the scenario's own
    lever (programme None): the scenario's equity gain equals its whole investment. None when no value in
    `bounds` does."""
    return base.result("break_even", levers, lambda: _break_even(base, normalise(levers), effect, programme, bounds),
                       effect, programme, bounds)


def _break_even(base: Base, lv: dict, effect: str, programme: int | None, bounds: tuple[float, float]) -> float | None:
    if programme is None:
        reference, cost = base.baseline, lambda outcome: outcome.investment
    else:
        reference = evaluate(base, {**lv, "programmes": [p for i, p in enumerate(lv["programmes"]) if i != programme]})
        cost = lambda outcome: outcome.programme_costs[programme]  # noqa: E731

    def net(value: float) -> float:
        trial = {**lv, "programmes": [dict(p) for p in lv["programmes"]]}
        (trial["programmes"][programme] if programme is not None else trial)[effect] = value
        outcome = evaluate(base, trial)
        return outcome.equity - reference.equity - cost(outcome)

    low, high = net(bounds[0]), net(bounds[1])
    if np.sign(low) == np.sign(high):
        return None
    return float(brentq(net, *bounds, xtol=1e-7, rtol=1e-9))


def by_segment(base: Base, levers: dict, column: str = "rfm_segment") -> pd.DataFrame:
    """Equity per group before and after, biggest gain first: group, customers, baseline, scenario, delta."""
    return base.result("by_segment", levers, lambda: _by_segment(base, levers, column), column).copy()


def _by_segment(base: Base, levers: dict, column: str) -> pd.DataFrame:
    after = base.outcome(levers)
    groups = (base.customers[column].astype(object).fillna("") if column in base.customers
              else pd.Series("", index=base.customers.index))
    frame = pd.DataFrame({"group": groups.to_numpy(), "baseline": base.baseline.clv, "scenario": after.clv})
    out = frame.groupby("group", sort=False).agg(customers=("baseline", "size"), baseline=("baseline", "sum"),
                                                  scenario=("scenario", "sum")).reset_index()
    out["delta"] = out["scenario"] - out["baseline"]
    return out.sort_values("delta", ascending=False, ignore_index=True)


def top_gainers(base: Base, levers: dict, limit: int = TOP_GAINERS) -> pd.DataFrame:
    """The customers whose value rises most: customer_id, name, segment, class, region, baseline_clv,
    scenario_clv, delta."""
    return base.result("top_gainers", levers, lambda: _top_gainers(base, levers, limit), limit).copy()


def _top_gainers(base: Base, levers: dict, limit: int) -> pd.DataFrame:
    after = base.outcome(levers)
    delta = after.clv - base.baseline.clv
    if len(delta) > limit:  # only the candidates are sorted: those at least as high as the limit-th (ties kept)
        candidates = np.flatnonzero(delta >= np.partition(delta, len(delta) - limit)[len(delta) - limit])
    else:
        candidates = np.arange(len(delta))
    order = candidates[np.argsort(-delta[candidates], kind="stable")][:limit]
    frame = base.customers.iloc[order].reset_index(drop=True).copy()
    frame["baseline_clv"] = base.baseline.clv[order]
    frame["scenario_clv"] = after.clv[order]
    frame["delta"] = delta[order]
    return frame


# ---------------------------------------------------------------- kept scenarios

TABLE = """CREATE TABLE IF NOT EXISTS scenarios (
    scenario_id     VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    description     VARCHAR,
    author          VARCHAR,
    created_at      TIMESTAMP,
    levers          VARCHAR NOT NULL,   -- JSON, the moved levers
    dataset_version INTEGER,            -- the data the results were computed on
    results         VARCHAR             -- JSON, the headline figures then
)"""


def _write(store: Store, sql: str, params: list) -> None:
    """One statement under the store's write lock. Not `store.transaction()`: a scenario is the users'
    work, not customer data, so keeping one must not bump the data-set version (and stale every cache)."""
    with store._write_lock, store.cursor() as cur:
        cur.execute(TABLE)
        cur.execute(sql, params)


def _has_table(store: Store) -> bool:
    return bool(store.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'scenarios'"))


def save_scenario(store: Store, name: str, levers: dict, results: dict | None = None, description: str = "",
                  author: str = "") -> str:
    """Keep a scenario; its id (short, for URLs)."""
    scenario_id = uuid.uuid4().hex[:10]
    _write(store, "INSERT INTO scenarios VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
           [scenario_id, name, description, author, datetime.now(timezone.utc).replace(tzinfo=None),
            json.dumps(moved_levers(levers), ensure_ascii=False), store.dataset_version,
            json.dumps(results or {}, default=float)])
    return scenario_id


def list_scenarios(store: Store) -> pd.DataFrame:
    """The kept scenarios, newest first, with `stale` = computed on an older data set than the current."""
    columns = ["scenario_id", "name", "description", "author", "created_at", "levers", "dataset_version", "results",
               "stale"]
    if not _has_table(store):
        return pd.DataFrame(columns=columns)
    frame = store.df("SELECT * FROM scenarios ORDER BY created_at DESC, scenario_id")
    frame["levers"] = [json.loads(v) for v in frame["levers"]]
    frame["results"] = [json.loads(v or "{}") for v in frame["results"]]
    frame["stale"] = frame["dataset_version"] != store.dataset_version
    return frame[columns]


def get_scenario(store: Store, scenario_id: str) -> dict | None:
    frame = list_scenarios(store)
    row = frame[frame["scenario_id"] == scenario_id]
    return None if row.empty else row.iloc[0].to_dict()


def duplicate_scenario(store: Store, scenario_id: str, name: str) -> str:
    original = get_scenario(store, scenario_id)
    if original is None:
        raise KeyError(scenario_id)
    return save_scenario(store, name, original["levers"], original["results"], original["description"],
                         original["author"])


def delete_scenario(store: Store, scenario_id: str) -> None:
    if _has_table(store):
        _write(store, "DELETE FROM scenarios WHERE scenario_id = ?", [scenario_id])


def update_results(store: Store, scenario_id: str, results: dict) -> None:
    """Recomputed on the current data set: new results, current data-set version."""
    _write(store, "UPDATE scenarios SET results = ?, dataset_version = ? WHERE scenario_id = ?",
           [json.dumps(results, default=float), store.dataset_version, scenario_id])
