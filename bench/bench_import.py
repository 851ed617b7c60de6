"""Import of a large CSV order export: ours (read, check every row, load) against DuckDB's own read_csv.

    ../.venv/bin/python bench_import.py                 # 2M and 10M rows (make -C bench import)
    ../.venv/bin/python bench_import.py --rows 200000   # a quick look

Each measurement runs in its own fresh process (wall time; that process's CPU time and peak RSS from os.wait4:
the CPU ratio moves less than the wall-time ratio when other work shares the cores), one
after the other, on the same generated file: `read_csv` is `CREATE TABLE t AS SELECT * FROM read_csv(file)`
into a new DuckDB file (DuckDB's own sniffing and parallel reader), `ours` is `crm_logic.ingest.import_files`
into a new base. The file is a line-level export (two lines per order, a status column, amounts with two
decimals, timestamps with time of day). The revenue ours loads is checked against DuckDB's sum of the file.
Results: bench/out/import.md and import.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
GOAL_RATIO, GOAL_MB = 3.0, 1024


def generate(rows: int, path: Path) -> None:
    """Deterministic line export written by DuckDB (fast): order_id, customer_id, order_date, category, quantity,
    amount, status; the two lines of an order share customer and timestamp."""
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"""COPY (
            SELECT 'SO' || (i // 2) AS order_id, 'C' || (hash(i // 2) % 1000000) AS customer_id,
                   strftime(TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i // 2 + 7) % 31536000 AS BIGINT)),
                            '%Y-%m-%d %H:%M:%S') AS order_date,
                   'cat' || (hash(i + 3) % 40) AS category, 1 + hash(i + 5) % 4 AS quantity,
                   printf('%.2f', (hash(i + 11) % 100000) / 100.0) AS amount, 'completed' AS status
            FROM range({int(rows)}) t(i)) TO '{path}' (HEADER, DELIMITER ',')""")


def child(mode: str, csv_path: str, db_path: str) -> None:
    """One measured run (in a fresh process)."""
    if mode == "read_csv":
        import duckdb

        with duckdb.connect(db_path) as con:
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [csv_path])
            rows, revenue = con.execute("SELECT count(*), sum(amount) FROM t").fetchall()[0]
    else:
        sys.path.insert(0, str(REPO))
        from crm_logic.ingest import import_files
        from crm_logic.store import Store

        with Store(db_path) as store:
            import_files(store, [Path(csv_path)])
            rows, revenue = store.one("SELECT count(*), CAST(sum(amount) AS DOUBLE) FROM transactions")
    Path(db_path + ".json").write_text(json.dumps({"rows": rows, "revenue": float(revenue)}))


def measured(mode: str, csv_path: Path, work: Path) -> dict:
    db = work / f"{mode}.duckdb"
    for stale in (db, Path(f"{db}.wal"), Path(f"{db}.json")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "CRM_INGEST_DIR": str(work / "scratch")}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, str(csv_path), str(db)], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{mode} on {csv_path} failed")
    result = json.loads(Path(f"{db}.json").read_text())
    db.unlink(missing_ok=True)
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 10_000_000])
    parser.add_argument("--child", nargs=3, metavar=("MODE", "CSV", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    work = OUT / "import"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in args.rows:
        csv_path = work / f"orders_{rows}.csv"
        if not csv_path.exists():
            generate(rows, csv_path)
        base, ours = measured("read_csv", csv_path, work), measured("ours", csv_path, work)
        assert ours["rows"] == base["rows"] == rows, (ours, base)
        assert abs(ours["revenue"] - base["revenue"]) < 0.01 * rows, (ours, base)  # cents of rounding at most
        results.append({"rows": rows, "file_mb": csv_path.stat().st_size / 2**20, "read_csv": base, "ours": ours,
                        "ratio": ours["seconds"] / base["seconds"],
                        "cpu_ratio": ours["cpu_seconds"] / base["cpu_seconds"]})
    lines = ["| rows | file | DuckDB read_csv: time, CPU, peak RSS | ours: time, CPU, peak RSS | ratio (goal ≤ 3×) | "
             "CPU ratio | ours < 1 GB |", "|---|---|---|---|---|---|---|"]
    for r in results:
        base, ours = r["read_csv"], r["ours"]
        lines.append(f"| {r['rows']:,} | {r['file_mb']:.0f} MB | {base['seconds']:.1f} s, {base['cpu_seconds']:.1f} s, "
                     f"{base['peak_mb']:.0f} MB | {ours['seconds']:.1f} s, {ours['cpu_seconds']:.1f} s, "
                     f"{ours['peak_mb']:.0f} MB | {r['ratio']:.2f}× | {r['cpu_ratio']:.2f}× | "
                     f"{'yes' if ours['peak_mb'] < GOAL_MB else 'no'} |")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = "\n".join(lines) + f"\n\nMachine: {machine}.\n"
    (OUT / "import.md").write_text(text)
    (OUT / "import.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    print(text)


if __name__ == "__main__":
    main()
