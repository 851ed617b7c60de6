"""The app (`streamlit run`) and the command line on one base at the same time, and the analysis date
following orders appended through the Data page — in Chromium, without a reload."""
import json
import re
import subprocess
import sys
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import REPO
from tests.e2e.conftest import go_to, metric_value, settled

pytestmark = pytest.mark.e2e


def cli(*args):
    return subprocess.run([sys.executable, "-m", "crm_logic", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def badge(page) -> tuple[int, date]:
    """Customers and last order date from the sidebar badge ("5,400 customers · 2023-06-30 – 2026-06-29")."""
    text = page.locator("[data-testid='stSidebar'] [data-testid='stCaptionContainer']",
                        has_text=" customers · ").inner_text()
    found = re.search(r"([\d,]+) customers · \S+ – (\d{4}-\d{2}-\d{2})", text)
    return int(found.group(1).replace(",", "")), date.fromisoformat(found.group(2))


def test_the_command_line_reads_a_base_the_app_has_open(page, app_url, tmp_path):
    db = tmp_path / "data" / "demo.duckdb"
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    settled(page)
    shown = metric_value(page, "Customers").inner_text()
    infos = [cli("info", "--db", db, "--wait", "30", "--lang", "en") for _ in range(3)]
    for info in infos:
        assert "Traceback" not in info.stderr and "IOException" not in info.stderr, info.stderr
        assert info.returncode == 0, info.stderr
    facts = json.loads(infos[0].stdout)
    # the app keeps working while and after the command line reads: a page switch and back
    go_to(page, "data")
    expect(page.locator("h1")).to_have_text("Data")
    expect(metric_value(page, "Order rows")).to_have_text(f"{facts['transactions']:,}")
    go_to(page, "")
    expect(metric_value(page, "Customers")).to_have_text(shown)


def test_the_app_waits_for_an_import_from_the_command_line_and_shows_it(page, app_url, tmp_path):
    db = tmp_path / "data" / "demo.duckdb"
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    settled(page)
    customers, last = badge(page)
    orders = tmp_path / "cli_orders.csv"
    orders.write_text(f"customer_id,order_date,amount\nCLI-1,{last:%Y-%m-%d},99\n", encoding="utf-8")
    done = cli("import", orders, "--db", db, "--wait", "30", "--lang", "en")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    go_to(page, "data")  # the next run of the app reads the new data-set version
    go_to(page, "")
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text(f"{customers + 1:,} customers")


def test_appending_newer_orders_moves_the_analysis_date_without_a_reload(page, app_url, tmp_path):
    page.goto(f"{app_url}/?lang=en")
    expect(page.locator("h1")).to_have_text("Overview")
    settled(page)
    customers, last = badge(page)
    expect(page.get_by_text(re.compile(rf"– {last:%Y-%m-%d}, compared with"))).to_be_visible()
    expect(metric_value(page, "Customers")).to_have_text(f"{customers:,}")
    newer = last + timedelta(days=12)
    path = tmp_path / "newer.csv"
    path.write_text(f"customer_id,order_date,amount\nLATE-1,{last + timedelta(days=3):%Y-%m-%d},120\n"
                    f"LATE-2,{newer:%Y-%m-%d},80.5\n", encoding="utf-8")
    go_to(page, "data")
    expect(page.locator("h1")).to_have_text("Data")
    page.locator(".st-key-upload input[type='file']").set_input_files(str(path))
    expect(page.locator("[data-testid='stAlert']", has_text="All 2 rows are valid")).to_be_visible()
    page.locator(".st-key-import_button button").click()
    expect(page.locator("[data-testid='stAlert']", has_text="Imported 2 rows")).to_be_visible()
    go_to(page, "")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.get_by_text(re.compile(rf"– {newer:%Y-%m-%d}, compared with"))).to_be_visible()
    expect(metric_value(page, "Customers")).to_have_text(f"{customers + 2:,}")
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text(f"– {newer:%Y-%m-%d}")
