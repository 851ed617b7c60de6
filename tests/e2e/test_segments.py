"""A manager changes the RFM grid, follows a segment to its customers, exports them and opens one, in the
real app in Chromium; and every page, the first included, opens from its own URL."""
import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import settled

pytestmark = pytest.mark.e2e

HEADER_HEIGHT = ROW_HEIGHT = 35  # st.data_editor rows, in CSS pixels
INDEX_WIDTH = 49  # the R5..R1 index column


def open_segments(page, app_url):
    page.goto(f"{app_url}/segments?lang=en")
    expect(page.locator(".st-key-rfm_grid .main-svg").first).to_be_visible(timeout=180_000)
    settled(page)


def grid_cells(page) -> dict[str, int]:
    """Customers per segment as the R × F heatmap writes them (each cell: name, then count)."""
    counts: dict[str, int] = {}
    texts = page.locator(".st-key-rfm_grid text").evaluate_all("nodes => nodes.map(n => n.textContent)")
    for text in texts:
        match = re.fullmatch(r"(\D+?)\s*([\d,]+)", (text or "").strip())
        if match:
            counts[match[1].strip()] = counts.get(match[1].strip(), 0) + int(match[2].replace(",", ""))
    return counts


def grid(page):
    """The grid editor's surface (a canvas under a scroller that takes the pointer)."""
    return page.locator(".st-key-segments_grid_editor .dvn-scroller").first


def grid_cell(page, r: int, f: int) -> dict:
    """Where cell R r × F f is on the grid editor (rows run R 5 .. 1, columns F 1 .. 5)."""
    width = (grid(page).bounding_box()["width"] - INDEX_WIDTH) / 5
    return {"x": INDEX_WIDTH + (f - 0.5) * width, "y": HEADER_HEIGHT + (5 - r + 0.5) * ROW_HEIGHT}


def pick_segment(page, name: str) -> int:
    page.locator(".st-key-rfm_pick").click()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    settled(page)
    caption = page.locator("[data-testid='stCaptionContainer']", has_text="customers in this list")
    expect(caption).to_be_visible()
    return int(re.match(r"([\d,]+)", caption.inner_text())[1].replace(",", ""))


def test_edit_the_grid_follow_a_segment_export_it_and_open_a_customer(page, app_url):
    open_segments(page, app_url)
    before = grid_cells(page)
    champions_before = sum(n for name, n in before.items() if name == "Champions")
    new_customers = before["New customers"]  # the only cell of new customers: R 5 × F 1
    assert champions_before > 0 and new_customers > 0

    grid(page).dblclick(position=grid_cell(page, 5, 1))
    expect(page.locator(".glide-select")).to_be_visible()
    page.keyboard.type("Champions")
    page.keyboard.press("Enter")
    settled(page)
    expect(page.locator(".st-key-rfm_grid text", has_text="New customers")).to_have_count(0)

    shown = pick_segment(page, "Champions")
    assert shown == champions_before + new_customers

    with page.expect_download() as download:
        page.locator(".st-key-segment_customers_csv button").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_bytes().decode("utf-8-sig"))))
    assert rows[0][0] == "Customer ID" and len(rows) - 1 == shown
    assert {row[rows[0].index("RFM segment")] for row in rows[1:]} == {"Champions"}

    first_row = {"x": 15, "y": HEADER_HEIGHT + ROW_HEIGHT / 2}  # its tick box
    page.locator(".st-key-segment_customers .dvn-scroller").first.click(position=first_row)
    page.wait_for_url(re.compile(rf"/customer\?customer={re.escape(rows[1][0])}"))
    settled(page)
    expect(page.locator("h2", has_text=rows[1][0])).to_be_visible()
    expect(page.get_by_text(re.compile(r"RFM segment: Champions"))).to_be_visible()


def test_a_grid_with_a_hole_is_refused_in_words_and_reset_restores_it(page, app_url):
    open_segments(page, app_url)
    before = grid_cells(page)
    grid(page).click(position=grid_cell(page, 3, 3))
    page.keyboard.press("Delete")
    settled(page)
    expect(page.locator("[data-testid='stAlert']", has_text="Cell R3 × F3 has no segment")).to_be_visible()
    assert grid_cells(page) == before  # the last valid grid stays in force
    page.locator(".st-key-reset_grid button").click()
    settled(page)
    expect(page.locator("[data-testid='stAlert']", has_text="has no segment")).to_have_count(0)


def test_every_page_opens_from_its_own_url_and_the_root_from_the_overview(page, app_url):
    for path, title in (("overview", "Overview"), ("segments", "Segments"), ("customer", "Customer 360"),
                        ("clv", "Customer lifetime value"), ("data", "Data")):
        page.goto(f"{app_url}/{path}?lang=en")
        expect(page.locator("h1").first).to_have_text(title, timeout=180_000)
        expect(page.get_by_text("Page not found")).to_have_count(0)
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1").first).to_have_text("Overview")
    page.wait_for_url(re.compile(r"/overview\?"))
