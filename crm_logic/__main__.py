"""The command line, for analysts and schedulers: python -m crm_logic {demo,import,info,...} --db PATH.

Each subcommand is a thin wrapper over the library; reports go to stderr, results (JSON) to stdout.
Use it while the app is stopped: only one process may open a base for writing.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crm_logic.store import Store


def cmd_demo(args) -> int:
    from crm_logic.demo import build_demo

    if args.if_missing and Path(args.db).exists():
        return 0
    with Store(args.db) as store:
        build_demo(store, customers=args.customers, seed=args.seed)
        print(json.dumps(base_facts(store)))
    return 0


def cmd_import(args) -> int:
    from crm_logic.ingest import ImportRejected, import_files

    mapping = json.loads(args.map) if args.map else None
    with Store(args.db) as store:
        try:
            result = import_files(
                store, [Path(f) for f in args.files], mapping=mapping, fmt=args.format,
                skip_invalid=args.skip_invalid, replace=args.replace,
            )
        except ImportRejected as rejected:
            print(rejected.report.render(args.lang), file=sys.stderr)
            return 2
        except ValueError as bad_mapping:  # an unknown field name in --map
            print(f"--map: {bad_mapping}", file=sys.stderr)
            return 2
        if result.report.problems:
            print(result.report.render(args.lang), file=sys.stderr)
        print(json.dumps(base_facts(store)))
    return 0


def base_facts(store: Store) -> dict:
    """The figures `info` prints: enough to check an import against the source file."""
    n_customers, n_tx, revenue, first, last = store.one(
        """SELECT (SELECT count(*) FROM customers), count(*), coalesce(sum(amount), 0),
                  min(order_date), max(order_date) FROM transactions"""
    )
    return {
        "customers": n_customers,
        "transactions": n_tx,
        "revenue": float(revenue),
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
        "dataset_version": store.dataset_version,
    }


def cmd_info(args) -> int:
    with Store(args.db, read_only=True) as store:
        print(json.dumps(base_facts(store)))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m crm_logic", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="build the seeded demo customer base")
    d.add_argument("--db", required=True)
    d.add_argument("--customers", type=int, default=5000)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--if-missing", action="store_true", help="do nothing when the file exists")
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("import", help="import order files (all or nothing unless --skip-invalid)")
    i.add_argument("files", nargs="+")
    i.add_argument("--db", required=True)
    i.add_argument("--map", help='JSON {"customer_id": "column", ...}')
    i.add_argument("--format", choices=["csv", "excel", "parquet", "cdnow"])
    i.add_argument("--skip-invalid", action="store_true")
    i.add_argument("--replace", action="store_true")
    i.add_argument("--lang", choices=["zh", "en"], default="en")
    i.set_defaults(func=cmd_import)

    n = sub.add_parser("info", help="print the base's figures as JSON")
    n.add_argument("--db", required=True)
    n.set_defaults(func=cmd_info)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
