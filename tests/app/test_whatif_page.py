"""The what-if page in both languages: demo, CDNOW and an empty base; levers move equity; kept scenarios
survive a restart and reopen by URL; workshop mode hides names."""
import pytest
from streamlit.testing.v1 import AppTest

from crm_logic import scenarios
from crm_logic.demo import build_demo
from crm_logic.store import Store, base_path
from tests.app.conftest import APP, assert_clean, run_page
from tests.conftest import load_cdnow_sample

DELTA = {"zh": "顾客资产变化", "en": "Change in customer equity"}


@pytest.fixture
def demo(data_dir):
    with Store(base_path("demo")) as store:
        build_demo(store, customers=1200, seed=11)


def delta(at, lang) -> str:
    return next(m.value for m in at.metric if m.label == DELTA[lang])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_moving_retention_changes_customer_equity(demo, lang):
    at = run_page("views/whatif.py", lang, base="demo", timeout=180)
    assert_clean(at)
    assert delta(at, lang) in ("¥0", "¥0.00")
    at.slider(key="keep_whatif_retention").set_value(20).run()
    assert_clean(at)
    assert delta(at, lang).startswith("¥") and delta(at, lang) != "¥0"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_values_the_cdnow_base(data_dir, lang):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/whatif.py", lang, base="cdnow", timeout=180)
    assert_clean(at)
    at.slider(key="keep_whatif_frequency").set_value(10).run()
    assert_clean(at)
    assert delta(at, lang).startswith("$")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_base_points_to_data(data_dir, lang):
    Store(base_path("demo")).close()
    at = run_page("views/whatif.py", lang, base="demo")
    assert_clean(at)
    assert at.info and not at.metric


def test_a_kept_scenario_survives_a_restart_and_reopens_by_url(demo):
    at = run_page("views/whatif.py", "en", base="demo", timeout=180)
    at.slider(key="keep_whatif_spend").set_value(10).run()
    at.text_input(key="whatif_name").input("Bigger baskets")
    at.text_input(key="keep_whatif_author").input("Sales team")
    at.button[[b.label for b in at.button].index("Keep this scenario")].click().run()
    assert_clean(at)
    with Store(base_path("demo")) as store:
        kept = scenarios.list_scenarios(store)
    assert list(kept["name"]) == ["Bigger baskets"] and kept.iloc[0]["levers"] == {"spend": 0.1}
    scenario_id = kept.iloc[0]["scenario_id"]

    fresh = AppTest.from_file(APP, default_timeout=180)  # a restart: a new session on the same file
    fresh.session_state["lang"] = "en"
    fresh.query_params["scenario"] = scenario_id
    fresh.run()
    fresh.switch_page("views/whatif.py").run()
    assert_clean(fresh)
    assert fresh.slider(key="keep_whatif_spend").value == 10
    assert delta(fresh, "en") != "¥0"


def test_workshop_mode_hides_the_names_of_the_gainers(demo):
    with Store(base_path("demo")) as store:
        names = set(store.df("SELECT name FROM customers WHERE name IS NOT NULL")["name"])
    at = run_page("views/whatif.py", "en", base="demo", timeout=180)
    at.slider(key="keep_whatif_retention").set_value(20).run()
    gainers = next(d.value for d in at.dataframe if "Name" in d.value.columns)
    assert set(gainers["Name"]) & names
    at.toggle(key="workshop_mode").set_value(True).run()
    assert_clean(at)
    gainers = next(d.value for d in at.dataframe if "Name" in d.value.columns)
    assert not set(gainers["Name"]) & names
    assert all(n.startswith("Customer ") for n in gainers["Name"])


def test_moving_at_risk_customers_to_loyal_raises_equity(demo):
    at = run_page("views/whatif.py", "zh", base="demo", timeout=180)
    at.selectbox(key="keep_whatif_move_from").set_value("at_risk")
    at.selectbox(key="keep_whatif_move_to").set_value("loyal")
    at.slider(key="keep_whatif_move_share").set_value(10).run()
    assert_clean(at)
    assert delta(at, "zh") != "¥0"
    assert not delta(at, "zh").startswith("-")
