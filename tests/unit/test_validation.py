"""Calibration/holdout validation on CDNOW against Fader, Hardie & Lee (2005), via model-anchors.md."""
from datetime import date

import numpy as np
import pandas as pd
import pytest

from crm_logic.i18n import LANGUAGES, catalogue
from crm_logic.store import Store
from crm_logic.validation import (
    ModelChoice, ValidationResult, choose_default_model, frequency_bin, holdout_split, validate_models,
)
from tests.unit.cdnow_fixture import CALIBRATION_END, HOLDOUT_END, cdnow_base, cdnow_lines, pandas_summary

BINS = ["0", "1", "2", "3", "4", "5", "6", "7+"]
# The holdout table of model-anchors.md: customers, actual mean, BG/NBD and Pareto/NBD conditional expectations.
PUBLISHED = pd.DataFrame({
    "frequency_bin": BINS,
    "customers": [1411, 439, 214, 100, 62, 38, 29, 64],
    "actual": [0.2367, 0.6970, 1.3925, 1.5600, 2.5323, 2.9474, 3.8621, 6.3594],
    "bg_nbd": [0.2251, 0.5231, 1.0441, 1.5203, 2.1638, 2.6538, 3.5040, 6.1570],
    "pareto_nbd": [0.138, 0.600, 1.196, 1.714, 2.399, 2.907, 3.819, 6.403],
})


@pytest.fixture(scope="module")
def stages():
    return []


@pytest.fixture(scope="module")
def result(tmp_path_factory, stages):
    with cdnow_base(tmp_path_factory.mktemp("validation") / "cdnow.duckdb") as store:
        return validate_models(store, CALIBRATION_END, HOLDOUT_END, unit="week",
                               progress=lambda fraction, stage: stages.append((fraction, stage)))


def test_holdout_table_has_the_published_bins_and_actual_means(result):
    table = result.by_frequency
    assert table.frequency_bin.tolist() == BINS
    assert table.customers.tolist() == PUBLISHED.customers.tolist()
    assert table.actual.to_numpy() == pytest.approx(PUBLISHED.actual.to_numpy(), abs=5e-5)


def test_holdout_table_predictions_match_the_published_models(result):
    table = result.by_frequency
    assert table.bg_nbd.to_numpy() == pytest.approx(PUBLISHED.bg_nbd.to_numpy(), rel=2e-3)
    # Pareto/NBD is published to three decimals and its beta sits on a flat ridge.
    assert table.pareto_nbd.to_numpy() == pytest.approx(PUBLISHED.pareto_nbd.to_numpy(), abs=3e-3)


def test_models_compare_by_the_published_log_likelihoods(result):
    ll = result.models.set_index("model").log_likelihood
    assert ll["bg_nbd"] == pytest.approx(-9582.429, abs=0.01)
    assert ll["pareto_nbd"] == pytest.approx(-9594.976, abs=0.01)
    assert ll["mbg_nbd"] == pytest.approx(-9582.13, abs=0.05)


def test_tracking_curve_reaches_the_published_week_78(result):
    """Actual 4,339 repeat transactions by week 78; BG/NBD forecasts 4,160.6, Pareto/NBD 4,270.4."""
    curve = result.tracking
    assert curve.week.tolist() == list(range(1, 79))
    last = curve.iloc[-1]
    assert last.actual == 4339
    assert last.bg_nbd == pytest.approx(4160.6, rel=1e-3)
    assert last.pareto_nbd == pytest.approx(4270.4, rel=1e-3)
    assert result.calibration_weeks == pytest.approx(39.0)
    assert curve.loc[curve.week == 39, "actual"].item() == 2457
    assert (np.diff(curve.actual) >= 0).all() and (np.diff(curve.bg_nbd) >= 0).all()


def test_per_customer_actuals_and_errors_match_pandas(result):
    lines = cdnow_lines()
    window = lines[(lines.date > pd.Timestamp(CALIBRATION_END)) & (lines.date <= pd.Timestamp(HOLDOUT_END))]
    actual = window.groupby("customer_id").date.nunique()
    calibration = pandas_summary(CALIBRATION_END)
    actual = actual.reindex(calibration.index, fill_value=0)
    naive = calibration.frequency / calibration["T"] * 39
    customers = result.customers.set_index("customer_id").loc[calibration.index]
    assert (customers.actual == actual).all()
    assert result.naive_mae == pytest.approx(np.mean(np.abs(naive - actual)))
    for row in result.models.itertuples():
        assert row.mae == pytest.approx(np.mean(np.abs(customers[row.model] - actual)))
        assert row.actual == 1882


def test_default_model_is_the_one_with_the_lowest_holdout_error(result):
    choice = choose_default_model(result)
    best = result.models.sort_values("mae").iloc[0]
    assert choice == ModelChoice(choice.model, "lowest_holdout_mae", choice.numbers)
    assert choice.model == best.model
    assert choice.numbers["mae"] == pytest.approx(best.mae)
    assert choice.numbers["naive_mae"] == pytest.approx(result.naive_mae)
    assert choice.numbers["holdout_weeks"] == pytest.approx(39.0)
    assert choice.numbers["runner_up_mae"] >= choice.numbers["mae"]


def test_choice_falls_back_to_bg_nbd_when_no_model_could_be_fitted(result):
    from dataclasses import replace

    nothing = replace(result, models=result.models.iloc[0:0], fitted={}, failures={"bg_nbd": "not_converged"})
    choice = choose_default_model(nothing)
    assert (choice.model, choice.reason) == ("bg_nbd", "no_model_fitted")


def test_progress_moves_forward_and_names_translated_stages(result, stages):
    fractions = [fraction for fraction, _ in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    for lang in LANGUAGES:
        assert all(f"clv.stage.{stage}" in catalogue(lang) for _, stage in stages)


def test_cdnow_history_splits_at_the_published_calibration_end(tmp_path):
    with cdnow_base(tmp_path / "c.duckdb") as store:
        assert holdout_split(store) == (CALIBRATION_END, HOLDOUT_END)


def test_a_short_history_has_no_holdout(tmp_path):
    with Store(tmp_path / "short.duckdb") as store:
        rows = pd.DataFrame({"customer_id": ["a", "b"], "order_date": pd.to_datetime(["2024-01-01", "2024-03-01"]),
                             "amount": [10.0, 20.0]})
        with store.transaction() as cur:
            cur.register("rows", rows)
            cur.execute("INSERT INTO transactions (customer_id, order_date, amount) SELECT * FROM rows")
        assert holdout_split(store) is None
        assert holdout_split(store, as_of=date(2024, 12, 31)) is not None


def test_frequency_bins_cap_at_seven_plus():
    assert frequency_bin(pd.Series([0, 6, 7, 25])).tolist() == ["0", "6", "7+", "7+"]


def test_result_keeps_frames_for_the_page(result):
    assert isinstance(result, ValidationResult)
    assert set(result.fitted) == {"bg_nbd", "pareto_nbd", "mbg_nbd"} and not result.failures
    assert {"model", "log_likelihood", "mae", "predicted", "actual"} <= set(result.models.columns)
    assert result.holdout_length == pytest.approx(39.0)


def test_a_large_base_is_validated_on_a_fixed_sample_of_its_customers(tmp_path):
    """Above max_customers buyers the test runs on a hash sample: about that many customers, the same
    ones every time, each with exactly the figures the full summary gives them."""
    from crm_logic.summary import customer_summary
    with cdnow_base(tmp_path / "cdnow.duckdb") as store:
        first = validate_models(store, CALIBRATION_END, HOLDOUT_END, unit="week", models=("bg_nbd",), max_customers=600)
        again = validate_models(store, CALIBRATION_END, HOLDOUT_END, unit="week", models=("bg_nbd",), max_customers=600)
        full = customer_summary(store, unit="week", calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    sampled = first.customers
    assert first.sample_share == pytest.approx(600 / 2357, rel=0.05)  # CDNOW sample: 2,357 customers
    assert 450 < len(sampled) < 750  # binomial(2357, ~0.25): mean ~600, sd ~21
    assert sampled.customer_id.tolist() == again.customers.customer_id.tolist()
    expected = full.set_index("customer_id").loc[sampled.customer_id]
    assert sampled.frequency.tolist() == expected.frequency.tolist()
    assert sampled.actual.tolist() == expected.holdout_frequency.tolist()
    assert first.tracking.actual.iloc[-1] == expected.frequency.sum() + expected.holdout_frequency.sum()


def test_a_small_base_is_validated_in_full(result):
    assert result.sample_share is None and len(result.customers) == 2357
