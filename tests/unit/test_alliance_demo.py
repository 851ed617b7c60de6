"""The demo tells the alliance story: every relationship type is recommended somewhere, each alliance
mode occurs, and about one account in eight is luxurious — checked against the raw tables in SQL."""
import pytest

from crm_logic import scores
from crm_logic.alliance import MODES, TYPES, alliance_table
from crm_logic.demo import build_demo
from crm_logic.store import Store
from crm_logic.tiers import segment_table


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    build_demo(store)  # the demo the app opens on
    settings = scores.ScoreSettings()
    facts = scores.customer_facts(store, settings)
    values = scores.customer_values(facts, settings)
    table = alliance_table(store, values, segment_table(store, values, facts.as_of), None, facts.as_of)
    yield store, table
    store.close()


def test_every_recommended_type_and_alliance_mode_occurs(demo):
    _, table = demo
    organisations = table[table["organisation"]]
    counts = organisations["recommended_relationship_type"].value_counts()
    assert set(counts.index) == set(TYPES)
    assert 3 <= counts["strategic_alliance"] <= 60 and 3 <= counts["partnership"] <= 120  # a handful, not a crowd
    assert set(organisations["alliance_mode"].dropna()) == set(MODES)


def test_luxurious_accounts_are_a_minority_whose_cost_exceeds_their_yearly_margin(demo):
    store, table = demo
    raw = store.df("""
        SELECT a.customer_id, a.relationship_cost::DOUBLE AS cost, coalesce(m.margin, 0) AS margin
        FROM accounts a LEFT JOIN (
            SELECT customer_id, sum(gross_margin)::DOUBLE AS margin FROM transactions
            WHERE order_date > (SELECT max(order_date) FROM transactions) - INTERVAL 365 DAY GROUP BY 1) m USING (customer_id)
        WHERE a.customer_id IN (SELECT customer_id FROM transactions)""")
    luxurious_raw = set(raw.loc[raw["cost"] > raw["margin"], "customer_id"])
    assert 0.05 <= len(luxurious_raw) / len(raw) <= 0.25
    flagged = set(table.loc[table["luxurious"] & table["customer_id"].isin(raw["customer_id"]), "customer_id"])
    assert flagged == luxurious_raw
