"""The whole path from a DuckDB `transactions` table to every customer's values in memory, and the bare
per-customer GROUP BY it is measured against. One mode per process (run.py reads each one's peak RSS).

Modes: `groupby` (count, sum, min and max date per customer, written as a table), `scores`
(`crm_logic.scores.customer_facts` and `customer_values` with the default settings, what the app runs on
a first CLV visit: model "auto" validates the transaction models on a holdout first) and `scores_bg_nbd`
(the same with the model fixed to BG/NBD: summary, fit, month table, values). Every mode opens the file
and closes it; the GROUP BY also writes its result as a table (the scores are no longer kept in the
base). The timed span starts after the imports and after the previous run's results are removed.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from _common import write_json
from crm_logic.scores import ScoreSettings, customer_facts, customer_values  # imported before the clock starts
from crm_logic.store import Store

GROUP_BY = """
CREATE OR REPLACE TABLE bench_groupby AS
SELECT customer_id, count(*) AS transactions, sum(amount) AS spend,
       min(order_date) AS first_date, max(order_date) AS last_date
FROM transactions GROUP BY customer_id
"""


def bare_group_by(path: Path, steps: dict) -> int:
    con = duckdb.connect(str(path))
    con.execute(GROUP_BY)
    rows = con.execute("SELECT count(*) FROM bench_groupby").fetchone()[0]
    con.close()
    return rows


def scores(path: Path, steps: dict, model: str = "auto") -> int:
    """customer_facts and customer_values; `steps` gets the seconds spent in each stage its progress
    callback names ("values": applying the settings)."""
    t0 = time.perf_counter()
    marks = [("open", t0)]

    def progress(fraction: float, stage: str) -> None:
        if stage != marks[-1][0]:
            marks.append((stage, time.perf_counter()))

    with Store(path) as store:
        settings = ScoreSettings(model=model)
        facts = customer_facts(store, settings, progress=progress)
        progress(1.0, "values")
        rows = len(customer_values(facts, settings))
    marks.append(("end", time.perf_counter()))
    for (stage, start), (_, end) in zip(marks, marks[1:]):
        steps[stage] = steps.get(stage, 0.0) + end - start
    return rows


MODES = {
    "groupby": bare_group_by,
    "scores": scores,
    "scores_bg_nbd": lambda path, steps: scores(path, steps, model="bg_nbd"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=tuple(MODES))
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with duckdb.connect(str(args.store)) as con:  # a fresh start: nothing left from an earlier run
        con.execute("DROP TABLE IF EXISTS bench_groupby")
        con.execute("DROP TABLE IF EXISTS customer_scores")  # kept by versions before issue 10
        transactions, customers = con.execute(
            "SELECT count(*), count(DISTINCT customer_id) FROM transactions").fetchone()

    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    rows = MODES[args.mode](args.store, steps)
    seconds = time.perf_counter() - t0
    write_json(args.out, {"mode": args.mode, "seconds": seconds, "rows": rows, "steps": steps,
                          "transactions": transactions, "customers": customers})


if __name__ == "__main__":
    main()
