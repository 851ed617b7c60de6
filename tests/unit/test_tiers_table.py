"""segment_table on the demo and CDNOW bases, migration between two dates, breakdowns, and `score` through
the command line."""
import json
import subprocess
import sys
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from crm_logic.demo import build_demo
from crm_logic.scores import ScoreSettings, customer_facts, customer_values
from crm_logic.store import Store
from crm_logic.tiers import (
    ABSENT, BEHAVIOURS, FORMS, LEVELS, MATURITIES, PROSPECT, QUADRANTS, SCORE_COLUMNS, SEGMENTS, TIERS, UNKNOWN,
    RfmRules, SegmentRules, breakdown, category_breakdown, flow_customers, grid_counts, group_customers,
    missing_concepts, segment_migration, segment_table,
)
from tests.conftest import REPO
from tests.unit.cdnow_fixture import cdnow_base

CODES = {"rfm_segment": {*SEGMENTS, PROSPECT}, "value_tier": set(TIERS), "core_quadrant": set(QUADRANTS),
         "relationship_form": set(FORMS), "relationship_level": set(LEVELS), "behaviour_type": set(BEHAVIOURS),
         "maturity": set(MATURITIES)}


@lru_cache(maxsize=None)
def values_of(store, as_of=None):
    """customer_values with BG/NBD (cached per base and date: fitting is the slow part; never mutated)."""
    settings = ScoreSettings(as_of=as_of, model="bg_nbd")
    facts = customer_facts(store, settings)
    return customer_values(facts, settings), facts.as_of


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    build_demo(store, customers=1500, seed=3)
    yield store
    store.close()


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    store = cdnow_base(tmp_path_factory.mktemp("cdnow") / "cdnow.duckdb")
    yield store
    store.close()


@pytest.mark.parametrize("base", ["demo", "cdnow"])
def test_segment_table_covers_every_customer_with_known_codes(base, request):
    store = request.getfixturevalue(base)
    values, as_of = values_of(store)
    table = segment_table(store, values, as_of)
    known = store.scalar("SELECT count(*) FROM (SELECT customer_id FROM customers UNION SELECT customer_id FROM transactions)")
    assert len(table) == known and table["customer_id"].is_unique
    prospects = sorted(set(table["customer_id"]) - set(values["customer_id"]))
    assert list(table["customer_id"]) == list(values["customer_id"]) + prospects  # buyers in order, then prospects
    buyers = table[table["customer_id"].isin(values["customer_id"])]
    assert len(buyers) == len(values)
    for column, codes in CODES.items():
        present = set(table[column].dropna())
        assert present <= codes, (column, present - codes)
    for column in ("rfm_segment", "value_tier", "core_quadrant", "behaviour_type", "rfm_score"):
        assert buyers[column].notna().all(), column
    assert (table.loc[~table["customer_id"].isin(values["customer_id"]), "rfm_segment"] == PROSPECT).all()
    # rfm_score is the three scores, and the segment is the default grid's cell
    assert (buyers["rfm_score"] == buyers["r_score"].astype(str) + buyers["f_score"].astype(str)
            + buyers["m_score"].astype(str)).all()


def test_demo_reaches_every_form_level_type_and_segment(demo):
    values, as_of = values_of(demo)
    table = segment_table(demo, values, as_of)
    for column, codes in CODES.items():
        assert set(table[column].dropna()) == codes, column


def test_cdnow_has_no_relationship_data_and_says_so(cdnow):
    values, as_of = values_of(cdnow)
    table = segment_table(cdnow, values, as_of)
    assert table["relationship_form"].isna().all()
    assert {"relationship_form", "customer_class", "discount_hunter"} <= {m["concept"] for m in missing_concepts(cdnow)}


def test_value_tiers_match_an_independent_pandas_abc(cdnow):
    values, as_of = values_of(cdnow)
    table = segment_table(cdnow, values, as_of).set_index("customer_id")
    revenue = values.set_index("customer_id")["revenue"]
    ahead = revenue.apply(lambda v: revenue[revenue > v].clip(lower=0).sum()) / revenue.clip(lower=0).sum()
    expected = np.where(revenue <= 0, "C", np.where(ahead < 0.8, "A", np.where(ahead < 0.95, "B", "C")))
    assert (table.loc[revenue.index, "value_tier"].to_numpy() == expected).all()


def test_breakdowns_add_up_and_lead_to_their_customers(demo):
    values, as_of = values_of(demo)
    table = segment_table(demo, values, as_of)
    by_segment = breakdown(table, "rfm_segment")
    assert by_segment["customers"].sum() == len(table)
    assert by_segment["revenue"].sum() == pytest.approx(values["revenue"].sum())
    champions = group_customers(table, "rfm_segment", "champions")
    assert len(champions) == by_segment.set_index("rfm_segment").loc["champions", "customers"]
    by_industry = breakdown(table, "industry")
    assert UNKNOWN in set(by_industry["industry"])  # consumers have no industry
    assert len(group_customers(table, "industry", UNKNOWN)) == table["industry"].isna().sum()
    cells = grid_counts(table)
    assert len(cells) == 25 and cells["customers"].sum() == len(values)
    assert cells.groupby("segment")["customers"].sum().to_dict() == \
        table["rfm_segment"].value_counts().drop(PROSPECT).to_dict()
    categories = category_breakdown(demo, table, as_of, by="value_tier")
    lines = demo.df("SELECT category, sum(amount)::DOUBLE AS revenue FROM transactions GROUP BY category")
    assert categories.groupby("category")["revenue"].sum().sort_index().to_numpy() == \
        pytest.approx(lines.set_index("category")["revenue"].sort_index().to_numpy())


def test_editing_the_grid_moves_the_counts(demo):
    values, as_of = values_of(demo)
    before = segment_table(demo, values, as_of)
    grid = [list(row) for row in RfmRules().segment_grid()]
    grid[1][0] = "new_customers"   # R4 × F1: promising -> new customers
    after = segment_table(demo, values, as_of, SegmentRules(rfm=RfmRules(grid=tuple(map(tuple, grid)))))
    moved = ((before["r_score"] == 4) & (before["f_score"] == 1)).sum()
    assert moved > 0
    assert (after["rfm_segment"] == "new_customers").sum() == (before["rfm_segment"] == "new_customers").sum() + moved
    assert "promising" not in set(after["rfm_segment"])


def hand_migration_base(path):
    store = Store(path)
    lines = [("X", "2026-03-20", 10), ("X", "2026-03-25", 10), ("X", "2026-03-30", 10), ("X", "2026-03-31", 10),
             ("Y", "2026-06-29", 70), ("Z", "2026-06-01", 30), ("W", "2025-01-01", 5)]
    people = [("X", None), ("Y", "2026-01-01"), ("Z", "2026-05-01"), ("W", None), ("V", "2026-02-01")]
    with store.transaction() as cur:
        cur.executemany("INSERT INTO transactions (customer_id, order_date, amount) VALUES (?, ?::DATE, ?)", lines)
        cur.executemany("INSERT INTO customers (customer_id, created_date) VALUES (?, ?::DATE)", people)
    return store


def test_migration_between_two_dates_on_hand_scores(tmp_path):
    rules = SegmentRules(rfm=RfmRules(cutoffs=(("recency", (30, 60, 90, 120)), ("frequency", (2, 3, 4, 5)))))
    with hand_migration_base(tmp_path / "m.duckdb") as store:
        migration = segment_migration(store, date(2026, 6, 30), date(2026, 3, 31), rules)
    # X: on 03-31 bought that day, 4 days -> R5 F4 champions; on 06-30 91 days -> R2 F4 at risk.
    # Y: known since January, first purchase 06-29 -> R5 F1 new; Z: created in May -> absent before.
    # W: one purchase in 2025 -> hibernating both times; V: known, never bought -> prospect both times.
    flows = migration.flows.set_index(["from_segment", "to_segment"])
    assert flows["customers"].to_dict() == {
        ("champions", "at_risk"): 1, ("prospect", "new_customers"): 1, (ABSENT, "new_customers"): 1,
        ("hibernating", "hibernating"): 1, ("prospect", "prospect"): 1}
    assert flows.loc[("champions", "at_risk"), "revenue"] == 40
    assert flows.loc[("prospect", "new_customers"), "period_revenue"] == 70
    assert list(flow_customers(migration, "champions", "at_risk")["customer_id"]) == ["X"]


def test_migration_agrees_with_segment_table_at_both_dates(demo):
    as_of = date(2026, 6, 30)
    migration = segment_migration(demo, as_of)
    assert migration.earlier == date(2026, 3, 30)
    given = segment_migration(demo, as_of, values=values_of(demo, as_of)[0])
    assert given.membership.equals(migration.membership)
    for day, column in ((as_of, "to_segment"), (migration.earlier, "from_segment")):
        values, _ = values_of(demo, day)
        table = segment_table(demo, values, day).set_index("customer_id")["rfm_segment"]
        got = migration.membership.set_index("customer_id")[column]
        got = got[got != ABSENT]
        assert got.astype(str).sort_index().equals(table.astype(str).sort_index().rename(column)), day


def test_score_adds_the_segment_columns_through_the_command_line(tmp_path):
    db = tmp_path / "cdnow.duckdb"
    cdnow_base(db).close()
    out = tmp_path / "scores.csv"
    done = subprocess.run([sys.executable, "-m", "crm_logic", "score", "--db", str(db), "--model", "bg_nbd",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"customer_id": str, "rfm_score": str})
    assert json.loads(done.stdout)["rows"] == len(frame) == 2357
    assert [c for c in frame.columns if c in SCORE_COLUMNS] == list(SCORE_COLUMNS)
    assert set(frame["rfm_segment"]) <= set(SEGMENTS) and set(frame["value_tier"]) == set(TIERS)
    assert frame["rfm_score"].str.fullmatch(r"[1-5]{3}").all()
    assert frame["relationship_form"].isna().all()   # CDNOW has no interactions
    # A = the customers with less than 80 % of the revenue ahead of them, computed here from the file
    revenue = frame.set_index("customer_id")["revenue"]
    ahead = revenue.apply(lambda v: revenue[revenue > v].sum()) / revenue.sum()
    assert set(frame.loc[frame["value_tier"] == "A", "customer_id"]) == set(ahead.index[ahead < 0.8])
