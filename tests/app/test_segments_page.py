"""The Segments page in both languages on the demo, on CDNOW and on an empty base; the grid the user
edits is the one the page and the Customer page place customers by."""
import base64
import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from crm_logic import demo
from crm_logic.i18n import translate
from crm_logic.store import Store, base_path
from crm_logic.tiers import DEFAULT_GRID
from tests.app.conftest import APP, assert_clean, run_page
from tests.conftest import load_cdnow_sample

COUNTS = {"zh": ("细分群体", "客户数"), "en": ("Segment", "Customers")}


@pytest.fixture
def demo_base(data_dir):
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=300)
        yield store


def segment_counts(at: AppTest, lang: str) -> dict[str, int]:
    name, customers = COUNTS[lang]
    table = next(d.value for d in at.dataframe if name in d.value.columns)
    return dict(zip(table[name], table[customers]))


def segment_name(code: str, lang: str) -> str:
    """A segment as the page names it (the names are catalogue data, locales/*/segments.toml)."""
    return translate(f"segments.segment.{code}", lang)


def grid_figure(at: AppTest) -> dict:
    """The R × F grid: the page's only heatmap."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(spec for spec in specs if spec["data"][0]["type"] == "heatmap")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_customer_is_in_one_segment_and_prospects_are_their_own(demo_base, lang):
    prospects = segment_name("prospect", lang)
    known = demo_base.df("""SELECT count(*) AS customers,
                                   count(*) FILTER (WHERE customer_id NOT IN (SELECT customer_id FROM transactions)) AS prospects
                            FROM customers""").iloc[0]
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    assert_clean(at)
    counts = segment_counts(at, lang)
    assert sum(counts.values()) == known.customers
    assert counts[prospects] == known.prospects


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tier_a_holds_the_customers_making_the_first_80_percent(demo_base, lang):
    revenue = demo_base.df("SELECT sum(amount)::DOUBLE AS revenue FROM transactions GROUP BY customer_id")["revenue"]
    values = np.sort(revenue.clip(lower=0).to_numpy())[::-1]
    ahead = np.array([values[values > v].sum() for v in values]) / values.sum()  # worth strictly more
    expected = int(((values > 0) & (ahead < 0.8)).sum())
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    tier_a = next(m for m in at.metric if m.label in ("A 类", "Tier A"))
    assert tier_a.value == f"{expected:,}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_edited_grid_moves_that_cells_customers(demo_base, lang):
    champions, new = segment_name("champions", lang), segment_name("new_customers", lang)
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    before = segment_counts(at, lang)
    cell = grid_figure(at)["data"][0]
    r5_f1 = cell["text"][cell["y"].index("5")][cell["x"].index("1")]  # R 5 × F 1: "name<br>count"
    moved = int(r5_f1.split("<br>")[1].replace(",", ""))
    assert moved > 0 and r5_f1.startswith(new)
    edited = (("champions",) + DEFAULT_GRID[0][1:],) + DEFAULT_GRID[1:]
    at.session_state["keep_segments_grid"] = edited
    at.run()
    assert_clean(at)
    after = segment_counts(at, lang)
    assert after[champions] == before[champions] + moved
    assert new not in after  # R 5 × F 1 was the only cell of new customers


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_picking_a_segment_lists_exactly_its_customers(demo_base, lang):
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    at.selectbox(key="rfm_pick").set_value("champions").run()
    assert_clean(at)
    listed = at.dataframe(key="segment_customers").value
    champions = segment_counts(at, lang)[segment_name("champions", lang)]
    assert len(listed) == champions
    assert any(m.value.startswith("**应对策略**" if lang == "zh" else "**What to do**") for m in at.markdown)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_customer_page_places_a_customer_by_the_sessions_grid(demo_base, lang):
    buyer = demo_base.df("SELECT min(customer_id) AS id FROM transactions").iloc[0]["id"]
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["lang"] = lang
    at.session_state["base"] = "demo"
    at.session_state["keep_segments_grid"] = tuple(("at_risk",) * 5 for _ in range(5))
    at.query_params["customer"] = buyer
    at.run()
    at.switch_page("views/customer.py").run()
    assert_clean(at)
    standing = next(m.value for m in at.markdown if "RFM" in m.value)
    assert segment_name("at_risk", lang) in standing


@pytest.mark.parametrize("lang, interactions", [("zh", "interactions.kind"), ("en", "interactions.kind")])
def test_cdnow_says_which_columns_would_unlock_the_ladder(data_dir, lang, interactions):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    at = run_page("views/segments.py", lang, base="cdnow", timeout=240)
    assert_clean(at)
    unlocks = [i.value for i in at.info]
    assert any(interactions in text for text in unlocks)
    assert any("customers.customer_class" in text for text in unlocks)
    keys = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert not any(("关系形式" if lang == "zh" else "relationship form") in k for k in keys)  # no empty ladder chart
    assert sum(segment_counts(at, lang).values()) == 2357  # CDNOW sample: 2,357 customers, all buyers


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_segments_page_on_an_empty_base_points_to_data(data_dir, lang):
    Store(base_path("demo")).close()
    at = run_page("views/segments.py", lang, base="demo")
    assert_clean(at)
    assert at.info and not at.get("plotly_chart")


def test_coming_back_to_segments_recomputes_nothing(demo_base, monkeypatch):
    from crm_logic import scores, tiers

    calls = []
    for module, name in ((tiers, "segment_table"), (tiers, "breakdown"), (tiers, "grid_counts"),
                         (tiers, "segment_migration"), (tiers, "category_breakdown"), (tiers, "pareto_curve"),
                         (scores, "customer_values")):
        original = getattr(module, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)
        counted.__module__, counted.__qualname__ = original.__module__, original.__qualname__
        monkeypatch.setattr(module, name, counted)
    at = run_page("views/segments.py", "en", base="demo", timeout=240)
    assert "segment_table" in calls and "segment_migration" in calls  # the counters see the first visit
    at.switch_page("views/overview.py").run()
    calls.clear()
    at.switch_page("views/segments.py").run()
    assert_clean(at)
    assert calls == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_custom_cutoffs_score_recency_and_bad_ones_are_refused_in_words(demo_base, lang):
    last = demo_base.df("SELECT max(order_date) AS d FROM transactions").iloc[0]["d"]
    recent = demo_base.df("SELECT count(DISTINCT customer_id) AS n FROM transactions WHERE order_date > ?::DATE - 30",
                          [last]).iloc[0]["n"]
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    at.radio(key="keep_segments_scoring").set_value("cutoffs").run()
    at.text_input(key="keep_segments_cutoffs_recency").set_value("29, 90, 180, 365").run()
    assert_clean(at)
    r5 = sum(int(text.split("<br>")[1].replace(",", "")) for row, r in zip(grid_figure(at)["data"][0]["text"],
                                                                            grid_figure(at)["data"][0]["y"])
             if r == "5" for text in row)
    assert r5 == recent  # R 5 = last purchase at most 29 days before the analysis date
    at.text_input(key="keep_segments_cutoffs_recency").set_value("365, 90").run()
    assert_clean(at)
    assert [e.value for e in at.error] == [translate("segments.cutoff_error.count", lang)]


# --- Rules and thresholds edited on the page ------------------------------------------------------------------

def bar_counts(at: AppTest, first_code: str) -> dict[str, int]:
    """Customers per group of the bar chart whose groups include `first_code` (codes -> counts)."""
    for chart_element in at.get("plotly_chart"):
        data = json.loads(chart_element.proto.spec)["data"][0]
        if data["type"] == "bar" and first_code in data.get("customdata", []):
            x = data["x"]
            counts = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]) if isinstance(x, dict) else x
            return dict(zip(data["customdata"], (int(c) for c in counts)))
    raise AssertionError(f"no bar chart with {first_code}")


def tier_count(at: AppTest, tier: str) -> int:
    return int(next(m for m in at.metric if m.label in (f"{tier} 类", f"Tier {tier}")).value.replace(",", ""))


def abc_expected(store, a: float, b: float) -> dict[str, int]:
    """Tiers by hand: A = customers the ones worth strictly more than leave below share a, B below b."""
    revenue = store.df("SELECT sum(amount)::DOUBLE AS revenue FROM transactions GROUP BY customer_id")["revenue"]
    values = np.sort(revenue.clip(lower=0).to_numpy())[::-1]
    ahead = np.array([values[values > v].sum() for v in values]) / values.sum()
    in_a = (values > 0) & (ahead < a)
    in_b = (values > 0) & ~in_a & (ahead < b)
    return {"A": int(in_a.sum()), "B": int(in_b.sum())}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_abc_shares_move_the_tiers_and_reset_restores_them(demo_base, lang):
    default = abc_expected(demo_base, 0.80, 0.95)
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    assert tier_count(at, "A") == default["A"]
    at.number_input(key="keep_segments_rule_value_a_share").set_value(50).run()
    at.number_input(key="keep_segments_rule_value_b_share").set_value(5).run()
    assert_clean(at)
    edited = abc_expected(demo_base, 0.50, 0.55)
    assert edited["A"] < default["A"]  # a smaller A share holds fewer customers
    assert (tier_count(at, "A"), tier_count(at, "B")) == (edited["A"], edited["B"])
    in_force = {"zh": "A 类 = 销售额的前 50%，B 类 = 随后的 5%", "en": "tier A = the first 50% of the revenue, tier B the next 5%"}
    assert any(in_force[lang] in c.value for c in at.caption)  # the caption shows the shares in force
    at.button(key="reset_rules").click().run()
    assert_clean(at)
    assert at.number_input(key="keep_segments_rule_value_a_share").value == 80
    assert (tier_count(at, "A"), tier_count(at, "B")) == (default["A"], default["B"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_three_point_scale_gives_a_three_by_three_grid_and_reset_five(demo_base, lang):
    buyers = demo_base.df("SELECT count(DISTINCT customer_id) AS n FROM transactions").iloc[0]["n"]
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    at.selectbox(key="keep_segments_rule_rfm_scale").set_value(3).run()
    assert_clean(at)
    cells = grid_figure(at)["data"][0]
    assert sorted(cells["x"]) == sorted(cells["y"]) == ["1", "2", "3"]
    assert sum(int(text.split("<br>")[1].replace(",", "")) for row in cells["text"] for text in row if text) == buyers
    assert any(("3 档" if lang == "zh" else "3 scores") in c.value for c in at.caption)
    at.button(key="reset_rules").click().run()
    assert_clean(at)
    assert sorted(grid_figure(at)["data"][0]["x"]) == ["1", "2", "3", "4", "5"]


def partners_by_hand(store, as_of, window_days: int, min_projects: int) -> int:
    """Customers with at least min_projects joint projects in the window_days up to as_of (pandas only)."""
    contacts = store.df("SELECT customer_id, interaction_date, kind FROM interactions")
    day = pd.to_datetime(contacts["interaction_date"])
    start = pd.Timestamp(as_of) - pd.Timedelta(days=window_days)
    projects = contacts[(contacts["kind"] == "joint_project") & (day > start) & (day <= pd.Timestamp(as_of))]
    return int((projects.groupby("customer_id").size() >= min_projects).sum())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ladder_thresholds_move_the_relationship_forms(demo_base, lang):
    as_of = demo_base.df("SELECT max(order_date) AS d FROM transactions").iloc[0]["d"]
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    before = bar_counts(at, "partner")
    assert before["partner"] == partners_by_hand(demo_base, as_of, 365, 1)
    at.number_input(key="keep_segments_rule_ladder_partner_min_joint_projects").set_value(2).run()
    assert_clean(at)
    assert bar_counts(at, "partner").get("partner", 0) == partners_by_hand(demo_base, as_of, 365, 2) < before["partner"]
    at.number_input(key="keep_segments_rule_ladder_partner_min_joint_projects").set_value(1).run()
    at.number_input(key="keep_segments_rule_ladder_window_days").set_value(90).run()
    assert_clean(at)
    assert bar_counts(at, "partner").get("partner", 0) == partners_by_hand(demo_base, as_of, 90, 1) < before["partner"]
    at.number_input(key="keep_segments_rule_ladder_window_days").set_value(365).run()
    at.number_input(key="keep_segments_rule_ladder_proactive_min_contacts").set_value(40).run()
    assert_clean(at)
    after = bar_counts(at, "partner")
    assert after.get("proactive", 0) < before["proactive"]  # a higher bar: fewer proactive customers
    assert after["partner"] == before["partner"]  # partners are checked first: untouched
    at.button(key="reset_rules").click().run()
    assert bar_counts(at, "partner") == before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_behaviour_thresholds_move_the_types(demo_base, lang):
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    before = bar_counts(at, "loyal")
    at.number_input(key="keep_segments_rule_behaviour_loyal_min_purchases").set_value(100).run()
    assert_clean(at)
    after = bar_counts(at, "loyal")
    assert after.get("loyal", 0) < before["loyal"]  # more purchase days asked: fewer loyal customers
    assert sum(after.values()) == sum(before.values())  # every buyer still has one type
    at.number_input(key="keep_segments_rule_behaviour_hunter_min_share").set_value(100).run()
    assert bar_counts(at, "loyal").get("discount_hunter", 0) < before["discount_hunter"]
    at.button(key="reset_rules").click().run()
    assert bar_counts(at, "loyal") == before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_customer_pages_reasons_follow_the_edited_thresholds(demo_base, lang):
    top = demo_base.df("SELECT customer_id FROM transactions GROUP BY 1 ORDER BY sum(amount) DESC LIMIT 1").iloc[0, 0]
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["lang"] = lang
    at.session_state["base"] = "demo"
    at.session_state["keep_segments_rule_value_a_share"] = 50
    at.query_params["customer"] = top
    at.run()
    at.switch_page("views/customer.py").run()
    assert_clean(at)
    standing = next(m.value for m in at.markdown if "RFM" in m.value)
    assert ("不到 50%" if lang == "zh" else "less than 50%") in standing  # the biggest customer: tier A below 50 %


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_abc_shares_over_100_percent_are_refused_in_words(demo_base, lang):
    default = abc_expected(demo_base, 0.80, 0.95)
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    at.number_input(key="keep_segments_rule_value_a_share").set_value(90).run()
    at.number_input(key="keep_segments_rule_value_b_share").set_value(20).run()
    assert_clean(at)
    assert [e.value for e in at.error] == [translate("segments_page.abc_too_large", lang)]
    assert tier_count(at, "A") == default["A"]  # the default shares stay in force


def test_resetting_the_thresholds_keeps_an_edited_grid(demo_base):
    at = run_page("views/segments.py", "en", base="demo", timeout=240)
    edited = tuple(("at_risk",) * 5 for _ in range(5))
    at.session_state["keep_segments_grid"] = edited
    at.number_input(key="keep_segments_rule_value_a_share").set_value(50).run()
    at.button(key="reset_rules").click().run()
    assert_clean(at)
    assert set(segment_counts(at, "en")) == {segment_name("at_risk", "en"), segment_name("prospect", "en")}
