"""The Churn page in both languages on the demo, on CDNOW and on an empty base."""
import base64
import json

import numpy as np
import pandas as pd
import pytest

from crm_logic import churn, demo
from crm_logic.i18n import translate
from crm_logic.scores import ScoreSettings, customer_facts, customer_values
from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample

TITLES = {"zh": "流失预警", "en": "Churn risk"}
ALERTED = {"zh": "预警客户数", "en": "Customers alerted"}
LIFECYCLE_TITLES = {translate("churn.where.lifecycle", lang) for lang in ("zh", "en")}


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


def lifecycle_counts(at) -> dict:
    """The lifecycle chart's bars: {label: customers} (Plotly may ship the numbers base64-packed)."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bars = next(s["data"][0] for s in specs if s["layout"]["title"]["text"] in LIFECYCLE_TITLES)
    x = bars["x"]
    if isinstance(x, dict):
        x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
    return dict(zip(bars["y"], (int(v) for v in x)))


def independent_table(store) -> pd.DataFrame:
    """The churn table's lateness, tenure and purchase days with P(alive), computed without the page."""
    settings = ScoreSettings()
    facts = customer_facts(store, settings)
    values = customer_values(facts, settings)
    table = churn.churn_table(store, facts, values, facts.as_of, {"alert_rule": "lateness"},
                              segments=churn.segment_frame(store, values, facts.as_of))
    return table.merge(values[["customer_id", "p_alive"]], on="customer_id", how="inner")


def lost_by_hand(table: pd.DataFrame, drifting_below: float) -> int:
    """crm-concepts 4a with the default new and P(alive) bounds: not new, and later than the bound or
    P(alive) under 10 %."""
    new = (table["tenure_days"] <= 90) & (table["purchase_days"] < 2)
    return int((~new & ((table["lateness"] > drifting_below) | (table["p_alive"] < 0.1))).sum())


def high_risk(at, lang) -> int:
    return int((call_list(at)["risk_band"] == translate("churn.risk.high", lang)).sum())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_churn_thresholds_move_the_counts_and_reset(data_dir, lang):
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=1500)
        table = independent_table(store)
    at = run_page("views/churn.py", lang, base="demo", timeout=240)
    assert_clean(at)
    lost = translate("churn.lifecycle.lost", lang)
    assert lifecycle_counts(at).get(lost, 0) == lost_by_hand(table, 5.0)

    at.number_input(key="keep_churn_drifting_below").set_value(12.0).run()
    assert_clean(at)
    raised = lifecycle_counts(at).get(lost, 0)
    assert raised == lost_by_hand(table, 12.0) <= lost_by_hand(table, 5.0)
    assert lost_by_hand(table, 12.0) < lost_by_hand(table, 5.0)  # the demo has customers late 5-12 rhythms
    assert any("12" in c.value for c in at.caption)

    at.number_input(key="keep_churn_dormant_below").set_value(13.0).run()  # above drifting: out of order
    assert_clean(at)
    assert at.warning[0].value == translate("churn.settings.unordered_lifecycle", lang)
    assert lifecycle_counts(at).get(lost, 0) == lost_by_hand(table, 5.0)  # the defaults stand meanwhile

    at.selectbox(key="keep_churn_rule").set_value("churn_probability").run()
    at.number_input(key="keep_churn_probability").set_value(5.0).run()
    assert_clean(at)
    before = high_risk(at, lang)
    at.number_input(key="keep_churn_risk_high").set_value(95.0).run()
    assert_clean(at)
    assert 0 <= high_risk(at, lang) < before

    at.button(key="churn_reset_thresholds").click().run()
    assert_clean(at)
    assert not at.warning
    assert at.number_input(key="keep_churn_drifting_below").value == 5.0
    assert at.number_input(key="keep_churn_dormant_below").value == 3.0
    assert at.number_input(key="keep_churn_risk_high").value == 80.0
    assert high_risk(at, lang) == before
    assert lifecycle_counts(at).get(lost, 0) == lost_by_hand(table, 5.0)
