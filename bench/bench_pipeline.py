"""The whole path from a DuckDB `transactions` table to every customer's values in memory, and the bare
per-customer GROUP BY it is measured against. One mode per process (run.py reads each one's peak RSS).

Modes: `groupby` (count, sum, min and max date per customer, written as a table), `scores`
(`crm_logic.scores.customer_facts` and `customer_values` with the default settings, what the app runs on
a first CLV visit: model "auto" validates the transaction models on a holdout first), `scores_bg_nbd`
(the same with the model fixed to BG/NBD: summary, fit, month table, values) and `segments` (issue 11: customer_values with BG/NBD, then
the stages `segments` — crm_logic.tiers.segment_table, every customer's RFM segment, ABC tier, core
quadrant, relationship form and behaviour type — and `migration`, the segments a quarter earlier and
the flows; it writes the segment table) and `churn` (issue 12: customer_values with BG/NBD, then the
stages `evaluation` — crm_logic.churn.evaluate, the signals scored on a held-out year of the fixed
10,000-customer sample — `churn` — churn_table: P(no purchase), rhythm, lateness, alert, lifecycle,
risk band, stage and value at risk of every customer — `new_alerts` (the week before), `cohorts` and
`survival`; it writes the churn table). Every mode opens the file and closes it; the others than the
scores write their result as a table (the scores are no longer kept in the base). The timed span
starts after the imports and after the previous run's results are removed from the file.
"""
from __future__ import annotations

import argparse
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from _common import write_json
from crm_logic import churn
from crm_logic.scores import ScoreSettings, customer_facts, customer_values  # imported before the clock starts
from crm_logic.store import Store
from crm_logic.tiers import segment_migration, segment_table

GROUP_BY = """
CREATE OR REPLACE TABLE bench_groupby AS
SELECT customer_id, count(*) AS transactions, sum(amount) AS spend,
       min(order_date) AS first_date, max(order_date) AS last_date
FROM transactions GROUP BY customer_id
"""


class Stages:
    """A progress callback that adds the seconds between stage changes to `steps`, by stage name."""

    def __init__(self, steps: dict):
        self.steps, self.marks = steps, [("open", time.perf_counter())]

    def __call__(self, fraction: float, stage: str) -> None:
        if stage != self.marks[-1][0]:
            self.marks.append((stage, time.perf_counter()))

    def end(self) -> None:
        self.marks.append(("end", time.perf_counter()))
        for (stage, start), (_, end) in zip(self.marks, self.marks[1:]):
            self.steps[stage] = self.steps.get(stage, 0.0) + end - start


def bare_group_by(path: Path, steps: dict) -> int:
    con = duckdb.connect(str(path))
    con.execute(GROUP_BY)
    rows = con.execute("SELECT count(*) FROM bench_groupby").fetchone()[0]
    con.close()
    return rows


def scores(path: Path, steps: dict, model: str = "auto") -> int:
    """customer_facts and customer_values; `steps` gets the seconds spent in each stage its progress
    callback names ("values": applying the settings)."""
    mark = Stages(steps)
    with Store(path) as store:
        settings = ScoreSettings(model=model)
        facts = customer_facts(store, settings, progress=mark)
        mark(1.0, "values")
        rows = len(customer_values(facts, settings))
    mark.end()
    return rows


def segments(path: Path, steps: dict) -> int:
    """customer_values (BG/NBD; its stages as customer_facts reports them), then segment_table and the
    quarter's migration, each a stage of its own; the segment table is written like the scores."""
    mark = Stages(steps)
    with Store(path) as store:
        settings = ScoreSettings(model="bg_nbd")
        facts = customer_facts(store, settings, progress=mark)
        mark(0.8, "score")
        values = customer_values(facts, settings)
        mark(0.9, "segments")
        table = segment_table(store, values, facts.as_of)
        mark(0.95, "migration")
        segment_migration(store, facts.as_of, values=values)
        mark(0.97, "write")
        with store.cursor() as cur:
            cur.register("segment_frame", table)
            cur.execute("CREATE OR REPLACE TABLE bench_segments AS SELECT * FROM segment_frame")
    mark.end()
    return len(table)


def churn_signals(path: Path, steps: dict) -> int:
    """customer_values (BG/NBD), then each churn stage on its own (segments are timed by their own mode
    and not used here: the rhythm falls back to the base's typical gap); the churn table is written."""
    mark = Stages(steps)
    with Store(path) as store:
        settings = ScoreSettings(model="bg_nbd")
        facts = customer_facts(store, settings, progress=mark)
        mark(0.8, "score")
        values = customer_values(facts, settings)
        mark(0.8, "evaluation")
        evaluation = churn.evaluate(store, facts.as_of, facts.unit, "bg_nbd")
        mark(0.85, "churn")
        table = churn.churn_table(store, facts, values, facts.as_of, evaluation=evaluation)
        mark(0.9, "new_alerts")
        churn.new_alerts(facts, table, facts.as_of - timedelta(days=7))
        mark(0.93, "cohorts")
        churn.cohort_retention(store, facts.as_of)
        mark(0.95, "survival")
        churn.survival_curve(table)
        mark(0.97, "write")
        with store.cursor() as cur:
            cur.register("churn_frame", table)
            cur.execute("CREATE OR REPLACE TABLE bench_churn AS SELECT * FROM churn_frame")
    mark.end()
    return len(table)


MODES = {
    "groupby": bare_group_by,
    "scores": scores,
    "scores_bg_nbd": lambda path, steps: scores(path, steps, model="bg_nbd"),
    "segments": segments,
    "churn": churn_signals,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=tuple(MODES))
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with duckdb.connect(str(args.store)) as con:  # a fresh start: nothing left from an earlier run
        con.execute("DROP TABLE IF EXISTS bench_groupby")
        con.execute("DROP TABLE IF EXISTS bench_segments")
        con.execute("DROP TABLE IF EXISTS bench_churn")
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
