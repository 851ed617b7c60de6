"""Alliance recommendations on hand-built accounts: every number below is worked out by hand from the
rows the test writes (crm-concepts.md section 2), never read back from the code under test."""
from datetime import date

import pandas as pd
import pytest

from crm_logic import alliance
from crm_logic.alliance import alliance_table
from crm_logic.store import Store

AS_OF = date(2026, 6, 30)

# Four organisations whose revenue, margin and CLV all rise from A to D: their importance to us is
# their percentile rank among the four, 0.25 / 0.5 / 0.75 / 1.0.
ORGS = {
    #     revenue, margin, clv, p_alive, wallet, power, switching, cost, form, custom, utilisation
    "A": (1000, 300, 100, 0.9, 0.2, 0.5, 0.2, 100, "partner", 0, 0.9),
    "B": (2000, 600, 200, 0.5, 0.3, 0.5, 0.3, 100, "responsible", 0, 0.9),
    "C": (4000, 1200, 400, 0.8, 0.5, 0.55, 0.6, 600, "passive", 4, 0.9),
    "D": (8000, 2400, 800, 0.9, 0.7, 0.5, 0.8, 600, "proactive", 0, 0.9),
}


def write_base(path, orgs=ORGS, accounts=True, interactions=(), extra_tx=()):
    """One order per organisation on 2026-03-01, each in a category of its own (so each bought a
    quarter of our categories)."""
    store = Store(path)
    with store.transaction() as cur:
        for i, (cid, o) in enumerate(orgs.items()):
            cur.execute("INSERT INTO customers (customer_id, name, customer_class) VALUES (?, ?, 'enterprise')",
                        [cid, f"公司{cid}"])
            cur.execute("INSERT INTO transactions (customer_id, order_id, order_date, amount, category, discounted, "
                        "gross_margin) VALUES (?, ?, DATE '2026-03-01', ?, ?, FALSE, ?)", [cid, f"O{cid}", o[0], f"cat{i}", o[1]])
            if accounts:
                cur.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [cid, o[6], o[4], o[5], o[7], o[10], o[9]])
        for row in interactions:
            cur.execute("INSERT INTO interactions VALUES (?, ?, ?, ?, ?)", list(row))
        for row in extra_tx:
            cur.execute("INSERT INTO transactions (customer_id, order_id, order_date, amount, category, discounted, "
                        "gross_margin) VALUES (?, ?, ?, ?, ?, ?, ?)", list(row))
    return store


def frames(orgs=ORGS):
    values = pd.DataFrame({"customer_id": list(orgs), "clv": [o[2] for o in orgs.values()],
                           "p_alive": [o[3] for o in orgs.values()], "margin_rate": 0.3})
    segments = pd.DataFrame({"customer_id": list(orgs), "relationship_form": [o[8] for o in orgs.values()]})
    return values, segments


@pytest.fixture
def table(tmp_path):
    with write_base(tmp_path / "b.duckdb") as store:
        values, segments = frames()
        yield alliance_table(store, values, segments, None, AS_OF).set_index("customer_id")


def test_each_relationship_type_is_recommended_where_its_conditions_hold(table):
    assert table["recommended_relationship_type"].to_dict() == {
        "A": "transactional", "B": "preferred_supplier", "C": "partnership", "D": "strategic_alliance"}
    assert table["importance_to_us"].tolist() == pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_the_move_compares_the_current_type_from_the_form_with_the_recommended_one(table):
    # A partner form (partnership) recommended transactional; B responsible (preferred supplier) stays;
    # C passive (transactional) -> partnership; D proactive (preferred supplier) -> strategic alliance.
    assert table["current_relationship_type"].to_dict() == {
        "A": "partnership", "B": "preferred_supplier", "C": "transactional", "D": "preferred_supplier"}
    assert table["relationship_move"].to_dict() == {"A": "simplify", "B": "keep", "C": "deepen", "D": "deepen"}


def listed(table, customer, kind) -> list[dict]:
    """The conditions alliance.explanations lists for one customer's row under `kind` (held/failed/mode)."""
    lines = alliance.explanations(table.loc[[customer]])
    return lines[lines["listed"] == kind].to_dict("records")


def test_a_partnership_lists_what_held_and_why_it_is_not_an_alliance(table):
    held = {c["condition"]: c["value"] for c in listed(table, "C", "held")}
    assert held == pytest.approx({"matters_to_us": 0.75, "matters_to_them": 0.5, "balanced_power": 0.05,
                                  "mutual_need": 0.8, "high_switching_cost": 0.6, "worth_the_cost": 1200 / 600})
    failed = [(c["condition"], c["value"], c["threshold"]) for c in listed(table, "C", "failed")]
    assert [f[0] for f in failed] == ["matters_to_us", "matters_to_them", "high_switching_cost", "worth_the_cost"]
    assert [v for f in failed for v in f[1:]] == pytest.approx([0.75, 0.8, 0.5, 0.6, 0.6, 0.7, 2.0, 3.0])
    assert listed(table, "D", "failed") == []  # nothing above an alliance


def test_deepen_cases_get_the_first_fitting_alliance_mode(table):
    # D: min(importance to us 1.0, to them 0.7) = 0.7 -> partner; C: 4 custom requests -> customisation.
    assert table["alliance_mode"].to_dict() == {"A": None, "B": None, "C": "customisation", "D": "partner"}
    assert [c["condition"] for c in listed(table, "C", "mode")] == ["custom_requests"]


def test_guide_mode_for_an_account_that_under_uses_what_it_bought(tmp_path):
    orgs = dict(ORGS, C=ORGS["C"][:9] + (0, 0.4))  # no custom requests, uses 40 % of what it bought
    with write_base(tmp_path / "b.duckdb", orgs) as store:
        values, segments = frames(orgs)
        table = alliance_table(store, values, segments, None, AS_OF).set_index("customer_id")
    assert table.at["C", "alliance_mode"] == "guide"
    assert {c["condition"] for c in listed(table, "C", "mode")} == {"low_utilisation", "under_used_categories"}


def test_partner_mode_from_a_joint_project(tmp_path):
    orgs = dict(ORGS, C=ORGS["C"][:9] + (0, 0.9))
    joint = [("C", date(2026, 1, 10), "outbound", "joint_project", None)]
    with write_base(tmp_path / "b.duckdb", orgs, interactions=joint) as store:
        values, segments = frames(orgs)
        table = alliance_table(store, values, segments, None, AS_OF).set_index("customer_id")
    assert table.at["C", "alliance_mode"] == "partner"


@pytest.mark.parametrize("cost, luxurious", [(300.0, False), (300.01, True), (299.99, False)],
                         ids=["cost equal to margin", "one cent more", "one cent less"])
def test_luxurious_means_cost_strictly_above_yearly_margin(tmp_path, cost, luxurious):
    orgs = dict(ORGS, A=ORGS["A"][:7] + (cost,) + ORGS["A"][8:])
    with write_base(tmp_path / "b.duckdb", orgs) as store:
        values, segments = frames(orgs)
        row = alliance_table(store, values, segments, None, AS_OF).set_index("customer_id").loc["A"]
    assert bool(row["luxurious"]) is luxurious
    assert (row["relationship_cost"], row["relationship_value"]) == pytest.approx((cost, 300.0))


def test_bargaining_balance_names_who_depends_on_whom(tmp_path):
    orgs = dict(ORGS, A=ORGS["A"][:5] + (0.8,) + ORGS["A"][6:], B=ORGS["B"][:5] + (0.2,) + ORGS["B"][6:])
    with write_base(tmp_path / "b.duckdb", orgs) as store:
        values, segments = frames(orgs)
        table = alliance_table(store, values, segments, None, AS_OF).set_index("customer_id")
    assert table["balance"].to_dict() == {"A": "we_depend_on_them", "B": "they_depend_on_us", "C": "balanced",
                                          "D": "balanced"}


def test_proxies_stand_in_for_missing_account_attributes(tmp_path):
    """No accounts row: importance to them, power, switching cost and cost all come from the data."""
    orgs = {"X": (1000, 300, 100, 0.9, None, None, None, None, "basic", None, None),
            "Y": (500, 150, 50, 0.9, None, None, None, None, "basic", None, None)}
    extra = [("X", "OX1", date(2024, 7, 5), 5000, "cat1", True, 1500),   # 725 days back, quarter 7
             ("X", "OX2", date(2026, 6, 1), 200, "cat0", True, 60),      # 29 days back, quarter 0
             ("X", "OX3", date(2025, 4, 1), 100, "cat0", False, 30)]     # 455 days back, quarter 5
    contacts = [("X", date(2026, 2, 1), "outbound", "joint_project", None),
                ("X", date(2026, 3, 1), "outbound", "joint_project", None),
                ("X", date(2026, 4, 1), "outbound", "visit", None),
                ("X", date(2025, 1, 1), "outbound", "visit", None)]      # over a year ago: not counted
    with write_base(tmp_path / "b.duckdb", orgs, accounts=False, interactions=contacts, extra_tx=extra) as store:
        values, segments = frames(orgs)
        row = alliance_table(store, values, segments, None, AS_OF).set_index("customer_id").loc["X"]
    tenure = min((AS_OF - date(2024, 7, 5)).days / 365.25 / 3, 1)     # 725 days: 0.6617
    # X bought on 2026-06-01 (quarter 0), 2026-03-01 (121 days, quarter 1), 2025-04-01 (quarter 5),
    # 2024-07-05 (quarter 7): four of eight quarters.
    regularity = 4 / 8
    breadth = 2 / 2                                                    # cat0 and cat1; the base has cat0, cat1
    # big-ticket categories: mean order above the base's mean order (1000+500+5000+200+100)/5 = 1360:
    # cat1 (mean of 500 and 5000 = 2750) is, cat0 (mean of 1000, 200, 100 = 433) is not.
    criticality = 5000 / (1000 + 5000 + 200 + 100)
    dependence = (regularity + tenure + breadth + criticality) / 4
    assert row["importance_source"] == "proxy" and row["wallet_share"] != row["wallet_share"]
    assert row["importance_to_them"] == pytest.approx(dependence)
    assert row["switching_cost"] == pytest.approx((tenure + 2 / 3) / 2)
    assert row["switching_source"] == "proxy"
    # cost to serve: two joint projects (8,000 each) and one visit (1,500) in the last 12 months,
    # plus 15 % of the discounted revenue of the last 12 months (200).
    assert row["relationship_cost"] == pytest.approx(2 * 8000 + 1500 + 0.15 * 200)
    assert row["cost_source"] == "estimate"
    # margin of the last 12 months: 300 (2026-03-01) + 60 (2026-06-01)
    assert row["relationship_value"] == pytest.approx(360) and row["luxurious"]
    # power: 0.5 + (importance to us - importance to them) / 2; X ranks first of two on revenue and
    # margin of the last 12 months (1,200 and 360) and on CLV: importance to us 1.0
    assert row["bargaining_power"] == pytest.approx(0.5 + (1.0 - dependence) / 2)


def test_interaction_costs_are_editable(tmp_path):
    contacts = [("A", date(2026, 4, 1), "outbound", "visit", None)]
    orgs = {"A": (1000, 300, 100, 0.9, None, None, None, None, "basic", None, None)}
    with write_base(tmp_path / "b.duckdb", orgs, accounts=False, interactions=contacts) as store:
        values, segments = frames(orgs)
        cheap = alliance_table(store, values, segments, None, AS_OF, rules={"interaction_cost": {"visit": 250.0}})
    assert cheap.loc[0, "relationship_cost"] == pytest.approx(250.0)


def test_editing_a_threshold_changes_the_recommendation(tmp_path):
    rules = alliance.rules_with(None)
    for c in rules["type_conditions"]:
        if c["type"] == "strategic_alliance" and c["condition"] == "matters_to_us":
            c["value"] = 0.7
        if c["type"] == "strategic_alliance" and c["condition"] in ("matters_to_them", "high_switching_cost"):
            c["value"] = 0.5
        if c["type"] == "strategic_alliance" and c["condition"] == "worth_the_cost":
            c["value"] = 2.0
    with write_base(tmp_path / "b.duckdb") as store:
        values, segments = frames()
        table = alliance_table(store, values, segments, None, AS_OF, rules=rules).set_index("customer_id")
    assert table.at["C", "recommended_relationship_type"] == "strategic_alliance"


def test_portfolio_axes_follow_the_weights_and_name_the_quadrant(table):
    # D: CLV rank 1.0, growth +1 (nothing the year before) -> 1.0, P(alive) 0.9
    assert table.at["D", "attractiveness"] == pytest.approx(0.5 * 1.0 + 0.2 * 1.0 + 0.3 * 0.9)
    # A: CLV rank 0.25, growth 1.0, P(alive) 0.9 -> 0.595; position from dependence, switching 0.2, wallet 0.2
    assert table.at["A", "attractiveness"] == pytest.approx(0.5 * 0.25 + 0.2 + 0.3 * 0.9)
    # A's dependence: bought in 1 of the 2 quarters since its first order (121 days ago), tenure 121 days
    # of 3 years, 1 of 4 categories, nothing big-ticket (cat2 and cat3 have orders above the mean 3,750)
    dependence_a = (1 / 2 + 121 / 365.25 / 3 + 1 / 4 + 0) / 4
    assert table.at["A", "position"] == pytest.approx(0.4 * dependence_a + 0.3 * 0.2 + 0.3 * 0.2)
    assert table.at["D", "quadrant"] == "invest_to_grow"
    assert table.at["A", "quadrant"] == ("invest_to_grow" if table.at["A", "position"] >= 0.5 else "invest_selectively")
    assert alliance.formula({"value": 2, "growth": 1, "p_alive": 1}) == "0.50·value + 0.25·growth + 0.25·p_alive"


def test_the_ladder_counts_moves_and_the_money_of_luxury(tmp_path):
    orgs = dict(ORGS, A=ORGS["A"][:7] + (500,) + ORGS["A"][8:])  # costs 500 for a margin of 300
    with write_base(tmp_path / "b.duckdb", orgs) as store:
        values, segments = frames(orgs)
        steps = alliance.ladder(alliance_table(store, values, segments, None, AS_OF)).set_index("relationship_move")
        assert steps["customers"].to_dict() == {"deepen": 2, "keep": 1, "simplify": 1}
        assert steps.at["deepen", "revenue_12m"] == 12000 and steps.at["simplify", "excess_cost"] == pytest.approx(200)
        moves = alliance.transitions(alliance_table(store, values, segments, None, AS_OF))
    # today -> recommended: A partnership -> transactional, B preferred -> preferred, C transactional ->
    # partnership, D preferred -> strategic alliance
    assert moves.to_numpy().tolist() == [[0, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]]


def test_an_empty_base_gives_an_empty_table(tmp_path):
    with Store(tmp_path / "e.duckdb") as store:
        values = pd.DataFrame(columns=["customer_id", "clv", "p_alive", "margin_rate"])
        table = alliance_table(store, values, None, None, AS_OF)
    assert table.empty and {"recommended_relationship_type", "luxurious", "position"} <= set(table.columns)


def test_a_base_without_accounts_names_the_attributes_that_would_sharpen_it(tmp_path):
    with write_base(tmp_path / "b.duckdb", accounts=False) as store:
        assert alliance.missing_attributes(store) == list(alliance.ACCOUNT_ATTRIBUTES)
    with write_base(tmp_path / "c.duckdb") as store:
        assert alliance.missing_attributes(store) == []


def test_referral_candidates_are_loyal_satisfied_and_recently_contacted(tmp_path):
    people = {"L": (1000, 300, 500, 0.9, None, None, None, None, "basic", None, None),
              "U": (1000, 300, 400, 0.9, None, None, None, None, "basic", None, None),
              "S": (1000, 300, 300, 0.9, None, None, None, None, "basic", None, None),
              "N": (1000, 300, 200, 0.9, None, None, None, None, "basic", None, None)}
    contacts = [("L", date(2026, 6, 1), "outbound", "survey", 5.0),
                ("U", date(2026, 6, 1), "outbound", "survey", 2.0),     # unhappy
                ("S", date(2025, 12, 1), "outbound", "survey", 5.0),    # not contacted for 7 months
                ("N", date(2026, 6, 10), "outbound", "visit", None)]    # no survey, no complaint: satisfied
    with write_base(tmp_path / "b.duckdb", people, accounts=False, interactions=contacts) as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO customers (customer_id, referred_by) VALUES ('R1', 'L'), ('R2', 'L'), ('R3', 'N')")
        values, segments = frames(people)
        values["frequency"] = [4, 4, 4, 0]  # N bought once: not loyal
        table = alliance_table(store, values, segments, None, AS_OF)
        picked = alliance.referral_candidates(table, values, AS_OF)
    assert picked["customer_id"].tolist() == ["L"] and picked.loc[0, "referrals_made"] == 2


def test_cross_industry_candidates_buy_across_our_categories(tmp_path):
    extra = [("D", "OD2", date(2026, 4, 1), 100, "cat0", False, 30), ("D", "OD3", date(2026, 4, 2), 100, "cat1", False, 30),
             ("D", "OD4", date(2026, 4, 3), 100, "cat2", False, 30),
             ("C", "OC2", date(2026, 4, 1), 100, "cat0", False, 30), ("C", "OC3", date(2026, 4, 1), 100, "cat1", False, 30)]
    with write_base(tmp_path / "b.duckdb", extra_tx=extra) as store:
        values, segments = frames()
        picked = alliance.cross_industry_candidates(alliance_table(store, values, segments, None, AS_OF))
    # D bought all four categories; C three (the default asks for four)
    assert picked["customer_id"].tolist() == ["D"] and picked.loc[0, "category_mix"] == "cat0、cat1、cat2、cat3"


def test_without_contact_history_today_is_taken_as_transactional_and_said_so(tmp_path):
    with write_base(tmp_path / "b.duckdb") as store:
        values, _ = frames()
        unknown = pd.DataFrame({"customer_id": list(ORGS), "relationship_form": [None] * 4})
        table = alliance_table(store, values, unknown, None, AS_OF).set_index("customer_id")
    assert set(table["current_relationship_type"]) == {"transactional"} and table["current_assumed"].all()
    # C and D were recommended above transactional: they deepen; A stays
    assert table["relationship_move"].to_dict() == {"A": "keep", "B": "deepen", "C": "deepen", "D": "deepen"}
