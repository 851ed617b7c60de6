"""Time per lever change on the what-if page: python bench/bench_whatif.py DB [DB ...]

Each DB is a demo base (`python -m crm_logic demo --db X --customers N`). Untimed: the fit
(`scores.customer_facts`, which the app caches per data version) and the customer values. Timed, each
alone with `time.perf_counter`: `scenarios.prepare` (once per fit and settings), the baseline, then
`scenarios.simulate` for five different retention values on the whole base, five on one customer class,
and a level-2 programme with a segment move — the median is the answer to "I moved a slider". The
waterfall and the ±10 % tornado (seven levers, fourteen evaluations) are timed once each.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

from crm_logic import scenarios
from crm_logic.scores import ScoreSettings, customer_facts, customer_values
from crm_logic.store import Store
from crm_logic.tiers import segment_table


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def bench(path: str) -> dict:
    settings = ScoreSettings(model="bg_nbd")
    with Store(path, read_only=True) as store:
        facts = customer_facts(store, settings)
        values = customer_values(facts, settings)
        groups = scenarios.customer_groups(store, segment_table(store, values, facts.as_of))
    prepare_s, base = timed(scenarios.prepare, facts, settings, groups)
    baseline_s, _ = timed(lambda: base.baseline)
    whole = [timed(scenarios.simulate, base, {"retention": r})[0] for r in (0.02, 0.05, 0.1, 0.15, 0.2)]
    scoped = [timed(scenarios.simulate, base, {"retention": r, "classes": ["dealer"]})[0]
              for r in (0.02, 0.05, 0.1, 0.15, 0.2)]
    levers = {"spend": 0.05, "programmes": [{"level": 2, "cost_per_member": 30, "retention": 0.1,
                                             "classes": ["consumer"]}],
              "new_customers_per_month": 100, "acquisition_cost": 300}
    mixed_s, _ = timed(scenarios.simulate, base, levers)
    waterfall_s, _ = timed(scenarios.waterfall, base, levers)
    tornado_s, _ = timed(scenarios.sensitivity, base, levers)
    return {"customers": len(facts.summary), "distinct_x_T": len(base.x), "prepare_s": prepare_s,
            "baseline_s": baseline_s, "lever_change_s": statistics.median(whole),
            "scoped_lever_change_s": statistics.median(scoped), "programme_and_acquisition_s": mixed_s,
            "waterfall_s": waterfall_s, "tornado_s": tornado_s}


if __name__ == "__main__":
    for db in sys.argv[1:]:
        print(json.dumps(bench(db)), flush=True)
