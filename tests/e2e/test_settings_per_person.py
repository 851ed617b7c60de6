"""Several people on one server set different discount rates at the same moment: each sees the customer
equity of their own rate (computed independently beforehand), and so does a newcomer afterwards."""
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from crm_logic.scores import ScoreSettings, compute_scores
from crm_logic.store import Store
from tests.conftest import REPO
from tests.e2e.conftest import metric_value, settled, start_app
from ui import format as fmt

pytestmark = pytest.mark.e2e

RATES = ("0.5", "2.0", "5.0")  # % a month


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A demo base of 3,000 customers, its equity at each rate scored alone, then the app on it."""
    data = tmp_path_factory.mktemp("people") / "data"
    data.mkdir()
    subprocess.run([sys.executable, "-m", "crm_logic", "demo", "--db", str(data / "demo.duckdb"), "--customers", "3000"],
                   cwd=REPO, check=True, capture_output=True)
    with Store(data / "demo.duckdb", read_only=True) as store:
        currency, as_of = store.get_meta("currency", "¥"), store.info().last_date
        expected = {}
        for rate in RATES:
            values, _ = compute_scores(store, ScoreSettings(as_of=as_of, monthly_discount=float(rate) / 100))
            expected[rate] = fmt.money(values.clv.sum(), "en", currency)
    assert len(set(expected.values())) == len(RATES)
    process, url = start_app(data)
    yield url, expected
    process.terminate()
    process.wait(timeout=20)


def open_clv(browser, url):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    page.goto(f"{url}/clv?lang=en")
    expect(metric_value(page, "Customer equity")).to_have_text(re.compile("¥"), timeout=120_000)
    settled(page)
    return page


def set_rate(page, rate):
    field = page.locator(".st-key-keep_clv_discount input")
    field.fill(rate)
    field.press("Enter")


def test_people_setting_different_rates_at_once_each_see_their_own_equity(browser, server):
    url, expected = server
    pages = [open_clv(browser, url) for _ in RATES]
    for round_ in range(3):
        mine = [RATES[(i + round_) % len(RATES)] for i in range(len(pages))]
        for page, rate in zip(pages, mine):  # all changes go out before any answer is awaited
            set_rate(page, rate)
        for page, rate in zip(pages, mine):
            expect(page.get_by_text(f"discounted at {rate}% a month")).to_be_visible()
            expect(metric_value(page, "Customer equity")).to_have_text(expected[rate])
    for page in pages:
        page.context.close()
    for rate in RATES:  # a newcomer at each rate
        page = open_clv(browser, url)
        set_rate(page, rate)
        expect(metric_value(page, "Customer equity")).to_have_text(expected[rate])
        page.context.close()
