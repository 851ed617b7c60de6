"""Overview figures against an independent pandas computation on the CDNOW sample."""
from datetime import date

import pandas as pd
import pytest

from crm_logic import metrics
from crm_logic.store import CDNOW_DIR, Store
from tests.conftest import load_cdnow_sample

AS_OF = date(1998, 6, 30)


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("m") / "cdnow.duckdb")
    load_cdnow_sample(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def frame():
    raw = pd.read_csv(CDNOW_DIR / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["cid", "sid", "day", "cds", "amount"], dtype={"day": str})
    raw["date"] = pd.to_datetime(raw["day"], format="%Y%m%d")
    return raw


def test_twelve_month_revenue_and_active_customers(cdnow, frame):
    window = frame[(frame.date > "1997-06-30") & (frame.date <= "1998-06-30")]
    kpis = metrics.overview_kpis(cdnow, AS_OF)["current"]
    assert kpis["revenue"] == pytest.approx(window.amount.sum(), abs=0.005)
    assert kpis["active_customers"] == window.cid.nunique()
    assert kpis["gross_margin"] is None  # CDNOW has no margins


def test_repeat_rate_and_top_share(cdnow, frame):
    days = frame.groupby("cid").date.nunique()
    kpis = metrics.overview_kpis(cdnow, AS_OF)["current"]
    assert kpis["customers"] == 2357
    assert kpis["repeat_rate"] == pytest.approx((days >= 2).mean())
    window = frame[(frame.date > "1997-06-30") & (frame.date <= "1998-06-30")]
    spend = window.groupby("cid").amount.sum().sort_values(ascending=False)
    top = spend.iloc[: int(-(-len(spend) * 0.2 // 1))].sum()
    assert kpis["top20_share"] == pytest.approx(top / spend.sum())


def test_previous_window_is_the_twelve_months_before(cdnow, frame):
    window = frame[(frame.date > "1996-06-30") & (frame.date <= "1997-06-30")]
    previous = metrics.overview_kpis(cdnow, AS_OF)["previous"]
    assert previous["revenue"] == pytest.approx(window.amount.sum(), abs=0.005)


def test_new_and_returning_revenue_add_up_to_monthly_revenue(cdnow, frame):
    monthly = metrics.monthly_new_vs_returning(cdnow, AS_OF, months=18)
    by_month = frame.groupby(frame.date.dt.to_period("M")).amount.sum()
    ours = monthly.groupby(monthly.month.dt.to_period("M")).revenue.sum()
    pd.testing.assert_series_equal(ours.sort_index(), by_month.sort_index(), check_names=False, atol=0.01)
    first_month = frame.groupby("cid").date.min().dt.to_period("M")
    jan_new = frame[frame.date.dt.to_period("M") == pd.Period("1997-01")].amount.sum()
    assert monthly.query("customer_kind == 'new'").revenue.iloc[0] == pytest.approx(jan_new)
    assert (first_month >= pd.Period("1997-01")).all()


def test_quality_facts_count_zero_orders_and_exact_duplicates(cdnow, frame):
    facts = metrics.quality_facts(cdnow)
    assert facts["rows"] == 6919 and facts["customers"] == 2357
    assert facts["zero_value_orders"] == int((frame.amount == 0).sum())
    assert facts["duplicate_rows"] == int(frame.duplicated(["cid", "date", "amount", "cds"]).sum())
    assert facts["first_date"] == date(1997, 1, 1) and facts["last_date"] == AS_OF


def test_breakdown_folds_the_tail_into_other(tmp_path):
    store = Store(tmp_path / "b.duckdb")
    rows = pd.DataFrame({"customer_id": [f"c{i}" for i in range(20)], "region": [f"r{i}" for i in range(20)]})
    tx = pd.DataFrame({"customer_id": rows.customer_id, "order_date": pd.Timestamp("2024-05-01"),
                       "amount": range(1, 21)})
    with store.transaction() as cur:
        cur.register("c", rows)
        cur.register("t", tx)
        cur.execute("INSERT INTO customers (customer_id, region) SELECT * FROM c")
        cur.execute("INSERT INTO transactions (customer_id, order_date, amount) SELECT * FROM t")
    out = metrics.revenue_by(store, "region", date(2024, 6, 1))
    assert len(out) == metrics.MAX_CATEGORIES
    assert out.iloc[-1]["group"] == metrics.OTHER
    assert out.revenue.sum() == pytest.approx(sum(range(1, 21)))
    assert list(out.revenue.iloc[:-1]) == sorted(out.revenue.iloc[:-1], reverse=True)
    one = metrics.customers_in_group(store, "region", "r5", date(2024, 6, 1))
    assert list(one.customer_id) == ["c5"] and one.revenue.iloc[0] == 6
    tail = metrics.customers_in_group(store, "region", metrics.OTHER, date(2024, 6, 1))
    assert sorted(tail.customer_id) == sorted(f"c{i}" for i in range(9))  # the 9 smallest regions
    assert tail.revenue.is_monotonic_decreasing


def test_previous_window_counts_the_customers_and_repeaters_of_its_time(cdnow, frame):
    before = frame[frame.date <= "1997-06-30"]
    previous = metrics.overview_kpis(cdnow, AS_OF)["previous"]
    days = before.groupby("cid").date.nunique()
    assert previous["customers"] == len(days)
    assert previous["repeat_rate"] == pytest.approx((days >= 2).mean())
    window = before[before.date > "1996-06-30"]
    assert previous["active_customers"] == window.cid.nunique()


def add_line(cur, amount):
    cur.execute("INSERT INTO transactions (customer_id, order_date, amount) VALUES ('x', DATE '1998-06-30', ?)",
                [amount])


def test_figures_are_kept_in_the_base_until_the_data_change(tmp_path):
    path = tmp_path / "kept.duckdb"
    with Store(path) as store:
        load_cdnow_sample(store)
        version = store.dataset_version
        first = metrics.quality_facts(store)
        assert store.dataset_version == version  # keeping a figure is not a change of the data
        with store.cursor() as cur:  # behind the version's back: a kept figure does not see it
            add_line(cur, 1.0)
    with Store(path) as store:  # after a restart, too
        assert metrics.quality_facts(store) == first
        with store.transaction() as cur:
            add_line(cur, 2.0)
        assert metrics.quality_facts(store)["rows"] == first["rows"] + 2


def test_a_read_only_base_computes_without_keeping(tmp_path):
    path = tmp_path / "ro.duckdb"
    with Store(path) as store:
        load_cdnow_sample(store)
    with Store(path, read_only=True) as store:
        assert metrics.quality_facts(store)["rows"] == 6919
        assert metrics.overview_kpis(store, AS_OF)["current"]["customers"] == 2357
