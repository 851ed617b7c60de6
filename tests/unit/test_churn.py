"""Churn signals on hand-built histories: rhythm, lateness, lifecycle states, relationship stages, new
alerts, the cohort table, and the evaluation's measures on examples worked by hand."""
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crm_logic import churn
from crm_logic.store import Store
from crm_logic.summary import customer_summary

AS_OF = date(2024, 12, 31)
FILLERS = 30  # customers buying every 14 days: the base's typical gap is 14 days


def filler_lines() -> list[tuple]:
    days = pd.date_range("2024-07-01", "2024-12-30", freq="14D")
    return [(f"f{i:02d}", d.date(), 10.0) for i in range(FILLERS) for d in days]


HAND = [
    # own rhythm: purchase days 10-01, 10-11 (two lines), 10-31, 11-30: gaps 10, 20, 30 -> 20 days;
    # 31 days since the last purchase -> lateness 1.55: dormant
    ("own", date(2024, 10, 1), 100.0), ("own", date(2024, 10, 11), 30.0), ("own", date(2024, 10, 11), 20.0),
    ("own", date(2024, 10, 31), 60.0), ("own", date(2024, 11, 30), 80.0),
    # gaps 20, 20 -> 20 days; last purchase 10-22: 70 days -> lateness 3.5: drifting
    ("drift", date(2024, 9, 12), 50.0), ("drift", date(2024, 10, 2), 50.0), ("drift", date(2024, 10, 22), 40.0),
    # one purchase long ago: the base's 14 days; 213 days -> lateness 15.2: lost
    ("one_old", date(2024, 6, 1), 70.0),
    # one purchase 30 days ago: new
    ("one_new", date(2024, 12, 1), 70.0),
    # two purchases, one gap: not enough for a rhythm of its own -> 14 days; 16 days -> lateness 1.14: active
    ("two", date(2024, 12, 1), 20.0), ("two", date(2024, 12, 15), 25.0),
    # two lines on one day are one purchase day: new
    ("same_day", date(2024, 12, 20), 15.0), ("same_day", date(2024, 12, 20), 5.0),
]


@pytest.fixture
def hand_base(tmp_path):
    store = Store(tmp_path / "hand.duckdb")
    lines = pd.DataFrame(HAND + filler_lines(), columns=["customer_id", "order_date", "amount"])
    with store.transaction() as cur:
        cur.register("lines", lines)
        cur.execute("INSERT INTO transactions (customer_id, order_date, amount) SELECT * FROM lines")
        cur.execute("INSERT INTO customers (customer_id) SELECT DISTINCT customer_id FROM lines")
        cur.execute("INSERT INTO customers (customer_id) VALUES ('prospect')")
        cur.execute("INSERT INTO customers (customer_id, created_date) VALUES ('later', DATE '2025-02-01')")
        cur.execute("INSERT INTO interactions VALUES ('own', DATE '2024-05-01', 'outbound', 'visit', NULL), "
                    "('own', DATE '2024-05-20', 'outbound', 'visit', NULL), "
                    "('own', DATE '2024-12-02', 'inbound', 'inquiry', NULL)")
    yield store
    store.close()


def hand_signals(store, rules=None, as_of=AS_OF):
    rules = churn.rules_with(rules)
    summary = customer_summary(store, as_of=as_of, unit="week", orders=False)
    history = churn.buyer_history(store, summary["customer_id"], as_of, rules["trend_months"])
    frame = churn.signals(summary, None, "week", history, as_of, rules, 90)
    return frame.set_index("customer_id")


def test_rhythm_is_the_customers_own_median_gap_from_three_purchase_days(hand_base):
    frame = hand_signals(hand_base)
    expected = {  # customer: (purchase days, typical gap, source, days since last)
        "own": (4, 20.0, "own", 31), "drift": (3, 20.0, "own", 70), "one_old": (1, 14.0, "base", 213),
        "one_new": (1, 14.0, "base", 30), "two": (2, 14.0, "base", 16), "same_day": (1, 14.0, "base", 11),
    }
    for customer, (days, gap, source, since) in expected.items():
        row = frame.loc[customer]
        assert (row.purchase_days, row.typical_gap_days, row.gap_source, row.days_since_last) == (days, gap, source, since)
        assert row.lateness == pytest.approx(since / gap)
    assert frame.loc["own", "next_purchase_date"] == np.datetime64("2024-12-20")


def test_alert_fires_at_the_chosen_multiple_or_after_the_fixed_days(hand_base):
    frame = hand_signals(hand_base)
    at_15 = set(frame.index[churn.alerted(frame, "lateness", churn.rules_with(None))]) - {f"f{i:02d}" for i in range(FILLERS)}
    assert at_15 == {"own", "drift", "one_old", "one_new"}  # lateness 1.55, 3.5, 15.2, 2.14
    at_3 = set(frame.index[churn.alerted(frame, "lateness", churn.rules_with({"alert_multiple": 3.0}))])
    assert at_3 == {"drift", "one_old"}
    fixed = set(frame.index[churn.alerted(frame, "recency", churn.rules_with({"fixed_days": 70}))])
    assert fixed == {"drift", "one_old"}  # 70 and 213 days; 'own' at 31 days is not late by the fixed rule


def test_lifecycle_states_follow_the_default_thresholds(hand_base):
    frame = hand_signals(hand_base).assign(p_alive=0.5)
    states = dict(zip(frame.index, churn.lifecycle_states(frame, churn.rules_with(None))))
    assert {c: states[c] for c in ("own", "drift", "one_old", "one_new", "two", "same_day", "f00")} == {
        "own": "dormant", "drift": "drifting", "one_old": "lost", "one_new": "new", "two": "active",
        "same_day": "new", "f00": "active",
    }


def test_a_low_p_alive_makes_a_customer_lost_whatever_their_lateness():
    frame = pd.DataFrame({"lateness": [0.5, 0.5], "p_alive": [0.05, 0.5], "tenure_days": [400, 400],
                          "purchase_days": [5, 5]})
    assert list(churn.lifecycle_states(frame, churn.rules_with(None))) == ["lost", "active"]


def test_thresholds_are_data_the_caller_can_change(hand_base):
    frame = hand_signals(hand_base).assign(p_alive=0.5)
    states = dict(zip(frame.index, churn.lifecycle_states(frame, churn.rules_with({"active_below": 2.0}))))
    assert states["own"] == "active"  # lateness 1.55
    with pytest.raises(ValueError):
        churn.rules_with({"active_bellow": 2.0})


def test_relationship_stages_from_tenure_spend_and_contact():
    # spend in the last 6 months against the 6 before; contacts likewise
    frame = pd.DataFrame({
        "tenure_days":     [100, 900, 900, 900, 500, 900, 900],
        "spend_recent":    [50, 40, 100, 0, 100, 100, 130],
        "spend_prior":     [0, 100, 100, 0, 100, 100, 100],
        "contacts_recent": [0, 0, 0, 0, 0, 1, 0],
        "contacts_prior":  [0, 0, 0, 0, 0, 4, 0],
    })
    assert list(churn.relationship_stages(frame, churn.rules_with(None))) == [
        "exploration", "decline", "stability", "decline", "formation", "decline", "formation"]


def test_risk_bands_on_the_churn_probability():
    bands = churn.risk_bands(pd.Series([0.2, 0.5, 0.79, 0.8, np.nan]), churn.rules_with(None))
    assert list(bands) == ["low", "medium", "medium", "high", None]


def test_history_counts_revenue_spend_trend_and_contacts_up_to_the_date(hand_base):
    ids = pd.Series(["one_old", "nobody", "own"])
    history = churn.buyer_history(hand_base, ids, AS_OF, 6).set_axis(ids)
    own = history.loc["own"]
    # every 'own' purchase is within 12 months; the last 6 months start 2024-07-01
    assert own.revenue_12m == 290 and own.spend_recent == 290 and own.spend_prior == 0
    assert (own.contacts_recent, own.contacts_prior) == (1, 2)
    assert own.last_contact.date() == date(2024, 12, 2)
    assert history.loc["one_old", "spend_prior"] == 70 and history.loc["one_old", "revenue_12m"] == 70
    assert history.loc["own", "median_gap"] == 20 and np.isnan(history.loc["one_old", "median_gap"])
    assert history.loc["nobody"].isna()["median_gap"] and history.loc["nobody", "revenue_12m"] == 0


def test_prospects_are_the_customers_known_by_the_date_who_never_bought(hand_base):
    assert list(churn.prospects(hand_base, AS_OF)) == ["prospect"]


def test_new_alerts_are_the_ones_not_firing_on_the_earlier_date(hand_base):
    rules = churn.rules_with({"alert_rule": "lateness"})
    table = hand_signals(hand_base).reset_index()
    table["churn_alert"] = churn.alerted(table, "lateness", rules)
    table["alert_signal"] = "lateness"
    facts = SimpleNamespace(as_of=AS_OF, unit="week", model=None,
                            summary=customer_summary(hand_base, as_of=AS_OF, orders=False))
    # On 12-20 'own' was 20 days past 11-30 (lateness 1.0), 'one_new' 19 days past 12-01 (1.36):
    # both fire only later. 'drift' (59 days, 2.95) and 'one_old' already fired.
    fresh = churn.new_alerts(facts, table, date(2024, 12, 20), rules)
    assert set(fresh["customer_id"]) == {"own", "one_new"}


def test_cohort_retention_on_a_small_example(tmp_path):
    lines = pd.DataFrame([
        ("a", date(2024, 1, 5), 100.0), ("a", date(2024, 2, 10), 50.0), ("a", date(2024, 4, 1), 30.0),
        ("b", date(2024, 1, 20), 40.0), ("b", date(2024, 1, 20), 60.0),
        ("c", date(2024, 2, 3), 70.0), ("c", date(2024, 3, 15), 35.0),
    ], columns=["customer_id", "order_date", "amount"])
    with Store(tmp_path / "cohort.duckdb") as store:
        with store.transaction() as cur:
            cur.register("lines", lines)
            cur.execute("INSERT INTO transactions (customer_id, order_date, amount) SELECT * FROM lines")
        table = churn.cohort_retention(store, date(2024, 4, 30))
    got = [(r.cohort.strftime("%Y-%m-%d"), r.month_index, r.customers, r.on, r.on_or_after, round(r.revenue_share, 4))
           for r in table.itertuples()]
    assert got == [
        ("2024-01-01", 0, 2, 2, 2, 1.0), ("2024-01-01", 1, 2, 1, 1, 0.25), ("2024-01-01", 2, 2, 0, 1, 0.0),
        ("2024-01-01", 3, 2, 1, 1, 0.15),
        ("2024-02-01", 0, 1, 1, 1, 1.0), ("2024-02-01", 1, 1, 1, 1, 0.5), ("2024-02-01", 2, 1, 0, 0, 0.0),
    ]
    assert table["on_share"].iloc[1] == 0.5


def test_roc_auc_of_a_textbook_example_and_of_ties():
    assert churn.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    # one churner against two stayers: tied with one (half), above the other
    assert churn.roc_auc([1, 1, 0], [1, 0, 0]) == pytest.approx(0.75)


def test_lift_by_decile_puts_the_riskiest_tenth_first():
    score = np.arange(20)[::-1]           # customer 0 is the riskiest
    churned = np.r_[np.ones(4, bool), np.zeros(16, bool)]  # the four riskiest left: base rate 0.2
    lift = churn.lift_by_decile(score, churned)
    assert list(lift["customers"]) == [2] * 10
    assert list(lift["lift"]) == [5.0, 5.0] + [0.0] * 8


def test_survival_curve_by_kaplan_meier_by_hand():
    table = pd.DataFrame({
        "lifecycle_state": ["lost", "active", "lost", "prospect"],
        "tenure_days": [100, 50, 200, np.nan], "days_since_last": [90, 5, 100, np.nan],
        "churn_alert": [True, False, True, False],
    })
    # ended at 10 and 100 days; the active customer is censored at 50: S(10) = 2/3, S(50) = 2/3, S(100) = 0
    curve = churn.survival_curve(table)
    assert list(curve["days"]) == [10, 50, 100]
    assert list(curve["surviving"]) == pytest.approx([2 / 3, 2 / 3, 0.0])
