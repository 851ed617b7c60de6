"""Time and memory of the Alliances page's work: python bench/bench_alliances.py DB [DB ...]

Each DB is a demo base (`python -m crm_logic demo --db X --customers N`). Run at a million customers
under the shared lock: `flock /work/wt/heavy.lock .venv/bin/python bench/bench_alliances.py DB`.

Each stage is timed alone with `time.perf_counter`, with the process's resident memory after it and the
peak so far (VmRSS / VmHWM, MB), in the order of the page's first visit: the fit and values (the app
shares them with every page), the segments (relationship forms), the evidence from the base (SQL, once
per data version), the alliance table under the default rules, then again under another threshold (the
evidence reused) and a new axis weight (the portfolio axes alone), then what the page draws for the
larger scope (ui.alliances: the matrix from the largest customers, the ladder, the three lists with
their explanations, the workbook, built only when its button is clicked).
"""
from __future__ import annotations

import json
import logging
import sys
import time

from crm_logic import alliance
from crm_logic.scores import ScoreSettings, customer_facts, customer_values
from crm_logic.store import Store
from crm_logic.tiers import segment_table
from ui import alliances as work


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)  # no page here


def memory() -> dict:
    """Resident and peak resident set of this process, MB (Linux)."""
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(fields[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")}


def bench(path: str) -> dict:
    stages: dict = {}

    def timed(name, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        stages[name] = {"s": round(time.perf_counter() - start, 2), **memory()}
        print(name, stages[name], file=sys.stderr, flush=True)
        return out

    settings = ScoreSettings()
    store = Store(path, read_only=True)
    facts = timed("facts", customer_facts, store, settings)
    values = timed("values", customer_values, facts, settings)
    as_of = facts.as_of
    segments = timed("segments", segment_table, store, values, as_of)
    evidence = timed("evidence", alliance.evidence, store, as_of)
    risk = work.value_at_risk(values)
    table = timed("alliance_table", alliance.alliance_table, store, values, segments, risk, as_of, None, evidence)
    stricter = alliance.rules_with({"balance_tolerance": 0.1})
    timed("alliance_table, a threshold changed", alliance.alliance_table, store, values, segments, risk, as_of,
          stricter, evidence)
    timed("portfolio, an axis weight changed", alliance.portfolio, table, {"attractiveness_weights": {"value": 1.0}})
    timed("growth lists", lambda: (alliance.referral_candidates(table, values, as_of, None, segments),
                                   alliance.cross_industry_candidates(table)))
    organisation = table["organisation"]
    scope = table[organisation if organisation.sum() * 2 >= len(table) else ~organisation].reset_index(drop=True)
    rules = alliance.rules_with(None)
    timed("matrix", work.matrix, scope, "en", "¥")
    timed("ladder", alliance.ladder, scope)
    lists = timed("lists", work.move_lists, scope, rules, "en")
    workbook = timed("workbook (on click)", lambda: work.workbook(lists, rules, as_of, "persons")())
    return {"customers": len(values), "scope": len(scope), "rows_listed": sum(map(len, lists.values())),
            "workbook_mb": round(len(workbook) / 1e6, 1), "stages": stages}


if __name__ == "__main__":
    for db in sys.argv[1:]:
        print(json.dumps(bench(db)), flush=True)
