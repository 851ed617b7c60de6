"""Every staged row -> canonical fields, or problems naming file, row, column and a stable code.

The checks run as SQL inside the scratch DuckDB file, so a file of millions of rows is parsed once, in
DuckDB's threads, and never held in Python. What a file could mean in two ways (day/month order,
decimal comma, unknown order statuses) is asked, not guessed: it is a whole-file problem until the user
chooses in `ImportOptions`. What is detected (platform, date order, decimal mark, currency) is said in
`report.notes` and kept on the result for the mapping step to show and edit.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date

import pandas as pd

from crm_logic.ingest.platforms import (FIELDS, STATUS_CLASSES, auto_mapping, currency_symbol,
                                        default_status_classes, detect_platform, platform_currency,
                                        platforms)
from crm_logic.ingest.read import RawTable, CONNECT_HOOKS, staged
from crm_logic.ingest.report import MAX_KEPT, Problem, ValidationReport
from crm_logic.store import CUSTOMER_CLASSES

REQUIRED = ("customer_id", "order_date", "amount")
TEXT_FIELDS = ("category", "customer_name", "region", "industry", "channel")
DATE_ORDERS = ("auto", "ymd", "mdy", "dmy")
DECIMALS = ("auto", ".", ",")
CHOICES = {"refunds": ("leave_out", "return"), "duplicates": ("keep", "drop"), "guests": ("leave_out", "refuse")}
# Class names users write, to the keys of store.CUSTOMER_CLASSES; anything else is kept as written.
CLASS_NAMES = {"消费者": "consumer", "个人": "consumer", "顾客": "buyer", "购买者": "buyer", "采购方": "buyer",
               "企业": "enterprise", "企业客户": "enterprise", "中间商": "intermediary", "经销商": "dealer",
               "代理商": "dealer", "distributor": "dealer",
               "reseller": "intermediary", "wholesaler": "intermediary", "business": "enterprise"}
YES = ("是", "有", "y", "yes", "true", "打折", "折扣")  # numbers: non-zero is yes
NO = ("否", "无", "n", "no", "false", "不打折")
FILE_LEVEL = ("unreadable_file", "missing_column", "empty_file", "already_imported", "xls_file", "unknown_encoding",
              "cell_too_large", "formulas_without_values", "no_such_sheet", "ambiguous_dates", "unknown_status",
              "mixed_currencies", "ambiguous_decimal", "orders_already_in_base", "order_total_on_every_line",
              "other_currency", "encrypted_file")
# Checks on rows that would be loaded: code -> (field whose column is named, SQL condition on `v`).
ROW_CHECKS = (
    ("missing_customer_id", "customer_id", "guest AND {refuse}"),
    ("missing_date", "order_date", "order_date IS NULL AND date_text IS NULL"),
    ("bad_date", "order_date", "date_text IS NOT NULL AND order_date IS NULL AND NOT date_pending"),
    ("future_date", "order_date", "order_date > DATE '{today}'"),
    ("missing_amount", "amount", "amount IS NULL AND amount_text IS NULL"),
    ("bad_amount", "amount", "amount_text IS NOT NULL AND (amount IS NULL OR NOT isfinite(amount) OR abs(amount) >= 1e16)"),
    ("missing_quantity", "quantity", "derived AND quantity IS NULL AND quantity_text IS NULL"),
    ("bad_value", "quantity", "quantity_text IS NOT NULL AND quantity IS NULL"),
    ("bad_value", "gross_margin", "margin_text IS NOT NULL AND gross_margin IS NULL"),
    ("bad_value", "discounted", "discount_text IS NOT NULL AND discounted IS NULL"),
    ("conflicting_order", "order_id", "conflict_row IS NOT NULL"),
    ("early_date", "order_date", "order_date < DATE '1900-01-01'"),  # 7/3/24 read as the year 7 or 24
    ("scientific_id", "customer_id", "{scientific:customer_id}"),
    ("scientific_id", "order_id", "{scientific:order_id}"),
    ("masked_id", "customer_id", "contains(customer_id, '**')"),  # 138****1234: buyers would merge
    ("totals_row", "customer_id", "{totals:customer_id}"),
    ("totals_row", "order_id", "{totals:order_id}"),
)
SCIENTIFIC = r"[0-9](\.[0-9]+)?[eE]\+[0-9]+"
TOTALS = "(合计|总计|小计|共计|合計|總計|total|totals|grand total|subtotal|sum|summe|gesamt)[:：]?"
_TIME = (r"([ T]+[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(\s*[AaPp]\.?[Mm]\.?)?"
         r"(\s*(Z|UTC|GMT|[+-][0-9]{2}(:?[0-9]{2})?))?)?$")
_YMD = r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?"
_COMPACT = r"[0-9]{8}"
_XY = r"([0-9]{1,2})\s*([-/.])\s*([0-9]{1,2})\s*[-/.]\s*([0-9]{4})"
_SERIAL = r"[0-9]{5}(\.[0-9]+)?"
_MACROS = rf"""
CREATE OR REPLACE TEMP MACRO cell(x) AS nullif(CASE WHEN least(ascii(x), ascii(x[-1])) <= 32
    OR ascii(x) = 12288 OR ascii(x[-1]) = 12288 THEN trim(x, ' ' || chr(9) || chr(10) || chr(13) || chr(12288))
    ELSE x END, '');
CREATE OR REPLACE TEMP MACRO plain_id(x) AS CASE WHEN x LIKE '="%"' THEN substr(x, 3, length(x) - 3)
    WHEN x LIKE '%.0%' AND regexp_full_match(x, '[0-9]+[.]0+') THEN regexp_extract(x, '^[0-9]+') ELSE x END;
CREATE OR REPLACE TEMP MACRO halfwidth(x) AS translate(x, '０１２３４５６７８９．，－＋（）／：￥　',
                                                          '0123456789.,-+()/:¥ ');
CREATE OR REPLACE TEMP MACRO bare_number(x) AS
    regexp_replace(halfwidth(x), '[¥$€£\s]|RMB|CNY|USD|EUR|GBP|US|元', '', 'g');
CREATE OR REPLACE TEMP MACRO point_number(t) AS CASE
    WHEN regexp_full_match(t, '([0-9]{{1,3}}(,[0-9]{{3}})+|[0-9]+)(\.[0-9]+)?|\.[0-9]+')
        THEN TRY_CAST(replace(t, ',', '') AS DOUBLE) END;
CREATE OR REPLACE TEMP MACRO comma_number(t) AS CASE
    WHEN regexp_full_match(t, '([0-9]{{1,3}}(\.[0-9]{{3}})+|[0-9]+)(,[0-9]+)?|,[0-9]+')
        THEN TRY_CAST(replace(replace(t, '.', ''), ',', '.') AS DOUBLE) END;
CREATE OR REPLACE TEMP MACRO quick_day(x) AS CAST(try_strptime(x, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d',
    '%Y/%m/%d %H:%M:%S', '%Y/%m/%d', '%Y-%m-%dT%H:%M:%S']) AS DATE);
CREATE OR REPLACE TEMP MACRO date_text(x) AS regexp_replace(halfwidth(x), '{_TIME}', '');
CREATE OR REPLACE TEMP MACRO day(t, xy) AS CAST(CASE
    WHEN regexp_full_match(t, '{_YMD}') THEN try_strptime(regexp_replace(t, '^{_YMD}$', '\1-\2-\3'), '%Y-%m-%d')
    WHEN regexp_full_match(t, '{_COMPACT}') THEN try_strptime(t, '%Y%m%d')
    WHEN xy IS NOT NULL AND regexp_full_match(t, '{_XY}')
        THEN try_strptime(regexp_replace(t, '^{_XY}$', xy), '%Y-%m-%d')
    WHEN regexp_full_match(t, '{_SERIAL}') AND TRY_CAST(t AS DOUBLE) BETWEEN 18264 AND 73415
        THEN DATE '1899-12-30' + CAST(floor(CAST(t AS DOUBLE)) AS INTEGER) END AS DATE);
"""
_XY_ORDER = {"mdy": r"\4-\1-\3", "dmy": r"\4-\3-\1"}
FIRST_ROWS = 1000  # rows that choose how the file is parsed (every row then checks the choice)
SETTLING_ROWS = 100_000  # rows in which one order of differing line amounts shows a file's amounts are the lines'


@dataclass
class ImportOptions:
    """The choices of the mapping step; every default is stated in the report, never applied silently.

    date_order: "auto" reads month/day or day/month from the data (a day above 12; dots mean day.month)
    and asks when it cannot tell. decimal: "auto" reads 1.234,50 as a decimal comma when the amounts
    show one. currency: a symbol; None = from the file (currency column, $/¥/€ prefixes, platform).
    status_classes: {status value: revenue/unpaid/cancelled/refunded} over the platforms' defaults.
    refunds: refunded orders left out, or loaded as a purchase and its return. duplicates: identical
    repeated lines of one order kept (default: the file's total is what the platform reports) or dropped.
    guests: rows without a customer ID left out (counted, with their value) or refused as problems.
    """
    date_order: str = "auto"
    decimal: str = "auto"
    currency: str | None = None
    status_classes: dict[str, str] = field(default_factory=dict)
    refunds: str = "leave_out"
    duplicates: str = "keep"
    guests: str = "leave_out"
    platform: str | None = None
    sheet: str | None = None
    header_row: int | None = None

    def __post_init__(self):
        if self.date_order not in DATE_ORDERS or self.decimal not in DECIMALS:
            raise ValueError(f"date_order must be one of {DATE_ORDERS}, decimal one of {DECIMALS}")
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}")
        if self.header_row is not None and self.header_row < 1:
            raise ValueError(f"header_row counts lines from 1, not {self.header_row}")
        if self.platform is not None and self.platform not in platforms():
            raise ValueError(f"platform must be one of {sorted(platforms())}, not {self.platform!r}")
        bad = {v: c for v, c in self.status_classes.items() if c not in STATUS_CLASSES}
        if bad:
            raise ValueError(f"status classes must be one of {STATUS_CLASSES}: {bad}")


@dataclass
class Validated:
    """The result of a check: the report, what was detected, and where the loadable rows wait (`view`).

    For the mapping step: `platform`, `mapping` (field -> column), `date_order`, `decimal`, `currency`,
    `statuses` (one row per status value: value, class, rows, amount — editable via
    ImportOptions.status_classes) and `duplicates` (row, first_row, order_id of repeated identical lines).
    """
    report: ValidationReport
    raw: RawTable
    view: str | None = None
    rows_valid: int = 0
    platform: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    date_order: str | None = None
    decimal: str = "."
    currency: str | None = None
    statuses: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["value", "class", "rows", "amount"]))
    duplicates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "first_row", "order_id"]))
    options: ImportOptions = field(default_factory=ImportOptions)

    @property
    def rows(self) -> pd.DataFrame:
        """The rows that would be loaded, in canonical fields (reads them all: for tests and small files)."""
        if not self.view:
            return pd.DataFrame(columns=["row", *LOADED])
        with staged(self.raw.stage) as con:
            frame = con.sql(loadable_sql(self.view)).df()
        return frame.sort_values("row", kind="stable").reset_index(drop=True)


LOADED = ("customer_id", "order_id", "order_date", "amount", "quantity", "category", "discounted", "gross_margin",
          "customer_name", "region", "customer_class", "industry", "channel")


def _number(text: str, comma: str) -> str:
    """SQL for the value of a text column: 1,234.50  ¥-5  +5  (120.00)  １２３; with comma, 1.234,50 €.
    Plain numbers go through DuckDB's cast; only the others are cleaned (the cleaning costs a regex)."""
    unsigned = "comma_number" if comma == "true" else "point_number"
    bare = f"bare_number({text})"
    cleaned = (f"CASE WHEN {bare} LIKE '(%)' THEN -{unsigned}(substr({bare}, 2, length({bare}) - 2)) "
               f"WHEN {bare} LIKE '-%' THEN -{unsigned}(substr({bare}, 2)) "
               f"WHEN {bare} LIKE '+%' THEN {unsigned}(substr({bare}, 2)) ELSE {unsigned}({bare}) END")
    if comma == "true":
        return cleaned
    plain = f"regexp_full_match({text}, '-?[0-9]+(\\.[0-9]+)?')"
    return f"CASE WHEN {plain} THEN TRY_CAST({text} AS DOUBLE) ELSE {cleaned} END"


def loadable_sql(view: str, clean: bool = False) -> str:
    """The rows to load from a checked view; a refund loaded as a return adds its negative line. clean: the
    check found no checked row failing (then the row checks are not evaluated again: a second at 10M rows)."""
    columns = ", ".join(c for c in LOADED if c != "amount")
    load = "checked" if clean else "load"
    return f"""SELECT row, {columns}, amount FROM {view} WHERE {load}
               UNION ALL
               SELECT row, {columns}, -amount FROM {view} WHERE {load} AND refund_return"""


def macros(con) -> None:
    """The parsing macros (cell, number, day ...) on a scratch connection; they live per connection."""
    con.execute(_MACROS)


CONNECT_HOOKS.append(macros)


def _mapping(columns: list[str], explicit: dict[str, str | None] | None, platform: str | None) -> dict[str, str]:
    """Automatic mapping overridden by the explicit one; an explicit None unmaps a field."""
    explicit = explicit or {}
    unknown = set(explicit) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown fields in mapping: {sorted(unknown)}; fields are {FIELDS}")
    taken = {c for c in explicit.values() if c}
    mapping = {f: c for f, c in auto_mapping(columns, platform).items() if f not in explicit and c not in taken}
    mapping.update({f: c for f, c in explicit.items() if c})
    return mapping


def validate(raw: RawTable, mapping: dict[str, str | None] | None = None, today: date | None = None,
             options: ImportOptions | None = None) -> Validated:
    """Every row checked; the loadable rows staged (a view in the scratch file) and every problem, nothing written."""
    today = today or date.today()
    options = options or ImportOptions()
    name = raw.file_name
    report = ValidationReport(list(raw.problems), {"files": 1})
    result = Validated(report, raw, options=options)
    if not raw.stage:
        return result
    report.facts["rows_read"] = raw.n_rows + len(raw.problems)
    if not report.facts["rows_read"]:
        report.problems.append(Problem(name, None, None, "empty_file"))
        return result
    result.platform = options.platform or detect_platform(raw.columns)
    cols = result.mapping = _mapping(raw.columns, mapping, result.platform)
    derived = "amount" not in cols and "quantity" in cols and "unit_price" in cols
    required = [f for f in REQUIRED if not (f == "amount" and derived)]
    report.problems += [Problem(name, None, cols.get(f), "missing_column", f) for f in FIELDS
                        if (f in required and f not in cols) or (f in cols and cols[f] not in raw.columns)]
    if raw.header_row and raw.header_row > 1 and raw.fmt != "cdnow":  # said before a missing column too:
        report.notes.append(("header_row", {"row": raw.header_row}))  # the wrong sheet or row may be why
    if raw.sheet and len(raw.sheets) > 1:
        report.notes.append(("sheet", {"sheet": raw.sheet, "count": len(raw.sheets)}))
    if len(report.problems) > len(raw.problems):
        return result
    if result.platform:
        report.notes.append(("platform", {"platform": result.platform}))
    if derived:
        report.notes.append(("amount_from_price", {}))
    if "refunded" in cols:
        report.notes.append(("refunds_taken_off", {"column": cols["refunded"]}))
    col = {f: f"c{raw.columns.index(c)}" for f, c in cols.items()}  # staged names: c0, c1, ...
    amount_col = col["amount"] if not derived else col["unit_price"]

    with staged(raw.stage) as con:
        # How to read dates and amounts is guessed from the file's first rows, then checked against every row:
        # the parsed table keeps the text of each date not plain ISO and each amount not a plain number, which
        # is all detection reads (a whole pass over the file before). A guess the file contradicts is parsed again.
        guess = ValidationReport()
        first = _scan(con, _texts(col["order_date"], amount_col, FIRST_ROWS))
        settings = (_date_order(first, options.date_order, guess, name, cols),
                    _decimal(con, first, amount_col, options.decimal, guess, name, FIRST_ROWS))
        key = _parsed(con, col, derived, result, today, options, settings)
        scan = _scan(con, f"checked_{key}")
        result.date_order = _date_order(scan, options.date_order, report, name, cols)
        result.decimal = _decimal(con, scan, amount_col, options.decimal, report, name)
        result.currency = _currency(con, scan, col, options.currency, result.platform, report, name)
        report.currency = result.currency or ""
        if (result.date_order, result.decimal) != settings:
            key = _parsed(con, col, derived, result, today, options, (result.date_order, result.decimal))
        classes = {**default_status_classes(), **{k.strip().lower(): v for k, v in options.status_classes.items()}}
        result.view = f"valid_{key}"
        if not con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [result.view]).fetchall()[0][0]:
            con.execute("BEGIN TRANSACTION")  # one commit for the rest: each one costs a disk sync
            try:
                _orders(con, key, derived, result, classes, options, today)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        if "order_id" in col and not derived:
            _order_total_on_lines(con, key, report, name, cols["amount"])
        counts = _counts(con, result.view)
        if "status" in col:
            result.statuses = _statuses(counts)
            unknown = result.statuses[result.statuses["class"].isna()]
            if len(unknown):
                report.problems.append(Problem(name, None, cols["status"], "unknown_status",
                                               ", ".join(unknown["value"].astype(str).head(10))))
        _facts(counts, result, options)
        _row_problems(con, counts, result, cols, options, today)
        if report.facts["duplicate_lines"]:
            result.duplicates = con.sql(f"""SELECT row, dup_row AS first_row, order_id FROM {result.view}
                                            WHERE dup_row IS NOT NULL ORDER BY row LIMIT {MAX_KEPT}""").df()
    report.problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    return result


def _texts(date_col: str, amount_col: str, rows: int) -> str:
    """The first rows' texts as the parsed table keeps them (see `_parse`): dates not plain ISO, amounts not
    plain numbers, holding a comma or three digits after a point."""
    return f"""(SELECT CASE WHEN quick_day(d) IS NULL THEN cell(d) END AS date_text,
                       CASE WHEN TRY_CAST(a AS DOUBLE) IS NULL OR contains(a, ',') OR a LIKE '%.___%'
                            THEN cell(a) END AS amount_text
                FROM (SELECT {date_col} AS d, {amount_col} AS a FROM raw_cells LIMIT {int(rows)}))"""


def _scan(con, texts: str) -> dict:
    """What detection needs, from the kept texts (`texts`: a table or query with date_text and amount_text): the
    day/month fields of dates written like 05/06/2024, whether amounts hold a comma or three digits after a
    point, and the currency marks of amounts that are not numbers."""
    names = ("first", "second", "dots", "xy_dates", "commas", "thousands", "dollars", "yuan", "euros", "pounds")
    values = con.sql(f"""
        SELECT max(CAST(regexp_extract(xy, '^{_XY}$', 1) AS INTEGER)), max(CAST(regexp_extract(xy, '^{_XY}$', 3) AS INTEGER)),
               count(*) FILTER (regexp_extract(xy, '^{_XY}$', 2) = '.'), count(xy),
               count(*) FILTER (contains(amount, ',')), count(*) FILTER (amount LIKE '%.___%'),
               count(*) FILTER (regexp_matches(mark, '[$]|USD')), count(*) FILTER (regexp_matches(mark, '[¥￥元]|RMB|CNY')),
               count(*) FILTER (regexp_matches(mark, '€|EUR')), count(*) FILTER (mark LIKE '%£%')
        FROM (SELECT CASE WHEN regexp_full_match(t, '{_XY}') THEN t END AS xy, amount,
                     CASE WHEN TRY_CAST(amount AS DOUBLE) IS NULL THEN amount END AS mark
              FROM (SELECT date_text(date_text) AS t, amount_text AS amount FROM {texts}
                    WHERE date_text IS NOT NULL OR amount_text IS NOT NULL))""").fetchall()[0]
    return dict(zip(names, values))


def _date_order(scan: dict, chosen: str, report: ValidationReport, name: str, cols) -> str | None:
    """ymd/mdy/dmy for dates like 05/06/2024: from the data where a day is above 12, dots as day.month; else ask."""
    first, second, dots, n = scan["first"], scan["second"], scan["dots"], scan["xy_dates"]
    if chosen != "auto":
        order = chosen
    elif not n:
        return "ymd"
    elif first > 12 >= second:
        order = "dmy"
    elif second > 12 >= first:
        order = "mdy"
    elif first <= 12 and second <= 12 and dots == n:
        order = "dmy"
    else:
        report.problems.append(Problem(name, None, cols["order_date"], "ambiguous_dates"))
        return None
    report.notes.append((f"date_order.{order}", {}))
    return order


def _decimal(con, scan: dict, column: str, chosen: str, report: ValidationReport, name: str,
             rows: int | None = None) -> str:
    """',' when amounts show a decimal comma (1531,75 or 1.234,50) and no decimal point; '.' otherwise.
    Amounts whose only point is followed by three digits (1.234, 2.500) are asked: thousands or decimals.
    Of the first `rows` rows (None: all)."""
    cells = f"SELECT bare_number(cell({column})) AS t FROM raw_cells {'' if rows is None else f'LIMIT {int(rows)}'}"
    if chosen == "auto" and not scan["commas"] and scan["thousands"]:
        grouped, decimals = con.sql(f"""
            SELECT count(*) FILTER (regexp_full_match(t, '-?[0-9]{{1,3}}([.][0-9]{{3}})+')),
                   count(*) FILTER (regexp_matches(t, '[.]([0-9]{{1,2}}|[0-9]{{4,}})$'))
            FROM ({cells})""").fetchall()[0]
        if grouped and not decimals:
            report.problems.append(Problem(name, None, None, "ambiguous_decimal"))
            return "."
    if chosen == "auto" and scan["commas"]:
        commas, points = con.sql(f"""
            SELECT count(*) FILTER (regexp_matches(t, '[0-9],[0-9]{{1,2}}$') OR regexp_matches(t, '\\.[0-9]{{3}},')),
                   count(*) FILTER (regexp_matches(t, '[0-9]\\.[0-9]{{1,2}}$') OR regexp_matches(t, ',[0-9]{{3}}\\.'))
            FROM ({cells})""").fetchall()[0]
        chosen = "," if commas and not points else "."
    chosen = "." if chosen == "auto" else chosen
    if chosen == ",":
        report.notes.append(("decimal_comma", {}))
    return chosen


def _currency(con, scan: dict, col, chosen, platform, report, name) -> str | None:
    """The option, else the currency column (one currency only), else the amounts' prefixes, else the platform."""
    if chosen:
        symbol = chosen
    else:
        symbol = None
        if "currency" in col:
            codes = [r[0] for r in con.sql(f"SELECT DISTINCT upper(cell({col['currency']})) FROM raw_cells "
                                           f"WHERE cell({col['currency']}) IS NOT NULL LIMIT 5").fetchall()]
            if len(codes) > 1:
                report.problems.append(Problem(name, None, None, "mixed_currencies", ", ".join(sorted(codes))))
            symbol = currency_symbol(codes[0]) if len(codes) == 1 else None
        if symbol is None:
            marks = dict(zip(("$", "¥", "€", "£"), (scan[k] for k in ("dollars", "yuan", "euros", "pounds"))))
            shown = sorted(mark for mark, count in marks.items() if count)
            if len(shown) > 1:  # amounts in two currencies: a sum of them means nothing
                report.problems.append(Problem(name, None, None, "mixed_currencies", ", ".join(shown)))
            elif shown:
                symbol = shown[0]
        symbol = symbol or platform_currency(platform)
    if symbol:
        report.notes.append(("currency", {"currency": symbol}))
    return symbol


def _parsed(con, col: dict[str, str], derived: bool, result: Validated, today: date, options: ImportOptions,
            settings: tuple[str | None, str]) -> str:
    """The key of the table parsed with these settings (date order, decimal mark), parsed if not yet."""
    key = hashlib.sha1(json.dumps([result.mapping, asdict(options), today.isoformat(), *settings],
                                  sort_keys=True, default=str).encode()).hexdigest()[:12]
    if not con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [f"lines_{key}"]).fetchall()[0][0]:
        _parse(con, key, col, derived, result, today, *settings)  # committed alone: rowids are final once committed
    return key


def _parse(con, key: str, col: dict[str, str], derived: bool, result: Validated, today: date,
           date_order: str | None, decimal: str) -> None:
    """checked_<key>: each row parsed once, in DuckDB's threads; lines_<key>: its non-blank rows, numbered."""
    comma = "true" if decimal == "," else "false"
    xy = "NULL" if date_order in (None, "ymd") else f"'{_XY_ORDER[date_order]}'"
    pending = f"regexp_full_match(date_text(cell(date_cell)), '{_XY}')" if date_order is None else "false"

    def raw_cell(f):
        return col[f] if f in col else "CAST(NULL AS VARCHAR)"

    def cell(f):
        return f"cell({col[f]})" if f in col else "CAST(NULL AS VARCHAR)"

    def id_cell(f):  # ="3712..." (Taobao's way to keep Excel from rounding an ID) is the ID inside; 17850.0
        return f"plain_id({cell(f)})" if f in col else "CAST(NULL AS VARCHAR)"  # is 17850, as Excel's cell reads

    read = _number("amount_cell", comma)
    amount = f"quantity * {read}" if derived else read
    if "refunded" in col:  # a partial refund (Stripe's Amount Refunded) is money the shop did not keep
        amount = f"{amount} - coalesce({_number('refund_cell', comma)}, 0)"
    all_cells = ", ".join(f"c{i}" for i in range(len(result.raw.columns)))
    in_place = result.raw.first_line is not None
    blank = " AND ".join(f"c{i} IS NULL" for i in range(len(result.raw.columns))) if in_place else "false"
    yes, no = ("|".join(words) for words in (YES, NO))  # constants, not user input; a regex, not an IN list
    # (which DuckDB turns into a join, and a join would break the copy's order)
    # Values and flags, each cell parsed once in DuckDB's threads: the common forms through its own casts, the
    # rest cleaned. A cell's text is kept where its value is missing or unusable (for the problem list), and for
    # dates not plain ISO and amounts not plain numbers (what detection reads: `_scan`).
    # A CSV read in place gets its row numbers from the table's rowid: the copy keeps file order (checked).
    outputs = {  # column: (SQL, kept in the table?, type); the others are constants in lines_<key>
        "customer_id": ("customer_id", True, "VARCHAR"), "order_id": ("order_id", "order_id" in col, "VARCHAR"),
        "order_date": ("order_date", True, "DATE"),
        "date_pending": (f"order_date IS NULL AND {pending}", date_order is None, "BOOLEAN"),
        "date_text": ("CASE WHEN quick_date IS NULL OR order_date IS NULL OR order_date > "
                      f"DATE '{today.isoformat()}' OR order_date < DATE '1900-01-01' THEN cell(date_cell) END",
                      True, "VARCHAR"),
        "amount_signed": ("CASE WHEN quantity < 0 THEN -abs(amount_read) ELSE amount_read END", True, "DOUBLE"),
        "amount_text": ("CASE WHEN amount_read IS NULL OR NOT isfinite(amount_read) OR abs(amount_read) >= 1e16 "
                        "OR TRY_CAST(amount_cell AS DOUBLE) IS NULL OR contains(amount_cell, ',') "
                        "OR amount_cell LIKE '%.___%' "
                        "THEN cell(amount_cell) END", True, "VARCHAR"),
        "quantity": ("quantity", "quantity" in col, "DOUBLE"),
        "quantity_text": ("CASE WHEN quantity IS NULL THEN cell(quantity_cell) END", "quantity" in col, "VARCHAR"),
        "gross_margin": ("gross_margin", "gross_margin" in col, "DOUBLE"),
        "margin_text": ("CASE WHEN gross_margin IS NULL THEN cell(margin_cell) END", "gross_margin" in col, "VARCHAR"),
        "discounted": ("discounted", "discounted" in col, "BOOLEAN"),
        "discount_text": ("CASE WHEN discounted IS NULL THEN discount_text END", "discounted" in col, "VARCHAR"),
        "status": ("status", "status" in col, "VARCHAR"),
        **{f: (f, f in col, "VARCHAR") for f in (*TEXT_FIELDS, "customer_class")},
        "line_hash": ("line_hash", True, "UBIGINT"), "blank": ("blank", in_place, "BOOLEAN"),
    }
    kept = ", ".join(f"{sql} AS {name}" for name, (sql, keep, _) in outputs.items() if keep)
    constants = "".join(f", {'false' if kind == 'BOOLEAN' else f'CAST(NULL AS {kind})'} AS {name}"
                        for name, (_, keep, kind) in outputs.items() if not keep)
    _ordered_copy(con, f"checked_{key}", f"""
        SELECT {'' if in_place else 'row, '}{kept} FROM (
        SELECT *, {amount} AS amount_read FROM (
        SELECT *, CASE WHEN quick_date IS NOT NULL THEN quick_date ELSE day(date_text(cell(date_cell)), {xy}) END
                      AS order_date,
               {_number('quantity_cell', comma)} AS quantity, {_number('margin_cell', comma)} AS gross_margin,
               CASE WHEN regexp_full_match(lower(discount_text), '{yes}') THEN true
                    WHEN regexp_full_match(lower(discount_text), '{no}') THEN false
                    WHEN regexp_full_match(discount_text, '[0-9.]+折') THEN true
                    ELSE {_number('discount_text', comma)} <> 0 END AS discounted
        FROM (
        SELECT {'' if in_place else 'row, '}{id_cell('customer_id')} AS customer_id, {id_cell('order_id')} AS order_id,
               {raw_cell('order_date')} AS date_cell, quick_day({raw_cell('order_date')}) AS quick_date,
               {raw_cell('unit_price' if derived else 'amount')} AS amount_cell, {raw_cell('refunded')} AS refund_cell,
               {raw_cell('quantity')} AS quantity_cell, {raw_cell('gross_margin')} AS margin_cell,
               {cell('discounted')} AS discount_text, lower({cell('status')}) AS status,
               {', '.join(f"{cell(f)} AS {f}" for f in (*TEXT_FIELDS, 'customer_class'))},
               hash({all_cells}) AS line_hash, {blank} AS blank
        FROM raw_cells)))""")
    number = f"rowid + {int(result.raw.first_line)} AS row, " if in_place else ""
    con.execute(f"CREATE OR REPLACE VIEW lines_{key} AS SELECT {number}*{constants} FROM checked_{key} WHERE NOT blank")


def _orders(con, key: str, derived: bool, result: Validated, classes: dict[str, str], options: ImportOptions,
            today: date) -> None:
    """fixes_<key>: the few rows of orders needing attention (repeated lines, values carried or in conflict);
    the views of parsed, classed and checked rows."""
    prefixed = con.sql(f"SELECT count(*) FROM lines_{key} WHERE order_id LIKE 'C%'").fetchall()[0][0] and con.sql(
        f"""SELECT count(*) FILTER (regexp_full_match(order_id, 'C[0-9]+')) > 0
                   AND count(*) FILTER (regexp_full_match(order_id, '[0-9]+')) > 0 FROM lines_{key}""").fetchall()[0][0]
    # One GROUP BY over all lines: orders whose lines disagree or lack a value (attention), and orders that may
    # hold repeated lines (two identical lines; any order of three or more lines); only their lines are looked at.
    # Texts are compared by their hash, as whole lines are (line_hash): a third less work and memory at 10M rows.
    attention = """min(hash(customer_id)) <> max(hash(customer_id)) OR min(order_date) <> max(order_date)
        OR min(hash(status)) <> max(hash(status)) OR count(customer_id) < count(*) OR count(status) < count(*)
        OR bool_or(order_date IS NULL AND date_text IS NULL)"""
    con.execute(f"""CREATE OR REPLACE TABLE orders_{key} AS
        SELECT order_id, {attention} AS attention FROM lines_{key} WHERE order_id IS NOT NULL GROUP BY order_id
        HAVING count(*) > 1 AND ({attention} OR count(*) > 2 OR min(line_hash) = max(line_hash))""")
    con.execute(f"""CREATE OR REPLACE TABLE fixes_{key} AS
        WITH lines AS MATERIALIZED (SELECT c.*, o.attention FROM lines_{key} c JOIN orders_{key} o USING (order_id)),
        firsts AS (SELECT order_id, min(row) AS first_row,
                          arg_min(customer_id, row) FILTER (customer_id IS NOT NULL) AS customer,
                          arg_min(order_date, row) FILTER (order_date IS NOT NULL) AS day,
                          arg_min(status, row) FILTER (status IS NOT NULL) AS order_status
                   FROM lines WHERE attention GROUP BY order_id),
        repeats AS (SELECT order_id, line_hash, min(row) AS first_row FROM lines GROUP BY ALL HAVING count(*) > 1)
        SELECT coalesce(l.row, r.row) AS row, l.customer_id, l.carried_day, l.status, l.conflict_row,
               r.dup_row FROM (
            SELECT c.row, coalesce(c.customer_id, o.customer) AS customer_id,
                   CASE WHEN c.order_date IS NULL AND c.date_text IS NULL THEN o.day END AS carried_day,
                   coalesce(c.status, o.order_status) AS status,
                   CASE WHEN (c.customer_id IS NOT NULL AND c.customer_id <> o.customer)
                          OR (c.order_date IS NOT NULL AND c.order_date <> o.day) THEN o.first_row END AS conflict_row
            FROM lines c JOIN firsts o USING (order_id)) l
        FULL JOIN (SELECT c.row, r.first_row AS dup_row FROM lines c JOIN repeats r
                   USING (order_id, line_hash) WHERE c.row > r.first_row) r USING (row)""")
    con.execute(f"CREATE OR REPLACE TABLE classes_{key} AS SELECT * FROM (VALUES {_values(classes)}) t(value, class)")
    refunds_return = "true" if options.refunds == "return" else "false"
    drop_dups = "true" if options.duplicates == "drop" else "false"
    refuse = "true" if options.guests == "refuse" else "false"
    problem = " OR ".join(f"({_check(cond, options, today)})" for _, _, cond in ROW_CHECKS)
    con.execute(f"""CREATE OR REPLACE VIEW parsed_{key} AS
        SELECT c.row, coalesce(f.customer_id, c.customer_id) AS customer_id, c.order_id,
               c.date_text,
               coalesce(c.order_date, f.carried_day) AS order_date,
               c.amount_text, c.quantity_text, c.quantity,
               {"CASE WHEN regexp_full_match(c.order_id, 'C[0-9]+') THEN -abs(c.amount_signed) ELSE c.amount_signed END"
                if prefixed else "c.amount_signed"} AS amount,
               c.margin_text, c.gross_margin, c.discount_text, c.discounted,
               coalesce(f.status, c.status) AS status, {', '.join(f'c.{t}' for t in TEXT_FIELDS)},
               coalesce(n.key, CASE WHEN lower(c.customer_class) IN ({', '.join(f"'{k}'" for k in CUSTOMER_CLASSES)})
                                     THEN lower(c.customer_class) ELSE c.customer_class END) AS customer_class,
               f.conflict_row, f.dup_row, {'true' if derived else 'false'} AS derived, c.date_pending
        FROM lines_{key} c LEFT JOIN fixes_{key} f USING (row)
        LEFT JOIN (VALUES {_values(CLASS_NAMES)}) n(name, key) ON lower(c.customer_class) = n.name""")
    con.execute(f"""CREATE OR REPLACE VIEW classed_{key} AS
        SELECT p.*, CASE WHEN p.status IS NULL THEN 'revenue' ELSE s.class END AS class,
               p.customer_id IS NULL AS guest, {drop_dups} AND p.dup_row IS NOT NULL AS dropped
        FROM parsed_{key} p LEFT JOIN classes_{key} s ON s.value = p.status""")
    con.execute(f"""CREATE OR REPLACE VIEW valid_{key} AS
        SELECT *, checked AND NOT problem AS load FROM (
            SELECT v.*, ((v.class = 'revenue' OR (v.class = 'refunded' AND {refunds_return})) AND NOT v.guest
                         AND NOT v.dropped) OR (v.guest AND {refuse}) AS checked,
                   coalesce({problem}, false) AS problem,
                   v.class = 'refunded' AND {refunds_return} AS refund_return
            FROM classed_{key} v)""")


def _ordered_copy(con, table: str, select: str) -> None:
    """CREATE TABLE AS in DuckDB's threads keeping the source's order (its rowids are then file order): only a
    plan DuckDB runs as an order-preserving batch copy qualifies; a join in it (an IN list of five or more
    values becomes one) would shuffle the rows, so such a plan is refused rather than misnumber rows."""
    plan = con.sql(f"EXPLAIN CREATE OR REPLACE TABLE {table} AS {select}").fetchall()[0][1]
    if "Batch Create Table As" not in plan or "Join" in plan:
        raise RuntimeError(f"the copy into {table} would not keep the file's order:\n{plan}")
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}")


class _IdPattern:
    """`{name:column}` in a row check: the regex on the column, only where its first character or a '+' can
    start a match (a regex on every ID cost a second per pass at 10M rows)."""
    def __init__(self, pattern: str, gate: str):
        self.pattern, self.gate = pattern, gate

    def __format__(self, column: str) -> str:
        return (f"CASE WHEN {self.gate.format(column)} THEN regexp_full_match({column}, '{self.pattern}', 'i') "
                f"ELSE false END")


_ID_CHECKS = {"scientific": _IdPattern(SCIENTIFIC, "contains({0}, '+')"),  # ſ folds to s under 'i'
              "totals": _IdPattern(TOTALS, "contains('合总小共總TGStgsſ', left({0}, 1))")}


def _check(condition: str, options: ImportOptions, today: date) -> str:
    """A row check's SQL with the user's settings as literals (a boolean and a date, never free text)."""
    return condition.format(refuse="true" if options.guests == "refuse" else "false", today=today.isoformat(),
                            **_ID_CHECKS)


def _values(pairs: dict[str, str]) -> str:
    """A VALUES list of string pairs, quotes doubled (the values are our own constants or the user's
    status classes; DuckDB's VALUES in a view cannot take parameters)."""
    def quote(text):
        return "'" + str(text).replace("'", "''") + "'"
    return ", ".join(f"({quote(a)}, {quote(b)})" for a, b in pairs.items()) or "(NULL, NULL)"


def _order_total_on_lines(con, key: str, report: ValidationReport, name: str, column: str) -> None:
    """The order's total written on each of its lines (WooCommerce plugins, JD's 应付金额) would be summed once
    per line: refused when at least two orders of differing lines carry one amount on every line and no order's
    lines differ in amount (then the amounts are the lines' own). One such order among the first rows settles
    it for a line-level file without grouping every line (lines read later cannot make its amounts equal)."""
    def orders(where: str) -> tuple:
        return con.sql(f"""
            SELECT count(*) FILTER (one), count(*) FILTER (NOT one), min(order_id) FILTER (one)
            FROM (SELECT order_id, min(amount_signed) = max(amount_signed) AS one FROM lines_{key}
                  WHERE order_id IS NOT NULL {where} GROUP BY order_id
                  HAVING min(line_hash) <> max(line_hash))""").fetchall()[0]

    if orders(f"AND row <= {SETTLING_ROWS}")[1]:
        return
    repeated, differing, example = orders("")
    if repeated >= 2 and not differing:
        report.problems.append(Problem(name, None, column, "order_total_on_every_line", example, str(repeated)))


def _counts(con, view: str) -> pd.DataFrame:
    """Everything the status table and the facts count, and the rows failing a check, per status value, in one
    pass over the checked rows (each further pass costs half a second at 10M rows)."""
    return con.sql(f"""
        SELECT status AS value, any_value(class) AS class, count(*) AS rows, sum(amount) AS amount,
               count(*) FILTER (guest) AS guests, sum(amount) FILTER (guest AND class = 'revenue') AS guests_value,
               count(*) FILTER (dup_row IS NOT NULL) AS duplicate_lines, count(*) FILTER (dropped) AS dropped,
               count(*) FILTER (load AND amount < 0) AS returns,
               sum(amount) FILTER (load AND amount < 0) AS returns_value,
               count(*) FILTER (load) AS loaded, sum(amount) FILTER (load) AS revenue,
               count(*) FILTER (load AND refund_return) AS refund_returns,
               sum(amount) FILTER (load AND refund_return) AS refund_returns_value,
               count(*) FILTER (NOT guest) AS named, sum(amount) FILTER (NOT guest) AS named_value,
               count(*) FILTER (checked AND problem) AS invalid
        FROM {view} GROUP BY status""").df()


def _statuses(counts: pd.DataFrame) -> pd.DataFrame:
    """One row per status value in the file: its class (None: unknown), rows and amount."""
    statuses = counts[counts["value"].notna()].sort_values("rows", ascending=False, kind="stable")
    statuses = statuses.assign(amount=statuses["amount"].round(2))
    return statuses[["value", "class", "rows", "amount"]].reset_index(drop=True)


def _facts(counts: pd.DataFrame, result: Validated, options: ImportOptions) -> None:
    report, total = result.report, counts.drop(columns=["value", "class"]).fillna(0).sum()
    as_returns = options.refunds == "return"
    refund_returns = (int(total["refund_returns"]), float(total["refund_returns_value"])) if as_returns else (0, 0.0)
    report.facts.update(guests=int(total["guests"]), duplicate_lines=int(total["duplicate_lines"]),
                        duplicates_dropped=int(total["dropped"]), returns=int(total["returns"]) + refund_returns[0])
    report.values.update(guests_value=float(total["guests_value"]),
                         returns_value=float(total["returns_value"]) - refund_returns[1])
    if "status" in result.mapping:
        named = counts.fillna({"named_value": 0})
        for cls in STATUS_CLASSES:
            fact = "refund_returns" if cls == "refunded" and as_returns else f"status_{cls}"
            of_class = named[named["class"] == cls]
            report.facts[fact] = int(of_class["named"].sum())
            report.values[f"{fact}_value"] = float(of_class["named_value"].sum())
    result.rows_valid = int(total["loaded"]) + refund_returns[0]
    report.facts["rows_valid"] = result.rows_valid
    report.values["revenue"] = float(total["revenue"])


def _row_problems(con, counts: pd.DataFrame, result: Validated, cols: dict[str, str], options: ImportOptions,
                  today: date) -> None:
    """Each check's problem rows among the checked rows (at most MAX_KEPT per check), and how many rows failed."""
    report, view, name = result.report, result.view, result.raw.file_name
    report.facts["rows_invalid"] = int(counts["invalid"].sum()) + len(result.raw.problems)
    if not counts["invalid"].sum():
        return
    conds = [(code, fld, _check(cond, options, today)) for code, fld, cond in ROW_CHECKS]
    failed = con.sql(f"SELECT {', '.join(f'count(*) FILTER (checked AND ({c}))' for _, _, c in conds)} "
                     f"FROM {view}").fetchall()[0]
    not_kept = 0
    for (code, fld, cond), count in zip(conds, failed):
        if not count:
            continue
        column = cols.get(fld) or (cols.get("unit_price") if fld == "amount" else None)
        shown = "NULL" if code.startswith("missing") else {
            "order_date": "date_text", "amount": "amount_text", "quantity": "quantity_text", "gross_margin": "margin_text",
            "discounted": "discount_text", "order_id": "order_id", "customer_id": "customer_id"}.get(fld, "NULL")
        expected = "conflict_row" if code == "conflicting_order" else "NULL"
        for row, text, exp in con.sql(f"""SELECT row, {shown}, {expected} FROM {view}
                                          WHERE checked AND ({cond}) ORDER BY row LIMIT {MAX_KEPT}""").fetchall():
            report.problems.append(Problem(name, int(row), column, code, None if text is None else str(text),
                                           None if exp is None else str(exp)))
        not_kept += max(0, count - MAX_KEPT)
    if not_kept:
        report.facts["problems_not_kept"] = not_kept
