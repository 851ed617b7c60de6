"""The CLV page in both languages on CDNOW and on an empty base."""
import pytest

from crm_logic.i18n import translate
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
    at.session_state["clv_tab"] = translate("clv_page.tab.trust", lang)  # the open tab alone is drawn
    at.run()
    assert_clean(at)
    assert any(sampled in c.value for c in at.caption)
    typical = [m.value for m in at.markdown if "¥" in m.value and m.value.startswith("- ")]
    assert typical and all(spend in line for line in typical), typical


@pytest.fixture
def counted(monkeypatch):
    """Counts the reads of the customer summary and the validations behind the CLV page."""
    from crm_logic import scores

    calls = {"summary": 0, "validate": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(scores, "customer_summary", counting("summary", scores.customer_summary))
    monkeypatch.setattr(scores, "validate_models", counting("validate", scores.validate_models))
    return calls


def shown(at):
    return [m.value for m in at.metric], [c.value for c in at.caption]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_settings_there_and_back_show_the_same_equity_without_a_refit(data_dir, lang, counted):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/clv.py", lang, base="cdnow", timeout=180)
    assert_clean(at)
    first = shown(at)
    assert counted == {"summary": 1, "validate": 1}
    at.number_input(key="keep_clv_discount").set_value(3.0).run()
    at.slider(key="keep_clv_horizon").set_value(24).run()
    at.number_input(key="keep_clv_margin").set_value(50.0).run()
    changed = shown(at)
    assert changed[0][0] != first[0][0] and changed[1] != first[1]
    at.number_input(key="keep_clv_discount").set_value(1.0).run()
    at.slider(key="keep_clv_horizon").set_value(12).run()
    at.number_input(key="keep_clv_margin").set_value(30.0).run()
    assert_clean(at)
    assert shown(at) == first
    for tab in ("spread", "who", "trust", "classic"):  # every tab draws, and the trust tab reuses the validation
        at.session_state["clv_tab"] = translate(f"clv_page.tab.{tab}", lang)
        at.run()
        assert_clean(at)
    assert counted == {"summary": 1, "validate": 1}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_tab_draws_its_two_charts_and_the_deciles_add_up_to_the_equity(data_dir, lang):
    """Where the value sits: class and region; how concentrated: deciles and bands. The decile bars
    (computed for the spread tab) hold all the customer equity the headline reports (computed apart)."""
    import base64
    import json

    import numpy as np

    from crm_logic import demo
    from crm_logic.scores import ScoreSettings, compute_scores
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=1_500)
        values, _ = compute_scores(store, ScoreSettings(as_of=store.info().last_date))
    at = run_page("views/clv.py", lang, base="demo", timeout=180)
    assert_clean(at)

    def charts():
        return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    where = charts()
    assert len(where) == 2 and all(spec["data"][0]["orientation"] == "h" for spec in where)
    at.session_state["clv_tab"] = translate("clv_page.tab.spread", lang)
    at.run()
    assert_clean(at)
    deciles, bands = charts()

    def numbers(column):  # plotly sends numeric arrays as base64
        return np.frombuffer(base64.b64decode(column["bdata"]), column["dtype"]) if isinstance(column, dict) else column
    assert len(numbers(deciles["data"][0]["x"])) == 10
    assert sum(numbers(deciles["data"][0]["x"])) == pytest.approx(values["clv"].sum())
    assert sum(numbers(bands["data"][0]["y"])) == values["clv"].notna().sum()
