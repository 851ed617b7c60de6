"""What a manager feels: the workbench under `streamlit run`, driven by headless Chromium, against a bare
Streamlit page with one Plotly chart (bare_app.py) in the same run.

    ../.venv/bin/python bench_browser.py [--customers 5000 100000 1000000] [--runs 3]

For each base size the demo company is built once (`python -m crm_logic demo`, kept in
out/browser/<n>/), then each run starts both servers afresh and measures, in this order:
- first load of each page: a new browser session opening the page's URL (Overview, then Customer value,
  whose first visit fits the models with a progress bar, then Data); the bare app's first load likewise;
- cached page switches in one session: Overview → Customer value → Data → Overview, clicking the sidebar;
  the bare app's switch between its two pages;
- a change of each CLV setting (discount, horizon, margin, then the model, which fits again); the bare
  app's number input. The field is focused before the clock starts (a user clicks into it first): the
  time runs from typing the value and Enter (a slider: one arrow key) to the answer.
An action ends when the page shows its result (title, the page's last chart, the new caption) and no
element is left stale from the run before: polled on every animation frame. After the runs, one session
changes the discount rate 40 times and the server's memory is read every 5 changes (memory flat).
Server memory: VmHWM / VmRSS of the `streamlit run` process. Results: out/browser.json, out/browser.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

OUT = BENCH / "out"
PYTHON = REPO / ".venv" / "bin" / "python"
TIMEOUT_MS = 300_000
PAGES = {  # url path: (title, the last element the page draws)
    "overview": ("Overview", ".st-key-by_customer_class .main-svg"),
    "clv": ("Customer lifetime value", ".st-key-equity_region .main-svg"),
    "data": ("Data", ".st-key-rebuild_demo button"),
}
BARE = {"one": ("One", ".st-key-chart_One .main-svg"), "two": ("Two", ".st-key-chart_Two .main-svg")}
MODELS = ("BG/NBD", "Pareto/NBD", "Modified BG/NBD")

# True once the page shows `title`, the element `end` and (if given) `text`, and nothing stale is left.
DONE = """([title, end, text]) => {
    const main = document.querySelector("[data-testid='stMain']");
    const h1 = main && main.querySelector("h1");
    if (!h1 || h1.innerText.trim() !== title) return false;
    if (!document.querySelector(end)) return false;
    if (text && !main.innerText.includes(text)) return false;
    if (document.querySelector("[data-stale='true']")) return false;
    return !document.querySelector("[data-testid='stStatusWidget']");
}"""


class Server:
    """`streamlit run script` on a free port, on `data_dir`; its memory read from /proc."""

    def __init__(self, script: Path, data_dir: Path | None = None):
        port = free_port()
        env = os.environ | ({"CRM_DATA_DIR": str(data_dir)} if data_dir else {})
        self.process = subprocess.Popen(
            [str(PYTHON), "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=script.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)  # the port is not open yet; the deadline bounds the wait
        self.stop()
        raise RuntimeError(f"{script} did not start")

    def memory_mb(self) -> dict:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return {"peak": int(fields["VmHWM"].split()[0]) / 1024, "now": int(fields["VmRSS"].split()[0]) / 1024}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def timed(page, action, title: str, end: str, text: str | None = None) -> float:
    """Seconds from `action()` until the page is done showing its result."""
    start = time.perf_counter()
    action()
    page.wait_for_function(DONE, arg=[title, end, text], polling="raf", timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def new_page(browser):
    return browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()


def click_nav(page, path: str):
    return lambda: page.locator(f"[data-testid='stSidebarNavLink'][href$='/{path}']").click()


def fill(page, key: str, value: str):
    """Typing `value` and Enter into the input `key`. The field is focused here, before the clock starts, as
    a user clicks into it before typing (a first focus in a session cost up to 0.3 s of the measure)."""
    field = page.locator(f".st-key-{key} input")
    field.focus()

    def action():
        field.fill(value)
        field.press("Enter")
    return action


def bare_run(browser, bare: Server) -> dict:
    page = new_page(browser)
    out = {"first_load": timed(page, lambda: page.goto(bare.url), *BARE["one"])}
    out["page_switch"] = timed(page, click_nav(page, "two"), *BARE["two"])
    out["cached_page_switch"] = timed(page, click_nav(page, ""), *BARE["one"])
    out["setting_change"] = timed(page, fill(page, "points_One", "11"), *BARE["one"], "11 points")
    page.context.close()
    return out


def app_run(browser, app: Server) -> dict:
    out = {}
    for path, name in (("overview", "overview"), ("clv", "clv"), ("data", "data")):
        page = new_page(browser)
        out[f"first_load_{name}"] = timed(page, lambda: page.goto(f"{app.url}/{path}?lang=en"), *PAGES[path])
        page.context.close()
    page = new_page(browser)
    page.goto(f"{app.url}/overview?lang=en")
    page.wait_for_function(DONE, arg=[*PAGES["overview"], None], polling="raf", timeout=TIMEOUT_MS)
    for path, name in (("clv", "clv"), ("data", "data"), ("overview", "overview")):
        out[f"switch_to_{name}"] = timed(page, click_nav(page, path), *PAGES[path])
    page.goto(f"{app.url}/clv?lang=en")
    clv = PAGES["clv"]
    page.wait_for_function(DONE, arg=[*clv, None], polling="raf", timeout=TIMEOUT_MS)
    out["set_discount"] = timed(page, fill(page, "keep_clv_discount", "2.0"), *clv, "discounted at 2.0% a month")
    out["set_margin"] = timed(page, fill(page, "keep_clv_margin", "40"), *clv, "(40% where")

    page.locator(".st-key-keep_clv_horizon input[type='range']").focus()  # as `fill`: focused before the clock
    out["set_horizon"] = timed(page, lambda: page.keyboard.press("ArrowRight"), *clv, "Next 15 months")
    caption = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()
    other = next(m for m in MODELS if not caption.rstrip(".").endswith(f"Model: {m}"))

    def choose_model():
        page.locator(".st-key-keep_clv_model [role='combobox']").click()
        page.get_by_role("option", name=other, exact=True).click()
    out["set_model_refit"] = timed(page, choose_model, *clv, f"Model: {other}.")
    page.context.close()
    return out


def memory_under_changes(browser, app: Server, changes: int = 40, every: int = 5) -> list[float]:
    """Server RSS (MB) before and after every `every` discount changes in one session (a hump that the
    allocator gives back later shows as one, not as growth)."""
    page = new_page(browser)
    page.goto(f"{app.url}/clv?lang=en")
    page.wait_for_function(DONE, arg=[*PAGES["clv"], None], polling="raf", timeout=TIMEOUT_MS)
    samples = [app.memory_mb()["now"]]
    for i in range(changes):
        rate = f"{1.1 + 0.1 * i:.1f}"
        timed(page, fill(page, "keep_clv_discount", rate), *PAGES["clv"], f"discounted at {rate}% a month")
        if (i + 1) % every == 0:
            samples.append(app.memory_mb()["now"])
    page.context.close()
    return samples


def demo_base(customers: int) -> Path:
    directory = OUT / "browser" / str(customers)
    if not (directory / "demo.duckdb").exists():
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(PYTHON), "-m", "crm_logic", "demo", "--db", str(directory / "demo.duckdb"),
                        "--customers", str(customers)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return directory


def summarise(runs: list[dict]) -> dict:
    return {key: {"min": min(r[key] for r in runs), "median": statistics.median(r[key] for r in runs),
                  "runs": [r[key] for r in runs]} for key in runs[0]}


BASELINE = {  # which bare action each of ours is set against
    "first_load_overview": "first_load", "first_load_clv": "first_load", "first_load_data": "first_load",
    "switch_to_clv": "cached_page_switch", "switch_to_data": "cached_page_switch",
    "switch_to_overview": "cached_page_switch", "set_discount": "cached_page_switch",
    "set_margin": "cached_page_switch", "set_horizon": "cached_page_switch", "set_model_refit": "cached_page_switch",
}


def markdown(results: dict) -> str:
    lines = [f"Machine: {results['machine']}; {results['runs']} runs per size, min / median seconds and × the "
             "bare Streamlit page's same action (first loads against its first load, everything else against "
             "its page switch).", ""]
    for size, result in results["sizes"].items():
        bare, ours = result["bare"], result["ours"]
        lines += [f"### {int(size):,} customers ({result['transactions']:,} transactions)", "",
                  "| action | seconds (min / median) | × bare (min / median) |", "|---|---|---|"]
        for name in ("first_load", "page_switch", "cached_page_switch", "setting_change"):
            lines.append(f"| bare page: {name.replace('_', ' ')} | {bare[name]['min']:.2f} / {bare[name]['median']:.2f} | |")
        for key, base in BASELINE.items():
            a, b = ours[key], bare[base]
            lines.append(f"| {key.replace('_', ' ')} | {a['min']:.2f} / {a['median']:.2f} | "
                         f"{a['min'] / b['min']:.1f} / {a['median'] / b['median']:.1f} |")
        lines += ["", f"Server memory: peak {result['memory']['peak']:.0f} MB; RSS during 40 discount changes "
                      f"(every 5): {', '.join(f'{m:.0f}' for m in result['memory']['under_changes'])} MB.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[5000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {"machine": f"{platform.node()}, {os.cpu_count()} cores", "runs": args.runs, "sizes": {}}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for customers in args.customers:
            data = demo_base(customers)
            bare_runs, our_runs, peak = [], [], 0.0
            for run in range(args.runs):
                bare, app = Server(BENCH / "bare_app.py"), Server(REPO / "app.py", data)
                try:
                    bare_runs.append(bare_run(browser, bare))
                    our_runs.append(app_run(browser, app))
                    if run == args.runs - 1:
                        under_changes = memory_under_changes(browser, app)
                    peak = max(peak, app.memory_mb()["peak"])
                finally:
                    bare.stop()
                    app.stop()
                print(customers, run, json.dumps(our_runs[-1]), flush=True)
            info = json.loads(subprocess.run([str(PYTHON), "-m", "crm_logic", "info", "--db", str(data / "demo.duckdb")],
                                             cwd=REPO, capture_output=True, text=True, check=True).stdout)
            results["sizes"][customers] = {"transactions": info["transactions"], "bare": summarise(bare_runs),
                                           "ours": summarise(our_runs),
                                           "memory": {"peak": peak, "under_changes": under_changes}}
        browser.close()
    OUT.mkdir(exist_ok=True)
    (OUT / "browser.json").write_text(json.dumps(results, indent=2))
    (OUT / "browser.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
