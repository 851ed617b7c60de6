"""The Segments and Churn pages as a manager meets them, under `streamlit run` in headless Chromium, on a base
already built (e.g. the 1M demo of bench_browser.py, copied to out/browser/1000000/):

    flock /work/wt/heavy.lock ../.venv/bin/python bench_segments_churn.py --data out/browser/1000000

One fresh server, one session: the Overview first (a cheap page, as a user arrives), then a click to
Segments (its first visit: the CLV fit, the segment table, every tab's summaries), to Churn (its first visit:
the churn table, the evaluation, the call list), and back to each (nothing to compute: what a page costs to
draw). Each action ends when the page shows its title and last element and nothing is stale or running.
Also counted: the bytes the server sent over the websocket during each action (what the browser must parse
and draw), and the server's peak memory. Prints one JSON line; `uptime` beside it says the load.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from bench_browser import DONE, TIMEOUT_MS, Server, click_nav, new_page  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PAGES = {  # url path: (title, the last element the page draws)
    "overview": ("Overview", ".st-key-by_customer_class .main-svg"),
    "segments": ("Segments", ".st-key-rfm_grid .main-svg"),
    "churn": ("Churn risk", ".st-key-churn_call_list [data-testid='stDataFrameResizable']"),
}


def measure(data: Path, pages: list[str]) -> dict:
    app = Server(BENCH.parent / "app.py", data)
    received = [0]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = new_page(browser)
            page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.__setitem__(
                0, received[0] + len(frame))))
            page.goto(f"{app.url}/overview?lang=en")
            page.wait_for_function(DONE, arg=[*PAGES["overview"], None], polling="raf", timeout=TIMEOUT_MS)
            out = {}
            for name, path in [(f"{p}_{visit}", p) for visit in ("first", "again") for p in pages]:
                received[0] = 0
                start = page.evaluate("performance.now()")
                click_nav(page, path)()
                page.wait_for_function(DONE, arg=[*PAGES[path], None], polling="raf", timeout=TIMEOUT_MS)
                out[f"{name}_s"] = round((page.evaluate("performance.now()") - start) / 1000, 2)
                out[f"{name}_sent_mb"] = round(received[0] / 1e6, 2)
                print(name, out[f"{name}_s"], file=sys.stderr, flush=True)
            browser.close()
        out["server_peak_mb"] = round(app.memory_mb()["peak"])
    finally:
        app.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a data directory holding demo.duckdb")
    parser.add_argument("--pages", nargs="+", choices=("segments", "churn"), default=["segments", "churn"])
    args = parser.parse_args()
    print(json.dumps({"load": os.getloadavg()[0], **measure(args.data.resolve(), args.pages)}))


if __name__ == "__main__":
    main()
