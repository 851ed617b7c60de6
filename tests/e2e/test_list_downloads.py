"""A customer list's CSV, made when the button is clicked, in the real app in Chromium: every row of the list,
and customers whose ids and names a spreadsheet would run come out as text."""
import pytest
from playwright.sync_api import expect

from tests.app.test_downloads import HOSTILE, hostile_cdnow
from tests.e2e.conftest import settled
from tests.e2e.test_segments import pick_segment
from tests.unit.test_exports import assert_safe_csv

pytestmark = pytest.mark.e2e


@pytest.fixture
def hostile_base(data_dir):
    """The CDNOW sample with four hostile customers (tests/app/test_downloads), in the data directory that
    `app_url` then serves (both are the test's tmp_path/data)."""
    hostile_cdnow()


def test_a_segments_list_downloads_every_row_formula_safe(hostile_base, page, app_url):
    page.goto(f"{app_url}/segments?lang=en&base=cdnow")
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
