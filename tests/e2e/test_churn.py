"""The Churn page in the real app: the alert multiple moves the call list, and the exported call list
holds as many customers as the page says are alerted."""
import io
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import go_to, metric_value, settled

pytestmark = pytest.mark.e2e


def alerted(page) -> int:
    value = metric_value(page, "Customers alerted")
    expect(value).to_have_text(re.compile(r"^[\d,]+$"), timeout=180_000)
    settled(page)
    return int(value.inner_text().replace(",", ""))


def open_churn_page(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    go_to(page, "churn")
    expect(page.locator("h1")).to_have_text("Churn risk")


def test_a_higher_alert_multiple_alerts_fewer_customers(page, app_url):
    open_churn_page(page, app_url)
    alerted(page)
    page.get_by_role("combobox", name="Alert when").click()
    page.get_by_role("option", name="Purchase rhythm (lateness)").click()
    settled(page)
    expect(page.get_by_text("1.5× the customer's own purchase rhythm")).to_be_visible()
    before = alerted(page)
    field = page.locator(".st-key-keep_churn_multiple input")
    field.fill("4.0")
    field.press("Enter")
    expect(page.get_by_text("4.0× the customer's own purchase rhythm")).to_be_visible(timeout=120_000)
    after = alerted(page)
    assert 0 < after < before


def test_the_exported_call_list_has_the_alerted_count(page, app_url):
    open_churn_page(page, app_url)
    count = alerted(page)
    with page.expect_download() as download:
        page.locator(".st-key-churn_call_list_csv button").click()
    content = open(download.value.path(), "rb").read()
    assert content.startswith(b"\xef\xbb\xbf")
    calls = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert len(calls) == count > 0
    assert calls.columns[0] == "Customer ID"
