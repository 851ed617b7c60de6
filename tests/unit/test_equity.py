"""Equity breakdowns of a hand-made values frame against pandas (and SQL's ntile for the deciles)."""
import duckdb
import numpy as np
import pandas as pd
import pytest

from crm_logic import equity
from crm_logic.store import Store

N = 200


@pytest.fixture
def values():
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(N)],
        "frequency": rng.integers(0, 12, N).astype(float),
        "recency": rng.uniform(0, 50, N),
        "T": 52.0,
        "monetary_value": rng.gamma(3, 20, N),
        "revenue": rng.gamma(2, 100, N),
        "margin_rate": 0.3,
        "p_alive": rng.uniform(0, 1, N),
        "expected_purchases_12m": rng.uniform(0, 5, N),
        "expected_purchases_horizon": rng.uniform(0, 5, N),
        "expected_spend": rng.gamma(3, 20, N),
        "clv": rng.lognormal(4, 1, N),
    })
    frame.loc[0, "clv"] = 1e6  # one whale
    frame.loc[[5, 6], "clv"] = np.nan  # no CLV for them
    return frame


@pytest.fixture
def groups():
    return pd.DataFrame({"customer_class": pd.Categorical(np.where(np.arange(N) % 3 == 0, "dealer", "consumer")),
                         "region": pd.Categorical(np.where(np.arange(N) % 2 == 0, "华东", ""))})


@pytest.fixture
def store(tmp_path, values):
    s = Store(tmp_path / "e.duckdb")
    with s.transaction() as cur:
        cur.register("v", values.assign(name="客户" + values.customer_id)[["customer_id", "name"]])
        cur.execute("INSERT INTO customers (customer_id, name) SELECT * FROM v")
    yield s
    s.close()


def test_equity_by_class_and_region_sum_to_the_total(values, groups):
    whole = values.clv.sum()
    for split in ("customer_class", "region"):
        ours = equity.equity_by(values, groups, split).set_index("group")
        theirs = values.clv.groupby(groups[split].astype(str)).sum()
        pd.testing.assert_series_equal(ours.equity.sort_index(), theirs.sort_index(), check_names=False)
        assert list(ours.equity) == sorted(ours.equity, reverse=True)
        counted = values.clv.notna().groupby(groups[split].astype(str)).sum()
        assert ours.customers.sort_index().to_dict() == counted.sort_index().to_dict()
        assert ours.share.sum() == pytest.approx(1.0) and ours.share.iloc[0] == pytest.approx(ours.equity.iloc[0] / whole)


def test_deciles_are_sqls_ntile_of_the_ranked_values(values, groups):
    deciles = equity.equity_by(values, groups, "decile")
    known = values.dropna(subset=["clv"])
    sql = duckdb.sql("SELECT CAST(d AS VARCHAR) AS grp, count(*) AS n, sum(clv) AS e FROM "
                     "(SELECT clv, ntile(10) OVER (ORDER BY clv DESC) AS d FROM known) GROUP BY d ORDER BY d").df()
    assert list(deciles.group) == list(sql.grp) == [str(i) for i in range(1, 11)]
    assert list(deciles.customers) == list(sql.n) == [20] * 8 + [19] * 2  # 198 known values
    np.testing.assert_allclose(deciles.equity, sql.e, rtol=1e-12)
    assert deciles.equity.iloc[0] == pytest.approx(known.clv.nlargest(20).sum())


def test_headline_figures_match_pandas(values):
    summary = equity.equity_summary(values)
    clv = values.clv.dropna()
    assert summary["customers"] == N and summary["customer_equity"] == pytest.approx(clv.sum())
    assert summary["mean_clv"] == pytest.approx(clv.mean()) and summary["median_clv"] == pytest.approx(clv.median())
    assert summary["top20_share"] == pytest.approx(clv.nlargest(40).sum() / clv.sum())  # 20 % of all 200
    assert summary["mean_p_alive"] == pytest.approx(values.p_alive.mean())


def test_histogram_counts_every_customer_in_round_bands_and_caps_the_whales(values):
    hist = equity.clv_histogram(values, bins=25)
    clv = values.clv.dropna()
    assert hist.customers.sum() == len(clv)
    widths = hist.high - hist.low
    assert np.allclose(widths, widths.iloc[0])
    mantissa = widths.iloc[0] / 10 ** np.floor(np.log10(widths.iloc[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    cap = np.quantile(clv, 0.95)
    assert hist.high.iloc[-2] < cap <= hist.high.iloc[-1]
    assert hist.open_ended.iloc[-1]
    assert hist.customers.iloc[-1] == (clv >= hist.low.iloc[-1]).sum()


@pytest.mark.parametrize("raw, step", [(0.7, 1), (1.0, 1), (1.3, 2), (2.2, 2.5), (3, 5), (740, 1000), (4100, 5000)])
def test_round_step(raw, step):
    assert equity.round_step(raw) == pytest.approx(step)


def test_top_customers_are_ranked_by_clv_with_names_groups_and_reasons(store, values, groups):
    values.loc[[10, 11], "clv"] = 5e5  # a tie: the customer_id decides
    top = equity.top_customers(store, values, groups, limit=10)
    expected = values.assign(i=range(N)).sort_values(["clv", "customer_id"], ascending=[False, True]).head(10)
    assert list(top.customer_id) == list(expected.customer_id)
    assert list(top.customer_id[1:3]) == ["c010", "c011"]
    assert list(top.name) == list("客户" + expected.customer_id)
    assert list(top.customer_class) == list(groups.customer_class.astype(str).iloc[expected.i])
    f80 = values.frequency.quantile(0.8)
    m80 = values.monetary_value.quantile(0.8)
    for row in top.itertuples():
        assert ("frequent" in row.reasons) == (row.frequency > f80)
        assert ("big_spender" in row.reasons) == (row.monetary_value > m80)


def test_the_comparison_takes_the_means_of_the_values(values):
    inputs = equity.comparison_inputs(values)
    assert inputs["customers"] == N and inputs["revenue"] == pytest.approx(values.revenue.sum())
    assert inputs["past_margin"] == pytest.approx((values.revenue * 0.3).mean())
    assert inputs["future_margin"] == pytest.approx((values.expected_spend * 0.3 * values.expected_purchases_horizon).mean())
    assert inputs["model_clv"] == pytest.approx(values.clv.mean())


def test_histogram_counts_equal_numpys_histogram_of_the_capped_values_edges_included(values):
    """Bands counted by bisection hold exactly what np.histogram puts in them, also for values lying on
    a band edge (half-open bands, the last one closed, whales and negatives clipped into the end bands)."""
    frame = values.copy()
    frame.loc[10:60, "clv"] = np.repeat([0.0, 100.0, 200.0, 300.0, -50.0], 10).tolist() + [500.0]  # on round edges
    hist = equity.clv_histogram(frame, bins=20)
    clv = frame.clv.dropna().to_numpy()
    edges = np.append(hist.low.to_numpy(), hist.high.iloc[-1])
    expected, _ = np.histogram(np.clip(clv, edges[0], edges[-1]), bins=edges)
    assert list(hist.customers) == list(expected)
    assert hist.customers.iloc[0] == ((clv < edges[1])).sum()


def test_headline_with_an_odd_count_ranks_customers_without_a_value_last():
    """Five customers, three valued (1, 5, 3): median 3; the top 20 % is one customer, the one worth 5."""
    frame = pd.DataFrame({"clv": [1.0, np.nan, 5.0, np.nan, 3.0], "p_alive": 0.5, "expected_purchases_12m": 1.0})
    summary = equity.equity_summary(frame)
    assert summary["customer_equity"] == 9.0 and summary["median_clv"] == 3.0
    assert summary["top20_share"] == pytest.approx(5 / 9)


def test_the_clv_page_parts_are_the_figures_of_their_functions(store, values, groups):
    facts = type("Facts", (), {"groups": groups})()
    assert equity.clv_figures(store, facts, values, "headline") == equity.equity_summary(values)
    by_group = equity.clv_figures(store, facts, values, "groups")
    pd.testing.assert_frame_equal(by_group["region"], equity.equity_by(values, groups, "region"))
    spread = equity.clv_figures(store, facts, values, "spread")
    pd.testing.assert_frame_equal(spread["decile"], equity.equity_by(values, groups, "decile"))
    pd.testing.assert_frame_equal(spread["histogram"], equity.clv_histogram(values))
    with pytest.raises(ValueError):
        equity.clv_figures(store, facts, values, "everything")
