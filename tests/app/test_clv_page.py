"""The CLV page in both languages on CDNOW and on an empty base."""
import pytest

from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_clv_page_values_the_cdnow_base(data_dir, lang):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/clv.py", lang, base="cdnow", timeout=180)
    assert_clean(at)
    labels = [m.label for m in at.metric]
    assert ("顾客资产" if lang == "zh" else "Customer equity") in labels
    equity_before = at.metric[0].value
    at.number_input(key="keep_clv_discount").set_value(5.0).run()
    assert_clean(at)
    assert at.metric[0].value != equity_before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_clv_page_on_an_empty_base_points_to_data(data_dir, lang):
    Store(base_path("demo")).close()
    at = run_page("views/clv.py", lang, base="demo")
    assert_clean(at)
    assert at.info and not at.metric
