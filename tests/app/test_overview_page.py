"""The Overview page in both languages, on a real base and on an empty one."""
import json

import pytest

from crm_logic import demo
from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_shows_kpis_on_cdnow(data_dir, lang):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/overview.py", lang, base="cdnow")
    assert_clean(at)
    labels = {m.label: m.value for m in at.metric}
    customers_label = "客户数" if lang == "zh" else "Customers"
    assert labels[customers_label] == "2,357"  # CDNOW sample: 2,357 customers (data/cdnow/README.md)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_on_empty_base_points_to_data_page(data_dir, lang):
    Store(base_path("mine")).close()
    Store(base_path("demo")).close()  # an existing (empty) demo base: nothing gets built
    at = run_page("views/overview.py", lang, base="mine")
    assert_clean(at)
    assert not at.metric
    assert at.info, "an empty base must say what is missing"


def test_switching_language_keeps_it_across_pages_and_in_the_url(data_dir):
    """Regression: with a legacy `pages/` folder Streamlit ran app.py as a v1 page and dropped the switch."""
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/overview.py", "en", base="cdnow")
    at.button_group(key="lang").set_value("zh").run()
    assert at.title[0].value == "总览" and at.query_params["lang"] == "zh"
    at.switch_page("views/clv.py").run()
    assert at.session_state["lang"] == "zh" and at.session_state["base"] == "cdnow"


@pytest.mark.parametrize("lang, east", [("zh", "华东"), ("en", "East China")])
def test_demo_regions_and_classes_are_named_in_the_readers_language(data_dir, lang, east):
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=300)
    at = run_page("views/overview.py", lang, base="demo")
    assert_clean(at)
    bars = {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)["data"][0]["y"]
            for c in at.get("plotly_chart")[1:]}
    regions, classes = bars.values()
    assert east in regions and not (lang == "en" and any("华" in r for r in regions))
    assert ("经销商" if lang == "zh" else "Dealers") in classes
