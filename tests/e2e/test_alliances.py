"""The Alliances page in Chromium: an axis weight moves the bubbles, and the exported deepen list holds
exactly as many customers as the page says."""
import io
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import go_to, metric_value, settled

pytestmark = pytest.mark.e2e
QUADRANTS = ("Invest to grow", "Invest selectively", "Maintain", "Manage for cash")


def open_alliances(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    go_to(page, "alliances")
    expect(page.locator("h1")).to_have_text("Alliances")
    expect(page.locator(".st-key-alliance_matrix .main-svg").first).to_be_visible(timeout=180_000)
    settled(page)


def bubble_heights(page) -> list:
    """The vertical positions of the matrix's bubbles, from the drawn Plotly figure."""
    return page.evaluate("""() => {
        const plot = document.querySelector('.st-key-alliance_matrix .js-plotly-plot');
        return plot._fullData.flatMap(trace => Array.from(trace.y || []));
    }""")


def test_a_heavier_value_weight_moves_the_bubbles(page, app_url):
    open_alliances(page, app_url)
    before = [metric_value(page, q).inner_text() for q in QUADRANTS]
    heights = bubble_heights(page)
    slider = page.locator(".st-key-keep_alliance_wa_value input[type='range']")
    slider.focus()
    slider.press("End")  # value weight 1.0
    expect(page.locator("[data-testid='stCaptionContainer']", has_text="Formula: 0.67·Value")).to_be_visible()
    settled(page)
    expect(page.locator(".st-key-alliance_matrix .main-svg").first).to_be_visible()
    after = [metric_value(page, q).inner_text() for q in QUADRANTS]
    assert after != before
    moved = bubble_heights(page)
    assert len(heights) > 100 and len(moved) == len(heights) and moved != heights


def test_the_exported_deepen_list_has_the_count_the_page_shows(page, app_url):
    open_alliances(page, app_url)
    shown = metric_value(page, "Relationships to deepen")
    expect(shown).to_have_text(re.compile(r"^[\d,]+$"))
    count = int(shown.inner_text().replace(",", ""))
    page.locator("[data-testid='stTab']", has_text="Deepen · luxurious · keep").click()
    expect(page.locator("h3", has_text=f"Deepen ({count:,})")).to_be_visible()
    with page.expect_download() as download:
        page.locator(".st-key-alliance_deepen_csv button").click()
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Chinese Excel
    exported = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert len(exported) == count > 0
    assert "Customer ID" in exported.columns and "Alliance mode" in exported.columns


def test_a_clicked_bubble_lists_that_customer(page, app_url):
    open_alliances(page, app_url)
    matrix = page.locator(".st-key-alliance_matrix")
    matrix.scroll_into_view_if_needed()
    bubble = matrix.locator(".scatterlayer .point").last  # drawn last: nothing lies on top of it
    box = bubble.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("h3", has_text="Customers you clicked (1)")).to_be_visible(timeout=60_000)
    expect(page.locator(".st-key-alliance_matrix_customers")).to_be_visible()
