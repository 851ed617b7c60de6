"""The per-customer summary against the published CDNOW figures, a pandas computation, and small hand cases."""
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_logic.store import Store
from crm_logic.summary import (
    customer_summary, first_purchases_by_day, length_in_units, repeat_purchases_by_day,
)
from tests.unit.cdnow_fixture import CALIBRATION_END, HOLDOUT_END, cdnow_base, pandas_summary


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    store = cdnow_base(tmp_path_factory.mktemp("summary") / "cdnow.duckdb")
    yield store
    store.close()


@pytest.fixture(scope="module")
def calibration(cdnow):
    return customer_summary(cdnow, unit="week", calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)


def make_base(tmp_path, rows, columns=("customer_id", "order_id", "order_date", "amount", "gross_margin")):
    store = Store(tmp_path / "hand.duckdb")
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    with store.transaction() as cur:
        cur.register("frame", frame)
        cur.execute(f"INSERT INTO transactions ({', '.join(columns)}) SELECT * FROM frame")
    return store


def test_cdnow_calibration_matches_the_published_counts(calibration):
    """Fader, Hardie & Lee (2005): 2,357 customers, 2,457 repeat transactions, 946 repeaters, 1,882 in the holdout."""
    assert len(calibration) == 2357
    assert calibration.frequency.sum() == 2457
    assert (calibration.frequency > 0).sum() == 946
    assert calibration.holdout_frequency.sum() == 1882


def test_cdnow_mean_repeat_spend_is_the_published_35_08(calibration):
    """Fader & Hardie (2013): mean observed repeat spend of the 946 repeaters is $35.08."""
    assert calibration.monetary_value.dropna().mean() == pytest.approx(35.078, abs=0.001)
    assert calibration.monetary_value.notna().sum() == 946


def test_cdnow_summary_equals_an_independent_pandas_summary(calibration):
    expected = pandas_summary(CALIBRATION_END)
    ours = calibration.set_index("customer_id").loc[expected.index]
    for column in ("frequency", "recency", "T", "monetary_value"):
        pd.testing.assert_series_equal(ours[column], expected[column], check_names=False, check_dtype=False)


def test_t_runs_to_the_end_date_in_unrounded_weeks(calibration):
    """Customer 00004 first bought on 1997-01-01: T = 272 days / 7 at the end of September 1997."""
    row = calibration.set_index("customer_id").loc["00004"]
    assert row["T"] == pytest.approx(272 / 7)
    assert row["recency"] == pytest.approx((date(1997, 8, 2) - date(1997, 1, 1)).days / 7)


def test_default_end_is_the_last_order_date(cdnow):
    whole = customer_summary(cdnow)
    assert whole.frequency.sum() == 2457 + 1882
    assert whole["T"].max() == pytest.approx((HOLDOUT_END - date(1997, 1, 1)).days / 7)
    assert "holdout_frequency" not in whole.columns


def test_only_customers_who_bought_by_the_end_date_are_counted(cdnow):
    january = customer_summary(cdnow, as_of=date(1997, 1, 31))
    assert january.first_purchase.max() <= pd.Timestamp("1997-01-31")
    assert 0 < len(january) < 2357
    assert (january["T"] >= 0).all()


@pytest.mark.parametrize("unit, days", [("day", 1), ("week", 7), ("month", 365.25 / 12)], ids=["day", "week", "month"])
def test_time_units_divide_calendar_days(cdnow, unit, days):
    frame = customer_summary(cdnow, unit=unit, as_of=HOLDOUT_END).set_index("customer_id")
    in_days = customer_summary(cdnow, unit="day", as_of=HOLDOUT_END).set_index("customer_id")
    assert frame["T"].to_numpy() == pytest.approx(in_days["T"].to_numpy() / days)
    assert length_in_units(CALIBRATION_END, HOLDOUT_END, unit) == pytest.approx(273 / days)


def test_same_day_lines_merge_and_returns_net_within_the_day(tmp_path):
    store = make_base(tmp_path, [
        ("a", "1", "2024-01-01", 100.0, None),   # first purchase: not in the repeat mean
        ("a", "2", "2024-01-10", 30.0, None),
        ("a", "3", "2024-01-10", 20.0, None),    # same day: one purchase of 50 ...
        ("a", "4", "2024-01-10", -10.0, None),   # ... netted to 40
        ("a", "5", "2024-01-20", -15.0, None),   # a returns-only day is not a purchase
        ("a", "6", "2024-02-01", 60.0, None),
    ])
    row = customer_summary(store, as_of=date(2024, 3, 1), unit="day").iloc[0]
    assert row.frequency == 2
    assert row.monetary_value == pytest.approx((40 + 60) / 2)
    assert row.recency == 31
    assert row["T"] == 60
    assert row.revenue == pytest.approx(185.0)
    assert row.orders == 6


def test_customers_whose_repeat_spend_nets_to_zero_or_less_have_no_monetary_value(tmp_path):
    store = make_base(tmp_path, [
        ("refunder", "1", "2024-01-01", 50.0, None),
        ("refunder", "2", "2024-01-05", 20.0, None),
        ("refunder", "3", "2024-01-05", -30.0, None),   # the repeat day nets to -10
        ("free", "4", "2024-01-01", 10.0, None),
        ("free", "5", "2024-01-08", 0.0, None),          # a zero-value repeat purchase still counts
        ("once", "6", "2024-01-02", 10.0, None),
    ])
    frame = customer_summary(store, as_of=date(2024, 2, 1)).set_index("customer_id")
    assert frame.loc["refunder", "frequency"] == 1 and pd.isna(frame.loc["refunder", "monetary_value"])
    assert frame.loc["free", "frequency"] == 1 and pd.isna(frame.loc["free", "monetary_value"])
    assert frame.loc["once", "frequency"] == 0 and pd.isna(frame.loc["once", "monetary_value"])


def test_margin_is_null_when_unknown_and_its_rate_uses_only_lines_with_a_known_margin(tmp_path):
    store = make_base(tmp_path, [
        ("known", "1", "2024-01-01", 100.0, 30.0),
        ("known", "2", "2024-01-05", 100.0, None),   # unknown margin: not in the rate's revenue
        ("none", "3", "2024-01-01", 80.0, None),
    ])
    frame = customer_summary(store, as_of=date(2024, 2, 1)).set_index("customer_id")
    assert frame.loc["known", "margin"] == pytest.approx(30.0)
    assert frame.loc["known", "margin_rate"] == pytest.approx(0.3)
    assert pd.isna(frame.loc["none", "margin"]) and pd.isna(frame.loc["none", "margin_rate"])


def test_lines_of_one_order_count_as_one_order(tmp_path):
    store = make_base(tmp_path, [
        ("a", "o1", "2024-01-01", 10.0, None),
        ("a", "o1", "2024-01-01", 15.0, None),
        ("a", None, "2024-01-03", 5.0, None),
        ("a", None, "2024-01-03", 5.0, None),
    ])
    assert customer_summary(store).iloc[0].orders == 3


def test_an_empty_base_gives_an_empty_summary(tmp_path):
    with Store(tmp_path / "empty.duckdb") as store:
        frame = customer_summary(store)
    assert frame.empty and {"frequency", "recency", "T", "monetary_value"} <= set(frame.columns)


def test_daily_counts_add_up_to_the_summary(cdnow):
    firsts = first_purchases_by_day(cdnow, CALIBRATION_END)
    repeats = repeat_purchases_by_day(cdnow, CALIBRATION_END, HOLDOUT_END)
    assert firsts.customers.sum() == 2357
    assert repeats.repeat_purchases.sum() == 2457 + 1882
    in_calibration = repeats[repeats.day <= pd.Timestamp(CALIBRATION_END)]
    assert in_calibration.repeat_purchases.sum() == 2457


def definition_summary(lines: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The module's definitions written directly in pandas: lines merged into days, then per customer."""
    lines = lines[lines.order_date <= end]
    days = lines.groupby(["customer_id", "order_date"]).amount.agg(spend="sum", purchase=lambda a: (a >= 0).any())
    days = days[days.purchase].reset_index()
    rows = {}
    for customer, own in days.groupby("customer_id"):
        own = own.sort_values("order_date")
        repeat = own.spend.iloc[1:]
        mean = repeat.mean() if len(repeat) else None
        rows[customer] = {
            "frequency": len(own) - 1,
            "recency": (own.order_date.iloc[-1] - own.order_date.iloc[0]).days,
            "T": (end - own.order_date.iloc[0]).days,
            "monetary_value": mean if mean is not None and mean > 0 else float("nan"),
            "revenue": lines.loc[lines.customer_id == customer, "amount"].sum(),
        }
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["frequency", "recency", "T", "monetary_value", "revenue"])


LINE = st.tuples(
    st.sampled_from(["a", "b", "c", "d"]),
    st.integers(0, 2500),                                       # days after 2018-01-01: several 1024-day slots
    st.sampled_from([-40.0, -5.0, 0.0, 5.0, 12.5, 30.0, 99.0]),  # returns, zero-value lines, purchases
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, min_size=1, max_size=40))
def test_summary_follows_its_definitions_on_any_mix_of_same_day_lines_and_returns(tmp_path_factory, lines):
    """Ties on the first day, returns on it or on days of their own, zero-value lines, long histories:
    the one-pass columns and the merged-days path must both give what the definitions say."""
    frame = pd.DataFrame(lines, columns=["customer_id", "day", "amount"])
    frame["order_date"] = pd.Timestamp("2018-01-01") + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["order_id"], frame["gross_margin"] = None, None
    end = frame.order_date.max()
    store = make_base(tmp_path_factory.mktemp("mix"), frame[["customer_id", "order_id", "order_date", "amount",
                                                            "gross_margin"]].values.tolist())
    try:
        ours = customer_summary(store, as_of=end.date(), unit="day", orders=False).set_index("customer_id")
    finally:
        store.close()
    expected = definition_summary(frame, end)
    assert sorted(ours.index) == sorted(expected.index)
    ours = ours.loc[expected.index]
    for column in ("frequency", "recency", "T", "monetary_value", "revenue"):
        pd.testing.assert_series_equal(ours[column], expected[column], check_names=False, check_dtype=False,
                                       check_index_type=False, check_exact=False, rtol=1e-9)
