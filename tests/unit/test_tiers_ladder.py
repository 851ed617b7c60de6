"""Relationship forms, levels, behavioural types and maturity from a hand-built history in a real base."""
from datetime import date

import pandas as pd
import pytest

from crm_logic.store import Store
from crm_logic.summary import customer_summary
from crm_logic.tiers import LadderRules, SegmentRules, missing_concepts, reasons, segment_table
from crm_logic.i18n import translate

AS_OF = date(2026, 6, 30)

# customer_id: purchase days (amount, discounted)
PURCHASES = {
    "partner": [("2025-10-01", 500, False), ("2026-04-01", 500, False)],
    "proactive": [("2025-07-01", 300, False)],
    "responsible": [("2025-09-01", 200, False), ("2026-01-15", 200, False), ("2026-05-01", 200, False)],
    "resp_edge": [("2026-01-01", 150, False)],
    "late_follow": [("2026-01-01", 150, False)],
    "passive": [("2026-02-01", 100, False), ("2026-03-01", 100, False)],
    "basic": [("2026-03-01", 120, False)],
    "old_partner": [("2025-03-01", 120, False)],
    "lapsed_contacted": [("2024-01-01", 90, False)],
    # behaviour types
    "best1": [(f"{y}-{m:02d}-10", 3600, False) for y, m in [(2024, 8), (2025, 1), (2025, 5), (2025, 9), (2026, 3)]],
    "best2": [(f"{y}-{m:02d}-10", 4000, False) for y, m in [(2024, 6), (2024, 12), (2025, 4), (2025, 9), (2026, 2)]],
    "best3": [(f"{y}-{m:02d}-10", 4400, False) for y, m in [(2024, 1), (2024, 8), (2025, 2), (2025, 8), (2026, 1)]],
    "lookalike": [("2025-09-13", 4000, False), ("2026-05-01", 4000, False)],
    "hunter": [("2026-01-05", 80, True), ("2026-02-05", 80, True), ("2026-03-05", 80, False)],
    "referrer": [("2026-01-05", 60, False), ("2026-04-05", 60, False)],
    "few": [("2025-05-01", 100, False), ("2026-05-01", 100, False)],
}
# customer_id: (date, direction, kind)
CONTACTS = {
    "partner": [("2026-03-01", "outbound", "joint_project")],
    "proactive": [("2025-08-01", "outbound", "visit"), ("2025-10-01", "outbound", "new_product_info"),
                  ("2025-12-01", "outbound", "visit"), ("2026-04-01", "outbound", "club_event")],
    "responsible": [("2025-09-10", "outbound", "follow_up"), ("2026-01-20", "outbound", "follow_up")],
    "resp_edge": [("2026-01-31", "outbound", "follow_up")],          # 30 days after: a follow-up
    "late_follow": [("2026-02-01", "outbound", "follow_up")],        # 31 days after: not one
    "passive": [("2026-02-10", "inbound", "inquiry"), ("2026-03-20", "inbound", "complaint")],
    "old_partner": [("2025-06-01", "outbound", "joint_project")],    # 13 months ago: outside the window
    "lapsed_contacted": [("2026-05-01", "inbound", "inquiry")],
    "prospect_contacted": [("2026-06-01", "outbound", "visit")],
}
PROSPECTS = {"prospect_contacted": "B", "prospect_cold": "D"}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("ladder") / "hand.duckdb")
    lines = pd.DataFrame([(c, pd.Timestamp(d), float(a), bool(disc)) for c, rows in PURCHASES.items() for d, a, disc in rows],
                         columns=["customer_id", "order_date", "amount", "discounted"])
    contacts = pd.DataFrame([(c, pd.Timestamp(d), direction, kind) for c, rows in CONTACTS.items() for d, direction, kind in rows],
                            columns=["customer_id", "interaction_date", "direction", "kind"])
    people = pd.DataFrame({"customer_id": [*PURCHASES, *PROSPECTS]})
    people["prospect_grade"] = people["customer_id"].map(PROSPECTS)
    people["customer_class"] = "enterprise"
    referred = pd.DataFrame({"customer_id": ["friend"], "referred_by": ["referrer"]})
    with store.transaction() as cur:
        cur.register("lines", lines)
        cur.execute("INSERT INTO transactions (customer_id, order_date, amount, discounted) "
                    "SELECT customer_id, order_date, amount, discounted FROM lines")
        cur.register("contacts", contacts)
        cur.execute("INSERT INTO interactions (customer_id, interaction_date, direction, kind) SELECT * FROM contacts")
        cur.register("people", people)
        cur.execute("INSERT INTO customers (customer_id, prospect_grade, customer_class) SELECT * FROM people")
        cur.register("referred", referred)
        cur.execute("INSERT INTO customers (customer_id, referred_by, created_date) "
                    "SELECT customer_id, referred_by, DATE '2026-02-01' FROM referred")
    yield store
    store.close()


def hand_values(store, as_of=AS_OF):
    """customer_values' columns without fitting a model: CLV = revenue, P(alive) = 1."""
    values = customer_summary(store, as_of=as_of, orders=False)
    values["margin_rate"] = 0.3
    values["clv"] = values["revenue"]
    values["p_alive"] = 1.0
    return values


@pytest.fixture(scope="module")
def table(base):
    return segment_table(base, hand_values(base), AS_OF).set_index("customer_id")


@pytest.mark.parametrize("customer, form, level", [
    ("partner", "partner", "level_3_structural"),
    ("proactive", "proactive", "level_2_social"),
    ("responsible", "responsible", "level_2_social"),
    ("resp_edge", "responsible", "level_2_social"),
    ("late_follow", "basic", "level_1_financial"),
    ("passive", "passive", "level_1_financial"),
    ("basic", "basic", "level_1_financial"),
    ("old_partner", "basic", "level_1_financial"),
    ("lapsed_contacted", "passive", "level_1_financial"),
])
def test_every_relationship_form_from_a_hand_built_history(table, customer, form, level):
    assert table.loc[customer, "relationship_form"] == form
    assert table.loc[customer, "relationship_level"] == level


def test_the_counts_behind_the_forms(table):
    assert table.loc["responsible", ["window_purchases", "followed_purchases"]].tolist() == [3, 2]
    assert table.loc["proactive", "proactive_contacts"] == 4
    assert table.loc["late_follow", ["followed_purchases", "proactive_contacts"]].tolist() == [0, 1]
    assert table.loc["passive", "inbound_contacts"] == 2


def test_stricter_thresholds_move_customers_down_the_ladder(base):
    rules = SegmentRules(ladder=LadderRules(proactive_min_contacts=5, responsible_min_share=0.7, follow_up_days=20))
    table = segment_table(base, hand_values(base), AS_OF, rules).set_index("customer_id")
    assert table.loc["proactive", "relationship_form"] == "basic"
    assert table.loc["responsible", "relationship_form"] == "basic"   # 2 of 3 < 70 %
    assert table.loc["resp_edge", "relationship_form"] == "basic"     # 30 days > 20


@pytest.mark.parametrize("customer, kind, rule", [
    ("best1", "loyal", "loyal_frequent"),
    ("hunter", "discount_hunter", "discount_hunter"),
    ("referrer", "loyal", "loyal_referrer"),
    ("lookalike", "target", "target"),
    ("basic", "incidental", "incidental_once"),
    ("few", "incidental", "incidental_no_pattern"),
])
def test_every_behaviour_type_from_a_hand_built_purchase_history(table, customer, kind, rule):
    assert table.loc[customer, "behaviour_type"] == kind
    assert table.loc[customer, "behaviour_rule"] == rule


def test_the_best_customers_are_tier_a_and_the_lookalike_is_close_to_them(table):
    # revenue: best 18,000 / 20,000 / 22,000 of a total of ~70,000 -> A; lookalike 8,000 has ~86 % ahead -> B
    assert set(table.index[table["value_tier"] == "A"]) == {"best1", "best2", "best3"}
    assert table.loc["lookalike", "value_tier"] == "B"
    assert table.loc["hunter", "discount_share"] == pytest.approx(2 / 3)
    assert table.loc["referrer", "referrals"] == 1


def test_maturity_and_prospects(table):
    assert table.loc["basic", "maturity"] == "current"
    assert table.loc["lapsed_contacted", "maturity"] == "target"
    assert table.loc["prospect_contacted", "maturity"] == "target"
    assert table.loc["prospect_cold", "maturity"] == "potential"
    prospects = table[table["rfm_segment"] == "prospect"]
    assert set(prospects.index) == {"prospect_contacted", "prospect_cold", "friend"}
    assert prospects["relationship_form"].isna().all() and prospects["behaviour_type"].isna().all()
    assert prospects.loc["prospect_contacted", "prospect_grade"] == "B"


def test_at_an_earlier_date_later_customers_are_prospects_or_not_yet_known(base):
    table = segment_table(base, hand_values(base, date(2026, 1, 31)), date(2026, 1, 31)).set_index("customer_id")
    assert "friend" not in table.index                               # created 2026-02-01
    assert table.loc["passive", "rfm_segment"] == "prospect"         # no creation date: known, first buys in February
    assert table.loc["hunter", "purchases"] == 1


def test_reasons_turn_into_words_in_both_languages(table):
    row = table.reset_index().set_index("customer_id", drop=False).loc["responsible"].to_dict()
    found = dict(reasons(row))
    assert found["segments.reason.form.responsible"]["followed"] == 2
    en = translate("segments.reason.form.responsible", "en", **found["segments.reason.form.responsible"])
    assert "2 of 3 purchases" in en and "67%" in en and "responsible" in en
    zh = translate("segments.reason.form.basic", "zh", **dict(reasons(
        table.reset_index().set_index("customer_id", drop=False).loc["basic"].to_dict()))["segments.reason.form.basic"])
    assert "12 个月" in zh and "基本型" in zh


def test_a_base_without_interactions_has_no_forms_and_says_what_would_unlock_them(tmp_path):
    with Store(tmp_path / "plain.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO transactions (customer_id, order_date, amount) VALUES "
                        "('a', DATE '2026-01-01', 10), ('a', DATE '2026-02-01', 20), ('b', DATE '2026-03-01', 5)")
        table = segment_table(store, hand_values(store), AS_OF)
        assert table["relationship_form"].isna().all() and table["relationship_level"].isna().all()
        assert table["rfm_segment"].notna().all() and len(table) == 2
        missing = {m["concept"]: m["columns"] for m in missing_concepts(store)}
    assert "interactions.direction" in missing["relationship_form"]
    assert missing["customer_class"] == ["customers.customer_class"]
    assert missing["discount_hunter"] == ["transactions.discounted"]


def test_a_base_with_prospects_only_gives_prospects_and_empty_breakdowns(tmp_path):
    from crm_logic.tiers import grid_counts, segment_migration

    with Store(tmp_path / "new.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO customers (customer_id, prospect_grade) VALUES ('p1', 'A'), ('p2', NULL)")
        table = segment_table(store, hand_values(store), AS_OF)
        assert list(table["rfm_segment"]) == ["prospect", "prospect"]
        assert table["value_tier"].isna().all() and list(table["maturity"]) == ["potential", "potential"]
        assert grid_counts(table)["customers"].sum() == 0
        flows = segment_migration(store, AS_OF).flows
    assert flows[["from_segment", "to_segment", "customers"]].values.tolist() == [["prospect", "prospect", 2]]
