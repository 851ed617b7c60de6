"""The Churn page in both languages on the demo, on CDNOW and on an empty base."""
import pandas as pd
import pytest

from crm_logic import demo
from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample

TITLES = {"zh": "流失预警", "en": "Churn risk"}
ALERTED = {"zh": "预警客户数", "en": "Customers alerted"}


def alerted_count(at) -> int:
    return int(next(m.value for m in at.metric if m.label in ALERTED.values()).replace(",", ""))


def call_list(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if len(d.value) and "tactic" in d.value.columns)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_churn_page_on_the_demo_lists_the_alerted_customers(data_dir, lang):
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=1500)
    at = run_page("views/churn.py", lang, base="demo", timeout=240)
    assert_clean(at)
    assert at.title[0].value == TITLES[lang]
    count = alerted_count(at)
    calls = call_list(at)
    assert len(calls) == count > 0
    assert calls["value_at_risk"].is_monotonic_decreasing or calls["value_at_risk"].isna().any()
    assert calls["tactic"].str.len().gt(0).all()

    at.selectbox(key="keep_churn_rule").set_value("lateness").run()
    at.number_input(key="keep_churn_multiple").set_value(1.0).run()
    assert_clean(at)
    looser = alerted_count(at)
    at.number_input(key="keep_churn_multiple").set_value(4.0).run()
    assert_clean(at)
    assert alerted_count(at) < looser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_churn_page_on_cdnow_shows_the_evaluation(data_dir, lang):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/churn.py", lang, base="cdnow", timeout=240)
    assert_clean(at)
    evaluation = next(d.value for d in at.dataframe if "ROC AUC" in d.value.columns)
    assert len(evaluation) == 4
    assert evaluation["ROC AUC"].between(0.5, 1).all()
    assert any("ROC AUC" in m.value for m in at.markdown)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_churn_page_on_an_empty_base_points_to_data(data_dir, lang):
    Store(base_path("demo")).close()
    at = run_page("views/churn.py", lang, base="demo")
    assert_clean(at)
    assert at.info and not at.metric
