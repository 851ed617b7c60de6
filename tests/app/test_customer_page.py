"""The Customer page (customer 360) and the shared customer table, in both languages, on the demo, on
CDNOW and on an empty base."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from crm_logic import demo
from crm_logic.i18n import translate
from crm_logic.store import Store, base_path
from tests.app.conftest import APP, assert_clean, run_page
from tests.conftest import load_cdnow_sample
from ui import format as fmt


def open_customer(customer_id: str, lang: str, base: str) -> AppTest:
    """The Customer page as a link opens it: the id in the URL of a new session."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["lang"] = lang
    at.session_state["base"] = base
    at.query_params["customer"] = customer_id
    at.run()
    at.switch_page("views/customer.py").run()
    return at


@pytest.fixture
def demo_base(data_dir):
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=300)
        yield store.df("""
            SELECT c.customer_id, c.name, sum(t.amount)::DOUBLE AS revenue, count(DISTINCT t.order_date) AS days
            FROM customers c JOIN transactions t USING (customer_id)
            WHERE c.customer_class = 'enterprise' GROUP BY ALL ORDER BY days DESC, customer_id LIMIT 1""").iloc[0]


@pytest.mark.parametrize("lang, revenue_label", [("zh", "累计销售额"), ("en", "Revenue to date")])
def test_a_link_opens_the_customer_with_profile_values_and_history(demo_base, lang, revenue_label):
    at = open_customer(demo_base.customer_id, lang, "demo")
    assert_clean(at)
    assert at.header[0].value == f"{demo_base.customer_id} · {demo_base['name']}"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[revenue_label] == fmt.money(demo_base.revenue, lang, "¥")  # revenue summed by the test
    timeline = at.get("plotly_chart")[0]
    bars = json.loads(timeline.proto.spec)["data"][0]
    assert len(bars["x"]) == demo_base.days  # one stem per purchase day


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_searching_by_part_of_a_name_finds_the_customer(demo_base, lang):
    at = run_page("views/customer.py", lang, base="demo")
    at.text_input(key="customer_search").set_value(demo_base["name"][1:4]).run()
    assert_clean(at)
    matches = at.selectbox(key="customer_match")
    assert any(option.startswith(demo_base.customer_id) for option in matches.options)
    matches.set_value(demo_base.customer_id).run()
    assert at.header[0].value.startswith(demo_base.customer_id)
    assert at.query_params["customer"] == demo_base.customer_id


@pytest.mark.parametrize("lang, missing", [("zh", ["名称", "客户类型", "地区"]), ("en", ["Name", "Class", "Region"])])
def test_cdnow_lists_leave_out_empty_columns_and_link_ids(data_dir, lang, missing):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
        top = store.df("SELECT customer_id, sum(amount)::DOUBLE AS revenue FROM transactions "
                       "GROUP BY ALL ORDER BY revenue DESC, customer_id LIMIT 1").iloc[0]
    at = run_page("views/customer.py", lang, base="cdnow", timeout=180)
    assert_clean(at)
    table = at.dataframe[0].value
    assert not set(missing) & set(table.columns)
    first = table.iloc[0]
    assert first["customer_id"].startswith(f"customer?customer={top.customer_id}&")
    assert f"lang={lang}" in first["customer_id"] and "base=cdnow" in first["customer_id"]
    assert first["revenue"] == round(top.revenue)  # the top spenders' totals are large: whole dollars


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cdnow_customer_without_contacts_says_so(data_dir, lang):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = open_customer("00004", lang, "cdnow")  # first customer of the CDNOW sample file
    assert_clean(at)
    assert at.header[0].value == "00004"  # no name in CDNOW: the id alone, never "None"
    assert any(("互动记录" if lang == "zh" else "interactions file") in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_unknown_id_in_the_url_is_said_in_words(demo_base, lang):
    at = open_customer("NO-SUCH-ID", lang, "demo")
    assert_clean(at)
    assert any("NO-SUCH-ID" in i.value for i in at.info)
    assert not at.metric


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_customer_page_on_an_empty_base_points_to_data(data_dir, lang):
    Store(base_path("demo")).close()
    at = run_page("views/customer.py", lang, base="demo")
    assert_clean(at)
    assert at.info and not at.metric



@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_clv_top_list_rounds_for_people_on_cdnow(data_dir, lang):
    """Weeks and purchases to one decimal (not 73.7143), CDNOW's small dollar amounts to the cent, no
    empty Name, Class or Region column."""
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/clv.py", lang, base="cdnow", timeout=240)
    at.session_state["clv_tab"] = translate("clv_page.tab.who", lang)  # the CLV page draws its open tab only
    at.run()
    assert_clean(at)
    table = at.dataframe(key="top_customers").value
    assert not {"name", "customer_class", "region"} & set(table.columns)
    for column in ("frequency", "recency", "T", "expected_purchases_12m"):
        assert (table[column] == table[column].round(1)).all(), column
    assert (table["T"] != table["T"].round(0)).any()  # weeks are not whole: the one decimal is kept
    assert (table["monetary_value"] == table["monetary_value"].round(2)).all()
    assert (table["monetary_value"] != table["monetary_value"].round(0)).any()  # cents kept below $100
