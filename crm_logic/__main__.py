"""The command line, for analysts and schedulers: python -m crm_logic {demo,import,info,...} --db PATH.

Each subcommand is a thin wrapper over the library; reports go to stderr, results (JSON) to stdout.
It shares a base with a running app: the app lets go of the file when idle, and a command waits up to
--wait seconds for the other side. Every error is one line on stderr (never a traceback) and a non-zero
exit: 2 for a wrong input, 75 (EX_TEMPFAIL, worth a retry) when the base stays busy; a failed command
leaves no new file behind.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

import duckdb

from crm_logic.i18n import language_from_locale, translate
from crm_logic.store import BaseBusy, BaseMissing, Store

EXIT_INPUT, EXIT_BUSY = 2, 75


class Refused(Exception):
    """A one-line refusal: the message key of locales/*/cli.toml and its values."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key, self.values = key, values


def open_base(args, read_only: bool = False) -> Store:
    """The base of --db; a read never creates one."""
    return Store(args.db, read_only=read_only, wait=args.wait)


def existing_base(args) -> Store:
    """A base that must already exist, opened for reading (score writes only its file)."""
    if not Path(args.db).exists():
        raise BaseMissing(Path(args.db))
    return open_base(args, read_only=True)


def cmd_demo(args) -> int:
    from crm_logic.demo import build_demo

    if args.if_missing and Path(args.db).exists():
        return 0
    with open_base(args) as store:
        build_demo(store, customers=args.customers, seed=args.seed)
        print(json.dumps(base_facts(store)))
    return 0


def cmd_import(args) -> int:
    from crm_logic.ingest import ImportOptions, ImportRejected, import_files

    mapping = parse_map(args.map)
    chosen = {name: getattr(args, name) for name in OPTION_FLAGS if getattr(args, name) is not None}
    try:
        options = ImportOptions(**chosen, status_classes=parse_map(args.status, "cli.bad_status") or {})
    except ValueError as bad_option:
        raise Refused("cli.bad_option", reason=bad_option) from None
    for name in args.files:
        if not Path(name).is_file():
            raise Refused("cli.missing_file", path=name)
    with open_base(args) as store:
        try:
            result = import_files(
                store, [Path(f) for f in args.files], mapping=mapping, fmt=args.format,
                skip_invalid=args.skip_invalid, replace=args.replace, options=options,
            )
        except ImportRejected as rejected:
            print(rejected.report.render(args.lang), file=sys.stderr)
            return EXIT_INPUT
        except ValueError as bad_mapping:  # an unknown field name in --map
            raise Refused("cli.bad_field", reason=bad_mapping) from None
        if result.report.problems:
            print(result.report.render(args.lang), file=sys.stderr)
        print(json.dumps(base_facts(store)))
    return 0


def parse_map(text: str | None, refusal: str = "cli.bad_map") -> dict | None:
    """A JSON object of names to names (or null), as --map and --status take it."""
    if not text:
        return None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as error:
        raise Refused(refusal, reason=error) from None
    if not isinstance(mapping, dict) or not all(isinstance(v, (str, type(None))) for v in mapping.values()):
        raise Refused(refusal, reason=text)
    return mapping


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
    with open_base(args, read_only=True) as store:
        print(json.dumps(base_facts(store)))
    return 0


def cmd_fit(args) -> int:
    """Fit one model on the base (up to --calibration-end, if given) and print its parameters."""
    from crm_logic.clv import fit_spend_model
    from crm_logic.models import MODELS, ModelError
    from crm_logic.summary import customer_summary

    with open_base(args, read_only=True) as store:
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
        return EXIT_INPUT
    given = {name: getattr(args, name) for name in
             ("as_of", "unit", "model", "horizon_months", "monthly_discount", "default_margin")}
    try:
        settings = ScoreSettings(**{name: value for name, value in given.items() if value is not None})
    except ValueError as error:
        print(error, file=sys.stderr)
        return EXIT_INPUT
    with existing_base(args) as store:
        try:
            facts = customer_facts(store, settings)
        except ModelError as error:
            print(translate(f"clv.error.{error.key}", args.lang), file=sys.stderr)
            return 2
        values = customer_values(facts, settings)
        extra = [table(store, facts, values, facts.as_of) for table in SCORE_TABLES]
        try:
            rows = export_scores(store, values, Path(args.out), extra)
        except OSError as error:
            raise Refused("cli.cannot_write", path=args.out, reason=error.strerror or error) from None
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
    with open_base(args, read_only=True) as store:
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


def cmd_scenario(args) -> int:
    """Apply --levers to the base's fitted model and print the scenario against the baseline as JSON."""
    from crm_logic import scenarios
    from crm_logic.models import ModelError
    from crm_logic.scores import ScoreSettings, customer_facts, customer_values
    from crm_logic.tiers import segment_table

    try:
        levers = scenarios.normalise(json.loads(args.levers))
        given = {name: getattr(args, name) for name in ("as_of", "model", "horizon_months", "monthly_discount",
                                                         "default_margin")}
        settings = ScoreSettings(**{name: value for name, value in given.items() if value is not None})
    except (ValueError, TypeError, AttributeError) as error:  # bad JSON or a lever out of range
        print(f"--levers: {error}", file=sys.stderr)
        return 2
    with open_base(args, read_only=True) as store:
        try:
            facts = customer_facts(store, settings)
            values = customer_values(facts, settings)
            groups = scenarios.customer_groups(store, segment_table(store, values, facts.as_of))
            base = scenarios.prepare(facts, settings, groups)
        except ModelError as error:
            print(translate(f"clv.error.{error.key}", args.lang), file=sys.stderr)
            return 2
    try:
        result = scenarios.simulate(base, levers)
    except ValueError as error:  # a scope the base has no data for
        print(f"--levers: {error}", file=sys.stderr)
        return 2
    print(json.dumps({**result, "model": facts.choice.model, "as_of": facts.as_of.isoformat()}))
    return 0


# The reading choices of crm_logic.ingest.ImportOptions as flags of `import` (left out: detected / default).
OPTION_FLAGS = {
    "platform": ("NAME", "taobao, jd, pinduoduo, youzan, shopify, woocommerce, stripe or erp"),
    "date_order": ("ORDER", "ymd, mdy or dmy, for dates like 05/06/2024"),
    "decimal": ("MARK", "'.' or ',' (1.234,50)"),
    "currency": ("SYMBOL", "shown on the base's money figures, e.g. ¥ or $"),
    "refunds": ("CHOICE", "leave_out (default) or return"),
    "duplicates": ("CHOICE", "identical repeated lines of one order: keep (default) or drop"),
    "guests": ("CHOICE", "rows without a customer ID: leave_out (default) or refuse"),
    "sheet": ("NAME", "the Excel sheet to read"),
    "header_row": ("N", "the row holding the column names"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage itself is in --help)."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"{self.prog}: {message}\n")


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def parser() -> argparse.ArgumentParser:
    common = OneLineParser(add_help=False)
    common.add_argument("--lang", choices=["zh", "en"], default=language_from_locale(os.environ.get("LANG")),
                        help="language of messages (default: from $LANG)")
    common.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                        help="how long to wait while another process (the app) holds the base")
    p = OneLineParser(prog="python -m crm_logic", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    d = sub.add_parser("demo", parents=[common], help="build the seeded demo customer base")
    d.add_argument("--db", required=True)
    d.add_argument("--customers", type=int, default=5000)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--if-missing", action="store_true", help="do nothing when the file exists")
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("import", parents=[common], help="import order files (all or nothing unless --skip-invalid)")
    i.add_argument("files", nargs="+")
    i.add_argument("--db", required=True)
    i.add_argument("--map", help='JSON {"customer_id": "column", ...}')
    i.add_argument("--format", choices=["csv", "excel", "parquet", "cdnow"])
    i.add_argument("--skip-invalid", action="store_true")
    i.add_argument("--replace", action="store_true")
    for flag, (metavar, text) in OPTION_FLAGS.items():
        i.add_argument(f"--{flag.replace('_', '-')}", type=int if flag == "header_row" else str, metavar=metavar,
                       help=text)
    i.add_argument("--status", help='JSON {"status value": "revenue|unpaid|cancelled|refunded", ...} over the '
                                    "platforms' defaults")
    i.set_defaults(func=cmd_import)

    n = sub.add_parser("info", parents=[common], help="print the base's figures as JSON")
    n.add_argument("--db", required=True)
    n.set_defaults(func=cmd_info)

    f = sub.add_parser("fit", parents=[common], help="fit one model and print its parameters as JSON")
    f.add_argument("--db", required=True)
    f.add_argument("--model", required=True, choices=["bg_nbd", "pareto_nbd", "mbg_nbd", "gamma_gamma"])
    f.add_argument("--unit", choices=["day", "week", "month"], default="week")
    f.add_argument("--calibration-end", type=iso_date, help="fit on purchases up to this date")
    f.set_defaults(func=cmd_fit)

    c = sub.add_parser("score", parents=[common],
                       help="score every customer and write the scores to a file (settings left out "
                                     "take the defaults of crm_logic.scores.ScoreSettings)")
    c.add_argument("--db", required=True)
    c.add_argument("--out", required=True, help="a .csv (UTF-8 with BOM), .xlsx or .parquet file")
    c.add_argument("--as-of", type=iso_date, help="analysis date (default: the last order date)")
    c.add_argument("--unit", choices=["day", "week", "month"])
    c.add_argument("--model", choices=["auto", "bg_nbd", "pareto_nbd", "mbg_nbd"])
    c.add_argument("--horizon-months", type=int)
    c.add_argument("--monthly-discount", type=float)
    c.add_argument("--default-margin", type=float)
    c.set_defaults(func=cmd_score)

    a = sub.add_parser("alerts", parents=[common], help="print the customers whose churn alert fired, as CSV on stdout")
    a.add_argument("--db", required=True)
    a.add_argument("--as-of", type=iso_date, help="analysis date (default: the last order date)")
    a.add_argument("--since", type=iso_date, help="only alerts that were not firing on this date")
    a.add_argument("--rule", choices=["auto", "churn_probability", "p_alive", "lateness", "recency"],
                   help="the signal that raises the alert (default auto: the best on the base's own history)")
    a.set_defaults(func=cmd_alerts)

    from crm_logic.scenarios import LEVERS_HELP

    w = sub.add_parser("scenario", parents=[common],
                       help="what-if: customer equity under levers, against the baseline (JSON)", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=LEVERS_HELP)
    w.add_argument("--db", required=True)
    w.add_argument("--levers", required=True, help='JSON, e.g. \'{"retention": 0.05, "segments": ["at_risk"]}\'')
    w.add_argument("--as-of", type=iso_date, help="analysis date (default: the last order date)")
    w.add_argument("--model", choices=["auto", "bg_nbd", "pareto_nbd", "mbg_nbd"])
    w.add_argument("--horizon-months", type=int)
    w.add_argument("--monthly-discount", type=float)
    w.add_argument("--default-margin", type=float)
    w.set_defaults(func=cmd_scenario)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run a command; any failure is one line on stderr, and a base the command created is removed."""
    args = parser().parse_args(argv)
    created = not Path(args.db).exists()
    code, message = 0, None
    try:
        code = args.func(args)
    except Refused as refused:
        code, message = EXIT_INPUT, translate(refused.key, args.lang, **refused.values)
    except (BaseMissing, BaseBusy) as error:
        code, message = (EXIT_BUSY if isinstance(error, BaseBusy) else EXIT_INPUT), error.message(args.lang)
    except duckdb.Error as error:
        code, message = EXIT_INPUT, translate("cli.not_a_base", args.lang, path=args.db, reason=first_line(error))
    except Exception as error:  # the last guard: one line, never a traceback
        code, message = 1, translate("cli.unexpected", args.lang, kind=type(error).__name__, reason=first_line(error))
    if message:
        print(message, file=sys.stderr)
    if code and created and Path(args.db).exists():
        remove_if_empty(args)
    return code


def remove_if_empty(args) -> None:
    """Take back the base a failed command created, unless another process has written to it meanwhile;
    removed while we hold its lock, so nobody writes into the file as it goes."""
    try:
        with open_base(args) as store:
            if store.scalar("SELECT (SELECT count(*) FROM imports) + (SELECT count(*) FROM customers)"):
                return
            for leftover in (Path(args.db), Path(f"{args.db}.wal")):
                leftover.unlink(missing_ok=True)
    except (BaseBusy, duckdb.Error):
        pass  # someone else has it: it is theirs now


def first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


if __name__ == "__main__":
    sys.exit(main())
