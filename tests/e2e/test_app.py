"""A manager's first steps in the real app: demo on start, language switch, imports good and bad, CLV."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import go_to, metric_value, settled

pytestmark = pytest.mark.e2e

GBK_ORDERS = "会员号,下单时间,实付金额,订单号\nNEW-1,2024/3/5,\"1,299.00\",X1\nNEW-2,2024年3月6日,880,X2\n"
BAD_DATE = "customer_id,order_date,amount\nNEW-3,2024-01-05,10\nNEW-4,2024-13-45,20\n"


def customers(page) -> int:
    value = metric_value(page, "Customers")
    expect(value).to_have_text(re.compile(r"^[\d,]+$"))
    return int(value.inner_text().replace(",", ""))


def test_app_starts_on_a_fresh_data_directory_with_the_demo(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    assert customers(page) > 1000
    expect(page.get_by_role("combobox", name="Customer base")).to_have_value("Demo company (appliances)")


def test_switching_language_changes_title_and_kpi_labels(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(metric_value(page, "Active customers (12 months)")).to_be_visible()
    page.get_by_role("radio", name="中文").click()
    expect(page.locator("h1")).to_have_text("总览")
    expect(metric_value(page, "活跃客户（近12个月）")).to_be_visible()
    expect(page).to_have_title(re.compile("总览"))


def test_the_chosen_base_stays_through_a_language_switch_and_the_next_page(page, app_url):
    """The base picker's options are translated, so a language switch makes it a new widget: the base the
    user chose must outlive that, and the page changes after it (which drop the URL's ?base=)."""
    page.goto(f"{app_url}/data?lang=en")
    page.locator(".st-key-load_cdnow button").click()
    expect(page.get_by_role("combobox", name="Customer base")).to_have_value("CDNOW purchase log", timeout=120_000)
    settled(page)
    page.get_by_role("radio", name="中文").click()
    expect(page.locator("h1")).to_have_text("数据")
    settled(page)
    for name, title in (("overview", "总览"), ("clv", "客户终生价值")):
        go_to(page, name)
        expect(page.locator("h1")).to_have_text(title)
        settled(page)
        expect(page.get_by_role("combobox", name="客户库")).to_have_value("CDNOW 购买记录")


def upload(page, tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    go_to(page, "data")
    expect(page.locator("h1")).to_have_text("Data")
    page.locator(".st-key-upload input[type='file']").set_input_files(str(path))


def test_uploading_a_gbk_csv_adds_its_customers(page, app_url, tmp_path):
    page.goto(f"{app_url}/?lang=en")
    before = customers(page)
    upload(page, tmp_path, "orders_gbk.csv", GBK_ORDERS.encode("gbk"))
    expect(page.locator("[data-testid='stAlert']", has_text="All 2 rows are valid")).to_be_visible()
    page.locator(".st-key-import_button button").click()
    expect(page.locator("[data-testid='stAlert']", has_text="Imported 2 rows")).to_be_visible()
    go_to(page, "overview")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(metric_value(page, "Customers")).to_have_text(f"{before + 2:,}")


def test_a_bad_date_is_reported_and_nothing_changes(page, app_url, tmp_path):
    page.goto(f"{app_url}/?lang=en")
    before = customers(page)
    upload(page, tmp_path, "bad.csv", BAD_DATE.encode())
    page.locator(".st-key-import_button button").click()
    expect(page.locator("[data-testid='stAlert']", has_text="Nothing was imported")).to_be_visible()
    expect(page.locator("[data-testid='stCode']")).to_contain_text("bad.csv, row 3, column order_date")
    go_to(page, "overview")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(metric_value(page, "Customers")).to_have_text(f"{before:,}")


def test_a_higher_discount_rate_lowers_customer_equity(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    go_to(page, "clv")
    equity = metric_value(page, "Customer equity")
    expect(equity).to_have_text(re.compile(r"¥"), timeout=120_000)
    settled(page)
    before = equity.inner_text()
    field = page.locator(".st-key-keep_clv_discount input")
    field.fill("5.0")
    field.press("Enter")
    expect(equity).not_to_have_text(before, timeout=120_000)
