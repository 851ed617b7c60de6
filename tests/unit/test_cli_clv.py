"""`fit` and `score` as a scheduler runs them: subprocesses on a real DuckDB file holding the CDNOW sample."""
import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import REPO
from tests.unit.cdnow_fixture import BG_NBD_PARAMS, GAMMA_GAMMA_PARAMS, cdnow_base


def cli(*args):
    return subprocess.run([sys.executable, "-m", "crm_logic", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "cdnow.duckdb"
    cdnow_base(path).close()
    return path


def test_fit_bg_nbd_prints_the_published_parameters(db):
    done = cli("fit", "--db", db, "--model", "bg_nbd", "--calibration-end", "1997-09-30")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["model"] == "bg_nbd" and out["n_customers"] == 2357
    for name, published in BG_NBD_PARAMS.items():
        assert out["params"][name] == pytest.approx(published, abs=1e-3)
    assert out["log_likelihood"] == pytest.approx(-9582.429, abs=0.01)


def test_fit_gamma_gamma_uses_the_946_repeat_customers(db):
    done = cli("fit", "--db", db, "--model", "gamma_gamma", "--calibration-end", "1997-09-30")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["n_customers"] == 946
    for name, published in GAMMA_GAMMA_PARAMS.items():
        assert out["params"][name] == pytest.approx(published, rel=1e-3)


def test_score_writes_a_csv_with_bom_that_pandas_reads_back(db, tmp_path):
    out = tmp_path / "scores.csv"
    done = cli("score", "--db", db, "--as-of", "1997-09-30", "--model", "bg_nbd", "--out", out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"customer_id": str})
    assert len(frame) == 2357 and frame.columns[0] == "customer_id"
    assert frame.clv.sum() == pytest.approx(json.loads(done.stdout)["customer_equity"], rel=1e-9)
    assert "00004" in set(frame.customer_id)


@pytest.mark.parametrize("suffix, read", [("xlsx", pd.read_excel), ("parquet", pd.read_parquet)],
                         ids=["xlsx", "parquet"])
def test_score_writes_excel_and_parquet(db, tmp_path, suffix, read):
    out = tmp_path / f"scores.{suffix}"
    done = cli("score", "--db", db, "--as-of", "1997-09-30", "--model", "bg_nbd", "--out", out)
    assert done.returncode == 0, done.stderr
    frame = read(out)
    assert len(frame) == 2357 and {"customer_id", "clv", "p_alive"} <= set(frame.columns)


def test_score_refuses_an_unknown_file_type_before_writing(db, tmp_path):
    done = cli("score", "--db", db, "--model", "bg_nbd", "--out", tmp_path / "scores.txt")
    assert done.returncode != 0
    assert not (tmp_path / "scores.txt").exists()
