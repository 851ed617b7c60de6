"""The What-if page as a workshop feels it: `streamlit run app.py` driven by headless Chromium, against the
bare Streamlit page (bare_app.py) in the same run.

    flock /work/wt/heavy.lock ../.venv/bin/python bench_whatif_browser.py [--customers 1000000] [--runs 2]

The base is bench_browser.py's demo company (out/browser/<n>/demo.duckdb, built if missing). Each run starts
both servers afresh and, in one browser session on the What-if page, measures: the first visit (the fit, the
customer values and the what-if base are prepared here), a slider move (retention, then spend), a number
input (new customers per month), keeping two scenarios and comparing them, the HTML report and the Excel
workbook (built on the click: until the download starts) and switching workshop mode on. An action ends when
the page shows its result and nothing is left stale (bench_browser.DONE); a lever move when customer equity
shows a new value as well. Also read: the bytes the server sent the browser for each action (WebSocket
frames), the size of both downloads, and the server's peak memory. Results: out/whatif_browser.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from bench_browser import (BENCH, CHROMIUM, CHROMIUM_ARGS, DONE, OUT, REPO, TIMEOUT_MS, Server, bare_run,
                           demo_base, new_page)
from playwright.sync_api import sync_playwright

TITLE = "What if…"
WATERFALL = ".st-key-whatif_waterfall .main-svg"
DELTA = "Change in customer equity"
# the KPI's value, found by its label
EQUITY = """(label) => {
    for (const card of document.querySelectorAll("[data-testid='stMetric']")) {
        const name = card.querySelector("[data-testid='stMetricLabel']");
        if (name && name.innerText.trim() === label) return card.querySelector("[data-testid='stMetricValue']").innerText;
    }
    return null;
}"""


class Session:
    """One browser tab on the app, counting the bytes the server sends it."""

    def __init__(self, browser):
        self.page = new_page(browser)
        self.received, self.socket = 0, None
        self.page.on("websocket", self._watch)

    def _watch(self, socket) -> None:
        self.socket = socket
        socket.on("framereceived", self._count)

    def _count(self, payload) -> None:
        self.received += len(payload)

    def timed(self, action, end: str = WATERFALL, text: str | None = None, until: str | None = None) -> dict:
        """Seconds and bytes from `action()` until the page shows its result (and the JavaScript
        condition `until` holds)."""
        self.received, start = 0, time.perf_counter()
        if self.socket is None:  # the first visit
            action()
        else:  # the rerun has begun once the server answers (before, the page still reads done)
            with self.socket.expect_event("framereceived", timeout=TIMEOUT_MS):
                action()
        if until is not None:
            self.page.wait_for_function(until, polling="raf", timeout=TIMEOUT_MS)
        self.page.wait_for_function(DONE, arg=[TITLE, end, text], polling="raf", timeout=TIMEOUT_MS)
        return {"s": time.perf_counter() - start, "mb_sent": self.received / 1e6}

    def equity_moved(self) -> str:
        """A condition: customer equity no longer reads what it reads now."""
        now = self.page.evaluate(EQUITY, DELTA)
        return f"() => {{ const v = ({EQUITY})({json.dumps(DELTA)}); return v !== null && v !== {json.dumps(now)}; }}"

    def url_moved(self) -> str:
        """A condition: the URL (a kept scenario's id) is no longer what it is now."""
        return f"() => window.location.href !== {json.dumps(self.page.url)}"

    def slider(self, key: str, presses: int) -> dict:
        def action():
            thumb = self.page.locator(f".st-key-{key} input[type='range']")
            thumb.focus()
            for _ in range(presses):
                thumb.press("ArrowRight")
        return self.timed(action, until=self.equity_moved())

    def tab(self, name: str) -> None:
        try:
            self.page.get_by_role("tab", name=name).click(timeout=10000)
        except Exception:
            self.page.screenshot(path=str(OUT / "debug.png"), full_page=True)
            raise

    def download(self, key: str, path) -> dict:
        start = time.perf_counter()
        with self.page.expect_download(timeout=TIMEOUT_MS) as download:
            self.page.locator(f".st-key-{key} button").click()
        download.value.save_as(path)
        return {"s": time.perf_counter() - start, "mb_file": path.stat().st_size / 1e6}


def whatif_run(browser, app: Server) -> dict:
    me, out = Session(browser), {}
    page, stamp = me.page, time.strftime("%H:%M:%S")  # kept scenarios stay in the base: names of this run
    out["first_visit"] = me.timed(lambda: page.goto(f"{app.url}/whatif?lang=en"))
    out["slider_retention"] = me.slider("keep_whatif_retention", 1)
    out["slider_spend"] = me.slider("keep_whatif_spend", 1)
    me.tab("New customers")

    def new_customers():
        field = page.locator(".st-key-keep_whatif_new_customers input")
        field.fill("500")
        field.press("Enter")
    out["number_new_customers"] = me.timed(new_customers, until=me.equity_moved())
    me.tab("Kept scenarios")
    for number, name in enumerate((f"Bigger baskets {stamp}", f"More customers {stamp}"), 1):
        if number == 2:
            me.tab("Behaviour")
            out["slider_frequency"] = me.slider("keep_whatif_frequency", 1)
            me.tab("Kept scenarios")

        def keep():
            field = page.locator(".st-key-whatif_name input")
            field.fill(name)
            field.press("Tab")
            page.get_by_role("button", name="Keep this scenario").click()
        out[f"keep_scenario_{number}"] = me.timed(keep, until=me.url_moved())

    def compare(name):
        def action():
            field = page.locator(".st-key-whatif_compare input")
            field.fill(name)
            field.press("ArrowDown")
            page.get_by_role("option", name=name, exact=True).click()
            page.keyboard.press("Escape")  # close the list
        return action
    me.timed(compare(f"Bigger baskets {stamp}"), end=".st-key-whatif_compare_chart .main-svg")
    out["compare_two"] = me.timed(compare(f"More customers {stamp}"), end=".st-key-whatif_compare_chart .main-svg",
                                  text=f"More customers {stamp}")
    me.tab("Workshop report")
    out["report_html"] = me.download("whatif_html", OUT / "whatif_report.html")
    out["report_excel"] = me.download("whatif_xlsx", OUT / "whatif_report.xlsx")
    out["workshop_mode_on"] = me.timed(lambda: page.locator(".st-key-workshop_mode label").click())
    page.context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    results = {"load_before": os.getloadavg(), "runs": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        data = demo_base(args.customers)
        for run in range(args.runs):
            bare, app = Server(BENCH / "bare_app.py"), Server(REPO / "app.py", data)
            try:
                one = {"bare": bare_run(browser, bare), "ours": whatif_run(browser, app),
                       "server_peak_mb": app.memory_mb()["peak"], "load": os.getloadavg()}
            finally:
                bare.stop()
                app.stop()
            results["runs"].append(one)
            print(json.dumps(one), flush=True)
        browser.close()
    ours = [r["ours"] for r in results["runs"]]
    bare = [r["bare"] for r in results["runs"]]
    results["median"] = {k: statistics.median(o[k]["s"] for o in ours) for k in ours[0]}
    results["bare_setting_change_median"] = statistics.median(b["setting_change"] for b in bare)
    (OUT / "whatif_browser.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results["median"], indent=2))


if __name__ == "__main__":
    main()
