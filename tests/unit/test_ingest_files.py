"""Workbooks and text files as people really send them: wrong dimension tags, data on another sheet, title
rows, formulas never calculated, old .xls, UTF-16 without a BOM, a giant cell far down the file."""
from __future__ import annotations

import re
from pathlib import Path
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from crm_logic.ingest import ImportOptions, ImportRejected, import_files, read_file, validate
from crm_logic.ingest.read import MAX_LINE_BYTES
from crm_logic.store import Store
from tests.conftest import workbook

TODAY = date(2025, 1, 31)
ROWS = [[f"C{i % 7}", f"2024-03-{1 + i % 28:02d}", 10 + i, f"O{i}"] for i in range(40)]
REVENUE = sum(Decimal(10 + i) for i in range(40))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "base.duckdb") as s:
        yield s


def test_a_wrong_dimension_tag_does_not_truncate_the_sheet(tmp_path, store):
    path = workbook(tmp_path / "orders.xlsx", {"Orders": [["客户编号", "订单日期", "金额", "订单号"], *ROWS]})
    lying = tmp_path / "lying.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(lying, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:D2"/>', data)
                assert n == 1
            dst.writestr(item, data)
    book = openpyxl.load_workbook(lying, read_only=True)
    assert book.active.max_row == 2  # what a reader that trusts the tag sees
    book.close()
    import_files(store, [lying], today=TODAY)
    assert store.one("SELECT count(*), sum(amount) FROM transactions") == (40, REVENUE)


def test_a_workbook_uploaded_as_bytes_is_read(tmp_path, store):
    path = workbook(tmp_path / "orders.xlsx", {"Orders": [["客户编号", "订单日期", "金额", "订单号"], *ROWS]})
    raw = read_file(path.read_bytes(), file_name="from_browser.xlsx")
    assert (raw.fmt, raw.n_rows, raw.problems) == ("excel", 40, [])
    import_files(store, [path.read_bytes()], today=TODAY)
    assert store.one("SELECT count(*), sum(amount) FROM transactions") == (40, REVENUE)


def test_the_first_sheet_with_data_is_read_or_the_one_chosen(tmp_path, store):
    path = workbook(tmp_path / "book.xlsx", {"说明": [["本表为 2024 年订单"]], "订单": [["客户编号", "订单日期", "金额", "订单号"], *ROWS],
                                            "Other": [["customer_id", "order_date", "amount"], ["Z", "2024-01-01", 1]]})
    raw = read_file(path)
    assert (raw.sheet, raw.sheets) == ("订单", ["说明", "订单", "Other"])
    assert ("sheet", {"sheet": "订单", "count": 3}) in validate(raw, today=TODAY).report.notes
    import_files(store, [path], today=TODAY)
    assert store.one("SELECT count(*), sum(amount) FROM transactions") == (40, REVENUE)
    with Store(tmp_path / "other.duckdb") as other:
        import_files(other, [path], today=TODAY, options=ImportOptions(sheet="Other"))
        assert other.one("SELECT count(*), sum(amount) FROM transactions") == (1, Decimal("1.00"))
    missing = read_file(path, sheet="Nope")
    assert [(p.code, p.value) for p in missing.problems] == [("no_such_sheet", "Nope")]
    assert "订单" in missing.problems[0].message("en")


def test_title_rows_above_the_header_are_skipped(tmp_path, store):
    path = workbook(tmp_path / "titled.xlsx", {"Sheet1": [["销售订单明细表"], ["导出时间：2025-01-02", None, None], [],
                                                          ["客户编号", "订单日期", "金额", "订单号"], *ROWS]})
    raw = read_file(path)
    assert (raw.header_row, raw.columns) == (4, ["客户编号", "订单日期", "金额", "订单号"])
    import_files(store, [path], today=TODAY)
    assert store.one("SELECT count(*), sum(amount) FROM transactions") == (40, REVENUE)
    bad = workbook(tmp_path / "titled_bad.xlsx", {"Sheet1": [["销售订单明细表"], ["客户编号", "订单日期", "金额", "订单号"],
                                                             ["C1", "2024-13-01", 5, "X"]]})
    [problem] = validate(read_file(bad), today=TODAY).report.problems
    assert (problem.row, problem.column, problem.code) == (3, "订单日期", "bad_date")  # the sheet's own row number


def test_title_lines_above_a_csv_header_and_a_chosen_header_row(tmp_path, store):
    text = "订单报表\n导出人：王五\n客户编号,订单日期,金额\nA,2024-03-01,5\nB,2024-03-02,7\n"
    path = tmp_path / "titled.csv"
    path.write_text(text, encoding="utf-8")
    raw = read_file(path)
    assert (raw.header_row, raw.columns) == (3, ["客户编号", "订单日期", "金额"])
    assert ("header_row", {"row": 3}) in validate(raw, today=TODAY).report.notes
    import_files(store, [path], today=TODAY)
    assert store.one("SELECT count(*), sum(amount) FROM transactions") == (2, Decimal("12.00"))
    assert read_file(path, header_row=4).columns == ["A", "2024-03-01", "5"]


def test_formulas_without_saved_values_are_explained(tmp_path, store):
    path = workbook(tmp_path / "formulas.xlsx", {"Orders": [["customer_id", "order_date", "quantity", "price", "amount"],
                                                            ["A", "2024-03-01", 2, 3, "=C2*D2"]]})
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [path], today=TODAY)
    [problem] = rejected.value.report.problems
    assert (problem.code, problem.value) == ("formulas_without_values", "Orders")
    assert "Excel" in problem.message("en") and "保存" in problem.message("zh")


@pytest.mark.parametrize("content", [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
                                     b"<html><body><table><tr><td>customer</td></tr></table></body></html>"],
                         ids=["ole2_xls", "html_saved_as_xls"])
def test_old_xls_files_are_asked_to_be_saved_as_xlsx(tmp_path, store, content):
    path = tmp_path / "orders.xls"
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [path], today=TODAY)
    [problem] = rejected.value.report.problems
    assert problem.code == "xls_file" and ".xlsx" in problem.message("en") and ".xlsx" in problem.message("zh")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded(tmp_path, store, encoding):
    path = tmp_path / "unicode.txt"
    path.write_bytes("客户编号\t订单日期\t金额\nA\t2024-03-01\t5\nB\t2024-03-02\t7.5\n".encode(encoding))
    raw = read_file(path)
    assert (raw.encoding, raw.delimiter) == (encoding, "\t")
    import_files(store, [path], today=TODAY)
    assert store.one("SELECT count(*), sum(amount) FROM transactions") == (2, Decimal("12.50"))


@pytest.mark.parametrize("line", [3, 400])
def test_a_giant_cell_anywhere_is_named_with_its_line(tmp_path, store, line):
    rows = [f"C{i},2024-03-01,5" for i in range(500)]
    rows[line - 2] = f"C{line},2024-03-01,{'9' * (MAX_LINE_BYTES + 10)}"
    path = tmp_path / "giant.csv"
    path.write_text("customer_id,order_date,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [path], today=TODAY)
    [problem] = rejected.value.report.problems
    assert (problem.code, problem.row) == ("cell_too_large", line)
    assert "MB" in problem.message("en") and "MB" in problem.message("zh")
    assert store.is_empty()


def test_every_message_names_file_row_and_column_in_both_languages(tmp_path, store):
    path = tmp_path / "bad.csv"
    path.write_text("客户编号,订单日期,金额\nA,2024-03-01,oops\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [path], today=TODAY)
    report = rejected.value.report
    assert "bad.csv, row 2, column 金额" in report.render("en")
    assert "bad.csv，第 2 行，金额 列" in report.render("zh")


def test_a_read_file_survives_pickling_as_the_page_cache_does(tmp_path):
    import pickle

    path = tmp_path / "orders.csv"
    path.write_text("客户编号,订单日期,金额\n" + "".join(f"C{i},2024-03-01,{i}\n" for i in range(30)), encoding="utf-8")
    raw = pickle.loads(pickle.dumps(read_file(path)))
    assert (raw.n_rows, raw.columns, raw.first_line) == (30, ["客户编号", "订单日期", "金额"], 2)
    assert raw.head(3)["客户编号"].tolist() == ["C0", "C1", "C2"]
    assert validate(raw, today=TODAY).rows_valid == 30
    raw.discard()
    assert not Path(raw.stage).exists()
