"""Bytes in, a staged table of text cells out: each row with the number the user sees in the file.

A file is staged into a scratch DuckDB file (never into the base): a plain CSV goes in through DuckDB's
own reader, so a 10-million-line file never passes through Python; Excel, Parquet, whitespace-aligned
text, the CDNOW log and CSVs with multi-line cells or ragged lines take the exact Python reading. Text
is decoded in Python (UTF-8, UTF-16, GB18030): DuckDB extensions cannot be installed here.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import duckdb
import numpy as np
import pandas as pd

from crm_logic.ingest.report import Problem

FORMATS = ("csv", "excel", "parquet", "cdnow")
MAX_LINE_BYTES = 4 * 2**20  # a line longer than this holds no order: it is refused with its line number
STAGE_MEMORY = "512MB"  # DuckDB's buffer limit while staging, checking and loading (it spills to disk beyond)
OPEN_STAGES = 4  # scratch connections kept open per process; older ones close (reopening costs ~0.1 s)
STAGE_MAX_AGE = 6 * 3600  # scratch files older than this (seconds) are removed at the next read
CDNOW_COLUMNS = ("customer_id", "sample_id", "date", "number_of_cds", "dollar_value")
_CDNOW_HEADER = re.compile(r"^\s*customer_id\s+date\s+number_of_cds\s+dollar_value\s*$", re.I)
_CDNOW_LINE = re.compile(r"^\s*\d+\s+(?:\d+\s+)?\d{8}\s+\d+\s+-?\d+(?:\.\d+)?\s*$")
_LINE_END = re.compile(r"\r\n|\r|\n")
_SAMPLE_BYTES = 256 * 1024
_HEADER_SEARCH = 30  # lines (or sheet rows) searched for the header under title rows
_XLS = b"\xd0\xcf\x11\xe0"  # the old binary Excel (OLE2) file
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # an .xlsx saved with a password is an OLE2 file holding it
_MERGED = re.compile(rb'<mergeCell ref="([A-Z]+)([0-9]+):([A-Z]+)([0-9]+)"')
_FORMULA_WITHOUT_VALUE = re.compile(rb"<c [^>]*>\s*<f[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
_connections: dict[str, duckdb.DuckDBPyConnection] = {}
_HASHING = ThreadPoolExecutor(2, thread_name_prefix="ingest-hash")
CONNECT_HOOKS: list = []  # functions run on each new scratch connection (validate registers its SQL macros)


def stage_dir() -> Path:
    """Scratch space for staged files: $CRM_INGEST_DIR or the system's temporary directory."""
    path = Path(os.environ.get("CRM_INGEST_DIR") or Path(tempfile.gettempdir()) / "crm_ingest")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def staged(stage: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The process's connection to a staged file (kept open: opening costs more than most checks), one user
    at a time; the parsing macros of validate are defined on it."""
    with _locks_guard:
        lock = _locks.setdefault(stage, threading.Lock())
    with lock:
        con = _connections.pop(stage, None)
        if con is None:
            _close_idle()
            con = duckdb.connect(stage)
            con.execute(f"SET memory_limit = '{STAGE_MEMORY}'")
            con.execute("SET force_compression = 'uncompressed'")  # scratch: written once, read a few times
            for prepare in CONNECT_HOOKS:
                prepare(con)
        _connections[stage] = con  # most recently used last
        yield con


def _close_idle() -> None:
    """Close the least recently used connections beyond OPEN_STAGES that nobody is using (each holds a buffer)."""
    for stage in list(_connections)[: max(0, len(_connections) - OPEN_STAGES + 1)]:
        lock = _locks.get(stage)
        if lock is not None and lock.acquire(blocking=False):
            try:
                con = _connections.pop(stage, None)
                if con is not None:
                    con.close()
            finally:
                lock.release()


@contextmanager
def released(stages: list[str]) -> Iterator[None]:
    """The staged files closed and kept closed in this process (their locks held, taken in one order) while
    another DuckDB connection attaches them: a file must not be open twice in one process."""
    paths = sorted(set(stages))
    with _locks_guard:
        locks = [_locks.setdefault(stage, threading.Lock()) for stage in paths]
    with ExitStack() as held:
        for stage, lock in zip(paths, locks):
            held.enter_context(lock)
            con = _connections.pop(stage, None)
            if con is not None:
                con.execute("PRAGMA disable_checkpoint_on_shutdown")  # the attach replays the log instead
                con.close()
        yield


def close_stage(stage: str) -> None:
    """Close a staged file about to be removed: without the checkpoint a close makes (a second at 2M rows)."""
    with _locks_guard:
        lock = _locks.setdefault(stage, threading.Lock())
    with lock:
        con = _connections.pop(stage, None)
        if con is not None:
            con.execute("PRAGMA disable_checkpoint_on_shutdown")
            con.close()


@dataclass
class RawTable:
    """A file as read: the user's column names, the staged cells (text) and where they came from.

    `stage` is a scratch DuckDB file holding the view `raw` (c0, c1, ... as text, and `row`, the line or
    sheet row number the user sees). The table is picklable (the page caches it); `discard()` removes it.
    """
    file_name: str
    fmt: str
    file_hash: str
    stage: str | None = None
    columns: list[str] = field(default_factory=list)
    n_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None  # None for whitespace-separated text
    sheets: list[str] = field(default_factory=list)  # Excel: every sheet's name
    sheet: str | None = None  # Excel: the sheet read
    header_row: int | None = None  # the line or sheet row of the header (1-based); above it, title rows
    first_line: int | None = None  # CSV read in place: the view `raw_cells` has no row numbers, its i-th
    # record (0-based, in file order) is on line first_line + i (lines of bare delimiters included)

    def head(self, n: int = 20) -> pd.DataFrame:
        """The first n rows as the user's columns (for the preview)."""
        return self._select(f"LIMIT {int(n)}")

    @property
    def frame(self) -> pd.DataFrame:
        """Every row as text, the user's column names (reads the whole stage: for tests and small files)."""
        return self._select("")

    def _select(self, limit: str) -> pd.DataFrame:
        if not self.stage:
            return pd.DataFrame(columns=self.columns)
        cells = ", ".join(f'c{i} AS "{i}"' for i in range(len(self.columns)))
        with staged(self.stage) as con:
            frame = con.sql(f"SELECT {cells} FROM raw ORDER BY row {limit}").df()
        frame.columns = self.columns
        return frame

    def discard(self) -> None:
        """Remove the scratch file (an import does so for the files it read itself)."""
        if self.stage:
            close_stage(self.stage)
            for path in (Path(self.stage), Path(self.stage + ".wal"), Path(self.stage + ".tmp")):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def read_file(source: Any, file_name: str | None = None, fmt: str | None = None, sheet: str | None = None,
              header_row: int | None = None) -> RawTable:
    """Read a path, bytes, or an upload (anything with .name and .getvalue()/.read()); never raises on bad content.

    sheet: the Excel sheet to read (default: the first with data); header_row: the line or sheet row
    holding the column names (default: found under any title rows).
    """
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    _remove_old_stages()
    path, name, digest = _source(source, file_name)
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    if fmt is None and head[:4] in (b"PK\x03\x04", b"PAR1"):
        fmt = "excel" if head[:2] == b"PK" else "parquet"
    raw = RawTable(name, fmt or "csv", "", stage=str(stage_dir() / f"{uuid.uuid4().hex}.duckdb"))
    try:
        if fmt is None and head.startswith(_XLS) and _encrypted(path, head):
            return _refuse(raw, Problem(name, None, None, "encrypted_file"))
        if fmt is None and (head.startswith(_XLS) or re.match(rb"\s*<(!doctype html|html|table)", head[:200], re.I)):
            return _refuse(raw, Problem(name, None, None, "xls_file"))
        try:  # the parsers raise many kinds of errors on a damaged file; any of them means "unreadable"
            if raw.fmt == "excel":
                _read_excel(raw, path, sheet, header_row)
            elif raw.fmt == "parquet":
                _read_parquet(raw, path)
            else:
                _read_text(raw, path, head, fmt, header_row)
        except _Refused as refused:
            return _refuse(raw, refused.problem)
        except UnicodeDecodeError:  # e.g. a UTF-8 mark in front of GBK text: the sample looked like UTF-8
            return _refuse(raw, Problem(name, None, None, "unknown_encoding"))
        except Exception as exc:  # noqa: BLE001
            return _refuse(raw, Problem(name, None, None, "unreadable_file", str(exc).splitlines()[0][:200]))
        return raw
    finally:
        raw.file_hash = digest()


def _encrypted(path: Path, head: bytes) -> bool:
    """A workbook saved with a password: an OLE2 container whose directory names an EncryptedPackage stream
    (the directory sits near the start or the end of the file)."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 2**20))
        tail = fh.read()
    return _ENCRYPTED in head or _ENCRYPTED in tail


class _Refused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.code)
        self.problem = problem


def _refuse(raw: RawTable, problem: Problem) -> RawTable:
    raw.discard()
    raw.stage, raw.columns, raw.n_rows, raw.problems = None, [], 0, [problem]
    return raw


def _source(source: Any, file_name: str | None) -> tuple[Path, str, Callable[[], str]]:
    """A path to read from, the name to show and the content's SHA-256 (uploads are written to scratch). A file
    is hashed in a thread while it is read (hashing releases the GIL: half a second at 10M rows)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path, file_name or path.name, _HASHING.submit(_sha256, path).result
    data = source if isinstance(source, bytes) else (source.getvalue() if hasattr(source, "getvalue") else source.read())
    digest = hashlib.sha256(data).hexdigest()
    path = stage_dir() / f"{digest}.upload"
    if not path.exists():
        scratch = path.with_suffix(f".{uuid.uuid4().hex[:8]}")
        scratch.write_bytes(data)
        scratch.replace(path)
    return path, file_name or getattr(source, "name", None) or "upload", lambda: digest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remove_old_stages() -> None:
    cutoff = time.time() - STAGE_MAX_AGE
    for path in stage_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        except OSError:  # another process removed it first
            pass


# ---- text ----------------------------------------------------------------------------------------------

def _encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    zeros_even, zeros_odd = head[0:2000:2].count(0), head[1:2000:2].count(0)
    if len(head) >= 4 and max(zeros_even, zeros_odd) > len(head[:2000]) / 8:  # UTF-16 without its BOM
        return "utf-16-be" if zeros_even > zeros_odd else "utf-16-le"
    for encoding in ("utf-8", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) < _SAMPLE_BYTES)
        except UnicodeDecodeError:
            continue
        return encoding
    raise _Refused(Problem("", None, None, "unknown_encoding"))


def _transcode(path: Path, encoding: str, raw: RawTable) -> Path:
    """The file as UTF-8 in scratch space, decoded a megabyte at a time."""
    target = Path(raw.stage).with_suffix(".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
            for chunk in iter(lambda: src.read(2**20), b""):
                dst.write(decoder.decode(chunk))
            dst.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        target.unlink(missing_ok=True)
        raise _Refused(Problem(raw.file_name, None, None, "unknown_encoding", encoding)) from exc
    return target


def _read_text(raw: RawTable, path: Path, head: bytes, fmt: str | None, header_row: int | None) -> None:
    try:
        raw.encoding = _encoding(head)
    except _Refused as refused:
        raise _Refused(Problem(raw.file_name, None, None, "unknown_encoding")) from refused
    text_path = path if raw.encoding in ("utf-8", "utf-8-sig") else _transcode(path, raw.encoding, raw)
    sample = _sample_lines(text_path)
    cdnow = fmt == "cdnow" or (fmt is None and _looks_like_cdnow(sample))
    raw.fmt = "cdnow" if cdnow else "csv"
    raw.delimiter = None if cdnow else _sniff_delimiter(sample)
    if not any(line.strip() for line in sample):
        _stage_frame(raw, pd.DataFrame(), np.empty(0, dtype=np.int64), [])
        return
    raw.header_row = header_row or (None if cdnow else _header_line(sample, raw.delimiter))
    if header_row and not _line(text_path, header_row).strip():  # chosen below the last line: nothing under it
        _stage_frame(raw, pd.DataFrame(), np.empty(0, dtype=np.int64), [])
        return
    if raw.delimiter is not None and _read_csv_natively(raw, text_path):
        return
    if raw.delimiter is not None and raw.encoding == "utf-8" and text_path == path and _not_utf8(path):
        raw.encoding = "gb18030"  # UTF-8 at the top, GBK further down: decode it all as GB18030
        text_path = _transcode(path, "gb18030", raw)
        if _read_csv_natively(raw, text_path):
            return
    text = text_path.read_text(encoding="utf-8-sig")
    frame, rows, problems, header = _python_table(text, raw, cdnow)
    _stage_frame(raw, frame, rows, header, problems)


def _sample_lines(path: Path) -> list[str]:
    with path.open("rb") as fh:
        data = fh.read(_SAMPLE_BYTES)
    complete = len(data) < _SAMPLE_BYTES
    lines = _LINE_END.split(data.decode("utf-8-sig", errors="replace"))
    return lines if complete else lines[:-1]


def _not_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(2**22), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return True
    return False


def _looks_like_cdnow(lines: list[str]) -> bool:
    lines = [line for line in lines[:7] if line.strip()][:6]
    if lines and _CDNOW_HEADER.match(lines[0]):
        lines = lines[1:]
    return bool(lines) and all(_CDNOW_LINE.match(line) for line in lines)


def _sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits the most lines into the same number (>1) of fields; None = runs of whitespace."""
    sample = [line for line in lines[:60] if line.strip()]
    best, best_score = None, 0.0
    for delimiter in ",;\t|":
        counts = [len(r) for r in csv.reader(sample, delimiter=delimiter)]
        widest = max(counts, default=0)
        score = sum(c == widest for c in counts) / len(counts) if widest > 1 else 0.0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header_line(lines: list[str], delimiter: str | None) -> int:
    """The first line (1-based) as wide as most lines, with at least two named cells: title rows sit above it."""
    split = (lambda line: line.split()) if delimiter is None else (
        lambda line: next(csv.reader([line], delimiter=delimiter), []))
    found = [(n, [c for c in split(line) if c.strip()], len(split(line)))
             for n, line in enumerate(lines[:_HEADER_SEARCH * 2], 1) if line.strip()][:_HEADER_SEARCH]
    widths = [w for _, _, w in found]
    width = max(widths, key=lambda w: (widths.count(w), w), default=0)
    at = next((i for i, (_, cells, w) in enumerate(found) if w == width and len(cells) >= min(2, width)), None)
    if at is None:
        return found[0][0] if found else 1
    below = found[at + 1] if at + 1 < len(found) else None
    if below and below[0] == found[at][0] + 1 and below[2] == width and _group_header(found[at][1], below[1], width):
        return below[0]
    return found[at][0]


def _group_header(cells: list, below: list, width: int) -> bool:
    """A row with unnamed cells (订单信息 merged over two columns) right above a row of names only: the names
    are the header. A row of data holds numbers or dates, so it is never taken for names."""
    return len(cells) < width and len(below) == width and all(
        isinstance(v, str) and not re.fullmatch(r"[\d\s.,:/\-+¥$€£%()]+", v) for v in below)


def _read_csv_natively(raw: RawTable, path: Path) -> bool:
    """DuckDB's reader when every line below the header is one record as wide as the header; False otherwise.

    Nothing is copied: `raw` is a view over the file (numbered in file order by a streaming row_number(), for
    the preview); validate numbers its own copy of the cells by rowid, in DuckDB's threads."""
    header = next(csv.reader([_line(path, raw.header_row)], delimiter=raw.delimiter))
    width = len(header)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"  # constants, not user input
    quoted_path = str(path).replace("'", "''")
    source = (f"read_csv('{quoted_path}', delim = '{raw.delimiter}', quote = '\"', escape = '\"', header = false, "
              f"skip = {int(raw.header_row)}, columns = {columns}, auto_detect = false, null_padding = false, "
              f"max_line_size = {MAX_LINE_BYTES}")  # the delimiter is one of ,;\t| (sniffed), never free text
    filled = " OR ".join(f"c{i} IS NOT NULL" for i in range(width))
    lines, bare_lines = _count_lines(path, raw.delimiter.encode() * (width - 1))
    with staged(raw.stage) as con:
        try:  # the filled records are counted only where a line may hold bare delimiters (a third of the read)
            records, raw.n_rows = con.sql(f"SELECT count(*), count(*) FILTER ({filled if bare_lines else 'true'}) "
                                          f"FROM {source}, store_rejects = true)").fetchall()[0]
        except duckdb.Error as exc:
            if "line size" in str(exc).lower() or "maximum line" in str(exc).lower():
                raise _Refused(_long_line(raw, path)) from exc
            return False
        rejected = con.sql("SELECT count(*) FROM reject_errors").fetchall()[0][0]
        if rejected or lines != raw.header_row + records:
            return False
        con.execute(f"CREATE OR REPLACE VIEW raw_cells AS SELECT * FROM {source})")
        con.execute(f"CREATE OR REPLACE VIEW raw AS SELECT * FROM (SELECT *, row_number() OVER () + "
                    f"{int(raw.header_row)} AS row FROM raw_cells) WHERE {filled}")
    raw.columns = _unique([h.strip() for h in header])
    raw.first_line = raw.header_row + 1
    return True


def _line(path: Path, number: int) -> str:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return _LINE_END.split(next(itertools.islice(fh, number - 1, None), ""))[0]


def _long_line(raw: RawTable, path: Path) -> Problem:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if len(line) > MAX_LINE_BYTES:
                return Problem(raw.file_name, number, None, "cell_too_large", f"{len(line) / 2**20:.1f}")
    return Problem(raw.file_name, None, None, "cell_too_large", f">{MAX_LINE_BYTES / 2**20:.0f}")


def _count_lines(path: Path, bare: bytes) -> tuple[int, bool]:
    """The file's lines, and whether a line may be `bare` alone (a record without a value: bare delimiters)."""
    count, tail, newline, found = 0, b"", b"\n", False
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(2**22), b""):
            if count == 0 and b"\n" not in chunk and b"\r" in chunk:
                newline = b"\r"
            count += chunk.count(newline)
            found = found or newline + bare in chunk or newline + bare in tail + chunk[:len(bare)]
            tail = chunk[-len(bare) - 1:]
    return count + (tail[-1:] not in (b"", b"\n", b"\r")), found


def _python_table(text: str, raw: RawTable, cdnow: bool):
    """The exact reading: each record's first line number, ragged lines reported, quoted line breaks followed."""
    lines = _LINE_END.split(text)
    start = (raw.header_row or next((i for i, line in enumerate(lines, 1) if line.strip()), 1)) - 1
    if cdnow and not _CDNOW_HEADER.match(lines[start]):  # the sample has no header: its first line is data
        header = list(CDNOW_COLUMNS if len(lines[start].split()) == 5 else CDNOW_COLUMNS[:1] + CDNOW_COLUMNS[2:])
    else:
        header = lines[start].split() if raw.delimiter is None else next(
            csv.reader([lines[start]], delimiter=raw.delimiter))
        start += 1
    if raw.delimiter is None:
        numbered = ((n, line.split()) for n, line in enumerate(lines[start:], start + 1))
    else:
        numbered = _csv_records(lines, start, raw.delimiter, raw)
    frame, rows, wrong = _collect(numbered, len(header))
    frame.columns = [h.strip() for h in header]
    if cdnow:  # several orders per customer and day: the line number keeps identical lines apart
        frame["order_id"] = frame["customer_id"] + "-" + frame["date"] + "-" + pd.Series(rows).astype(str)
    problems = [Problem(raw.file_name, n, None, "wrong_field_count", str(k), str(len(header))) for n, k in wrong]
    return frame, rows, problems, list(frame.columns)


def _collect(numbered: Iterable[tuple[int, list[str]]], width: int):
    """The records as wide as the header, with their line numbers; (line, field count) of the others."""
    rows, records, wrong = [], [], []
    for number, fields in numbered:
        if not any(f.strip() for f in fields):  # a blank line or bare delimiters: no row
            continue
        if len(fields) == width:
            rows.append(number)
            records.append(fields)
        else:
            wrong.append((number, len(fields)))
    columns = list(zip(*records)) if records else [()] * width
    frame = pd.DataFrame({i: pd.Series(column, dtype=object) for i, column in enumerate(columns)})
    return frame, np.array(rows, dtype=np.int64), wrong


def _csv_records(lines: list[str], start: int, delimiter: str, raw: RawTable) -> Iterable[tuple[int, list[str]]]:
    """Follows quoted values across lines to give each record its first line."""
    csv.field_size_limit(MAX_LINE_BYTES)
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=delimiter)
    first = start + 1
    try:
        for fields in reader:
            yield first, fields
            first = start + reader.line_num + 1
    except csv.Error as exc:
        if "field larger" in str(exc):
            raise _Refused(Problem(raw.file_name, first, None, "cell_too_large", f">{MAX_LINE_BYTES / 2**20:.0f}"))
        raise


# ---- Excel and Parquet ---------------------------------------------------------------------------------

def _read_excel(raw: RawTable, path: Path, sheet: str | None, header_row: int | None) -> None:
    """The chosen sheet (default: the first with data) to its true extent, whatever its <dimension> tag says."""
    from openpyxl import load_workbook

    book = load_workbook(path.open("rb"), read_only=True, data_only=True)  # a file object: uploads are
    # staged as <hash>.upload, and openpyxl refuses a path by its extension
    try:
        raw.sheets = list(book.sheetnames)
        if sheet is not None and sheet not in raw.sheets:
            raise _Refused(Problem(raw.file_name, None, None, "no_such_sheet", sheet, ", ".join(raw.sheets)))
        chosen = first_with_data = None  # the first sheet with data is read when none has an order's columns
        for name in ([sheet] if sheet else raw.sheets):
            ws = book[name]
            ws.reset_dimensions()  # read-only mode trusts the stored dimension, which writers often get wrong
            rows = [(n, row) for n, row in _filled_down(ws.iter_rows(values_only=True),
                                                        _merged_down(path, getattr(ws, "_worksheet_path", "")))
                    if any(v is not None and str(v).strip() for v in row)]
            if sheet or (len(rows) > 1 and _order_columns(rows)):
                chosen = (name, ws, rows)
                break
            if len(rows) > 1 and first_with_data is None:
                first_with_data = (name, ws, rows)
        name, ws, rows = chosen or first_with_data or (raw.sheets[0], None, [])
        raw.sheet = name
        formulas = ws is not None and _formulas_without_values(path, getattr(ws, "_worksheet_path", ""))
    finally:
        book.close()
    if formulas:
        raise _Refused(Problem(raw.file_name, None, None, "formulas_without_values", name))
    if not rows:
        _stage_frame(raw, pd.DataFrame(), np.empty(0, dtype=np.int64), [])
        return
    raw.header_row = header_row or _sheet_header(rows)
    at = next((i for i, (n, _) in enumerate(rows) if n >= raw.header_row), len(rows))
    if at == len(rows) or rows[at][0] != raw.header_row:
        header_cells: tuple = ()
    else:
        header_cells = rows[at][1]
        at += 1
    header = [f"#{i + 1}" if v is None else _cell_text(v) for i, v in enumerate(header_cells)]
    body = rows[at:]
    records = [[_cell_text(v) if v is not None else None for v in list(r[: len(header)])] + [None] * (len(header) - len(r))
               for _, r in body]
    frame = pd.DataFrame(records, columns=range(len(header)), dtype=object)
    _stage_frame(raw, frame, np.array([n for n, _ in body], dtype=np.int64), header)


def _sheet_header(rows: list[tuple[int, tuple]]) -> int:
    """The first row with at least half as many cells as the fullest (title rows have one), or the row of
    names right under it when it is a group header."""
    filled = [(n, [v for v in r if v is not None and str(v).strip() != ""])
              for n, r in rows[:_HEADER_SEARCH]]
    widest = max(len(cells) for _, cells in filled)
    at = next(i for i, (_, cells) in enumerate(filled) if len(cells) >= max(min(2, widest), widest / 2))
    if at + 1 < len(filled) and filled[at + 1][0] == filled[at][0] + 1 and _group_header(
            filled[at][1], filled[at + 1][1], widest):
        return filled[at + 1][0]
    return filled[at][0]


def _order_columns(rows: list[tuple[int, tuple]]) -> bool:
    """Whether a sheet's header names at least two of an order's fields (a summary sheet names none)."""
    from crm_logic.ingest.platforms import auto_mapping

    header = next(r for n, r in rows if n == _sheet_header(rows))
    mapped = auto_mapping([_cell_text(v) for v in header if v is not None])
    return len({"customer_id", "order_date", "amount", "order_id"} & set(mapped)) >= 2


def _merged_down(path: Path, member: str) -> dict[int, list[tuple[int, int]]]:
    """{first row: [(column, last row)]} of the sheet's cells merged down one column (订单号 over an order's
    lines); read from the XML, as the read-only reader does not. Merges across columns (titles) are left."""
    from openpyxl.utils import column_index_from_string

    found: dict[int, list[tuple[int, int]]] = {}
    try:
        with zipfile.ZipFile(path) as book, book.open(member) as xml:
            tail = b""
            for chunk in iter(lambda: xml.read(2**20), b""):
                text = tail + chunk
                for left, top, right, bottom in _MERGED.findall(text):
                    if left == right and int(bottom) > int(top):
                        found.setdefault(int(top), []).append((column_index_from_string(left.decode()) - 1,
                                                               int(bottom)))
                tail = text[-200:]  # a merge cut by the chunk's end is found whole next time (twice: a set)
    except KeyError:
        return {}
    return {top: sorted(set(spans)) for top, spans in found.items()}


def _filled_down(rows: Iterable[tuple], merged: dict[int, list[tuple[int, int]]]) -> Iterator[tuple[int, tuple]]:
    """(row number, cells) with each merged-down cell holding the merge's value, as the user sees it."""
    open_spans: dict[int, tuple[Any, int]] = {}  # column -> (value, last row)
    for n, row in enumerate(rows, 1):
        if n in merged or open_spans:
            cells = list(row)
            for column, last in merged.get(n, ()):
                if column < len(cells):
                    open_spans[column] = (cells[column], last)
            for column, (value, last) in list(open_spans.items()):
                if n > last:
                    del open_spans[column]
                elif column < len(cells) and cells[column] is None:
                    cells[column] = value
            row = tuple(cells)
        yield n, row


def _formulas_without_values(path: Path, member: str) -> bool:
    """Formula cells saved without their computed value (written by a program, never opened in Excel)."""
    try:
        with zipfile.ZipFile(path) as book, book.open(member) as xml:
            tail = b""
            for chunk in iter(lambda: xml.read(2**20), b""):
                if _FORMULA_WITHOUT_VALUE.search(tail + chunk):
                    return True
                tail = chunk[-4096:]
    except KeyError:
        return False
    return False


def _cell_text(value: Any) -> str:
    """A cell as the user reads it: integral numbers without '.0', dates as ISO."""
    if isinstance(value, float) and value.is_integer() and abs(value) > 2**53:  # beyond a double's exact integers:
        return f"{value:.15G}"  # the digits are not the ones typed (an ID then reads as one Excel rounded)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):  # 1e-07 would not read as an amount
        return np.format_float_positional(value, trim="-")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.min.time() else value.date().isoformat()
    return value if isinstance(value, str) else str(value)


def _read_parquet(raw: RawTable, path: Path) -> None:
    """Record numbers for rows (Parquet has no header line); every column cast to text by DuckDB."""
    with staged(raw.stage) as con:
        names = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        cells = ", ".join(f'CAST("{n.replace(chr(34), chr(34) * 2)}" AS VARCHAR) AS c{i}' for i, n in enumerate(names))
        con.execute(f"CREATE OR REPLACE TABLE raw_data AS SELECT {cells} FROM read_parquet(?)", [str(path)])
        con.execute("CREATE OR REPLACE VIEW raw AS SELECT *, rowid + 1 AS row FROM raw_data")
        con.execute("CREATE OR REPLACE VIEW raw_cells AS SELECT * FROM raw")
        raw.n_rows = con.sql("SELECT count(*) FROM raw").fetchall()[0][0]
    raw.columns = _unique([str(n).strip() for n in names])


def _stage_frame(raw: RawTable, frame: pd.DataFrame, rows: np.ndarray, header: list[str],
                 problems: list[Problem] | None = None) -> None:
    """Stage a frame read in Python: cells as stripped text (empty = NULL), with their row numbers."""
    names = [f"c{i}" for i in range(len(header))]
    staged_frame = pd.DataFrame({n: frame.iloc[:, i].astype(object).where(frame.iloc[:, i].notna(), None)
                                 for i, n in enumerate(names)}) if names else pd.DataFrame()
    staged_frame["row"] = rows
    with staged(raw.stage) as con:
        con.register("incoming", staged_frame)
        cells = ", ".join(f"CAST({n} AS VARCHAR) AS {n}" for n in names)
        con.execute(f"CREATE OR REPLACE TABLE raw_data AS SELECT {cells}{', ' if cells else ''}row FROM incoming")
        con.unregister("incoming")
        con.execute("CREATE OR REPLACE VIEW raw AS SELECT * FROM raw_data")
        con.execute("CREATE OR REPLACE VIEW raw_cells AS SELECT * FROM raw_data")
    raw.columns = _unique([str(h).strip() for h in header])
    raw.n_rows = len(rows)
    raw.problems = list(problems or [])


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
