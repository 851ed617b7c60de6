"""The Data page in both languages: facts on a real base, a GBK upload imported, a bad file refused."""
import pytest

from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample

GOOD = "会员号,下单时间,实付金额,订单号\nN1,2024/3/5,\"1,299.00\",A1\nN2,2024年3月6日,880,A2\nN1,20240401,120.5,A3\n"
BAD = "customer_id,order_date,amount\nA1,2024-01-05,10\nA2,2024-13-45,20\n"


@pytest.fixture
def cdnow(data_dir):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    Store(base_path("demo")).close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_page_shows_the_facts_of_the_base(cdnow, lang):
    at = run_page("views/data.py", lang, base="cdnow")
    assert_clean(at)
    assert at.metric[0].value == "6,919" and at.metric[1].value == "2,357"  # CDNOW sample: README figures


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_page_on_an_empty_base(data_dir, lang):
    Store(base_path("demo")).close()
    at = run_page("views/data.py", lang, base="demo")
    assert_clean(at)
    assert at.metric[0].value == "0"


def test_a_gbk_upload_is_mapped_checked_and_imported(cdnow):
    at = run_page("views/data.py", "zh", base="cdnow")
    at.file_uploader(key="upload").set_value(("订单.csv", GOOD.encode("gbk"), "text/csv")).run()
    assert_clean(at)
    assert any("3" in s.value for s in at.success), "all three rows are valid"
    at.button(key="import_button").click().run()
    assert_clean(at)
    assert at.metric[0].value == "6,922" and at.metric[1].value == "2,359"


def test_a_bad_date_is_reported_with_its_row_and_nothing_changes(cdnow):
    at = run_page("views/data.py", "en", base="cdnow")
    at.file_uploader(key="upload").set_value(("bad.csv", BAD.encode(), "text/csv")).run()
    assert at.warning, "the check must report the problem before importing"
    at.button(key="import_button").click().run()
    assert_clean(at)
    assert at.error and "Nothing was imported" in at.error[0].value
    report = "\n".join(c.value for c in at.code)
    assert "bad.csv, row 3, column order_date" in report
    assert at.metric[0].value == "6,919"
