"""A workshop in the real app: move a lever, keep and compare two scenarios, take the report home, and with
workshop mode on, no customer name of the base on the screen, in a hover or in the exports."""
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from crm_logic.demo import build_demo
from crm_logic.store import Store
from tests.e2e.conftest import go_to, metric_value, settled

pytestmark = pytest.mark.e2e
DELTA = "Change in customer equity"


@pytest.fixture(scope="module")
def demo_names(tmp_path_factory):
    """The customer names of the demo the app builds (same seed, same size), read from a copy of our own
    (the app's server holds its file open)."""
    with Store(tmp_path_factory.mktemp("names") / "demo.duckdb") as store:
        build_demo(store)
        return set(store.df("SELECT name FROM customers WHERE name IS NOT NULL")["name"])


def open_whatif(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    go_to(page, "whatif")
    expect(metric_value(page, DELTA)).to_have_text(re.compile("¥"), timeout=120_000)
    settled(page)


def move_slider(page, key: str) -> None:
    """Move a lever up a tenth of its range and wait for the equity it moves. One PageUp is one change of
    the slider's value, so one rerun: every arrow key press is a change of its own, and with several the
    equity can move on an early rerun while later ones still come and retire what it drew (a report button,
    a form being submitted)."""
    before = metric_value(page, DELTA).inner_text()
    page.locator(f".st-key-{key} input[type='range']").press("PageUp")
    expect(metric_value(page, DELTA)).not_to_have_text(before, timeout=120_000)
    settled(page)


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def save(page, name: str) -> None:
    tab(page, "Kept scenarios")
    field = page.locator(".st-key-whatif_name input")
    field.fill(name)
    field.press("Tab")
    page.get_by_role("button", name="Keep this scenario").click()
    settled(page)


def test_moving_a_slider_changes_customer_equity(page, app_url):
    open_whatif(page, app_url)
    before = metric_value(page, DELTA).inner_text()
    move_slider(page, "keep_whatif_retention")
    expect(metric_value(page, DELTA)).not_to_have_text(before)


def test_two_kept_scenarios_are_compared_side_by_side(page, app_url):
    open_whatif(page, app_url)
    move_slider(page, "keep_whatif_spend")
    save(page, "Bigger baskets")
    tab(page, "Behaviour")
    move_slider(page, "keep_whatif_frequency")
    save(page, "More visits")
    compare = page.locator(".st-key-whatif_compare")
    for name in ("Bigger baskets", "More visits"):
        settled(page)
        field = compare.locator("input")
        field.fill(name)
        field.press("ArrowDown")  # opens the list, filtered to the name
        page.get_by_role("option", name=name).click()
        settled(page)
    chart = page.locator(".st-key-whatif_compare_chart .main-svg").first
    expect(chart).to_contain_text("Bigger baskets")
    expect(chart).to_contain_text("More visits")


def test_the_report_downloads_and_opens_with_no_network(page, app_url, tmp_path, browser):
    open_whatif(page, app_url)
    move_slider(page, "keep_whatif_retention")
    tab(page, "Workshop report")
    with page.expect_download(timeout=120_000) as download:  # built on the click
        page.locator(".st-key-whatif_html button").click()
    path = tmp_path / "report.html"
    download.value.save_as(path)
    offline = browser.new_context(offline=True)
    try:
        report = offline.new_page()
        report.goto(path.as_uri())
        expect(report.locator("h1")).to_have_text("Workshop report: what-if scenarios")
        expect(report.locator(".main-svg").first).to_be_visible()  # plotly.js ran from the file itself
    finally:
        offline.close()


def test_workshop_mode_shows_no_customer_name_anywhere(page, app_url, tmp_path, demo_names):
    open_whatif(page, app_url)
    page.locator(".st-key-workshop_mode label").click()
    settled(page)
    move_slider(page, "keep_whatif_retention")
    tab(page, "Who gains")
    settled(page)
    text = page.locator("body").inner_text()
    assert not [n for n in demo_names if n in text]
    tab(page, "From baseline to scenario")
    settled(page)
    waterfall = page.locator(".st-key-whatif_waterfall[data-stale='false']")  # not the one a rerun retires
    bar = waterfall.locator(".point path").nth(1)
    waterfall.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.move(box["x"] - 40, box["y"] + box["height"] / 2)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)  # the drag layer lies on top
    hover = waterfall.locator(".hoverlayer")
    expect(hover).to_contain_text("¥")
    assert not [n for n in demo_names if n in hover.text_content()]
    tab(page, "Workshop report")
    with page.expect_download(timeout=120_000) as html_download:
        page.locator(".st-key-whatif_html button").click()
    with page.expect_download() as excel_download:
        page.locator(".st-key-whatif_xlsx button").click()
    html_path, excel_path = tmp_path / "report.html", tmp_path / "report.xlsx"
    html_download.value.save_as(html_path)
    excel_download.value.save_as(excel_path)
    html = html_path.read_text(encoding="utf-8")
    assert "Customer " in html
    assert not [n for n in demo_names if n in html]
    cells = " ".join(str(c) for sheet in openpyxl.load_workbook(excel_path).worksheets
                     for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    assert "Customer " in cells
    assert not [n for n in demo_names if n in cells]
