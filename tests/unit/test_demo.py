"""The demo company: deterministic, and every concept the product computes occurs in it.

The checks are plain SQL on the tables, independent of the generator's own bookkeeping.
"""
from datetime import date

import pytest

from crm_logic.demo import build_demo
from crm_logic.store import CUSTOMER_CLASSES, Store

END = date(2026, 6, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    build_demo(store, customers=1500, seed=3)
    yield store
    store.close()


def content(store):
    return store.one("""SELECT (SELECT count(*) FROM customers), (SELECT sum(hash(customer_id, name, region)) FROM customers),
                               count(*), sum(amount), sum(hash(customer_id, order_id, order_date)),
                               (SELECT sum(hash(customer_id, interaction_date, kind)) FROM interactions),
                               (SELECT sum(relationship_cost) FROM accounts)
                        FROM transactions""")


def test_the_same_seed_builds_the_same_base(tmp_path, demo):
    again = Store(tmp_path / "again.duckdb")
    build_demo(again, customers=1500, seed=3)
    assert content(again) == content(demo)
    build_demo(again, customers=1500, seed=4)
    assert content(again) != content(demo)


def test_every_customer_class_buys(demo):
    classes = dict(demo.df("""SELECT c.customer_class, count(DISTINCT t.customer_id) AS n
                              FROM transactions t JOIN customers c USING (customer_id) GROUP BY 1""").values)
    assert set(classes) == set(CUSTOMER_CLASSES) and min(classes.values()) > 10


def test_orders_stay_in_three_years_with_returns_discounts_and_margins(demo):
    first, last, returns, discounted, no_margin = demo.one(
        """SELECT min(order_date), max(order_date), count(*) FILTER (WHERE amount < 0),
                  avg(discounted::INT), count(*) FILTER (WHERE gross_margin IS NULL) FROM transactions""")
    assert last <= END and (END - first).days > 3 * 365 - 20
    assert returns > 0 and 0.05 < discounted < 0.5 and no_margin == 0
    assert demo.scalar("SELECT count(*) FROM transactions WHERE amount < 0 AND gross_margin > 0") == 0


def test_each_relationship_form_shows_in_the_interactions(demo):
    # basic: bought, no contact at all
    basic = demo.scalar("""SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM transactions t WHERE t.customer_id = c.customer_id)
                           AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.customer_id)""")
    # passive: only customer-initiated contacts
    passive = demo.scalar("""SELECT count(*) FROM (SELECT customer_id FROM interactions GROUP BY 1
                             HAVING bool_and(direction = 'inbound'))""")
    # responsible: a follow-up within 30 days after a purchase
    responsible = demo.scalar("""SELECT count(DISTINCT i.customer_id) FROM interactions i JOIN transactions t
                                 ON i.customer_id = t.customer_id AND i.kind = 'follow_up'
                                 AND i.interaction_date BETWEEN t.order_date AND t.order_date + 30""")
    # proactive: at least 4 outbound contacts a year not tied to a purchase
    proactive = demo.scalar("""SELECT count(*) FROM (SELECT customer_id, count(*) AS n FROM interactions
                               WHERE direction = 'outbound' AND kind IN ('new_product_info', 'visit')
                               AND interaction_date > DATE '2025-06-30' GROUP BY 1) WHERE n >= 4""")
    partner = demo.scalar("""SELECT count(DISTINCT customer_id) FROM interactions
                             WHERE kind = 'joint_project' AND interaction_date > DATE '2025-06-30'""")
    assert min(basic, passive, responsible, proactive, partner) > 5


def test_club_members_referrals_prospects_and_surveys(demo):
    assert demo.scalar("SELECT count(*) FROM customers WHERE club_member") > 50
    assert demo.scalar("""SELECT count(*) FROM customers c JOIN customers r ON c.referred_by = r.customer_id
                          WHERE r.created_date <= c.created_date""") > 20
    assert demo.scalar("SELECT count(*) FROM customers WHERE referred_by IS NOT NULL AND referred_by NOT IN "
                       "(SELECT customer_id FROM customers)") == 0
    grades = demo.df("""SELECT prospect_grade, count(*) FROM customers c WHERE NOT EXISTS
                        (SELECT 1 FROM transactions t WHERE t.customer_id = c.customer_id) GROUP BY 1""")
    assert set(grades.prospect_grade) == set("ABCD")
    assert demo.scalar("SELECT min(satisfaction) >= 1 AND max(satisfaction) <= 5 FROM interactions WHERE kind = 'survey'")


def test_some_accounts_are_luxurious_and_some_worth_an_alliance(demo):
    yearly_margin = """(SELECT customer_id, sum(gross_margin) AS margin FROM transactions
                        WHERE order_date > DATE '2025-06-30' GROUP BY 1)"""
    luxurious = demo.scalar(f"""SELECT count(*) FROM accounts a LEFT JOIN {yearly_margin} m USING (customer_id)
                                WHERE a.relationship_cost > coalesce(m.margin, 0)""")
    alliance = demo.scalar(f"""SELECT count(*) FROM accounts a JOIN {yearly_margin} m USING (customer_id)
                               WHERE m.margin > 3 * a.relationship_cost AND a.switching_cost > 0.6
                               AND a.bargaining_power BETWEEN 0.35 AND 0.65""")
    accounts = demo.scalar("SELECT count(*) FROM accounts")
    assert 0.05 < luxurious / accounts < 0.25 and alliance > 3  # a minority luxurious (about one in eight)
    assert demo.scalar("""SELECT count(*) FROM accounts a JOIN customers c USING (customer_id)
                          WHERE c.customer_class NOT IN ('enterprise', 'intermediary', 'dealer')""") == 0


def test_customers_buy_again_and_silently_leave(demo):
    repeat_share = demo.scalar("""SELECT avg((days >= 2)::INT) FROM (SELECT customer_id, count(DISTINCT order_date) AS days
                                  FROM transactions WHERE amount > 0 GROUP BY 1)""")
    assert 0.3 < repeat_share < 0.8
    # Drop-out: among customers acquired in the first year, many have been silent for over a year.
    silent = demo.scalar("""SELECT avg((last < DATE '2025-06-30')::INT) FROM (
                              SELECT c.customer_id, max(t.order_date) AS last FROM customers c JOIN transactions t USING (customer_id)
                              WHERE c.created_date < DATE '2024-06-30' GROUP BY 1)""")
    assert 0.2 < silent < 0.9


def test_the_clv_models_fit_the_demo(demo):
    """The demo exists to be valued: BG/NBD and Gamma-Gamma (q > 1) must fit it."""
    from crm_logic import scores

    facts = scores.customer_facts(demo, scores.ScoreSettings(model="bg_nbd"))
    info = scores.facts_info(facts)
    assert info["spend_error"] is None and info["spend_params"]["q"] > 1
    assert scores.customer_values(facts, scores.ScoreSettings(model="bg_nbd")).clv.sum() > 0
