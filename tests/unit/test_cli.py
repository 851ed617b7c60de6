"""The command line as a scheduler runs it: a subprocess on a real DuckDB file."""
import json
import subprocess
import sys

from tests.conftest import REPO

CDNOW_SAMPLE = REPO / "data" / "cdnow" / "CDNOW_sample.txt"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "crm_logic", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_import_then_info_reports_the_cdnow_figures(tmp_path):
    db = tmp_path / "c.duckdb"
    done = cli("import", CDNOW_SAMPLE, "--db", db)
    assert done.returncode == 0, done.stderr
    info = json.loads(cli("info", "--db", db).stdout)
    # 6,919 rows, 2,357 customers, $244,091.94: data/cdnow/README.md and an independent pandas read
    assert (info["transactions"], info["customers"]) == (6919, 2357)
    assert round(info["revenue"], 2) == 244091.94
    assert (info["first_date"], info["last_date"]) == ("1997-01-01", "1998-06-30")
    assert info["dataset_version"] >= 1


def test_a_rejected_import_exits_non_zero_with_the_report_and_changes_nothing(tmp_path):
    db = tmp_path / "c.duckdb"
    assert cli("import", CDNOW_SAMPLE, "--db", db).returncode == 0
    before = json.loads(cli("info", "--db", db).stdout)
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\nA1,2024-01-05,10\nA2,2024-13-45,20\n", encoding="utf-8")
    done = cli("import", bad, "--db", db, "--lang", "en")
    assert done.returncode != 0
    assert "bad.csv, row 3, column order_date" in done.stderr and "2024-13-45" in done.stderr
    assert json.loads(cli("info", "--db", db).stdout) == before


def test_skip_invalid_and_an_explicit_mapping(tmp_path):
    db = tmp_path / "m.duckdb"
    orders = tmp_path / "orders.csv"
    orders.write_text("会员号,日子,钱\nA1,2024-01-05,10\nA2,not a date,20\nA3,2024-02-01,30.5\n", encoding="gbk")
    done = cli("import", orders, "--db", db, "--skip-invalid",
               "--map", json.dumps({"customer_id": "会员号", "order_date": "日子", "amount": "钱"}))
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["transactions"], info["customers"], info["revenue"]) == (2, 2, 40.5)


def test_demo_builds_a_base_and_if_missing_leaves_it_alone(tmp_path):
    db = tmp_path / "demo.duckdb"
    assert cli("demo", "--db", db, "--customers", "300", "--seed", "5").returncode == 0
    first = json.loads(cli("info", "--db", db).stdout)
    assert first["customers"] >= 300 and first["transactions"] > 300
    assert cli("demo", "--db", db, "--customers", "900", "--if-missing").returncode == 0
    assert json.loads(cli("info", "--db", db).stdout) == first
