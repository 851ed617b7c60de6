"""The Alliances page in both languages: on the demo, on CDNOW (no organisation data) and on an empty base."""
import pandas as pd
import pytest

from crm_logic import demo
from crm_logic.i18n import translate
from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample

PAGE = "views/alliances.py"
TITLES = {"zh": "客户联盟", "en": "Alliances"}


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def frames(at) -> dict:
    return {d.proto.id: d.value for d in at.dataframe}


def open_tab(at, tab: str, lang: str):
    """Open one tab of the page (the open tab alone is drawn) and run it."""
    at.session_state["alliance_tab"] = translate(f"alliances.tab.{tab}", lang)
    return at.run()


@pytest.fixture
def demo_base(data_dir):
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=1200, seed=11)
    return data_dir


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_demo_shows_the_matrix_the_ladder_and_the_three_lists(demo_base, lang):
    at = run_page(PAGE, lang, base="demo", timeout=120)
    assert_clean(at)
    assert at.title[0].value == TITLES[lang]
    assert len(at.get("plotly_chart")) == 1  # the matrix
    assert not at.info, "the demo has every account attribute: nothing to sharpen"
    shown = metrics(at)
    assert len(open_tab(at, "ladder", lang).get("plotly_chart")) == 1
    open_tab(at, "lists", lang)
    assert_clean(at)
    deepen_label = "应升级的关系" if lang == "zh" else "Relationships to deepen"
    luxurious_label = "奢侈的关系" if lang == "zh" else "Luxurious relationships"
    lists = [d.value for d in at.dataframe if len(d.value.columns) > 10]
    deepen, luxurious = lists[0], lists[1]
    assert int(shown[deepen_label].replace(",", "")) == len(deepen) > 0
    assert int(shown[luxurious_label].replace(",", "")) == len(luxurious) > 0
    assert {"recommended_relationship_type", "alliance_mode", "why", "first_steps"} <= set(deepen.columns)
    types = {"zh": {"买卖关系", "优先供应关系", "合作伙伴关系", "战略联盟关系"},
             "en": {"Transactional", "Preferred supplier", "Partnership", "Strategic alliance"}}[lang]
    assert set(deepen["recommended_relationship_type"]) <= types
    assert ("对我们重要" if lang == "zh" else "Matters to us") in " ".join(deepen["why"])
    # luxurious: cost above margin, both numbers shown
    assert (luxurious["relationship_cost"] > luxurious["margin_12m"]).all()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cdnow_works_on_proxies_and_names_the_missing_attributes(data_dir, lang):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    Store(base_path("demo")).close()
    at = run_page(PAGE, lang, base="cdnow", timeout=120)
    assert_clean(at)
    assert at.info and ("钱包份额" if lang == "zh" else "share of wallet") in at.info[0].value
    assert ("没有联系记录" if lang == "zh" else "no contact history") in at.info[1].value
    quadrant_labels = ("投资发展", "选择性投资", "维持", "收获现金") if lang == "zh" else (
        "Invest to grow", "Invest selectively", "Maintain", "Manage for cash")
    shown = metrics(at)
    assert sum(int(shown[q].replace(",", "")) for q in quadrant_labels) == 2357  # every CDNOW sample buyer


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_base_says_what_is_missing(data_dir, lang):
    Store(base_path("mine")).close()
    Store(base_path("demo")).close()
    at = run_page(PAGE, lang, base="mine")
    assert_clean(at)
    assert not at.metric and at.info


def test_a_stricter_alliance_rule_moves_accounts_off_the_top_of_the_ladder(demo_base):
    at = run_page(PAGE, "en", base="demo", timeout=120)
    before = int(metrics(at)["Alliance candidates"].replace(",", ""))
    open_tab(at, "rules", "en")
    for key in ("keep_alliance_t_strategic_alliance_high_switching_cost", "keep_alliance_t_partnership_high_switching_cost"):
        at.number_input(key=key).set_value(1.0)
    at.run()
    assert_clean(at)
    after = int(metrics(at)["Alliance candidates"].replace(",", ""))
    assert before > 0 and after < before


def test_a_heavier_value_weight_changes_the_quadrants(demo_base):
    at = run_page(PAGE, "en", base="demo", timeout=120)
    quadrants = ("Invest to grow", "Invest selectively", "Maintain", "Manage for cash")
    before = [metrics(at)[q] for q in quadrants]
    at.slider(key="keep_alliance_wa_value").set_value(1.0)
    at.slider(key="keep_alliance_wa_growth").set_value(0.0)
    at.slider(key="keep_alliance_wa_p_alive").set_value(0.0)
    at.run()
    assert_clean(at)
    assert [metrics(at)[q] for q in quadrants] != before
    assert "1.00·Value (CLV rank)" in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_picked_quadrant_lists_its_customers_linked_to_the_customer_page(demo_base, lang):
    at = run_page(PAGE, lang, base="demo", timeout=120)
    quadrant = "投资发展" if lang == "zh" else "Invest to grow"
    count = int(metrics(at)[quadrant].replace(",", ""))
    assert not [d for d in at.dataframe if len(d.value.columns) > 10]  # no list before a pick
    at.segmented_control(key="alliance_quadrant").set_value("invest_to_grow").run()
    assert_clean(at)
    picked = [d.value for d in at.dataframe if len(d.value.columns) > 10]
    assert len(picked) == 1
    listed = picked[0]
    assert len(listed) == count > 0
    assert listed["customer_id"].str.startswith("customer?customer=").all()
    assert listed["customer_id"].nunique() == count
    assert any(f"{count:,}" in h.value and quadrant in h.value for h in at.subheader)


def test_workshop_mode_masks_the_names_in_the_lists(demo_base):
    import hashlib

    at = run_page(PAGE, "en", base="demo", timeout=120)
    at.session_state["workshop_mode"] = True
    open_tab(at, "lists", "en")
    assert_clean(at)
    deepen = [d.value for d in at.dataframe if len(d.value.columns) > 10][0]
    ids = deepen["customer_id"].str.replace("customer?customer=", "", regex=False).str.split("&").str[0]
    codes = [hashlib.sha256(i.encode()).hexdigest()[:6].upper() for i in ids]
    assert deepen["name"].tolist() == [f"Customer {c}" for c in codes]
