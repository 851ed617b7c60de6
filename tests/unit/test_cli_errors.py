"""Every command-line error is one line on stderr, a non-zero exit, no traceback, and no new file."""
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.unit.base_holder import held_base

CDNOW_SAMPLE = REPO / "data" / "cdnow" / "CDNOW_sample.txt"


def cli(*args, lang="en"):
    return subprocess.run([sys.executable, "-m", "crm_logic", *map(str, args), "--lang", lang], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def one_line_error(done) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr and "File \"" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert done.stdout == ""
    return lines[0]


@pytest.fixture
def base(tmp_path):
    db = tmp_path / "c.duckdb"
    assert cli("import", CDNOW_SAMPLE, "--db", db).returncode == 0
    return db


@pytest.mark.parametrize("lang, words", [("en", "No such file"), ("zh", "找不到文件")])
def test_a_missing_input_file_creates_no_base(tmp_path, lang, words):
    db = tmp_path / "new.duckdb"
    line = one_line_error(cli("import", tmp_path / "nowhere.csv", "--db", db, lang=lang))
    assert words in line and "nowhere.csv" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mapping", ['{"customer_id": ', '["customer_id"]', '{"customer_id": 3}'])
def test_bad_map_json_is_one_line_and_creates_nothing(tmp_path, mapping):
    db = tmp_path / "new.duckdb"
    line = one_line_error(cli("import", CDNOW_SAMPLE, "--db", db, "--map", mapping))
    assert line.startswith("--map must be a JSON object")
    assert not db.exists()


def test_an_unknown_field_in_map_is_one_line(tmp_path):
    db = tmp_path / "new.duckdb"
    orders = tmp_path / "o.csv"
    orders.write_text("id,day,money\nA,2024-01-02,3\n", encoding="utf-8")
    line = one_line_error(cli("import", orders, "--db", db, "--map", '{"customer_idd": "id"}'))
    assert line.startswith("--map:") and "customer_idd" in line
    assert not db.exists()


def test_a_rejected_import_into_a_new_base_leaves_no_file(tmp_path):
    db = tmp_path / "new.duckdb"
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\nA1,2024-13-45,20\n", encoding="utf-8")
    done = cli("import", bad, "--db", db)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


@pytest.mark.parametrize("command", [["info"], ["fit", "--model", "bg_nbd"], ["score", "--out", "x.csv"]])
def test_an_unknown_base_is_one_line_and_is_not_created(tmp_path, command):
    db = tmp_path / "nope.duckdb"
    line = one_line_error(cli(command[0], "--db", db, *command[1:]))
    assert line == f"There is no customer base at {db}."
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_base_is_one_line(tmp_path):
    db = tmp_path / "notes.duckdb"
    db.write_text("not a database", encoding="utf-8")
    line = one_line_error(cli("info", "--db", db))
    assert line.startswith(f"{db} is not a customer base")
    assert db.read_text(encoding="utf-8") == "not a database"


@pytest.mark.parametrize("args", [["score", "--out", "x.csv", "--as-of", "2024-13-01"],
                                  ["fit", "--model", "bg_nbd", "--calibration-end", "30/09/1997"]])
def test_a_bad_date_is_one_line(base, args):
    before = json.loads(cli("info", "--db", base).stdout)
    line = one_line_error(cli(args[0], "--db", base, *args[1:]))
    assert "is not a date written YYYY-MM-DD" in line
    assert json.loads(cli("info", "--db", base).stdout) == before


def test_a_base_held_by_another_program_is_refused_in_one_sentence_saying_who(base):
    with held_base(base) as holder:
        done = cli("import", CDNOW_SAMPLE, "--db", base, "--wait", "0.3")
        line = one_line_error(done)
        assert done.returncode == 75, "EX_TEMPFAIL: a scheduler may retry"
        assert line == (f"The base “c” is being written by the command line (python -m crm_logic, "
                        f"PID {holder.pid}); try again in a moment.")
        zh = one_line_error(cli("info", "--db", base, "--wait", "0.3", lang="zh"))
        assert zh == f"客户库“c”正被命令行（python -m crm_logic，进程 {holder.pid}）写入；请稍后重试。"  # noqa: E501
    after = json.loads(cli("info", "--db", base).stdout)
    assert after["transactions"] == 6919, "the refused import wrote nothing; the base is readable again"


def test_reading_choices_are_flags_and_a_bad_one_is_one_line(tmp_path):
    db = tmp_path / "eu.duckdb"
    orders = tmp_path / "eu.csv"
    orders.write_text("customer_id,order_date,amount\nD1,05/06/2024,10\nD2,03/04/2024,20\n", encoding="utf-8")
    asked = cli("import", orders, "--db", db)
    assert asked.returncode == 2 and "[ambiguous_dates]" in asked.stderr and not db.exists()
    line = one_line_error(cli("import", orders, "--db", db, "--date-order", "dmx"))
    assert line.startswith("Import option: date_order must be one of")
    done = cli("import", orders, "--db", db, "--date-order", "dmy")
    assert done.returncode == 0, done.stderr
    # 05/06/2024 and 03/04/2024 read day first: 5 June and 3 April
    assert json.loads(done.stdout) | {"dataset_version": 1} == {
        "customers": 2, "transactions": 2, "revenue": 30.0, "first_date": "2024-04-03", "last_date": "2024-06-05",
        "dataset_version": 1}
