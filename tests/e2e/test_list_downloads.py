"""A customer list's CSV, made when the button is clicked, in the real app in Chromium: every row of the list,
and customers whose ids and names a spreadsheet would run come out as text."""
import subprocess

import pytest
from playwright.sync_api import expect

from tests.app.test_downloads import HOSTILE, hostile_cdnow
from tests.e2e.conftest import settled, start_app
from tests.e2e.test_segments import pick_segment
from tests.unit.test_exports import assert_safe_csv

pytestmark = pytest.mark.e2e


@pytest.fixture
def cdnow_url(data_dir):
    """A server of the test's own on the CDNOW sample with four hostile customers (tests/app/test_downloads)."""
    hostile_cdnow()
    process, url = start_app(data_dir)
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_segments_list_downloads_every_row_formula_safe(page, cdnow_url):
    page.goto(f"{cdnow_url}/segments?lang=en&base=cdnow")
    expect(page.locator(".st-key-rfm_grid .main-svg").first).to_be_visible(timeout=180_000)
    settled(page)
    shown = pick_segment(page, "Champions")
    with page.expect_download() as download:  # the file is made on this click
        page.locator(".st-key-segment_customers_csv button").click()
    listed = assert_safe_csv(download.value.path().read_bytes())
    assert len(listed) == shown > 0
    assert listed.columns[0] == "Customer ID"
    assert set(listed["RFM segment"]) == {"Champions"}
    assert {"'" + v for v in HOSTILE.values()} <= set(listed["Customer ID"])  # ids that would run, as text
    assert {"'" + v for v in HOSTILE.values()} <= set(listed["Name"])
