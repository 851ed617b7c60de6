"""Properties the material's rules imply, on random accounts: more cost never makes a luxurious
relationship less luxurious; a higher switching cost never lowers the recommended type."""
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_logic.alliance import TYPES, alliance_table
from crm_logic.store import Store

AS_OF = date(2026, 6, 30)
IDS = [f"K{i}" for i in range(6)]
unit = st.floats(0, 1, allow_nan=False)
account = st.tuples(unit, unit, unit, st.floats(0, 20_000, allow_nan=False), unit, st.integers(0, 8))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("p") / "p.duckdb")
    with store.transaction() as cur:
        for i, cid in enumerate(IDS):
            cur.execute("INSERT INTO customers (customer_id, customer_class) VALUES (?, 'dealer')", [cid])
            for k in range(i + 1):
                cur.execute("INSERT INTO transactions (customer_id, order_date, amount, category, discounted, gross_margin) "
                            "VALUES (?, DATE '2026-06-01' - ?::INTEGER * 70, ?, ?, FALSE, ?)",
                            [cid, k, 1000 * (i + 1), f"cat{k % 3}", 300 * (i + 1)])
    yield store
    store.close()


def frames():
    values = pd.DataFrame({"customer_id": IDS, "clv": [500, 100, 900, 300, 700, 200],
                           "p_alive": [0.9, 0.4, 0.8, 0.7, 0.95, 0.2], "margin_rate": 0.3})
    segments = pd.DataFrame({"customer_id": IDS, "relationship_form": ["basic", "passive", "responsible",
                                                                       "proactive", "partner", "basic"]})
    return values, segments


def table_for(store, accounts):
    with store.transaction() as cur:
        cur.execute("DELETE FROM accounts")
        for cid, (switching, wallet, power, cost, util, custom) in zip(IDS, accounts):
            cur.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)", [cid, switching, wallet, power, round(cost, 2), util, custom])
    values, segments = frames()
    return alliance_table(store, values, segments, None, AS_OF).set_index("customer_id")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(accounts=st.lists(account, min_size=len(IDS), max_size=len(IDS)), extra=st.floats(0.01, 50_000, allow_nan=False))
def test_raising_relationship_cost_never_ends_a_luxurious_relationship(store, accounts, extra):
    before = table_for(store, accounts)
    after = table_for(store, [a[:3] + (a[3] + extra,) + a[4:] for a in accounts])
    assert not (before["luxurious"] & ~after["luxurious"]).any()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(accounts=st.lists(account, min_size=len(IDS), max_size=len(IDS)), raise_by=st.floats(0.01, 1, allow_nan=False))
def test_raising_switching_cost_never_lowers_the_recommended_type(store, accounts, raise_by):
    rank = {t: i for i, t in enumerate(TYPES)}
    before = table_for(store, accounts)["recommended_relationship_type"].map(rank)
    after = table_for(store, [(min(a[0] + raise_by, 1.0),) + a[1:] for a in accounts])["recommended_relationship_type"].map(rank)
    assert (after >= before).all()
