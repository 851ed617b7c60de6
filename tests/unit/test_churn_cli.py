"""Churn on the CDNOW sample through the command line, as a scheduler runs it: `score --as-of` adds the
churn columns and ignores later purchases; the default ranking beats (or ties) plain recency on the
customers' real next nine months; `alerts` prints the call list."""
import io
import json
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from crm_logic import churn
from crm_logic.store import Store
from tests.conftest import REPO
from tests.unit.cdnow_fixture import CALIBRATION_END, cdnow_base, cdnow_lines

CHURN_COLUMNS = ["churn_probability", "typical_gap_days", "days_since_last", "lateness", "churn_alert", "risk_band",
                 "lifecycle_state", "relationship_stage", "next_purchase_date", "value_at_risk"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "crm_logic", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def read_scores(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": str})


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("churn_cli") / "cdnow.duckdb"
    cdnow_base(path).close()
    return path


@pytest.fixture(scope="module")
def scored(db, tmp_path_factory):
    out = tmp_path_factory.mktemp("churn_scores") / "scores.csv"
    done = cli("score", "--db", db, "--as-of", CALIBRATION_END, "--out", out)
    assert done.returncode == 0, done.stderr
    return read_scores(out)


def pairwise_auc(risk: np.ndarray, left: np.ndarray) -> float:
    """P(a customer who left scores higher than one who came back), ties half: every pair counted."""
    pos, neg = risk[left][:, None], risk[~left][None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def test_score_adds_the_churn_columns(scored):
    assert set(CHURN_COLUMNS) <= set(scored.columns)
    assert len(scored) == 2357
    assert scored["churn_probability"].between(0, 1).all()
    assert set(scored["lifecycle_state"]) <= set(churn.LIFECYCLE_STATES)
    assert set(scored["risk_band"]) <= set(churn.RISK_BANDS)
    assert set(scored["relationship_stage"]) <= set(churn.STAGES)


def test_the_holdout_evaluation_runs_on_the_cdnow_history(db):
    with Store(db, read_only=True) as store:
        result = churn.evaluate(store, CALIBRATION_END, "week", "bg_nbd")
    # 1997-01-01 .. 1997-09-30 is 272 days: the later half (136 days) is held out
    assert result["calibration_end"] == date(1997, 5, 17) and result["holdout_days"] == 136
    assert set(result["signals"]["signal"]) == set(churn.SIGNALS)
    auc = result["signals"].set_index("signal")["auc"]
    assert result["best"] == auc.idxmax() and auc.drop("p_alive").between(0.5, 1).all()
    # the trap: under BG/NBD every one-time buyer has P(alive) = 1, and they are the likeliest to leave
    assert auc["p_alive"] < 0.5 < auc["recency"]
    assert len(result["lift"]) == 40 and result["calibration"]["customers"].sum() == result["customers"]


def test_default_ranking_predicts_the_next_nine_months_at_least_as_well_as_recency(scored):
    lines = cdnow_lines()
    end = pd.Timestamp(CALIBRATION_END)
    came_back = set(lines.loc[lines.date > end, "customer_id"])
    last = lines[lines.date <= end].groupby("customer_id").date.max()
    recency = (end - last).dt.days
    frame = scored.set_index("customer_id").loc[last.index]
    left = ~frame.index.isin(came_back)
    signal = frame["alert_signal"].iloc[0]
    column = {"recency": "days_since_last"}.get(signal, signal)
    risk = frame[column].to_numpy(dtype=float)
    ranking = pairwise_auc(1 - risk if signal == "p_alive" else risk, left)
    baseline = pairwise_auc(recency.to_numpy(dtype=float), left)
    assert baseline == pytest.approx(0.7714, abs=1e-3)  # recency from the raw file alone
    assert ranking >= baseline


def test_score_as_of_ignores_purchases_after_that_date(db, scored, tmp_path):
    with Store(db) as store, store.transaction() as cur:
        cur.execute("INSERT INTO transactions (customer_id, order_date, amount) VALUES "
                    "('00004', DATE '1997-10-01', 99.0), ('99999', DATE '1997-11-01', 10.0)")
        cur.execute("INSERT INTO customers (customer_id) VALUES ('99999')")
    out = tmp_path / "again.csv"
    done = cli("score", "--db", db, "--as-of", CALIBRATION_END, "--out", out)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(read_scores(out), scored)


def test_alerts_prints_the_alerted_customers_as_csv(db, scored):
    done = cli("alerts", "--db", db, "--as-of", CALIBRATION_END)
    assert done.returncode == 0, done.stderr
    alerts = pd.read_csv(io.StringIO(done.stdout), dtype={"customer_id": str})
    assert set(alerts["customer_id"]) == set(scored.loc[scored["churn_alert"], "customer_id"])
    assert alerts["value_at_risk"].is_monotonic_decreasing


def test_alerts_since_a_date_prints_only_the_new_ones(db):
    # the rhythm rule: a customer's alert fires on the day they pass 1.5 times their own rhythm
    done = cli("alerts", "--db", db, "--as-of", CALIBRATION_END, "--since", "1997-09-01", "--rule", "lateness")
    every = cli("alerts", "--db", db, "--as-of", CALIBRATION_END, "--rule", "lateness")
    assert done.returncode == 0 and every.returncode == 0, done.stderr + every.stderr
    fresh = pd.read_csv(io.StringIO(done.stdout), dtype={"customer_id": str})
    alerted = pd.read_csv(io.StringIO(every.stdout), dtype={"customer_id": str})
    assert 0 < len(fresh) < len(alerted) and set(fresh["customer_id"]) <= set(alerted["customer_id"])
    # only purchases up to 1997-09-01 counted then; with 29 fewer days each was under 1.5 times the rhythm
    # (or bought since); the rhythm of a customer with three or more purchase days is their own
    own = fresh[fresh["gap_source"] == "own"]
    late_then = (own["days_since_last"] - 29) / own["typical_gap_days"] >= 1.5
    last = pd.to_datetime(own["last_purchase"])
    assert not (late_then & (last <= pd.Timestamp("1997-09-01"))).any()


def test_alerts_refuses_a_since_after_the_analysis_date(db):
    done = cli("alerts", "--db", db, "--as-of", "1997-06-30", "--since", "1997-07-01")
    assert done.returncode == 2 and "--since" in done.stderr
