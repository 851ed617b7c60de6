"""One base, many writers: the app's Store (with `linger`) shares the file with the command line, and
imports of one file started at the same moment — two threads, or two processes — load it once."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from crm_logic import ingest
from crm_logic.store import BaseBusy, Store
from tests.conftest import REPO
from tests.unit.base_holder import held_base

ORDERS = "customer_id,order_date,amount\nA1,2024-01-05,10\nA2,2024-02-01,20.5\nA1,2024-03-01,7\n"
MORE = "customer_id,order_date,amount\nA3,2024-04-05,100\n"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "crm_logic", *map(str, args), "--lang", "en"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    orders, more = tmp_path / "orders.csv", tmp_path / "more.csv"
    orders.write_text(ORDERS, encoding="utf-8")
    more.write_text(MORE, encoding="utf-8")
    return orders, more


@pytest.fixture
def app_store(tmp_path):
    """A Store as the app keeps it: shared, let go of 50 ms after its last use."""
    store = Store(tmp_path / "shop.duckdb", linger=0.05)
    yield store
    store.close()


def test_the_command_line_reads_and_writes_a_base_the_app_has_open(app_store, files):
    assert app_store.scalar("SELECT count(*) FROM transactions") == 0
    version = app_store.dataset_version
    info = cli("info", "--db", app_store.path, "--wait", "30")
    assert info.returncode == 0, info.stderr
    done = cli("import", files[0], "--db", app_store.path, "--wait", "30")
    assert done.returncode == 0, done.stderr
    # the app keeps working, and sees the command line's rows (3 rows, 37.5: the file above)
    assert app_store.one("SELECT count(*), sum(amount)::DOUBLE FROM transactions") == (3, 37.5)
    assert app_store.dataset_version == version + 1


def test_the_command_line_reads_while_the_app_is_reading(app_store):
    with app_store.cursor() as cur:  # the app in the middle of a query: a read lock, shared
        assert cur.execute("SELECT count(*) FROM customers").fetchone() == (0,)
        info = cli("info", "--db", app_store.path, "--wait", "0")
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["transactions"] == 0


def test_the_app_says_who_holds_the_base(app_store):
    app_store.wait = 0.2
    with held_base(app_store.path) as holder:
        with pytest.raises(BaseBusy) as busy:
            app_store.scalar("SELECT count(*) FROM transactions")
    assert (busy.value.holder, busy.value.pid) == ("cli", holder.pid)
    assert busy.value.message("en") == (f"The base “shop” is being written by the command line "
                                        f"(python -m crm_logic, PID {holder.pid}); try again in a moment.")
    assert app_store.scalar("SELECT count(*) FROM transactions") == 0, "usable again once let go"


def test_a_read_waits_for_the_holder_to_let_go(app_store):
    app_store.wait = 60
    got = []
    with held_base(app_store.path):
        reader = threading.Thread(target=lambda: got.append(app_store.scalar("SELECT count(*) FROM customers")))
        reader.start()
    reader.join(timeout=120)
    assert got == [0]


def test_two_threads_importing_one_file_at_once_load_it_once(app_store, files):
    start = threading.Barrier(2)
    outcomes = []

    def run():
        start.wait()
        try:
            outcomes.append(ingest.import_files(app_store, [files[0]]).rows_loaded)
        except ingest.ImportRejected as rejected:
            outcomes.append([p.code for p in rejected.report.problems])

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes, key=str) == [3, ["already_imported"]]
    assert app_store.scalar("SELECT count(*) FROM transactions") == 3
    assert app_store.scalar("SELECT count(*) FROM imports") == 1


@pytest.mark.parametrize("existing", [True, False], ids=["existing base", "new base"])
def test_two_processes_importing_one_file_at_once_load_it_once(tmp_path, files, existing):
    db = tmp_path / "shop.duckdb"
    if existing:
        Store(db).close()
    command = [sys.executable, "-m", "crm_logic", "import", str(files[0]), "--db", str(db), "--wait", "60",
               "--lang", "en"]
    both = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in both]
    assert sorted(code for code, _ in results) == [0, 2], results
    refused = next(err for code, err in results if code)
    assert "already imported" in refused and "Traceback" not in refused
    info = json.loads(cli("info", "--db", db).stdout)
    assert (info["transactions"], info["revenue"]) == (3, 37.5)


def test_the_app_can_keep_figures_in_a_shared_base(tmp_path):
    """Derived figures (metrics.kept_in_base) are written under the write lock outside `transaction()`:
    through the app's read-only connection that write would fail."""
    from crm_logic import metrics
    from tests.unit.cdnow_fixture import cdnow_base

    cdnow_base(tmp_path / "c.duckdb").close()
    with Store(tmp_path / "c.duckdb", linger=0.05) as store:
        assert metrics.quality_facts(store)["rows"] == 6919
        assert store.scalar("SELECT count(*) FROM derived") == 1
