"""What sharing a base with the command line costs the app (crm_logic.store, issue 9).

The app's Store reads through a read-only connection and lets go of the file `linger` seconds after its
last use; the first query after an idle spell pays for opening the file again. This measures, on a base
of the demo company (or --db), the median of:

- a small query on a connection already open (every query within a run of the app),
- the same query when the file has been let go (the first query of a run after a second idle),
- the Overview's queries (badge, KPIs, monthly chart) warm and after idle,
- `python -m crm_logic info` while the app's Store is idle, and while it is in the middle of a read.

    .venv/bin/python bench/bench_store_sharing.py [--db PATH] [--repeats 15]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crm_logic import metrics  # noqa: E402
from crm_logic.demo import build_demo  # noqa: E402
from crm_logic.store import Store  # noqa: E402


def median_ms(fn, repeats: int, before=None) -> float:
    times = []
    for _ in range(repeats):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if args.db:
        path = Path(args.db)
    else:
        path = Path(tempfile.mkdtemp()) / "demo.duckdb"
        with Store(path) as store:
            build_demo(store)
    store = Store(path, linger=3600)  # let go only when told to, below
    as_of = store.info().last_date

    def small():
        store.dataset_version

    def overview():
        store.info()
        metrics.overview_kpis(store, as_of)
        metrics.monthly_new_vs_returning(store, as_of)

    def let_go():
        store.close()

    def cli_info():
        done = subprocess.run([sys.executable, "-m", "crm_logic", "info", "--db", str(path), "--wait", "0"],
                              cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    small()
    rows = [
        ("small query, file open", median_ms(small, args.repeats * 10)),
        ("small query, file let go (reopen read-only)", median_ms(small, args.repeats, let_go)),
        ("Overview queries, file open", median_ms(overview, args.repeats)),
        ("Overview queries, file let go", median_ms(overview, args.repeats, let_go)),
        ("CLI info, app idle (process start included)", median_ms(cli_info, 5, let_go)),
    ]
    with store.cursor():  # the app in the middle of a read: a shared lock
        rows.append(("CLI info, app reading (process start included)", median_ms(cli_info, 5)))
    print(f"base: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    for name, ms in rows:
        print(f"{name:50s} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
