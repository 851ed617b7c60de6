"""The command line, for analysts and schedulers: python -m crm_logic {demo,import,info,...} --db PATH.

Each subcommand is a thin wrapper over the library; reports go to stderr, results (JSON) to stdout.
Use it while the app is stopped: only one process may open a base for writing.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from crm_logic.i18n import translate
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


def cmd_fit(args) -> int:
    """Fit one model on the base (up to --calibration-end, if given) and print its parameters."""
    from crm_logic.clv import fit_spend_model
    from crm_logic.models import MODELS, ModelError
    from crm_logic.summary import customer_summary

    with Store(args.db, read_only=True) as store:
        summary = customer_summary(store, unit=args.unit, calibration_end=args.calibration_end, orders=False)
    try:
        if args.model == "gamma_gamma":
            model = fit_spend_model(summary)
        else:
            model = MODELS[args.model]().fit(summary.frequency, summary.recency, summary["T"])
    except ModelError as error:
        print(translate(f"clv.error.{error.key}", args.lang), file=sys.stderr)
        return 2
    print(json.dumps({
        "model": args.model,
        "params": {k: float(v) for k, v in model.params_.items()},
        "log_likelihood": float(model.log_likelihood_),
        "n_customers": int(model.n_customers_),
    }))
    return 0


# The rooms whose per-customer columns `score` adds: functions (store, facts, values, as_of) -> a frame
# keyed by customer_id. Each room adds its own entry.
def _segments(store, facts, values, as_of):
    from crm_logic.tiers import score_segments

    return score_segments(store, facts, values, as_of)


def _alliance_columns(store, facts, values, as_of):
    from crm_logic.alliance import score_columns

    return score_columns(store, facts, values, as_of)


def _churn_columns(store, facts, values, as_of):
    from crm_logic.churn import score_columns

    return score_columns(store, facts, values, as_of)


SCORE_TABLES: list = [_segments, _churn_columns, _alliance_columns]


def cmd_score(args) -> int:
    """Score every customer under the given settings and write them to --out (.csv with BOM, .xlsx,
    .parquet), with each room's columns (SCORE_TABLES)."""
    from crm_logic.equity import equity_summary
    from crm_logic.models import ModelError
    from crm_logic.scores import EXPORT_WRITERS, ScoreSettings, customer_facts, customer_values, export_scores

    if Path(args.out).suffix.lower() not in EXPORT_WRITERS:
        print(f"--out must end in one of {', '.join(EXPORT_WRITERS)}", file=sys.stderr)
        return 2
    given = {name: getattr(args, name) for name in
             ("as_of", "unit", "model", "horizon_months", "monthly_discount", "default_margin")}
    try:
        settings = ScoreSettings(**{name: value for name, value in given.items() if value is not None})
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    with Store(args.db, read_only=True) as store:  # scores are not kept in the base
        try:
            facts = customer_facts(store, settings)
        except ModelError as error:
            print(translate(f"clv.error.{error.key}", args.lang), file=sys.stderr)
            return 2
        values = customer_values(facts, settings)
        extra = [table(store, facts, values, facts.as_of) for table in SCORE_TABLES]
        rows = export_scores(store, values, Path(args.out), extra)
        print(json.dumps({
            "out": str(args.out), "rows": rows, "model": facts.choice.model, "as_of": facts.as_of.isoformat(),
            "customer_equity": equity_summary(values)["customer_equity"],
        }))
    return 0


def cmd_alerts(args) -> int:
    """Print, as CSV on stdout, the customers whose churn alert fires at --as-of and did not at --since
    (every alerted customer without --since), most value at risk first: a scheduled job's call list."""
    from crm_logic.churn import churn_table, new_alerts, segment_frame
    from crm_logic.exports import neutralise
    from crm_logic.models import ModelError
    from crm_logic.scores import ScoreSettings, customer_facts, customer_values

    settings = ScoreSettings(as_of=args.as_of)
    with Store(args.db, read_only=True) as store:
        try:
            facts = customer_facts(store, settings)
        except ModelError as error:
            print(translate(f"clv.error.{error.key}", args.lang), file=sys.stderr)
            return 2
        if args.since is not None and args.since >= facts.as_of:
            print("--since must be before the analysis date", file=sys.stderr)
            return 2
        values = customer_values(facts, settings)
        segments = segment_frame(store, values, facts.as_of)
        rules = {"alert_rule": args.rule} if args.rule else None
        table = churn_table(store, facts, values, facts.as_of, rules, segments=segments)
        fired = table[table["churn_alert"]] if args.since is None else \
            new_alerts(facts, table, args.since, rules)
        names = store.df("SELECT customer_id, name FROM customers")
    out = fired.merge(names, on="customer_id", how="left").merge(
        values[["customer_id", "last_purchase", "p_alive"]], on="customer_id", how="left")
    columns = ["customer_id", "name", "value_at_risk", "revenue_12m", "last_purchase", "days_since_last",
               "typical_gap_days", "gap_source", "lateness", "churn_probability", "p_alive", "alert_signal",
               "lifecycle_state", "risk_band", "relationship_stage", "last_contact"]
    out = out.sort_values(["value_at_risk", "revenue_12m"], ascending=False, na_position="last")[columns]
    neutralise(out).to_csv(sys.stdout, index=False)
    print(f"{len(out)} customers alerted as of {facts.as_of}", file=sys.stderr)
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

    f = sub.add_parser("fit", help="fit one model and print its parameters as JSON")
    f.add_argument("--db", required=True)
    f.add_argument("--model", required=True, choices=["bg_nbd", "pareto_nbd", "mbg_nbd", "gamma_gamma"])
    f.add_argument("--unit", choices=["day", "week", "month"], default="week")
    f.add_argument("--calibration-end", type=date.fromisoformat, help="fit on purchases up to this date")
    f.add_argument("--lang", choices=["zh", "en"], default="en")
    f.set_defaults(func=cmd_fit)

    c = sub.add_parser("score", help="score every customer and write the scores to a file (settings left out "
                                     "take the defaults of crm_logic.scores.ScoreSettings)")
    c.add_argument("--db", required=True)
    c.add_argument("--out", required=True, help="a .csv (UTF-8 with BOM), .xlsx or .parquet file")
    c.add_argument("--as-of", type=date.fromisoformat, help="analysis date (default: the last order date)")
    c.add_argument("--unit", choices=["day", "week", "month"])
    c.add_argument("--model", choices=["auto", "bg_nbd", "pareto_nbd", "mbg_nbd"])
    c.add_argument("--horizon-months", type=int)
    c.add_argument("--monthly-discount", type=float)
    c.add_argument("--default-margin", type=float)
    c.add_argument("--lang", choices=["zh", "en"], default="en")
    c.set_defaults(func=cmd_score)

    a = sub.add_parser("alerts", help="print the customers whose churn alert fired, as CSV on stdout")
    a.add_argument("--db", required=True)
    a.add_argument("--as-of", type=date.fromisoformat, help="analysis date (default: the last order date)")
    a.add_argument("--since", type=date.fromisoformat, help="only alerts that were not firing on this date")
    a.add_argument("--rule", choices=["auto", "churn_probability", "p_alive", "lateness", "recency"],
                   help="the signal that raises the alert (default auto: the best on the base's own history)")
    a.add_argument("--lang", choices=["zh", "en"], default="en")
    a.set_defaults(func=cmd_alerts)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
