"""Simulated customer bases for the benchmarks: a BG/NBD purchase process with Gamma-Gamma spend.

Customers arrive uniformly over one year (2025), buy at a Poisson rate lambda ~ Gamma(r, alpha), drop out
after each repeat purchase with probability p ~ Beta(a, b) (Fader, Hardie & Lee 2005, the same process
as `lifetimes.generate_data.beta_geometric_nbd_model`), and spend z ~ Gamma(p, nu) per purchase with
nu ~ Gamma(q, gamma) (Fader & Hardie 2013). Purchases are dated to the day, as a till would date them,
so the summary has the ties of real data: same-day purchases merge, and t_x and T in weeks are whole
days divided by 7.

Fully vectorised (no per-customer Python loop), so 1M customers and ~10M transactions take seconds:
given N ~ Poisson(lambda * H) arrivals in a horizon H and a dropout after the K-th repeat purchase
(K ~ Geometric(p)), the first min(N, K) arrival times are the first order statistics of N uniforms,
U_(k) = S_k / (S_n + G), S_k a sum of k unit exponentials and G ~ Gamma(N + 1 - n).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
START = np.datetime64("2025-01-01")
ACQUISITION_DAYS = 365  # first purchases during 2025
END = np.datetime64("2026-06-30")  # end of the observation window (inclusive)
DAYS_PER_WEEK = 7.0

# Process parameters in DAYS for the purchase rate. They give ~10 transactions per customer over the
# window, a retail base with many ties (heavy and light buyers, a fifth of them never come back).
PROCESS = {"r": 0.9, "alpha": 16.0, "a": 0.6, "b": 4.0}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # CDNOW-like spend (Fader & Hardie 2013)


@dataclass
class Transactions:
    """One row per purchase line: customer index, day offset from START, amount (2 decimals)."""

    customer: np.ndarray  # int32
    day: np.ndarray  # int32, days since START
    amount: np.ndarray  # float64, rounded to cents

    def __len__(self) -> int:
        return len(self.customer)


def simulate_transactions(n_customers: int, seed: int = 2026) -> Transactions:
    rng = np.random.default_rng(seed)
    horizon_end = float((END - START).astype(int) + 1)  # continuous time at the end of the last day
    first = rng.uniform(0.0, ACQUISITION_DAYS, n_customers)
    horizon = horizon_end - first

    lam = rng.gamma(PROCESS["r"], 1.0 / PROCESS["alpha"], n_customers)
    p_drop = rng.beta(PROCESS["a"], PROCESS["b"], n_customers)
    arrivals = rng.poisson(lam * horizon)
    dies_after = rng.geometric(np.maximum(p_drop, 1e-12)).astype(np.int64)
    repeats = np.minimum(arrivals, dies_after)

    # first `repeats` order statistics of `arrivals` uniforms on the horizon
    total = int(repeats.sum())
    owner = np.repeat(np.arange(n_customers, dtype=np.int64), repeats)
    gaps = rng.standard_exponential(total)
    cum = np.cumsum(gaps)
    starts = np.cumsum(repeats) - repeats
    base = np.concatenate([[0.0], cum])[starts]  # the running sum before each customer's block
    s_k = cum - np.repeat(base, repeats)
    s_last = np.zeros(n_customers)
    has = repeats > 0
    s_last[has] = s_k[(starts + repeats - 1)[has]]
    rest = rng.gamma(arrivals + 1 - repeats)  # shape >= 1: the arrivals after the dropout, plus one gap
    u = s_k / np.repeat(s_last + rest, repeats)
    repeat_time = np.repeat(first, repeats) + u * np.repeat(horizon, repeats)

    customer = np.concatenate([np.arange(n_customers, dtype=np.int64), owner])
    day = np.floor(np.concatenate([first, repeat_time])).astype(np.int32)
    day = np.minimum(day, int(horizon_end) - 1)

    nu = rng.gamma(SPEND["q"], 1.0 / SPEND["gamma"], n_customers)
    amount = rng.gamma(SPEND["p"], 1.0 / nu[customer])
    amount = np.maximum(np.round(amount, 2), 0.01)

    order = np.lexsort((day, customer))
    return Transactions(customer[order].astype(np.int32), day[order], amount[order])


def summarise(tx: Transactions, n_customers: int) -> dict[str, np.ndarray]:
    """frequency / recency / T in weeks from daily dates; monetary value = mean repeat-day spend.

    Same-day purchases merge (their spend is summed); the first purchase day is left out of the
    monetary value (model-anchors.md). An independent numpy implementation: the benchmark does not
    trust the code under test to build its own inputs.
    """
    key = tx.customer.astype(np.int64) * 100_000 + tx.day
    uniq, first_idx = np.unique(key, return_index=True)  # tx is sorted by (customer, day)
    day_spend = np.add.reduceat(tx.amount, first_idx)
    cust = (uniq // 100_000).astype(np.int64)
    day = (uniq % 100_000).astype(np.int64)

    days_per_customer = np.bincount(cust, minlength=n_customers)
    ends = np.cumsum(days_per_customer)
    starts = ends - days_per_customer
    first_day = day[starts]
    last_day = day[ends - 1]
    end_day = int((END - START).astype(int))

    frequency = (days_per_customer - 1).astype(np.float64)
    total = np.bincount(cust, weights=day_spend, minlength=n_customers)
    repeat_spend = total - day_spend[starts]
    monetary = np.divide(repeat_spend, frequency, out=np.zeros(n_customers), where=frequency > 0)
    return {
        "frequency": frequency,
        "recency": (last_day - first_day) / DAYS_PER_WEEK,
        "T": (end_day - first_day) / DAYS_PER_WEEK,
        "monetary_value": monetary,
    }


def write_summary(path: Path, n_customers: int, seed: int) -> dict:
    t0 = time.perf_counter()
    tx = simulate_transactions(n_customers, seed)
    summary = summarise(tx, n_customers)
    np.savez(path, **summary)
    return {"customers": n_customers, "transactions": len(tx), "seconds": time.perf_counter() - t0}


def write_duckdb(path: Path, n_customers: int, seed: int) -> dict:
    """A store (crm_logic.store schema) with `n_customers` and their transactions, via one bulk insert."""
    import pyarrow as pa

    from crm_logic.store import Store

    t0 = time.perf_counter()
    tx = simulate_transactions(n_customers, seed)
    path.unlink(missing_ok=True)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    store = Store(path)
    table = pa.table({"c": tx.customer, "d": tx.day, "amount": tx.amount})
    customers = pa.table({"c": np.arange(n_customers, dtype=np.int32)})
    with store.transaction() as cur:
        cur.register("sim_tx", table)
        cur.register("sim_customers", customers)
        cur.execute(
            """
            INSERT INTO customers (customer_id, customer_class, created_date)
            SELECT printf('C%08d', c), 'consumer', ? + CAST(f AS INTEGER)
            FROM (SELECT c, min(d) AS f FROM sim_tx GROUP BY c)
            """,
            [START.item()],
        )
        cur.execute(
            """
            INSERT INTO transactions (customer_id, order_id, order_date, amount, quantity)
            SELECT printf('C%08d', c), printf('O%09d', row_number() OVER ()),
                   ? + d, CAST(amount AS DECIMAL(18, 2)), 1
            FROM sim_tx
            """,
            [START.item()],
        )
        store.set_meta(cur, "currency", "$")
        store.set_meta(cur, "display_name", f"bench {len(tx):,} transactions")
        cur.unregister("sim_tx")
        cur.unregister("sim_customers")
    store.close()
    return {"customers": n_customers, "transactions": len(tx), "seconds": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--summary", type=Path, help="write the per-customer summary (.npz) here")
    parser.add_argument("--duckdb", type=Path, help="write a DuckDB store with the transactions here")
    args = parser.parse_args()
    if args.summary:
        print("summary", write_summary(args.summary, args.customers, args.seed))
    if args.duckdb:
        print("duckdb", write_duckdb(args.duckdb, args.customers, args.seed))


if __name__ == "__main__":
    main()
