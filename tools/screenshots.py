"""Screenshots of every page in both languages, as a manager sees them:
python tools/screenshots.py [OUT_DIR [HEIGHT [PAGES]]]

Starts the app on a fresh data directory (the demo), opens each page by clicking the sidebar, and writes
PNGs <page>_<lang>.png (1400 px wide, HEIGHT px tall, default 1000) into OUT_DIR (default screenshots/).
Streamlit scrolls inside its main area, so a taller HEIGHT is how to see a whole page. PAGES (e.g.
"segments,customer") limits the shots to those pages.
"""
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, go_to, settled, start_app  # noqa: E402

# The last element each page draws: the shot waits for it, so it never catches a page half rendered.
PAGE_END = {
    "overview": ".st-key-by_customer_class .main-svg",
    "clv": ".st-key-clv_distribution .main-svg",
    "segments": ".st-key-rfm_grid .main-svg",
    "customer": ".st-key-customer_timeline .main-svg",
    "churn": ".st-key-churn_call_list_excel button",
    "alliances": ".st-key-alliance_matrix .main-svg",
    "data": ".st-key-rebuild_demo button",
}
# Pages without a KPI in view as they open (the others wait for their first KPI).
NO_KPI = {"segments"}
# Pages shown on a chosen record: opened by their URL rather than the sidebar.
OPEN_AT = {"customer": "customer?customer=C0000003"}


def main(out: Path, height: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    process, url = start_app(Path(tempfile.mkdtemp()) / "data")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for lang in ("zh", "en"):
                page = browser.new_page(viewport={"width": 1400, "height": height})
                page.goto(f"{url}/?lang={lang}")
                for name, end in PAGE_END.items():
                    if len(sys.argv) > 3 and name not in sys.argv[3].split(","):
                        continue
                    if name in OPEN_AT:
                        page.goto(f"{url}/{OPEN_AT[name]}&lang={lang}")
                    elif name != "overview":
                        go_to(page, name)
                        page.wait_for_url(f"**/{name}*")
                    main = page.locator("[data-testid='stMain']")
                    if name not in NO_KPI:
                        expect(main.locator("[data-testid='stMetricValue']").first).to_be_visible(timeout=180_000)
                    settled(page)
                    expect(page.locator(end).first).to_be_visible(timeout=60_000)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=out / f"{name}_{lang}.png", full_page=True)
                    print(out / f"{name}_{lang}.png")
            browser.close()
    finally:
        process.terminate()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"), int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
