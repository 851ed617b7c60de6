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
    "clv": ".st-key-equity_region .main-svg",
    "segments": ".st-key-rfm_grid .main-svg",
    "customer": ".st-key-customer_timeline .main-svg",
    "churn": ".st-key-churn_call_list_excel button",
    "alliances": ".st-key-alliance_matrix .main-svg",
    "whatif": ".st-key-whatif_waterfall .main-svg",
    "data": ".st-key-rebuild_demo button",
}
# Pages without a KPI in view as they open (the others wait for their first KPI).
NO_KPI = {"segments"}
# Pages shown on a chosen record: opened by their URL rather than the sidebar.
OPEN_AT = {"customer": "customer?customer=C0000003"}


# The Data page once more, with an order export uploaded: the mapping step and the check.
TAOBAO_STATUSES = ["交易成功"] * 14 + ["交易关闭"] * 3 + ["退款成功", "等待买家付款"]
TAOBAO_SAMPLE = "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,宝贝标题\n" + "".join(
    f"{1000 + i},buyer{i % 7},{(i * 37) % 500 + 20}.00,{status},2024-0{1 + i % 9}-1{i % 10} 10:00:00,商品{i % 4}\n"
    for i, status in enumerate(TAOBAO_STATUSES))


def upload_shot(page, out: Path, lang: str) -> None:
    sample = Path(tempfile.mkdtemp()) / "ExportOrderList.csv"
    sample.write_bytes(TAOBAO_SAMPLE.encode("gbk"))
    page.locator(".st-key-upload input[type='file']").set_input_files(str(sample))
    expect(page.locator(".st-key-import_button button")).to_be_visible(timeout=120_000)
    settled(page)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / f"data_upload_{lang}.png", full_page=True)
    print(out / f"data_upload_{lang}.png")

def move_levers(page) -> None:
    """The what-if page with a scenario on it: retention and spend each up a tenth of their range (one
    PageUp is one change of a slider, so one rerun; arrow keys pressed during a rerun can be lost)."""
    for key in ("keep_whatif_retention", "keep_whatif_spend"):
        value = page.locator(f".st-key-{key} [data-testid='stSliderThumbValue']")
        before = value.inner_text()
        page.locator(f".st-key-{key} input[type='range']").press("PageUp")
        expect(value).not_to_have_text(before)
        settled(page)
    page.wait_for_timeout(1500)  # the last rerun's charts (a screenshot tool, not a test)


def open_first_expander(page) -> None:
    """The page's first expander shown open (Segments: rules and thresholds; Churn: thresholds)."""
    page.locator("[data-testid='stExpander'] summary").first.click()
    settled(page)


def second_tab_shot(page, out: Path, lang: str, name: str, end: str) -> None:
    """A page's second tab (churn: the lifecycle and stage charts; CLV: deciles and value bands)."""
    page.get_by_role("tab").nth(1).click()
    expect(page.locator(end).first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)  # the charts' drawing (a screenshot tool, not a test)
    page.screenshot(path=out / f"{name}_second_tab_{lang}.png", full_page=True)
    print(out / f"{name}_second_tab_{lang}.png")


def pick_quadrant(page) -> None:
    """The alliances page with the first quadrant's customers listed under the matrix."""
    page.locator(".st-key-alliance_quadrant button").first.click()
    expect(page.locator(".st-key-alliance_matrix_customers")).to_be_visible(timeout=60_000)
    settled(page)


# The last element of a page's second tab, for the pages shot on that tab too.
SECOND_TAB_END = {"churn": ".st-key-count_lifecycle .main-svg", "clv": ".st-key-clv_distribution .main-svg"}
# What to do on a page before its shot.
PAGE_ACTIONS = {"whatif": move_levers, "segments": open_first_expander, "churn": open_first_expander,
                "alliances": pick_quadrant}


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
                    PAGE_ACTIONS.get(name, lambda page: None)(page)
                    expect(page.locator(end).first).to_be_visible(timeout=60_000)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=out / f"{name}_{lang}.png", full_page=True)
                    print(out / f"{name}_{lang}.png")
                    if name == "data":
                        upload_shot(page, out, lang)
                    if name in SECOND_TAB_END:
                        second_tab_shot(page, out, lang, name, SECOND_TAB_END[name])
            browser.close()
    finally:
        process.terminate()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"), int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
