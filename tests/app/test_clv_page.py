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


@pytest.mark.parametrize("lang, sampled, spend", [("zh", "固定的随机样本", "万"), ("en", "fixed random sample", "K")])
def test_a_large_base_says_its_validation_used_a_sample(data_dir, lang, sampled, spend):
    """Above 10,000 buyers (HOLDOUT_RULES) the models are tested on a sample: the page must say so.
    The typical purchase reads in 万 / K like every other amount (demo spend is thousands of yuan)."""
    from crm_logic import demo
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=12_000)
    at = run_page("views/clv.py", lang, base="demo", timeout=240)
    assert_clean(at)
    assert any(sampled in c.value for c in at.caption)
    typical = [m.value for m in at.markdown if "¥" in m.value and m.value.startswith("- ")]
    assert typical and all(spend in line for line in typical), typical
