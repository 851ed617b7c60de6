"""Order files in, validated rows into the base: CSV, Excel, Parquet and the CDNOW text log.

Reading (bytes -> the user's columns with the row numbers they see), validating (every row -> canonical
fields, or problems naming file, row, column and a stable code) and loading (one transaction) are
separate steps, so a page can show the report before anything is written and a rejected import leaves
the base exactly as it was. Text is decoded in Python: DuckDB extensions cannot be installed here.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from crm_logic.i18n import DEFAULT_LANGUAGE, translate
from crm_logic.store import CDNOW_DIR, CUSTOMER_CLASSES, Store, clear_base

MAX_UPLOAD_MB = 200
FORMATS = ("csv", "excel", "parquet", "cdnow")
REQUIRED = ("customer_id", "order_date", "amount")
MAX_LISTED = 20  # problems shown in the text report; the frame keeps them all

# Header names that map to a field without asking, compared after _normalise (first match wins).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "customer id", "customerid", "cust id", "client id", "customer no",
                    "customer number", "member id", "客户编号", "客户id", "客户代码", "会员号", "会员编号",
                    "会员id", "客户号", "客户"),
    "order_date": ("order_date", "order date", "date", "transaction date", "purchase date", "invoice date",
                   "订单日期", "交易日期", "下单时间", "下单日期", "购买日期", "交易时间", "日期"),
    "amount": ("amount", "revenue", "sales", "order amount", "sales amount", "dollar_value", "dollars",
               "金额", "实付金额", "订单金额", "销售额", "交易金额", "成交金额", "支付金额", "实付款"),
    "order_id": ("order_id", "order id", "order no", "order number", "invoice no", "订单号", "订单编号",
                 "订单id", "单号"),
    "quantity": ("quantity", "qty", "units", "number_of_cds", "数量", "购买数量", "件数"),
    "category": ("category", "product category", "品类", "商品类别", "商品分类", "产品类别", "类别"),
    "discounted": ("discounted", "discount", "是否折扣", "折扣", "是否打折"),
    "gross_margin": ("gross_margin", "gross margin", "margin", "gross profit", "毛利", "毛利额", "毛利润"),
    "customer_name": ("customer_name", "customer name", "name", "客户名称", "客户姓名", "姓名", "名称"),
    "region": ("region", "province", "area", "地区", "省份", "区域", "省"),
    "customer_class": ("customer_class", "customer class", "customer type", "客户类型", "客户类别"),
    "industry": ("industry", "行业", "所属行业"),
    "channel": ("channel", "acquisition channel", "渠道", "来源渠道", "获客渠道"),
}
FIELDS = tuple(SYNONYMS)
TEXT_FIELDS = ("category", "customer_name", "region", "industry", "channel")
# Class names users write, to the keys of store.CUSTOMER_CLASSES; anything else is kept as written.
CLASS_NAMES = {"消费者": "consumer", "个人": "consumer", "顾客": "buyer", "购买者": "buyer", "采购方": "buyer",
               "企业": "enterprise", "企业客户": "enterprise", "中间商": "intermediary", "经销商": "dealer",
               "代理商": "dealer", "distributor": "dealer",
               "reseller": "intermediary", "wholesaler": "intermediary", "business": "enterprise"}
YES = {"是", "有", "y", "yes", "true", "打折", "折扣"}  # numbers: non-zero is yes
NO = {"否", "无", "n", "no", "false", "不打折"}
FILE_LEVEL = ("unreadable_file", "missing_column", "empty_file", "already_imported")
FACTS = ("files", "rows_read", "rows_invalid", "duplicates_dropped", "rows_loaded", "rows_skipped",
         "customers_new")
CDNOW_FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
CDNOW_COLUMNS = ("customer_id", "sample_id", "date", "number_of_cds", "dollar_value")
_CDNOW_HEADER = re.compile(r"^\s*customer_id\s+date\s+number_of_cds\s+dollar_value\s*$", re.I)
_CDNOW_LINE = re.compile(r"^\s*\d+\s+(?:\d+\s+)?\d{8}\s+\d+\s+-?\d+(?:\.\d+)?\s*$")
_LINE_END = re.compile(r"\r\n|\r|\n")
# RE2-compatible patterns ([0-9], no \s) so pandas runs them in pyarrow, not row by row in Python.
_TIME = r"[ T]+([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"
_COMPACT_DATE = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
_DATE = r"^([0-9]{4}) *[-/.年] *([0-9]{1,2}) *[-/.月] *([0-9]{1,2}) *日?$"
_NUMBER = r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$|^\.[0-9]+$"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where the user can find it: row is the line/row number they see (None: whole file)."""
    file: str
    row: int | None
    column: str | None
    code: str
    value: str | None = None
    expected: str | None = None

    def message(self, lang: str = DEFAULT_LANGUAGE) -> str:
        value = translate(f"ingest.fields.{self.value}", lang) if self.code == "missing_column" else self.value
        return translate(f"ingest.problems.{self.code}", lang, value=value or "", column=self.column or "",
                         expected=self.expected or "")


@dataclass
class ValidationReport:
    problems: list[Problem] = field(default_factory=list)
    facts: dict[str, int] = field(default_factory=dict)
    status: str = "checked"  # checked / imported / rejected

    def add(self, other: "ValidationReport") -> None:
        self.problems += other.problems
        for key, count in other.facts.items():
            self.facts[key] = self.facts.get(key, 0) + count

    def render(self, lang: str = DEFAULT_LANGUAGE, limit: int = MAX_LISTED) -> str:
        lines = [translate(f"ingest.report.{self.status}", lang)]
        lines += [translate(f"ingest.facts.{k}", lang, count=f"{self.facts[k]:,}") for k in FACTS if self.facts.get(k)]
        for p in self.problems[:limit]:
            template = "cell" if p.column else "row" if p.row else "file"
            lines.append(translate(f"ingest.report.{template}", lang, file=p.file, row=p.row, column=p.column,
                                   message=p.message(lang), code=p.code))
        if len(self.problems) > limit:
            lines.append(translate("ingest.report.more", lang, count=f"{len(self.problems) - limit:,}"))
        return "\n".join(lines)

    def to_frame(self, lang: str = DEFAULT_LANGUAGE) -> pd.DataFrame:
        """All problems, headers in the reader's language: the download behind the text report."""
        rows = [(p.file, p.row, p.column, p.code, p.message(lang), p.value) for p in self.problems]
        frame = pd.DataFrame(rows, columns=["file", "row", "column", "code", "problem", "value"])
        frame["row"] = frame["row"].astype("Int64")
        return frame.rename(columns=lambda c: translate(f"ingest.columns.{c}", lang))


class ImportRejected(Exception):
    """Nothing was written; the report says why."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.render("en"))
        self.report = report


@dataclass
class RawTable:
    """A file as read: the user's column names, cells as read, and each row's number in the file."""
    file_name: str
    fmt: str
    frame: pd.DataFrame
    rows: np.ndarray
    file_hash: str
    problems: list[Problem] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None  # None for whitespace-separated text


@dataclass
class Validated:
    rows: pd.DataFrame  # canonical fields of the valid rows, plus "row"
    report: ValidationReport


@dataclass
class ImportResult:
    import_ids: list[int]
    rows_loaded: int
    rows_skipped: int
    customers_new: int
    report: ValidationReport


# ---- reading -------------------------------------------------------------------------------------------

def read_file(source: Any, file_name: str | None = None, fmt: str | None = None) -> RawTable:
    """Read a path, bytes, or an upload (anything with .name and .getvalue()/.read()); never raises on bad content."""
    if isinstance(source, (str, Path)):
        data, name = Path(source).read_bytes(), file_name or Path(source).name
    else:
        data = source if isinstance(source, bytes) else (
            source.getvalue() if hasattr(source, "getvalue") else source.read())
        name = file_name or getattr(source, "name", None) or "upload"
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    if fmt is None and data[:4] in (b"PK\x03\x04", b"PAR1"):
        fmt = "excel" if data[:2] == b"PK" else "parquet"
    raw = RawTable(name, fmt or "csv", pd.DataFrame(), np.empty(0, dtype=np.int64), hashlib.sha256(data).hexdigest())
    try:  # the parsers raise many kinds of errors on a damaged file; any of them means "unreadable"
        if fmt == "excel":
            raw.frame, raw.rows = _read_excel(data)
        elif fmt == "parquet":
            raw.frame = pd.read_parquet(io.BytesIO(data))
            raw.rows = np.arange(1, len(raw.frame) + 1)  # record numbers: Parquet has no header line
        else:
            text, raw.encoding = _decode(data)
            raw.fmt = fmt or ("cdnow" if _looks_like_cdnow(text) else "csv")
            raw.delimiter = None if raw.fmt == "cdnow" else _sniff_delimiter(text)
            raw.frame, raw.rows, raw.problems = _read_text(text, name, raw.delimiter, raw.fmt == "cdnow")
    except Exception as exc:  # noqa: BLE001
        raw.problems = [Problem(name, None, None, "unreadable_file", str(exc)[:200])]
        return raw
    raw.frame.columns = _unique([str(c).strip() for c in raw.frame.columns])
    return raw


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16"), "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, "utf-8" if encoding == "utf-8-sig" and not data.startswith(codecs.BOM_UTF8) else encoding
    raise ValueError("not UTF-8, UTF-16 or GB18030 text")


def _looks_like_cdnow(text: str) -> bool:
    lines = [line for line in itertools.islice(io.StringIO(text), 6) if line.strip()]
    if lines and _CDNOW_HEADER.match(lines[0]):
        lines = lines[1:]
    return bool(lines) and all(_CDNOW_LINE.match(line) for line in lines)


def _sniff_delimiter(text: str) -> str | None:
    """The delimiter that splits the header into most-consistently-many fields; None = runs of whitespace."""
    sample = [line for line in itertools.islice(io.StringIO(text), 50) if line.strip()]
    best, best_score = None, 0.0
    for delimiter in ",;\t|":
        counts = [len(r) for r in csv.reader(sample, delimiter=delimiter)]
        score = sum(c == counts[0] for c in counts) / len(counts) if counts and counts[0] > 1 else 0.0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_text(text: str, name: str, delimiter: str | None, cdnow: bool):
    """The table under the header line, each row's line number, and the lines with a wrong field count."""
    lines = _LINE_END.split(text)
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start == len(lines):
        return pd.DataFrame(), np.empty(0, dtype=np.int64), []
    if cdnow and not _CDNOW_HEADER.match(lines[start]):  # the sample has no header: its first line is data
        header = list(CDNOW_COLUMNS if len(lines[start].split()) == 5 else CDNOW_COLUMNS[:1] + CDNOW_COLUMNS[2:])
    else:
        header = lines[start].split() if delimiter is None else next(csv.reader([lines[start]], delimiter=delimiter))
        start += 1
    if delimiter is None:
        numbered = ((n, line.split()) for n, line in enumerate(lines[start:], start + 1))
        frame, rows, wrong = _collect(numbered, len(header))
    else:
        frame, rows, wrong = _arrow_table(lines, start, len(header), delimiter) or \
            _collect(_csv_records(lines, start, delimiter), len(header))
    frame.columns = [h.strip() for h in header]
    filled = ~(frame == "").all(axis=1).to_numpy()  # a line of bare delimiters is blank, not a row
    frame, rows = frame[filled].reset_index(drop=True), rows[filled]
    if cdnow:  # several orders per customer and day: the line number keeps identical lines apart
        frame["order_id"] = frame["customer_id"] + "-" + frame["date"] + "-" + pd.Series(rows).astype(str)
    return frame, rows, [Problem(name, n, None, "wrong_field_count", str(k), str(len(header))) for n, k in wrong]


def _collect(numbered: Iterable[tuple[int, list[str]]], width: int):
    """The records as wide as the header, with their line numbers; (line, field count) of the others."""
    rows, records, wrong = [], [], []
    for number, fields in numbered:
        if len(fields) == width:
            rows.append(number)
            records.append(fields)
        elif fields:
            wrong.append((number, len(fields)))
    return _string_frame(records, width), np.array(rows, dtype=np.int64), wrong


def _csv_records(lines: list[str], start: int, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    """The exact, slower reading: follows quoted values across lines to give each record its first line."""
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=delimiter)
    first = start + 1
    for fields in reader:
        yield first, fields
        first = start + reader.line_num + 1


def _arrow_table(lines: list[str], start: int, width: int, delimiter: str):
    """The fast reading (pyarrow); None when a quoted value spans lines, as line numbers then need _csv_records."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    filled = [n for n, line in enumerate(lines[start:], start + 1) if line]
    if not filled:  # pyarrow refuses an empty input
        return _string_frame([], width), np.empty(0, dtype=np.int64), []
    names = [f"c{i}" for i in range(width)]
    wrong: list[tuple[int, int]] = []

    def invalid(row) -> str:
        wrong.append((start + row.number, row.actual_columns))  # row.number counts lines after `start`
        return "skip"

    table = arrow_csv.read_csv(
        io.BytesIO("\n".join(lines[start:]).encode()),
        read_options=arrow_csv.ReadOptions(column_names=names, use_threads=False),
        parse_options=arrow_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=invalid),
        convert_options=arrow_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False))
    if table.num_rows + len(wrong) != len(filled):
        return None
    skipped = {n for n, _ in wrong}
    rows = np.array([n for n in filled if n not in skipped], dtype=np.int64)
    return table.to_pandas().astype("str"), rows, wrong


def _string_frame(records: list[list[str]], width: int) -> pd.DataFrame:
    columns = list(zip(*records)) if records else [()] * width
    return pd.DataFrame({i: pd.Series(column, dtype="str") for i, column in enumerate(columns)})


def _read_excel(data: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    """The first sheet through openpyxl, keeping sheet row numbers (pandas would skip blank rows) and dates."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        rows = [(n, row) for n, row in enumerate(book.worksheets[0].iter_rows(min_row=1, values_only=True), 1)
                if any(v is not None and str(v).strip() for v in row)]
    finally:
        book.close()
    if not rows:
        return pd.DataFrame(), np.empty(0, dtype=np.int64)
    header = [f"#{i + 1}" if v is None else str(v) for i, v in enumerate(rows[0][1])]
    body = [list(r[: len(header)]) + [None] * (len(header) - len(r)) for _, r in rows[1:]]
    frame = pd.DataFrame(body, columns=_unique(header), dtype=object)
    return frame, np.array([n for n, _ in rows[1:]], dtype=np.int64)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


# ---- mapping and validation ----------------------------------------------------------------------------

def _normalise(name: str) -> str:
    """Full-width to half-width, lower case, no spaces, underscores or hyphens: 'Customer_ID' == 'customerid'."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(name)).lower())


def auto_mapping(columns: Iterable[str]) -> dict[str, str]:
    """{field: column} for the columns whose header is a known name of a field."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(_normalise(column), column)
    mapping = {}
    for name, synonyms in SYNONYMS.items():
        column = next((by_name[_normalise(s)] for s in synonyms if _normalise(s) in by_name), None)
        if column is not None and column not in mapping.values():
            mapping[name] = column
    return mapping


def _mapping(columns: list[str], explicit: dict[str, str | None] | None) -> dict[str, str]:
    """Automatic mapping overridden by the explicit one; an explicit None unmaps a field."""
    explicit = explicit or {}
    unknown = set(explicit) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown fields in mapping: {sorted(unknown)}; fields are {FIELDS}")
    taken = {c for c in explicit.values() if c}
    mapping = {f: c for f, c in auto_mapping(columns).items() if f not in explicit and c not in taken}
    mapping.update({f: c for f, c in explicit.items() if c})
    return mapping


def _text(series: pd.Series) -> pd.Series:
    """Cells as stripped text, missing as NA; integral numbers without '.0', dates as ISO."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series):
        series = series.astype(object)
    if series.dtype == object:
        series = series.map(_cell_text, na_action="ignore")
    text = series.astype("str").str.strip()
    return text.mask(text == "")


def _cell_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.min.time() else value.date().isoformat()
    return value if isinstance(value, str) else str(value)


def _ascii(text: pd.Series) -> pd.Series:
    """Full-width digits, signs and ￥ to ASCII/¥ (NFKC), only when needed: it costs a pass."""
    return text if text.dropna().str.isascii().all() else text.str.normalize("NFKC")


def _dates(series: pd.Series) -> pd.Series:
    """Midnight timestamps from date cells or from 2024-03-05, 2024/3/5, 20240305, 2024年3月5日 (time ignored)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return pd.to_datetime(series).dt.tz_localize(None).dt.normalize()
    text = _ascii(_text(series)).str.replace(_TIME, "", regex=True)  # date and datetime cells arrive as ISO text
    text = text.str.replace(_COMPACT_DATE, r"\1-\2-\3", regex=True).str.replace(_DATE, r"\1-\2-\3", regex=True)
    return pd.to_datetime(text.where(text.str.fullmatch(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", na=False)),
                          format="%Y-%m-%d", errors="coerce")


def _numbers(series: pd.Series) -> pd.Series:
    """Floats from number cells or text like 1,234.50  ¥1,234  $-5  (120.00)  -120; NaN when unreadable."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    text = _ascii(_text(series)).str.replace(r"[ \t¥$]|RMB|元", "", regex=True)
    paren = text.str.match(r"^\(.*\)$", na=False)
    text = text.where(~paren, text.str[1:-1])
    minus = text.str.startswith("-", na=False)
    text = text.str.replace(r"^[+-]", "", regex=True)
    value = pd.to_numeric(text.where(text.str.match(_NUMBER, na=False)).str.replace(",", "", regex=False),
                          errors="coerce")
    return value.where(~(paren ^ minus), -value)


def _flags(series: pd.Series) -> pd.Series:
    """Yes/no cells: 是/否, yes/no, true/false, 1/0; a non-zero discount amount or rate counts as yes."""
    text = _text(series).str.lower()
    numbers = _numbers(series)
    flags = pd.Series(pd.NA, index=series.index, dtype="boolean")
    flags[text.isin(YES)] = True
    flags[text.isin(NO)] = False
    flags[text.str.match(r"^[0-9.]+折$", na=False)] = True  # "8.5折": sold at 85 %
    return flags.fillna((numbers != 0).where(numbers.notna()).astype("boolean"))


def validate(raw: RawTable, mapping: dict[str, str | None] | None = None, today: date | None = None) -> Validated:
    """Every row checked; the valid rows in canonical fields and every problem, nothing written."""
    today = today or date.today()
    name, frame = raw.file_name, raw.frame
    report = ValidationReport(list(raw.problems), {"files": 1})
    empty = Validated(pd.DataFrame(columns=["row", *FIELDS]), report)
    if any(p.code == "unreadable_file" for p in raw.problems):
        return empty
    report.facts["rows_read"] = len(frame) + len(raw.problems)
    if not report.facts["rows_read"]:
        report.problems.append(Problem(name, None, None, "empty_file"))
        return empty
    cols = _mapping(list(frame.columns), mapping)
    report.problems += [Problem(name, None, cols.get(f), "missing_column", f) for f in FIELDS
                        if (f in REQUIRED and f not in cols) or (f in cols and cols[f] not in frame.columns)]
    if len(report.problems) > len(raw.problems):
        return empty

    out = pd.DataFrame({"row": raw.rows}, index=frame.index)
    bad = np.zeros(len(frame), dtype=bool)
    found: list[Problem] = list(raw.problems)

    def flag(mask: pd.Series, fld: str, code: str, values: pd.Series | None = None, expected=None) -> None:
        mask = mask.to_numpy(dtype=bool, na_value=False)
        for i in np.flatnonzero(mask):
            value = None if values is None or pd.isna(values.iloc[i]) else str(values.iloc[i])
            found.append(Problem(name, int(raw.rows[i]), cols[fld], code, value,
                                 None if expected is None else str(expected.iloc[i])))
        bad[mask] = True

    shown = {f: _text(frame[c]) for f, c in cols.items()}
    out["customer_id"] = shown["customer_id"]
    flag(out.customer_id.isna(), "customer_id", "missing_customer_id")
    out["order_date"] = _dates(frame[cols["order_date"]])
    flag(shown["order_date"].isna(), "order_date", "missing_date")
    flag(out.order_date.isna() & shown["order_date"].notna(), "order_date", "bad_date", shown["order_date"])
    flag(out.order_date > pd.Timestamp(today), "order_date", "future_date", shown["order_date"])
    out["amount"] = _numbers(frame[cols["amount"]])
    flag(shown["amount"].isna(), "amount", "missing_amount")
    flag(shown["amount"].notna() & (~np.isfinite(out.amount) | (out.amount.abs() >= 1e16)), "amount", "bad_amount",
         shown["amount"])
    for fld in ("quantity", "gross_margin", "discounted"):
        if fld in cols:
            out[fld] = (_flags if fld == "discounted" else _numbers)(frame[cols[fld]])
            flag(out[fld].isna() & shown[fld].notna(), fld, "bad_value", shown[fld])
        else:
            out[fld] = pd.Series(pd.NA if fld == "discounted" else np.nan, index=out.index,
                                 dtype="boolean" if fld == "discounted" else float)
    for fld in ("order_id", *TEXT_FIELDS, "customer_class"):
        out[fld] = shown[fld] if fld in cols else pd.Series(None, index=out.index, dtype="str")
    out["customer_class"] = out.customer_class.map(_customer_class, na_action="ignore").astype("str")

    # An order id is one order: the same line twice is dropped (and counted); other content is a conflict.
    keyed = out[~bad & out.order_id.notna().to_numpy()]
    repeat = keyed.drop(columns="row").duplicated(keep="first")
    report.facts["duplicates_dropped"] = int(repeat.sum())
    keyed = keyed[~repeat]
    first_row = keyed.groupby("order_id").row.transform("first").reindex(out.index).astype("Int64")
    conflict = keyed.order_id.duplicated(keep="first").reindex(out.index, fill_value=False)
    flag(conflict, "order_id", "duplicate_order", out.order_id, first_row)

    report.problems = sorted(found, key=lambda p: p.row)
    report.facts["rows_invalid"] = int(bad.sum()) + len(raw.problems)
    valid = out[~bad].drop(index=repeat[repeat].index)
    return Validated(valid.reset_index(drop=True), report)


def _customer_class(value: str) -> str:
    key = value.strip().lower()
    return key if key in CUSTOMER_CLASSES else CLASS_NAMES.get(key, value)


# ---- loading -------------------------------------------------------------------------------------------

def import_files(store: Store, sources: Any, mapping: dict[str, str | None] | None = None, fmt: str | None = None,
                 skip_invalid: bool = False, replace: bool = False,
                 progress: Callable[[float, str], None] | None = None, today: date | None = None) -> ImportResult:
    """Import one or several files as one unit: all rows of all files, or nothing (ImportRejected).

    skip_invalid loads the valid rows and lists the others; whole-file problems (unreadable, missing
    column, empty, already imported) still reject. replace empties the base in the same transaction.
    """
    return _import(store, sources, mapping, fmt, skip_invalid, replace, progress, today, meta={})


def _import(store, sources, mapping, fmt, skip_invalid, replace, progress, today, meta) -> ImportResult:
    notify = progress or (lambda fraction, stage: None)
    if isinstance(sources, (str, Path, bytes)) or hasattr(sources, "getvalue") or hasattr(sources, "read"):
        sources = [sources]
    report, checked, hashes = ValidationReport(), [], set()
    for i, source in enumerate(sources):
        notify(0.6 * i / len(sources), "ingest.stage.read")
        raw = read_file(source, fmt=fmt)
        notify(0.6 * (i + 0.5) / len(sources), "ingest.stage.validate")
        result = validate(raw, mapping, today)
        first = None if replace else store.scalar("SELECT min(imported_at) FROM imports WHERE file_hash = ?",
                                                  [raw.file_hash])
        if first is not None or raw.file_hash in hashes:
            when = (first or datetime.now()).date().isoformat()
            result.report.problems.insert(0, Problem(raw.file_name, None, None, "already_imported", when))
        hashes.add(raw.file_hash)
        report.add(result.report)
        checked.append((raw, result))
    rows_valid = sum(len(v.rows) for _, v in checked)
    if any(p.code in FILE_LEVEL for p in report.problems) or (report.problems and not skip_invalid) or not rows_valid:
        report.status = "rejected"
        raise ImportRejected(report)

    notify(0.6, "ingest.stage.load")
    now = datetime.now()
    with store.transaction() as cur:
        if not replace:  # again under the write lock: another session may have imported it meanwhile
            for raw, _ in checked:
                first = cur.execute("SELECT min(imported_at) FROM imports WHERE file_hash = ?", [raw.file_hash]).fetchone()[0]
                if first is not None:
                    report.problems.insert(0, Problem(raw.file_name, None, None, "already_imported",
                                                      first.date().isoformat()))
                    report.status = "rejected"
                    raise ImportRejected(report)
        if replace:
            clear_base(cur)
        for key, value in meta.items():
            Store.set_meta(cur, key, value)
        next_id = cur.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
        frames = []
        for k, (raw, validated) in enumerate(checked):
            cur.execute("INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [next_id + k, raw.file_name, raw.file_hash, now, raw.fmt, len(validated.rows),
                         validated.report.facts.get("rows_invalid", 0), replace])
            frames.append(validated.rows.assign(import_id=next_id + k))
        customers_new = _load(cur, pd.concat(frames, ignore_index=True))
    notify(1.0, "ingest.stage.load")
    report.status = "imported"
    report.facts.update(rows_loaded=rows_valid, rows_skipped=report.facts.get("rows_invalid", 0),
                        customers_new=customers_new)
    return ImportResult(list(range(next_id, next_id + len(checked))), rows_valid, report.facts["rows_skipped"],
                        customers_new, report)


def _load(cur, incoming: pd.DataFrame) -> int:
    """Insert the rows from a registered frame (ids stay data); add customers not yet known. Returns how many."""
    incoming = incoming.astype({"discounted": "boolean"})
    cur.register("incoming", incoming)
    try:
        cur.execute("""
            INSERT INTO transactions (customer_id, order_id, order_date, amount, quantity, category, discounted,
                                      gross_margin, import_id)
            SELECT customer_id, order_id, CAST(order_date AS DATE), CAST(round(amount, 2) AS DECIMAL(18, 2)),
                   quantity, category, discounted, CAST(round(gross_margin, 2) AS DECIMAL(18, 2)), import_id
            FROM incoming""")
        cur.execute("""
            UPDATE customers SET created_date = f.first_date
            FROM (SELECT customer_id, CAST(min(order_date) AS DATE) AS first_date FROM incoming GROUP BY 1) f
            WHERE customers.customer_id = f.customer_id
              AND (customers.created_date IS NULL OR f.first_date < customers.created_date)""")
        latest = "arg_max({0}, order_date) FILTER (WHERE {0} IS NOT NULL)"  # as on their latest order
        return cur.execute(f"""
            INSERT INTO customers (customer_id, name, customer_class, region, industry, channel, created_date)
            SELECT customer_id, {latest.format('customer_name')}, {latest.format('customer_class')},
                   {latest.format('region')}, {latest.format('industry')}, {latest.format('channel')},
                   CAST(min(order_date) AS DATE)
            FROM incoming i
            WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = i.customer_id)
            GROUP BY customer_id""").fetchone()[0]  # column names are constants, not user input
    finally:
        cur.unregister("incoming")


def load_cdnow(store: Store, which: str = "sample", progress: Callable[[float, str], None] | None = None,
               ) -> ImportResult:
    """Replace the base with a CDNOW log ("sample": 1/10 of the customers, or "master": all of them)."""
    meta = {"currency": "$", "display_name": f"cdnow_{which}"}
    return _import(store, [CDNOW_DIR / CDNOW_FILES[which]], None, "cdnow", False, True, progress, None, meta)


def imports_log(store: Store) -> pd.DataFrame:
    return store.df("SELECT * FROM imports ORDER BY imported_at DESC, import_id DESC")
