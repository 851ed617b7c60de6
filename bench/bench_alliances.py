"""Time and memory of the Alliances page's work: python bench/bench_alliances.py DB [DB ...]
In Chromium: python bench/bench_alliances.py --browser DATA_DIR [APP] (DATA_DIR holds demo.duckdb; APP
is the app.py to serve, by default this checkout's: another checkout's measures the page before a change)

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


def changed(page, label: str):
    """An action's tail: wait until the KPI `label` shows another value than before the action."""
    from playwright.sync_api import expect

    from tests.e2e.conftest import metric_value

    value = metric_value(page, label)
    before = value.inner_text()
    return lambda: expect(value).not_to_have_text(before)


def browser(data_dir: str, script: str | None = None, timeout_s: float = 240) -> dict:
    """The page in Chromium on a fresh server (bench_browser's Server and timing): the first visit until
    the matrix is drawn, an axis weight, the Rules tab and a threshold, then the lists tab, each bounded
    by `timeout_s`; the server's resident memory after each step and its peak."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from bench import bench_browser
    from bench.bench_browser import CHROMIUM, CHROMIUM_ARGS, REPO, Server, new_page, timed as page_timed

    title, matrix = "Alliances", ".st-key-alliance_matrix .main-svg"
    timeout_s = float(timeout_s)
    bench_browser.TIMEOUT_MS = timeout_s * 1000
    app, out = Server(Path(script) if script else REPO / "app.py", Path(data_dir)), {}

    def step(name, action, end, text=None):
        try:
            out[name] = {"s": round(page_timed(page, action, title, end, text), 2)}
        finally:  # a step past its timeout ends the run, its memory still reported
            out[name] = out.get(name, {"s": f"> {timeout_s:.0f}"}) | {k: round(v) for k, v in app.memory_mb().items()}
            print(name, out[name], file=sys.stderr, flush=True)

    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = new_page(chromium)
            page.set_default_timeout(timeout_s * 1000)
            step("first visit", lambda: page.goto(f"{app.url}/alliances?lang=en"), matrix)
            slider = page.locator(".st-key-keep_alliance_wa_value input[type='range']")
            step("axis weight", lambda: (slider.focus(), slider.press("End")), matrix, "Formula: 0.67·Value")
            rules_tab = page.locator("[data-testid='stTab']", has_text="Rules")
            threshold = ".st-key-keep_alliance_t_partnership_high_switching_cost input"
            step("rules tab", rules_tab.click, threshold)
            field = page.locator(threshold)
            candidates = changed(page, "Alliance candidates")
            step("threshold", lambda: (field.fill("1.00"), field.press("Enter"), candidates()), threshold)
            lists_tab = page.locator("[data-testid='stTab']", has_text="Deepen · luxurious · keep")
            step("lists tab", lists_tab.click, ".st-key-alliance_excel button")
            chromium.close()
    except Exception as error:
        out["stopped"] = type(error).__name__
    finally:
        app.stop()
    return out


if __name__ == "__main__":
    if sys.argv[1] == "--browser":
        print(json.dumps(browser(*sys.argv[2:])), flush=True)
    else:
        for db in sys.argv[1:]:
            print(json.dumps(bench(db)), flush=True)
