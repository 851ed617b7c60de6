"""Customer facts and values: published CDNOW figures, settings applied without a refit, exports, explanations.

(Before issue 10 these tests read a customer_scores table that each scoring overwrote; scores are no
longer kept in the base, so they read `customer_values` and the `score` export instead.)
"""
from datetime import date

import numpy as np
import pandas as pd
import pytest

from crm_logic import clv, equity, scores
from crm_logic.i18n import LANGUAGES, catalogue, translate
from crm_logic.models import ModelError
from crm_logic.scores import (
    ScoreSettings, compute_scores, customer_facts, customer_values, explain_parameters, export_scores, facts_info,
)
from crm_logic.store import Store
from tests.unit.cdnow_fixture import BG_NBD_PARAMS, CALIBRATION_END, GAMMA_GAMMA_PARAMS, cdnow_base, cdnow_lines

# Scoring as of the end of calibration fits the published sample: model-anchors.md figures apply.
PUBLISHED = ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", default_margin=1.0)
CONTRACT = ["customer_id", "frequency", "recency", "T", "monetary_value", "first_purchase", "last_purchase", "revenue",
            "margin", "margin_rate", "p_alive", "expected_purchases_12m", "expected_purchases_horizon",
            "expected_spend", "clv", "model"]


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    store = cdnow_base(tmp_path_factory.mktemp("scores") / "cdnow.duckdb")
    yield store
    store.close()


@pytest.fixture(scope="module")
def published(cdnow):
    return customer_facts(cdnow, PUBLISHED)


@pytest.fixture
def counted(monkeypatch):
    """Counts the expensive stages: reading the summary, validating, fitting, the month table."""
    calls = {"summary": 0, "validate": 0, "fit": 0, "spend_fit": 0, "months": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(scores, "customer_summary", counting("summary", scores.customer_summary))
    monkeypatch.setattr(scores, "validate_models", counting("validate", scores.validate_models))
    monkeypatch.setattr(scores, "fit_spend_model", counting("spend_fit", scores.fit_spend_model))
    monkeypatch.setattr(scores, "cumulative_purchases", counting("months", scores.cumulative_purchases))
    for model in scores.MODELS.values():
        monkeypatch.setattr(model, "fit", counting("fit", model.fit))
    return calls


def test_default_settings_are_the_documented_ones():
    assert ScoreSettings() == ScoreSettings(as_of=None, unit="week", model="auto", horizon_months=12,
                                            monthly_discount=0.01, default_margin=0.3)


@pytest.mark.parametrize("bad", [{"unit": "year"}, {"model": "gamma_gamma"}, {"horizon_months": 0},
                                 {"horizon_months": scores.MAX_HORIZON_MONTHS + 1},
                                 {"monthly_discount": -0.1}, {"default_margin": 1.5}],
                         ids=["unit", "model", "horizon", "long_horizon", "discount", "margin"])
def test_settings_refuse_values_that_make_no_sense(bad):
    with pytest.raises(ValueError):
        ScoreSettings(**bad)


def test_values_hold_every_buyer_with_the_contract_columns(published):
    frame = customer_values(published, PUBLISHED)
    assert list(frame.columns) == CONTRACT
    assert len(frame) == 2357 and frame.customer_id.is_unique
    assert frame[["p_alive", "expected_purchases_12m", "expected_spend", "clv"]].notna().all().all()
    assert (frame.model == "bg_nbd").all()
    assert list(published.groups.columns) == ["customer_class", "region"] and len(published.groups) == 2357


def test_cdnow_values_reproduce_the_published_figures(published):
    """model-anchors.md: fitted on the calibration sample, BG/NBD + Gamma-Gamma, 12 months at 1 %, margin 1:
    customer equity about 71,509; mean P(alive) 0.8134; customer 00004 worth 36.28."""
    values = customer_values(published, PUBLISHED)
    summary = equity.equity_summary(values)
    assert summary["customers"] == 2357
    assert summary["customer_equity"] == pytest.approx(71509, rel=2e-3)
    assert summary["mean_p_alive"] == pytest.approx(0.8134, abs=5e-4)
    assert values.set_index("customer_id").loc["00004", "clv"] == pytest.approx(36.28, rel=2e-3)
    info = facts_info(published)
    for name, value in BG_NBD_PARAMS.items():
        assert info["params"][name] == pytest.approx(value, abs=1e-3)
    for name, value in GAMMA_GAMMA_PARAMS.items():
        assert info["spend_params"][name] == pytest.approx(value, rel=1e-3)


@pytest.mark.parametrize("change", [{"monthly_discount": 0.027}, {"horizon_months": 37}, {"default_margin": 0.42},
                                    {"monthly_discount": 0.0, "horizon_months": 60, "default_margin": 0.05}],
                         ids=["discount", "horizon", "margin", "all"])
def test_a_money_setting_reuses_the_facts_and_gives_a_full_recomputations_numbers(cdnow, counted, change):
    facts = customer_facts(cdnow, ScoreSettings(as_of=CALIBRATION_END))
    fitted = dict(counted)
    assert fitted["summary"] == fitted["validate"] == fitted["spend_fit"] == 1 and fitted["fit"] >= 1

    settings = ScoreSettings(as_of=CALIBRATION_END, **change)
    values = customer_values(facts, settings)
    assert counted == fitted  # no read of the transactions, no validation, no fit, no month table

    scratch, _ = compute_scores(cdnow, settings)  # every stage again, from the base
    assert counted["summary"] == 2 and counted["fit"] == 2 * fitted["fit"]
    pd.testing.assert_frame_equal(values, scratch, check_exact=True)


def test_values_equal_a_direct_month_by_month_discounting(published):
    """Independent of the month table: E[purchases] to each month end straight from the model for each
    customer, priced and discounted month by month as in model-anchors.md."""
    settings = ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", horizon_months=18, monthly_discount=0.02,
                             default_margin=0.25)
    values = customer_values(published, settings)
    s = published.summary
    months = np.arange(1, 19) * clv.UNITS_PER_MONTH["week"]
    cumulative = np.array([published.model.conditional_expected_purchases(m, s.frequency, s.recency, s["T"])
                           for m in months])
    monthly = np.diff(cumulative, axis=0, prepend=0.0)
    factor = 1.02 ** -np.arange(1, 19)
    spend = clv.expected_spend(published.spend_model, s.frequency, s.monetary_value)
    expected = spend * 0.25 * (factor @ monthly)
    np.testing.assert_allclose(values.clv, expected, rtol=1e-12)
    np.testing.assert_allclose(values.expected_purchases_horizon, cumulative[-1], rtol=1e-12)


def test_automatic_choice_validates_once(cdnow, counted):
    facts = customer_facts(cdnow, ScoreSettings(as_of=date(1998, 6, 30)))
    assert facts.choice.reason == "lowest_holdout_mae"
    assert facts.choice.model in ("bg_nbd", "pareto_nbd", "mbg_nbd")
    assert counted["validate"] == 1
    given = []
    customer_facts(cdnow, ScoreSettings(), validate=lambda *args: given.append(args) or None)
    assert counted["validate"] == 1 and len(given) == 1  # the app hands in its cached validation


def test_a_short_history_scores_with_bg_nbd_and_says_why(cdnow):
    facts = customer_facts(cdnow, ScoreSettings(as_of=date(1997, 3, 31)))
    assert (facts.choice.model, facts.choice.reason) == ("bg_nbd", "not_enough_history")
    assert facts.choice.numbers["min_history_days"] == scores.HOLDOUT_RULES["min_history_days"]


def test_clv_falls_with_the_discount_rate_and_rises_with_the_horizon(published):
    def equity_at(**changes):
        return customer_values(published, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", **changes)).clv.sum()

    base = equity_at()
    assert equity_at(monthly_discount=0.03) < base < equity_at(horizon_months=24)
    assert equity_at(default_margin=0.15) == pytest.approx(base / 2)


def test_known_margins_replace_the_default_rate(tmp_path):
    with Store(tmp_path / "m.duckdb") as store:
        lines = cdnow_lines()
        lines["gross_margin"] = (lines.amount * 0.5).where(lines.customer_id == "00004")
        with store.transaction() as cur:
            cur.register("lines", lines)
            cur.execute("INSERT INTO transactions (customer_id, order_date, amount, gross_margin) "
                        "SELECT customer_id, date, amount, gross_margin FROM lines")
        facts = customer_facts(store, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd"))
    low = customer_values(facts, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", default_margin=0.2))
    high = customer_values(facts, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd", default_margin=0.4))
    low, high = low.set_index("customer_id"), high.set_index("customer_id")
    assert low.loc["00004", "margin_rate"] == high.loc["00004", "margin_rate"] == pytest.approx(0.5, abs=1e-3)  # cents
    assert high.loc["00004", "clv"] == pytest.approx(low.loc["00004", "clv"])
    others = low.index != "00004"
    assert (low.margin_rate[others] == 0.2).all()
    assert high.clv[others].to_numpy() == pytest.approx(2 * low.clv[others].to_numpy())


def test_a_spend_model_that_cannot_be_fitted_leaves_clv_empty_and_says_why(cdnow, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ModelError("q_not_above_one")

    monkeypatch.setattr(scores.GammaGammaModel, "fit", refuse)
    facts = customer_facts(cdnow, ScoreSettings(model="bg_nbd"))
    frame = customer_values(facts, ScoreSettings(model="bg_nbd"))
    assert frame.clv.isna().all() and frame.expected_spend.isna().all() and frame.p_alive.notna().all()
    assert facts_info(facts)["spend_error"] == "q_not_above_one"
    assert equity.equity_summary(frame)["customer_equity"] is None


def test_an_empty_base_cannot_be_scored(tmp_path):
    with Store(tmp_path / "empty.duckdb") as store, pytest.raises(ModelError) as raised:
        customer_facts(store, ScoreSettings(model="bg_nbd"))
    assert raised.value.key == "too_few_customers"


def test_progress_reaches_one_through_translated_stages(cdnow):
    seen = []
    customer_facts(cdnow, ScoreSettings(), progress=lambda fraction, stage: seen.append((fraction, stage)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert {"summary", "validation", "fit", "spend", "score"} <= {stage for _, stage in seen}
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


def test_average_clv_and_the_bridge_to_the_model_value(published):
    values = customer_values(published, PUBLISHED)
    lines = cdnow_lines()
    revenue = lines[lines.date <= pd.Timestamp(CALIBRATION_END)].amount.sum()
    comparison = equity.clv_comparison(equity.comparison_inputs(values), marketing_spend=23_570.0,
                                       retention_cost=4_714.0)
    average = comparison["average"]
    assert average.acquisition_cost_per_customer == pytest.approx(10.0)
    assert average.average_clv == pytest.approx(revenue / 2357 - 10.0 - 2.0)
    steps = comparison["bridge"]
    assert steps[-1]["value"] == pytest.approx(values.clv.mean())
    assert sum(s["value"] for s in steps[:-1]) == pytest.approx(steps[-1]["value"])


def test_facts_info_records_what_the_facts_were_computed_with(published):
    info = facts_info(published)
    assert info["as_of"] == "1997-09-30" and info["customers"] == 2357 and info["unit"] == "week"
    assert info["model"] == "bg_nbd" and info["choice"]["reason"] == "chosen_in_settings"


def test_scoring_writes_nothing_to_the_base(tmp_path):
    with cdnow_base(tmp_path / "c.duckdb") as store:
        before = store.df("SELECT * FROM meta ORDER BY key")
        tables = store.df("SELECT table_name FROM information_schema.tables ORDER BY 1")
        compute_scores(store, ScoreSettings())
        pd.testing.assert_frame_equal(store.df("SELECT * FROM meta ORDER BY key"), before)
        pd.testing.assert_frame_equal(store.df("SELECT table_name FROM information_schema.tables ORDER BY 1"), tables)


def test_the_export_carries_names_next_to_the_id_most_valuable_first(tmp_path, published, cdnow):
    with cdnow.transaction() as cur:
        cur.execute("UPDATE customers SET name = '客户 ' || customer_id")
    values = customer_values(published, PUBLISHED)
    out = tmp_path / "scores.parquet"
    assert export_scores(cdnow, values, out) == 2357
    frame = pd.read_parquet(out)
    assert list(frame.columns[:2]) == ["customer_id", "name"]
    assert (frame.name == "客户 " + frame.customer_id).all()
    assert frame.clv.is_monotonic_decreasing
    assert frame.clv.sum() == pytest.approx(values.clv.sum(), rel=1e-12)


def test_groups_name_each_buyers_class_and_region(tmp_path):
    with cdnow_base(tmp_path / "g.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("UPDATE customers SET customer_class = CASE WHEN customer_id < '01000' THEN 'dealer' END, "
                        "region = 'r' || (CAST(customer_id AS INTEGER) % 3)")
        facts = customer_facts(store, ScoreSettings(as_of=CALIBRATION_END, model="bg_nbd"))
    ids = list(facts.summary.customer_id)
    assert list(facts.groups.customer_class.astype(str)) == ["dealer" if i < "01000" else "" for i in ids]
    assert list(facts.groups.region.astype(str)) == [f"r{int(i) % 3}" for i in ids]
