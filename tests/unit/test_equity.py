"""Equity breakdowns against pandas on a hand-made customer_scores table."""
import numpy as np
import pandas as pd
import pytest

from crm_logic import equity
from crm_logic.store import Store


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(11)
    n = 200
    scores = pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(n)],
        "frequency": rng.integers(0, 12, n).astype(float),
        "recency": rng.uniform(0, 50, n),
        "T": 52.0,
        "monetary_value": rng.gamma(3, 20, n),
        "p_alive": rng.uniform(0, 1, n),
        "expected_purchases_12m": rng.uniform(0, 5, n),
        "clv": rng.lognormal(4, 1, n),
    })
    scores.loc[0, "clv"] = 1e6  # one whale
    customers = pd.DataFrame({"customer_id": scores.customer_id, "name": "x",
                              "customer_class": np.where(np.arange(n) % 3 == 0, "dealer", "consumer"),
                              "region": np.where(np.arange(n) % 2 == 0, "华东", "华南")})
    s = Store(tmp_path / "e.duckdb")
    with s.transaction() as cur:
        cur.register("sc", scores)
        cur.register("cu", customers)
        cur.execute("CREATE TABLE customer_scores AS SELECT * FROM sc")
        cur.execute("INSERT INTO customers (customer_id, name, customer_class, region) SELECT * FROM cu")
    s.frame = scores.merge(customers, on="customer_id")
    yield s
    s.close()


def test_equity_by_class_and_region_sum_to_the_total(store):
    for split in ("customer_class", "region"):
        ours = equity.equity_by(store, split).set_index("group")
        theirs = store.frame.groupby(split).clv.sum()
        pd.testing.assert_series_equal(ours.equity.sort_index(), theirs.sort_index(), check_names=False)
        assert ours.share.sum() == pytest.approx(1.0)


def test_deciles_put_the_top_tenth_first(store):
    deciles = equity.equity_by(store, "decile")
    assert list(deciles.group) == [str(i) for i in range(1, 11)]
    assert (deciles.customers == 20).all()
    top = store.frame.clv.sort_values(ascending=False).iloc[:20].sum()
    assert deciles.equity.iloc[0] == pytest.approx(top)


def test_histogram_counts_every_customer_in_round_bands_and_caps_the_whales(store):
    hist = equity.clv_histogram(store, bins=25)
    assert hist.customers.sum() == 200
    widths = hist.high - hist.low
    assert np.allclose(widths, widths.iloc[0])
    mantissa = widths.iloc[0] / 10 ** np.floor(np.log10(widths.iloc[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    cap = np.quantile(store.frame.clv, 0.95)
    assert hist.high.iloc[-2] < cap <= hist.high.iloc[-1]
    assert hist.open_ended.iloc[-1]
    above = (store.frame.clv >= hist.low.iloc[-1]).sum()
    assert hist.customers.iloc[-1] == above


@pytest.mark.parametrize("raw, step", [(0.7, 1), (1.0, 1), (1.3, 2), (2.2, 2.5), (3, 5), (740, 1000), (4100, 5000)])
def test_round_step(raw, step):
    assert equity.round_step(raw) == pytest.approx(step)


def test_top_customers_are_ranked_by_clv_with_their_reasons(store):
    top = equity.top_customers(store, limit=10)
    expected = store.frame.sort_values("clv", ascending=False).head(10)
    assert list(top.customer_id) == list(expected.customer_id)
    whale = top.iloc[0]
    f80 = store.frame.frequency.quantile(0.8)
    assert ("frequent" in whale.reasons) == (whale.frequency > f80)
    assert all(set(r) <= set(equity.REASONS) for r in top.reasons)
