"""The customer_scores table: published CDNOW figures, refresh only when stale, progress, explanations."""
import json
from datetime import date

import pandas as pd
import pytest

from crm_logic import scores
from crm_logic.i18n import LANGUAGES, catalogue, translate
from crm_logic.models import ModelError
from crm_logic.scores import (
    ScoreSettings, clv_comparison, ensure_scores, equity_summary, explain_parameters, fingerprint, load_scores,
    score_info,
)
from crm_logic.store import Store
from tests.unit.cdnow_fixture import BG_NBD_PARAMS, CALIBRATION_END, GAMMA_GAMMA_PARAMS, cdnow_base, cdnow_lines

# Scoring as of the end of calibration fits the published sample: model-anchors.md figures apply.
PUBLISHED = ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", default_margin=1.0)
REQUIRED = {"customer_id", "frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases_12m",
            "expected_spend", "clv", "model"}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    store = cdnow_base(tmp_path_factory.mktemp("scores") / "cdnow.duckdb")
    ensure_scores(store, PUBLISHED)
    yield store
    store.close()


@pytest.fixture
def cdnow(tmp_path):
    store = cdnow_base(tmp_path / "cdnow.duckdb")
    yield store
    store.close()


@pytest.fixture
def counted(monkeypatch):
    """Counts the real computations and validations behind ensure_scores."""
    calls = {"compute": 0, "validate": 0}
    compute, validate = scores.compute_scores, scores.validate_models

    def counting_compute(*args, **kwargs):
        calls["compute"] += 1
        return compute(*args, **kwargs)

    def counting_validate(*args, **kwargs):
        calls["validate"] += 1
        return validate(*args, **kwargs)

    monkeypatch.setattr(scores, "compute_scores", counting_compute)
    monkeypatch.setattr(scores, "validate_models", counting_validate)
    return calls


def add_order(store, customer_id="new", day=date(1997, 9, 30), amount=10.0):
    with store.transaction() as cur:
        cur.execute("INSERT INTO transactions (customer_id, order_date, amount) VALUES (?, ?, ?)",
                    [customer_id, day, amount])


def test_default_settings_are_the_documented_ones():
    assert ScoreSettings() == ScoreSettings(as_of=None, unit="week", model="auto", horizon_months=12,
                                            monthly_discount=0.01, default_margin=0.3)


@pytest.mark.parametrize("bad", [{"unit": "year"}, {"model": "gamma_gamma"}, {"horizon_months": 0},
                                 {"monthly_discount": -0.1}, {"default_margin": 1.5}],
                         ids=["unit", "model", "horizon", "discount", "margin"])
def test_settings_refuse_values_that_make_no_sense(bad):
    with pytest.raises(ValueError):
        ScoreSettings(**bad)


def test_scores_hold_every_customer_with_the_required_columns(scored):
    frame = load_scores(scored)
    assert len(frame) == 2357
    assert REQUIRED <= set(frame.columns)
    assert frame[["p_alive", "expected_purchases_12m", "expected_spend", "clv"]].notna().all().all()
    assert (frame.model == "bg_nbd").all()
    assert frame.clv.is_monotonic_decreasing


def test_cdnow_scores_reproduce_the_published_figures(scored):
    """model-anchors.md: fitted on the calibration sample, BG/NBD + Gamma-Gamma, 12 months at 1 %, margin 1:
    customer equity about 71,509; mean P(alive) 0.8134; customer 00004 worth 36.28."""
    summary = equity_summary(scored)
    assert summary["customers"] == 2357
    assert summary["customer_equity"] == pytest.approx(71509, rel=2e-3)
    assert summary["mean_p_alive"] == pytest.approx(0.8134, abs=5e-4)
    frame = load_scores(scored).set_index("customer_id")
    assert frame.loc["00004", "clv"] == pytest.approx(36.28, rel=2e-3)
    info = score_info(scored)
    for name, published in BG_NBD_PARAMS.items():
        assert info["params"][name] == pytest.approx(published, abs=1e-3)
    for name, published in GAMMA_GAMMA_PARAMS.items():
        assert info["spend_params"][name] == pytest.approx(published, rel=1e-3)


def test_scores_are_recomputed_only_when_the_data_or_the_settings_change(cdnow, counted):
    settings = ScoreSettings(model="bg_nbd")
    assert ensure_scores(cdnow, settings) is True
    assert ensure_scores(cdnow, settings) is False
    assert counted["compute"] == 1
    assert cdnow.get_meta(scores.FINGERPRINT_KEY) == fingerprint(cdnow, settings)

    assert ensure_scores(cdnow, ScoreSettings(model="bg_nbd", horizon_months=24)) is True
    assert counted["compute"] == 2

    add_order(cdnow, day=date(1998, 6, 30))
    assert ensure_scores(cdnow, ScoreSettings(model="bg_nbd", horizon_months=24)) is True
    assert ensure_scores(cdnow, ScoreSettings(model="bg_nbd", horizon_months=24)) is False
    assert counted["compute"] == 3


def test_writing_scores_leaves_the_data_set_version_alone(cdnow):
    version = cdnow.dataset_version
    ensure_scores(cdnow, ScoreSettings(model="bg_nbd"))
    assert cdnow.dataset_version == version


def test_automatic_choice_is_validated_once_and_reused_for_other_horizons(cdnow, counted):
    ensure_scores(cdnow, ScoreSettings())
    info = score_info(cdnow)
    assert info["choice"]["reason"] == "lowest_holdout_mae"
    assert info["model"] in ("bg_nbd", "pareto_nbd", "mbg_nbd")
    ensure_scores(cdnow, ScoreSettings(horizon_months=36, monthly_discount=0.02))
    assert counted == {"compute": 2, "validate": 1}
    assert score_info(cdnow)["model"] == info["model"]

    add_order(cdnow, day=date(1998, 6, 30))
    ensure_scores(cdnow, ScoreSettings())
    assert counted["validate"] == 2


def test_a_short_history_scores_with_bg_nbd_and_says_why(cdnow):
    ensure_scores(cdnow, ScoreSettings(as_of=date(1997, 3, 31)))
    info = score_info(cdnow)
    assert (info["model"], info["choice"]["reason"]) == ("bg_nbd", "not_enough_history")
    assert info["choice"]["numbers"]["min_history_days"] == scores.HOLDOUT_RULES["min_history_days"]


def test_clv_falls_with_the_discount_rate_and_rises_with_the_horizon(cdnow):
    def equity(**changes):
        ensure_scores(cdnow, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", **changes))
        return equity_summary(cdnow)["customer_equity"]

    base = equity()
    assert equity(monthly_discount=0.03) < base < equity(horizon_months=24)
    assert equity(default_margin=0.15) == pytest.approx(base / 2)


def test_known_margins_replace_the_default_rate(tmp_path):
    with Store(tmp_path / "m.duckdb") as store:
        lines = cdnow_lines()
        lines["gross_margin"] = (lines.amount * 0.5).where(lines.customer_id == "00004")
        with store.transaction() as cur:
            cur.register("lines", lines)
            cur.execute("INSERT INTO transactions (customer_id, order_date, amount, gross_margin) "
                        "SELECT customer_id, date, amount, gross_margin FROM lines")
        ensure_scores(store, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", default_margin=0.2))
        low = load_scores(store).set_index("customer_id")
        ensure_scores(store, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", default_margin=0.4))
        high = load_scores(store).set_index("customer_id").loc[low.index]
    assert low.loc["00004", "margin_rate"] == high.loc["00004", "margin_rate"] == pytest.approx(0.5, abs=1e-3)  # cents
    assert high.loc["00004", "clv"] == pytest.approx(low.loc["00004", "clv"])
    others = low.index != "00004"
    assert (low.margin_rate[others] == 0.2).all()
    assert high.clv[others].to_numpy() == pytest.approx(2 * low.clv[others].to_numpy())


def test_a_spend_model_that_cannot_be_fitted_leaves_clv_empty_and_says_why(cdnow, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ModelError("q_not_above_one")

    monkeypatch.setattr(scores.GammaGammaModel, "fit", refuse)
    ensure_scores(cdnow, ScoreSettings(model="bg_nbd"))
    frame = load_scores(cdnow)
    assert frame.clv.isna().all() and frame.p_alive.notna().all()
    assert score_info(cdnow)["spend_error"] == "q_not_above_one"


def test_an_empty_base_cannot_be_scored(tmp_path):
    with Store(tmp_path / "empty.duckdb") as store, pytest.raises(ModelError) as raised:
        ensure_scores(store, ScoreSettings(model="bg_nbd"))
    assert raised.value.key == "too_few_customers"


def test_progress_reaches_one_through_translated_stages(cdnow):
    seen = []
    ensure_scores(cdnow, ScoreSettings(), progress=lambda fraction, stage: seen.append((fraction, stage)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {"summary", "validation", "fit", "spend", "score", "write"} <= {stage for _, stage in seen}
    for lang in LANGUAGES:
        assert all(f"clv.stage.{stage}" in catalogue(lang) for _, stage in seen)


def test_bg_nbd_parameters_read_as_a_purchase_interval_and_a_drop_out_share():
    readings = {r["key"]: r["values"] for r in explain_parameters("bg_nbd", BG_NBD_PARAMS, "week")}
    assert readings["purchase_interval"]["weeks"] == pytest.approx(4.4136019 / 0.2425945)
    assert readings["purchase_interval"]["days"] == pytest.approx(7 * 4.4136019 / 0.2425945)
    assert readings["dropout_per_purchase"]["share"] == pytest.approx(0.7929199 / (0.7929199 + 2.4258881))
    text = translate("clv.explain.dropout_per_purchase", "en", **readings["dropout_per_purchase"])
    assert "25%" in text


def test_every_reading_has_a_phrase_in_both_languages():
    params = {"bg_nbd": BG_NBD_PARAMS, "mbg_nbd": BG_NBD_PARAMS,
              "pareto_nbd": {"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150},
              "gamma_gamma": GAMMA_GAMMA_PARAMS}
    for model, values in params.items():
        for reading in explain_parameters(model, values, "week"):
            for lang in LANGUAGES:
                text = translate(f"clv.explain.{reading['key']}", lang, currency="$", **reading["values"])
                assert "{" not in text and text != f"clv.explain.{reading['key']}"


def test_gamma_gamma_reads_as_the_population_mean_spend():
    (reading,) = explain_parameters("gamma_gamma", GAMMA_GAMMA_PARAMS, "week")
    assert reading["values"]["spend"] == pytest.approx(35.17, abs=0.01)  # Fader & Hardie (2013)


def test_average_clv_and_the_bridge_to_the_model_value(scored):
    frame = load_scores(scored)
    lines = cdnow_lines()
    revenue = lines[lines.date <= pd.Timestamp(CALIBRATION_END)].amount.sum()
    comparison = clv_comparison(scored, marketing_spend=23_570.0, retention_cost=4_714.0)
    average = comparison["average"]
    assert average.acquisition_cost_per_customer == pytest.approx(10.0)
    assert average.average_clv == pytest.approx(revenue / 2357 - 10.0 - 2.0)
    steps = comparison["bridge"]
    assert steps[-1]["value"] == pytest.approx(frame.clv.mean())
    assert sum(s["value"] for s in steps[:-1]) == pytest.approx(steps[-1]["value"])


def test_score_info_records_what_the_scores_were_computed_with(scored):
    info = score_info(scored)
    assert info["as_of"] == "1997-09-30" and info["customers"] == 2357
    assert info["settings"]["horizon_months"] == 12
    assert json.loads(scored.get_meta(scores.FINGERPRINT_KEY))["model"] == "bg_nbd"



def test_loaded_scores_carry_the_customer_names_next_to_the_id(cdnow):
    ensure_scores(cdnow, ScoreSettings(model="bg_nbd"))
    with cdnow.transaction() as cur:
        cur.execute("UPDATE customers SET name = '客户 ' || customer_id")
    frame = load_scores(cdnow, limit=5)
    assert list(frame.columns[:2]) == ["customer_id", "name"] and len(frame) == 5
    assert (frame.name == "客户 " + frame.customer_id).all()
