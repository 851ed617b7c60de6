"""Checked rows into the base, all or nothing: one transaction, under the store's write lock.

The already-imported check runs inside that transaction (two imports of one file at the same moment
leave it imported once), and the base's connection attaches the scratch files read-only and copies the
rows itself, in DuckDB's threads, so nothing passes through Python and memory stays flat whatever the
file's size.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from crm_logic.ingest.read import STAGE_MEMORY, read_file, released
from crm_logic.ingest.report import ImportRejected, Problem, ValidationReport
from crm_logic.ingest.validate import FILE_LEVEL, ImportOptions, Validated, loadable_sql, validate
from crm_logic.store import CDNOW_DIR, Store, clear_base

CDNOW_FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
PEOPLE_FIELDS = {"customer_name": "name", "customer_class": "customer_class", "region": "region",
                 "industry": "industry", "channel": "channel"}  # mapped field -> column of customers


@dataclass
class ImportResult:
    import_ids: list[int]
    rows_loaded: int
    rows_skipped: int
    customers_new: int
    report: ValidationReport


def import_files(store: Store, sources: Any, mapping: dict[str, str | None] | None = None, fmt: str | None = None,
                 skip_invalid: bool = False, replace: bool = False,
                 progress: Callable[[float, str], None] | None = None, today: date | None = None,
                 options: ImportOptions | None = None) -> ImportResult:
    """Import one or several files as one unit: all rows of all files, or nothing (ImportRejected).

    skip_invalid loads the valid rows and lists the others; whole-file problems (unreadable, missing
    column, empty, already imported, a choice still to make) still reject. replace empties the base in
    the same transaction. The base's currency becomes the one detected or chosen (options.currency).
    """
    return _import(store, sources, mapping, fmt, skip_invalid, replace, progress, today, options or ImportOptions(), {})


def load_checked(store: Store, checked: list[Validated], skip_invalid: bool = False, replace: bool = False,
                 progress: Callable[[float, str], None] | None = None) -> ImportResult:
    """Load files already read and checked (the page's cached check): nothing is read or checked again, and
    their scratch files are left to whoever made them. Same rules and result as import_files."""
    return _load_checked(store, checked, skip_invalid, replace, progress or (lambda fraction, stage: None), 0.0, {})


def _import(store, sources, mapping, fmt, skip_invalid, replace, progress, today, options, meta) -> ImportResult:
    notify = progress or (lambda fraction, stage: None)
    if isinstance(sources, (str, Path, bytes)) or hasattr(sources, "getvalue") or hasattr(sources, "read"):
        sources = [sources]
    checked = []
    try:
        for i, source in enumerate(sources):
            notify(0.6 * i / len(sources), "ingest.stage.read")
            raw = read_file(source, fmt=fmt, sheet=options.sheet, header_row=options.header_row)
            notify(0.6 * (i + 0.5) / len(sources), "ingest.stage.validate")
            checked.append(validate(raw, mapping, today, options))
        return _load_checked(store, checked, skip_invalid, replace, notify, 0.6, meta)
    finally:
        for result in checked:
            result.raw.discard()


def _load_checked(store, checked, skip_invalid, replace, notify, start, meta) -> ImportResult:
    """All checked files in one transaction, or ImportRejected; the checks' own reports are not changed."""
    report = ValidationReport()
    base_currency = None
    if not replace:
        with store.cursor() as early:
            base_currency = early.execute("SELECT max(value) FROM meta WHERE key = 'currency' AND EXISTS "
                                          "(SELECT 1 FROM transactions)").fetchone()[0]
    currencies = sorted({v.currency for v in checked if v.currency})
    for k, result in enumerate(checked):
        file_report = ValidationReport()
        file_report.add(result.report)
        if any(result.raw.file_hash == r.raw.file_hash for r in checked[:k]):
            file_report.problems.insert(0, Problem(result.raw.file_name, None, None, "already_imported",
                                                   datetime.now().date().isoformat()))
        elif not replace:  # early answer; the check that counts runs again inside the transaction
            with store.cursor() as early:
                first = _first_import(early, result.raw.file_hash)
            if first:
                file_report.problems.insert(0, Problem(result.raw.file_name, None, None, "already_imported", first))
        if len(currencies) > 1 and result.currency and result.currency != currencies[0] and not any(
                p.code == "mixed_currencies" for p in report.problems):  # ¥ and $ added up mean nothing
            file_report.problems.insert(0, Problem(result.raw.file_name, None, None, "mixed_currencies",
                                                   ", ".join(currencies)))
        elif base_currency and result.currency and result.currency != base_currency:
            file_report.problems.insert(0, Problem(result.raw.file_name, None, None, "other_currency",
                                                   result.currency, base_currency))
        report.add(file_report)
    rows_valid = sum(v.rows_valid for v in checked)
    if any(p.code in FILE_LEVEL for p in report.problems) or (report.problems and not skip_invalid) \
            or not rows_valid:
        report.status = "rejected"
        raise ImportRejected(report)

    notify(start, "ingest.stage.load")
    currency = next((v.currency for v in checked if v.currency), None)
    now = datetime.now()
    aliases = {result.raw.stage: f"stage_{uuid.uuid4().hex[:12]}" for result in checked}
    with released(list(aliases)):  # the scratch files are read by the base's own connection: no copy through Python
        try:
            with store.transaction() as cur:
                cur.execute(f"SET memory_limit = '{STAGE_MEMORY}'")  # the copy buffers what it may: bound it
                for stage, alias in aliases.items():
                    quoted = stage.replace("'", "''")
                    cur.execute(f"ATTACH '{quoted}' AS {alias} (READ_ONLY)")
                if replace:
                    clear_base(cur)
                else:
                    for result in checked:
                        first = _first_import(cur, result.raw.file_hash)
                        if first:  # imported by someone else while this one was being checked
                            report.problems.insert(0, Problem(result.raw.file_name, None, None, "already_imported",
                                                              first))
                            report.status = "rejected"
                            raise ImportRejected(report)
                for key, value in {**({"currency": currency} if currency else {}), **meta}.items():
                    Store.set_meta(cur, key, value)
                next_id = cur.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
                customers_new = 0
                for k, result in enumerate(checked):
                    cur.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                [next_id + k, result.raw.file_name, result.raw.file_hash, now, result.raw.fmt,
                                 result.rows_valid, result.report.facts.get("rows_invalid", 0), replace])
                    clean = result.report.facts.get("rows_invalid", 0) == len(result.raw.problems)
                    customers_new += _load(cur, f"{aliases[result.raw.stage]}.main.{result.view}", next_id + k,
                                           result.mapping, clean)
                    overlap = _orders_already_in_base(cur, next_id + k)
                    if overlap:  # an export overlapping an earlier one: its orders would count twice
                        report.problems.insert(0, Problem(result.raw.file_name, None, result.mapping.get("order_id"),
                                                          "orders_already_in_base", *overlap))
                        report.status = "rejected"
                        raise ImportRejected(report)
                    notify(start + (1 - start) * (k + 1) / len(checked), "ingest.stage.load")
        finally:  # after the commit (a database written to in a transaction cannot be detached inside it)
            with store.cursor() as cur:
                for alias in aliases.values():
                    cur.execute(f"DETACH DATABASE IF EXISTS {alias}")
                cur.execute("RESET memory_limit")
    report.status = "imported"
    report.facts.update(rows_loaded=rows_valid, rows_skipped=report.facts.get("rows_invalid", 0),
                        customers_new=customers_new)
    return ImportResult(list(range(next_id, next_id + len(checked))), rows_valid, report.facts["rows_skipped"],
                        customers_new, report)


def _first_import(cur, file_hash: str) -> str | None:
    """The day this content was first imported into the base, or None."""
    first = cur.execute("SELECT min(imported_at) FROM imports WHERE file_hash = ?", [file_hash]).fetchone()[0]
    return None if first is None else first.date().isoformat()


def _orders_already_in_base(cur, import_id: int) -> tuple[str, str] | None:
    """(how many, the first) of the orders just loaded that an earlier import already holds, by order number
    and customer (two shops may both number from 1001); None when there are none."""
    count, first = cur.execute("""
        SELECT count(DISTINCT order_id), min(order_id) FROM (
            SELECT order_id, customer_id FROM transactions WHERE import_id = ? AND order_id IS NOT NULL
            INTERSECT SELECT order_id, customer_id FROM transactions WHERE import_id <> ? AND order_id IS NOT NULL)""",
                               [import_id, import_id]).fetchone()
    return (str(count), first) if count else None


def _load(cur, view: str, import_id: int, mapping: dict[str, str], clean: bool) -> int:
    """The file's loadable rows (`view`, in the attached scratch file; clean: none failed a check) into
    transactions; customers not yet known added. Returns how many. Without a mapped customer field the new
    customers come from the rows just loaded (a second reading of the checked rows costs a second at 10M rows)."""
    cur.execute(f"""
        INSERT INTO transactions (customer_id, order_id, order_date, amount, quantity, category, discounted,
                                  gross_margin, import_id)
        SELECT customer_id, order_id, CAST(order_date AS DATE), CAST(round(amount, 2) AS DECIMAL(18, 2)),
               quantity, category, discounted, CAST(round(gross_margin, 2) AS DECIMAL(18, 2)), ?
        FROM ({loadable_sql(view, clean)})""", [import_id])
    people = [f for f in PEOPLE_FIELDS if f in mapping]
    latest = "arg_max({0}, order_date) FILTER (WHERE {0} IS NOT NULL)"  # as on their latest order
    source = loadable_sql(view, clean) if people else (
        f"SELECT customer_id, order_date FROM transactions WHERE import_id = {int(import_id)}")
    fields = ", ".join(f"{latest.format(f) if f in people else 'CAST(NULL AS VARCHAR)'} AS {name}"
                       for f, name in PEOPLE_FIELDS.items())
    cur.execute(f"""
        CREATE OR REPLACE TEMP TABLE incoming_people AS
        SELECT customer_id, {fields}, CAST(min(order_date) AS DATE) AS first_date
        FROM ({source}) GROUP BY customer_id""")
    try:
        cur.execute("""
            UPDATE customers SET created_date = p.first_date FROM incoming_people p
            WHERE customers.customer_id = p.customer_id
              AND (customers.created_date IS NULL OR p.first_date < customers.created_date)""")
        return cur.execute("""
            INSERT INTO customers (customer_id, name, customer_class, region, industry, channel, created_date)
            SELECT customer_id, name, customer_class, region, industry, channel, first_date FROM incoming_people p
            WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = p.customer_id)
            ORDER BY customer_id""").fetchone()[0]  # in key order the key's index is built and saved faster
    finally:
        cur.execute("DROP TABLE incoming_people")


def load_cdnow(store: Store, which: str = "sample", progress: Callable[[float, str], None] | None = None,
               ) -> ImportResult:
    """Replace the base with a CDNOW log ("sample": 1/10 of the customers, or "master": all of them), in US dollars."""
    meta = {"currency": "$", "display_name": f"cdnow_{which}"}
    return _import(store, [CDNOW_DIR / CDNOW_FILES[which]], None, "cdnow", False, True, progress, None,
                   ImportOptions(currency="$"), meta)


def imports_log(store: Store):
    return store.df("SELECT * FROM imports ORDER BY imported_at DESC, import_id DESC")
