"""The models against the published CDNOW figures (../docs: model-anchors.md, from Fader, Hardie & Lee
2005; Fader & Hardie 2013; Batislam et al. 2007), on a calibration summary built with pandas alone."""
import pickle

import numpy as np
import pandas as pd
import pytest

from crm_logic.models import MODELS, BetaGeoModel, GammaGammaModel, ModelError, ModifiedBetaGeoModel, ParetoNBDModel
from tests.unit.cdnow_fixture import BG_NBD_PARAMS, CALIBRATION_END, HOLDOUT_END, cdnow_lines, pandas_summary


@pytest.fixture(scope="module")
def calibration():
    return pandas_summary(CALIBRATION_END)


@pytest.fixture(scope="module")
def published_bg():
    return BetaGeoModel.from_params(BG_NBD_PARAMS)


def test_the_calibration_summary_is_the_published_one(calibration):
    assert len(calibration) == 2357
    assert calibration.frequency.sum() == 2457
    assert (calibration.frequency > 0).sum() == 946


@pytest.mark.parametrize(
    "name, published, ll, rel",
    [
        ("bg_nbd", BG_NBD_PARAMS, -9582.429, 1e-3),
        ("mbg_nbd", {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, -9582.13, 1e-3),
        ("pareto_nbd", {"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150}, -9594.976, 1e-3),
    ],
    ids=["BG/NBD", "modified BG/NBD", "Pareto/NBD"],
)
def test_fit_reproduces_the_published_parameters(calibration, name, published, ll, rel):
    model = MODELS[name]().fit(calibration.frequency, calibration.recency, calibration["T"])
    for key, value in published.items():
        tolerance = 0.02 if key == "beta" else rel  # Pareto/NBD's beta sits on a flat ridge (model-anchors.md)
        assert model.params_[key] == pytest.approx(value, rel=tolerance), key
    assert model.log_likelihood_ == pytest.approx(ll, abs=0.01)
    assert model.n_customers_ == 2357
    assert all(se > 0 for se in model.standard_errors_.values())


def test_gamma_gamma_reproduces_fader_hardie_2013(calibration):
    model = GammaGammaModel().fit(calibration.frequency, calibration.monetary_value)
    for key, value in {"p": 6.2496, "q": 3.7442, "gamma": 15.4435}.items():
        assert model.params_[key] == pytest.approx(value, rel=1e-3), key
    assert model.log_likelihood_ == pytest.approx(-4055.9177, abs=0.01)
    assert model.n_customers_ == 946
    assert model.population_mean_spend() == pytest.approx(35.17, abs=0.01)


@pytest.mark.parametrize("t, expected", [(1, 0.0532), (3, 0.1506), (32, 1.0437), (52, 1.444004), (78, 1.8576)])
def test_unconditional_expected_purchases(published_bg, t, expected):
    assert float(published_bg.expected_purchases(t)) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("x, t_x, T, t, purchases, alive", [
    (26, 30.857, 31, 52, 25.75659, 0.9688523),
    (2, 30.43, 38.86, 39, 1.226, 0.7266),
])
def test_conditional_predictions_for_the_named_customers(published_bg, x, t_x, T, t, purchases, alive):
    assert float(published_bg.conditional_expected_purchases(t, x, t_x, T)) == pytest.approx(purchases, rel=1e-3)
    assert float(published_bg.conditional_probability_alive(x, t_x, T)) == pytest.approx(alive, rel=1e-3)


def test_mean_p_alive_over_the_sample(published_bg, calibration):
    p = published_bg.conditional_probability_alive(calibration.frequency, calibration.recency, calibration["T"])
    assert p.mean() == pytest.approx(0.8134, abs=5e-4)


def holdout_table(model, calibration):
    lines = cdnow_lines()
    later = lines[(lines.date > str(CALIBRATION_END)) & (lines.date <= str(HOLDOUT_END))]
    actual = later.groupby("customer_id").date.nunique().reindex(calibration.index, fill_value=0)
    expected = model.conditional_expected_purchases(39, calibration.frequency, calibration.recency, calibration["T"])
    bins = calibration.frequency.clip(upper=7)
    return actual.groupby(bins).agg(["size", "mean"]).assign(model=pd.Series(expected, index=bins.index).groupby(bins).mean())


@pytest.mark.parametrize("name, column", [("bg_nbd", 3), ("pareto_nbd", 4)], ids=["BG/NBD", "Pareto/NBD"])
def test_holdout_table_by_calibration_frequency(calibration, name, column):
    published = {  # x: customers, actual mean, BG/NBD, Pareto/NBD (model-anchors.md)
        0: (1411, 0.2367, 0.2251, 0.138), 1: (439, 0.6970, 0.5231, 0.600), 2: (214, 1.3925, 1.0441, 1.196),
        3: (100, 1.5600, 1.5203, 1.714), 4: (62, 2.5323, 2.1638, 2.399), 5: (38, 2.9474, 2.6538, 2.907),
        6: (29, 3.8621, 3.5040, 3.819), 7: (64, 6.3594, 6.1570, 6.403),
    }
    model = MODELS[name]().fit(calibration.frequency, calibration.recency, calibration["T"])
    table = holdout_table(model, calibration)
    for x, row in published.items():
        assert table.loc[x, "size"] == row[0]
        assert table.loc[x, "mean"] == pytest.approx(row[1], abs=5e-4)
        assert table.loc[x, "model"] == pytest.approx(row[column - 1], abs=6e-3), x


def test_probabilities_of_purchase_counts_sum_to_one_and_average_to_the_expectation(calibration):
    for model in (BetaGeoModel.from_params(BG_NBD_PARAMS),
                  ModifiedBetaGeoModel.from_params({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
                  ParetoNBDModel.from_params({"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150})):
        p = np.array([model.probability_of_purchases(52, n) for n in range(150)])
        assert p.sum() == pytest.approx(1, abs=1e-4)
        assert (np.arange(150) @ p) == pytest.approx(float(model.expected_purchases(52)), rel=2e-3)


def test_a_below_one_is_kept_not_clipped(calibration):
    model = BetaGeoModel().fit(calibration.frequency, calibration.recency, calibration["T"])
    assert model.params_["a"] < 1
    assert np.all(np.isfinite(model.conditional_expected_purchases(52, calibration.frequency,
                                                                   calibration.recency, calibration["T"])))


def test_hopeless_data_raise_a_model_error_not_nan():
    with pytest.raises(ModelError) as error:
        BetaGeoModel().fit([0] * 50, [0] * 50, [10] * 50)
    assert error.value.key == "too_few_customers"
    with pytest.raises(ModelError) as error:
        GammaGammaModel().fit([1, 2], [10.0, 12.0])
    assert error.value.key == "too_few_customers"


def test_a_fitted_model_pickles_with_its_standard_errors():
    """The app caches fitted models (pickle); the numerically fitted ones compute their errors lazily."""
    x, t_x, T = (np.array(v, dtype=float) for v in ([0, 1, 2, 5, 0, 3, 1, 0, 4, 2, 1, 0],
                                                    [0, 3, 8, 20, 0, 15, 2, 0, 30, 9, 12, 0],
                                                    [30, 25, 40, 38, 20, 35, 33, 28, 39, 22, 31, 26]))
    model = ParetoNBDModel().fit(x, t_x, T)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.params_ == model.params_
    assert copy.standard_errors_ == model.standard_errors_
