"""Exports people open in a spreadsheet: values only, never formulas.

A text cell starting with =, +, -, @, a tab or a carriage return is run as a formula by Excel and
LibreOffice (CSV and formula injection, OWASP); such cells get a leading apostrophe. Numbers stay
numbers, so a negative amount is still -120.5 and sums still work. Every CSV and Excel export, in
the app and on the command line, goes through here.
"""
from __future__ import annotations

import io

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells cannot start a formula; numeric columns untouched."""
    out = frame.copy()
    out.columns = [_safe(str(c)) for c in out.columns]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: _safe(v) if isinstance(v, str) else v)
    return out


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with BOM (Chinese Excel opens it right), formula-safe. Lines end in CRLF, which also
    makes the writer quote a cell holding a lone CR: unquoted, Excel would start a new row there, and the
    rest of the cell ("=1") would be a formula again."""
    return neutralise(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook, one sheet per entry (the first is the data, later ones e.g. the filters used),
    every cell a value."""
    buffer = io.BytesIO()
    write_excel(sheets, buffer)
    return buffer.getvalue()


def write_excel(sheets: dict[str, pd.DataFrame], target) -> None:
    """`excel_bytes` into a path or a file object. openpyxl stores a string starting with "=" as a
    formula; neutralised strings never start with one."""
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            neutralise(frame).to_excel(writer, index=False, sheet_name=name[:31])
