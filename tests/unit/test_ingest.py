"""The import room against real files on disk and real DuckDB files.

Known values come from the hand-written fixtures (their sums are worked out in tests/fixtures/ingest/
README.md), from an independent pandas read of the CDNOW files, and from the figures published with them
(data/cdnow/README.md: 69,659 transactions of 23,570 customers; the sample 6,919 of 2,357).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from crm_logic import ingest
from crm_logic.i18n import translate
from crm_logic.ingest import ImportOptions, ImportRejected, auto_mapping, import_files, imports_log, load_cdnow, read_file, validate
from crm_logic.store import CDNOW_DIR, Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"
ZH = FIXTURES / "orders_zh.csv"
EN = FIXTURES / "orders_en.csv"
TODAY = date(2024, 6, 30)
ONE_CURRENCY = ImportOptions(currency="¥")  # EN is marked in $, ZH in ￥: added up only when the user says they are one
TABLES = ("meta", "customers", "transactions", "interactions", "accounts", "imports")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "base.duckdb") as s:
        yield s


@pytest.fixture
def filled(store):
    """A base with data in every table, so that 'unchanged' means something."""
    import_files(store, [EN], today=TODAY)
    with store.transaction() as cur:
        cur.execute("INSERT INTO interactions VALUES ('cust-1', DATE '2024-01-10', 'inbound', 'inquiry', NULL)")
        cur.execute("INSERT INTO accounts (customer_id, wallet_share) VALUES ('cust-1', 0.4)")
    return store


def snapshot(store: Store) -> dict:
    """Every row of every table (so counts and sums too) and the data-set version."""
    tables = {t: store.df(f"SELECT * FROM {t} ORDER BY ALL").astype(str).values.tolist() for t in TABLES}
    sums = store.one("SELECT count(*), sum(amount), sum(quantity), sum(gross_margin) FROM transactions")
    return {"tables": tables, "sums": sums, "version": store.dataset_version}


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def totals(store: Store) -> tuple:
    return store.one("SELECT count(*), count(DISTINCT customer_id), sum(amount) FROM transactions")


# ---- formats, encodings, headers -----------------------------------------------------------------------

def test_chinese_export_maps_headers_and_reads_every_date_and_amount_style(store):
    result = import_files(store, [ZH], today=TODAY)
    assert (result.rows_loaded, result.customers_new) == (4, 3)
    rows = store.df("SELECT * FROM transactions ORDER BY order_id")
    assert rows.order_id.tolist() == ["SO-1001", "SO-1002", "SO-1003", "SO-1004"]
    assert rows.order_date.dt.date.tolist() == [date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 7), date(2024, 3, 8)]
    assert rows.amount.tolist() == [Decimal("1234.50"), Decimal("899.00"), Decimal("-120.00"), Decimal("2000.00")]
    assert rows.quantity.tolist() == [2, 1, 1, 3]
    assert rows.category.tolist() == ["冰箱", "空调", "冰箱", "洗衣机"]
    assert rows.discounted.tolist() == [True, False, False, True]
    assert rows.gross_margin.tolist()[:3] == [Decimal("300.00"), Decimal("120.50"), Decimal("-30.00")]
    assert pd.isna(rows.gross_margin.iloc[3])
    customers = store.df("SELECT * FROM customers ORDER BY customer_id").set_index("customer_id")
    assert customers.loc["C001", ["name", "region", "customer_class", "channel"]].tolist() == ["张三", "广东", "consumer", "线上商城"]
    assert customers.loc["C002", ["customer_class", "industry"]].tolist() == ["enterprise", "制造业"]
    assert customers.loc["C003", "customer_class"] == "dealer"
    assert customers.loc["C001", "created_date"].date() == date(2024, 3, 5)  # the first order, not the last
    assert totals(store) == (4, 3, Decimal("4013.50"))


def test_english_export_maps_headers(store):
    import_files(store, [EN], today=TODAY)
    assert totals(store) == (3, 2, Decimal("1045.90"))
    rows = store.df("SELECT order_id, order_date, quantity, discounted FROM transactions ORDER BY order_id")
    assert rows.order_date.dt.date.tolist() == [date(2024, 1, 15), date(2024, 1, 20), date(2024, 2, 1)]
    assert rows.quantity.tolist() == [4, 1, 1]
    assert rows.discounted.tolist() == [False, True, False]
    assert store.scalar("SELECT customer_class FROM customers WHERE customer_id = 'cust-1'") == "enterprise"


@pytest.mark.parametrize("header, field", [
    ("客户编号", "customer_id"), ("客户ID", "customer_id"), ("会员号", "customer_id"), ("客户", "customer_id"),
    ("customer id", "customer_id"), ("customer_id", "customer_id"), ("CustomerID", "customer_id"),
    ("ＣＵＳＴＯＭＥＲ＿ＩＤ", "customer_id"), ("客户ＩＤ", "customer_id"), (" Customer-Id ", "customer_id"),
    ("订单日期", "order_date"), ("交易日期", "order_date"), ("下单时间", "order_date"), ("日期", "order_date"),
    ("Order Date", "order_date"), ("DATE", "order_date"),
    ("金额", "amount"), ("实付金额", "amount"), ("订单金额", "amount"), ("销售额", "amount"), ("Amount", "amount"),
    ("revenue", "amount"), ("Sales", "amount"),
    ("订单号", "order_id"), ("订单编号", "order_id"), ("Order ID", "order_id"),
    ("数量", "quantity"), ("Quantity", "quantity"), ("QTY", "quantity"),
    ("品类", "category"), ("商品类别", "category"), ("Category", "category"),
    ("是否折扣", "discounted"), ("折扣", "discounted"), ("Discount", "discounted"),
    ("毛利", "gross_margin"), ("毛利额", "gross_margin"), ("Gross Margin", "gross_margin"), ("margin", "gross_margin"),
    ("客户名称", "customer_name"), ("姓名", "customer_name"), ("Name", "customer_name"),
    ("地区", "region"), ("省份", "region"), ("区域", "region"), ("Region", "region"),
    ("客户类型", "customer_class"), ("Customer Class", "customer_class"),
    ("行业", "industry"), ("Industry", "industry"), ("渠道", "channel"), ("Channel", "channel"),
])
def test_known_headers_map_to_their_field(header, field):
    assert auto_mapping([header]) == {field: header}


def test_unknown_headers_are_left_for_the_explicit_mapping():
    assert auto_mapping(["备注", "remark"]) == {}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_each_encoding_is_decoded(tmp_path, store, encoding):
    path = write(tmp_path / f"orders_{encoding}.csv", ZH.read_text(encoding="utf-8"), encoding)
    raw = read_file(path)
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}[encoding]
    assert raw.encoding == expected
    assert list(raw.frame.columns)[:3] == ["订单编号", "客户编号", "客户名称"]
    import_files(store, [path], today=TODAY)
    assert totals(store) == (4, 3, Decimal("4013.50"))
    assert store.scalar("SELECT name FROM customers WHERE customer_id = 'C002'") == "杭州华强电器有限公司"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|", " "])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_delimiter_is_sniffed_and_line_ends_do_not_matter(tmp_path, store, delimiter, newline):
    lines = [["customer_id", "order_date", "amount", "order_id"],
             ["C1", "2024-03-05", "10.50", "O1"], ["C2", "2024-03-06", "20.25", "O2"], ["C1", "2024-04-01", "5", "O3"]]
    text = "\n".join(delimiter.join(line) for line in lines) + "\n"
    path = write(tmp_path / "orders.txt", text, newline=newline)
    raw = read_file(path)
    assert raw.fmt == "csv"
    assert raw.delimiter == (None if delimiter == " " else delimiter)
    import_files(store, [path], today=TODAY)
    assert totals(store) == (3, 2, Decimal("35.75"))


def test_whitespace_runs_separate_fields(tmp_path, store):
    path = write(tmp_path / "aligned.txt", "customer_id   order_date    amount\nC1    2024-03-05      10.50\n"
                                           "C22   2024-03-06   7\n")
    import_files(store, [path], today=TODAY)
    assert totals(store) == (2, 2, Decimal("17.50"))


def test_quoted_value_spanning_lines_keeps_line_numbers(tmp_path, store):
    text = 'customer_id,order_date,amount,category\nC1,2024-03-05,10,"two\nlines"\nC2,2024-03-06,oops,x\n'
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [write(tmp_path / "q.csv", text)], today=TODAY)
    [problem] = rejected.value.report.problems
    assert (problem.row, problem.code, problem.value) == (4, "bad_amount", "oops")


@pytest.mark.parametrize("quoted", [False, True], ids=["fast_reader", "exact_reader"])
def test_blank_lines_and_bare_delimiters_are_no_rows_but_keep_their_line_numbers(tmp_path, store, quoted):
    category = '"two\nlines"' if quoted else "one"
    text = f"customer_id,order_date,amount,category\n\nC1,2024-03-05,10,{category}\n,,,\nC2,2024-03-06,5,x\n\nC3,2024-03-07,bad,x\n"
    result = import_files(store, [write(tmp_path / "gaps.csv", text)], skip_invalid=True, today=TODAY)
    assert [(p.row, p.code) for p in result.report.problems] == [(8 if quoted else 7, "bad_amount")]
    assert (result.report.facts["rows_read"], result.rows_loaded) == (3, 2)


@pytest.mark.parametrize("text, expected", [
    ("2024-03-05", date(2024, 3, 5)), ("2024/3/5", date(2024, 3, 5)), ("20240305", date(2024, 3, 5)),
    ("2024年3月5日", date(2024, 3, 5)), ("2024-03-05 14:30", date(2024, 3, 5)), ("2024/3/5 9:05:59", date(2024, 3, 5)),
    ("2024-03-05T23:59:00", date(2024, 3, 5)), ("2024.3.5", date(2024, 3, 5)), ("２０２４－０３－０５", date(2024, 3, 5)),
    ("2024年12月31日 08:00", date(2024, 12, 31)),
])
def test_date_styles(tmp_path, text, expected):
    path = write(tmp_path / "d.csv", f"customer_id,order_date,amount\nC1,{text},1\n")
    assert validate(read_file(path), today=date(2025, 1, 1)).rows.order_date.dt.date.tolist() == [expected]


@pytest.mark.parametrize("text, expected", [
    ("1234.5", 1234.5), ('"1,234.50"', 1234.5), ("¥1234", 1234.0), ("￥99.9", 99.9), ("$12.00", 12.0),
    ("-120", -120.0), ("(120.00)", -120.0), ('"(1,234.00)"', -1234.0), ("¥-5", -5.0), ("１２３.４", 123.4),
    ("0", 0.0), (".5", 0.5), ('"1,000,000"', 1_000_000.0),
])
def test_amount_styles(tmp_path, text, expected):
    path = write(tmp_path / "a.csv", f"customer_id,order_date,amount\nC1,2024-03-05,{text}\n")
    assert validate(read_file(path), today=TODAY).rows.amount.tolist() == [pytest.approx(expected)]


def test_a_style_first_seen_after_the_first_thousand_rows_still_decides(tmp_path):
    """Date order and decimal mark are guessed from the first rows and checked against every row."""
    plain = "".join(f"C{i},2024-03-05,12\n" for i in range(1500))
    header = "customer_id,order_date,amount\n"
    us_dates = write(tmp_path / "late_us.csv", header + plain + "C9,05/25/2024,7\nC9,06/01/2024,8\n")
    checked = validate(read_file(us_dates), today=TODAY)
    assert checked.date_order == "mdy" and not checked.report.problems
    assert checked.rows.order_date.dt.date.tolist()[-2:] == [date(2024, 5, 25), date(2024, 6, 1)]
    commas = write(tmp_path / "late_comma.csv", header + plain + 'C9,2024-03-06,"1531,75"\n')
    checked = validate(read_file(commas), today=TODAY)
    assert checked.decimal == "," and checked.rows.amount.tolist()[-1] == pytest.approx(1531.75)
    assert sum(checked.rows.amount) == pytest.approx(1500 * 12 + 1531.75)


def test_padded_text_cells_are_trimmed_where_only_some_are_padded(tmp_path, store):
    """Spaces, tabs and ideographic spaces around a cell are no part of its value; inside a cell they are."""
    cells = [("O1", " A", "x"), ("O2", "A\t", " 鞋 "), ("O3", "\u3000A", "鞋\u3000"), ("O4", "B B", "x"),
             (" O5 ", "B B ", "\t\ty"), ("O6", "C", "z z")]
    text = "order_id,customer_id,order_date,amount,category,status\n" + "".join(
        f"{order},{customer},2024-03-05,1,{category},{' completed' if order == 'O1' else 'completed'}\n"
        for order, customer, category in cells)
    result = import_files(store, [write(tmp_path / "padded.csv", text)], today=TODAY)
    assert not result.report.problems
    whitespace = " \t\u3000"
    expected = sorted((o.strip(whitespace), c.strip(whitespace), k.strip(whitespace)) for o, c, k in cells)
    assert store.df("SELECT order_id, customer_id, category FROM transactions ORDER BY ALL").values.tolist() == [
        list(row) for row in expected]
    assert result.report.facts["status_revenue"] == len(cells)


def test_excel_with_real_date_cells_and_sheet_row_numbers(tmp_path, store):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户编号", "订单日期", "金额", "订单号"])
    sheet.append([1001, datetime(2024, 3, 5, 10, 30), 1234.5, "X1"])
    sheet.append([])  # a blank row the user sees as row 3
    sheet.append(["C-2", date(2024, 3, 6), "￥800", "X2"])
    sheet.append([1001, "2024/3/7", -34.5, "X3"])
    book.save(tmp_path / "orders.xlsx")
    result = import_files(store, [tmp_path / "orders.xlsx"], today=TODAY)
    assert result.rows_loaded == 3
    assert totals(store) == (3, 2, Decimal("2000.00"))
    rows = store.df("SELECT customer_id, order_date FROM transactions ORDER BY order_id")
    assert rows.customer_id.tolist() == ["1001", "C-2", "1001"]  # a number cell is an id, not 1001.0
    assert rows.order_date.dt.date.tolist() == [date(2024, 3, 5), date(2024, 3, 6), date(2024, 3, 7)]
    assert imports_log(store).format.tolist() == ["excel"]

    sheet.append([1002, "not a date", 5, "X4"])
    book.save(tmp_path / "orders2.xlsx")
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [tmp_path / "orders2.xlsx"], today=TODAY)
    [problem] = rejected.value.report.problems
    assert (problem.file, problem.row, problem.column, problem.code) == ("orders2.xlsx", 6, "订单日期", "bad_date")


def test_parquet(tmp_path, store):
    frame = pd.DataFrame({
        "CustomerID": [7, 8, 7],
        "Order Date": [datetime(2024, 3, 5), datetime(2024, 3, 6, 12), datetime(2024, 5, 1)],
        "Amount": [10.5, 20.0, -3.25],
        "Qty": [1, 2, 1],
    })
    frame.to_parquet(tmp_path / "orders.parquet")
    import_files(store, [tmp_path / "orders.parquet"], today=TODAY)
    assert totals(store) == (3, 2, Decimal("27.25"))
    assert store.df("SELECT order_date FROM transactions ORDER BY order_date").order_date.dt.date.tolist() == [
        date(2024, 3, 5), date(2024, 3, 6), date(2024, 5, 1)]
    assert imports_log(store).format.tolist() == ["parquet"]


def test_explicit_mapping_for_unknown_headers(tmp_path, store):
    path = write(tmp_path / "odd.csv", "cust,when,paid,ref,where\nK1,2024-03-05,12.5,R1,东区\nK2,2024-03-06,7.5,R2,西区\n")
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [path], today=TODAY)
    assert {p.value for p in rejected.value.report.problems} == {"customer_id", "order_date", "amount"}
    mapping = {"customer_id": "cust", "order_date": "when", "amount": "paid", "order_id": "ref", "region": "where"}
    import_files(store, [path], mapping=mapping, today=TODAY)
    assert totals(store) == (2, 2, Decimal("20.00"))
    assert store.df("SELECT region FROM customers ORDER BY customer_id").region.tolist() == ["东区", "西区"]


def test_explicit_mapping_overrides_and_unmaps_automatic_guesses(tmp_path):
    path = write(tmp_path / "two_dates.csv", "客户编号,日期,付款日期,金额,地区\nC1,2024-01-01,2024-01-03,5,华南\n")
    rows = validate(read_file(path), {"order_date": "付款日期", "region": None}, TODAY).rows
    assert rows.order_date.dt.date.tolist() == [date(2024, 1, 3)]
    assert rows.region.isna().all()


def test_read_file_accepts_an_upload_with_name_and_bytes():
    class Upload:  # what st.file_uploader hands over
        name = "from_browser.csv"

        def getvalue(self):
            return ZH.read_bytes()

    raw = read_file(Upload())
    assert raw.file_name == "from_browser.csv"
    assert raw.file_hash == hashlib.sha256(ZH.read_bytes()).hexdigest()
    assert len(raw.frame) == 4
    assert read_file(ZH.read_bytes(), file_name="x.csv").file_hash == raw.file_hash


# ---- CDNOW ---------------------------------------------------------------------------------------------

def cdnow_by_pandas(which: str) -> pd.DataFrame:
    if which == "sample":
        return pd.read_csv(CDNOW_DIR / "CDNOW_sample.txt", sep=r"\s+", header=None, dtype={0: str, 2: str},
                           names=["customer_id", "sample_id", "date", "cds", "dollars"])
    return pd.read_csv(CDNOW_DIR / "CDNOW_master.txt", sep=r"\s+", dtype={"customer_id": str, "date": str}
                       ).rename(columns={"number_of_cds": "cds", "dollar_value": "dollars"})


@pytest.mark.parametrize("which, rows, customers, revenue", [
    ("sample", 6919, 2357, "244091.94"),
    ("master", 69659, 23570, "2500315.63"),
])
def test_cdnow_loads_to_the_published_figures(store, which, rows, customers, revenue):
    expected = cdnow_by_pandas(which)
    assert (len(expected), expected.customer_id.nunique(), round(expected.dollars.sum(), 2)) == (
        rows, customers, float(revenue))
    assert expected.duplicated().sum() > 0  # identical lines exist: each is its own transaction
    import_files(store, [EN], today=TODAY)  # replaced below
    seen = []
    load_cdnow(store, which, progress=lambda fraction, stage: seen.append(stage))
    assert totals(store) == (rows, customers, Decimal(revenue))
    assert store.scalar("SELECT count(*) FROM customers") == customers
    assert store.scalar("SELECT sum(quantity) FROM transactions") == expected.cds.sum()
    assert store.scalar("SELECT count(DISTINCT order_id) FROM transactions") == rows
    assert store.one("SELECT min(order_date), max(order_date) FROM transactions") == (date(1997, 1, 1), date(1998, 6, 30))
    assert (store.get_meta("currency"), store.get_meta("display_name")) == ("$", f"cdnow_{which}")
    assert imports_log(store)[["format", "rows_loaded", "replaced"]].values.tolist() == [["cdnow", rows, True]]
    assert "ingest.stage.load" in seen


def test_cdnow_is_detected_or_forced(tmp_path, store):
    head = b"".join((CDNOW_DIR / "CDNOW_sample.txt").read_bytes().splitlines(keepends=True)[:40])
    path = tmp_path / "cdnow_head.dat"
    path.write_bytes(head)
    assert read_file(path).fmt == "cdnow"
    assert read_file(CDNOW_DIR / "CDNOW_master.txt").fmt == "cdnow"
    assert read_file(path, fmt="cdnow").fmt == "cdnow"
    import_files(store, [path])
    expected = cdnow_by_pandas("sample").head(40)
    assert totals(store) == (40, expected.customer_id.nunique(), Decimal(str(round(expected.dollars.sum(), 2))))
    first = store.df("SELECT * FROM transactions ORDER BY order_id LIMIT 1").iloc[0]
    assert (first.customer_id, first.order_id, first.quantity) == ("00004", "00004-19970101-1", 2)


# ---- bad rows: the report points at them and the base stays as it was ----------------------------------

HEADER = "客户编号,订单日期,金额,订单号,数量\n"
GOOD = "C1,2024-03-05,10,O1,1\n"


@pytest.mark.parametrize("line, code, column, value", [
    ("C2,2024-13-45,10,O2,1", "bad_date", "订单日期", "2024-13-45"),
    ("C2,,10,O2,1", "missing_date", "订单日期", None),
    ("C2,2030-01-01,10,O2,1", "future_date", "订单日期", "2030-01-01"),
    ("C2,2024-03-05,12abc,O2,1", "bad_amount", "金额", "12abc"),
    ("C2,2024-03-05,inf,O2,1", "bad_amount", "金额", "inf"),
    ("C2,2024-03-05,,O2,1", "missing_amount", "金额", None),
    ("C2,2024-03-05,99,O1,1", "conflicting_order", "订单号", "O1"),
    ("C2,2024-03-05,10,O2,many", "bad_value", "数量", "many"),
    ("C2,2024-03-05,10,O2,1,extra", "wrong_field_count", None, "6"),
    ("C2,2024-03-05,10", "wrong_field_count", None, "3"),
], ids=["bad_date", "no_date", "future_date", "bad_amount", "infinite_amount", "no_amount",
        "order_reused", "bad_quantity", "too_many_fields", "too_few_fields"])
def test_bad_row_is_named_and_the_base_is_unchanged(tmp_path, filled, line, code, column, value):
    path = write(tmp_path / "bad.csv", HEADER + GOOD + line + "\n" + "C3,2024-03-07,5,O3,1\n")
    before = snapshot(filled)
    with pytest.raises(ImportRejected) as rejected:
        import_files(filled, [path], today=TODAY)
    [problem] = rejected.value.report.problems
    assert (problem.file, problem.row, problem.column, problem.code, problem.value) == ("bad.csv", 3, column, code, value)
    assert snapshot(filled) == before
    if code == "conflicting_order":
        assert problem.expected == "2"  # where the order first appears


@pytest.mark.parametrize("name, content, code, value", [
    ("no_date.csv", b"customer_id,amount\nC1,5\n", "missing_column", "order_date"),
    ("header_only.csv", b"customer_id,order_date,amount\n", "empty_file", None),
    ("nothing.csv", b"", "empty_file", None),
    ("broken.xlsx", b"PK\x03\x04 not really a workbook", "unreadable_file", None),
    ("latin1.csv", "customer_id,order_date,amount\nCé\x81,2024-01-01,5\n".encode("latin-1") + b"\x81\xff",
     "unknown_encoding", None),
])
def test_unusable_file_is_refused_and_the_base_is_unchanged(tmp_path, filled, name, content, code, value):
    (tmp_path / name).write_bytes(content)
    before = snapshot(filled)
    with pytest.raises(ImportRejected) as rejected:
        import_files(filled, [tmp_path / name], skip_invalid=True, today=TODAY)
    [problem] = rejected.value.report.problems
    assert (problem.file, problem.row, problem.code) == (name, None, code)
    if value:
        assert problem.value == value
    assert snapshot(filled) == before


def test_mapping_to_a_missing_column_names_it(tmp_path, filled):
    path = write(tmp_path / "m.csv", HEADER + GOOD)
    with pytest.raises(ImportRejected) as rejected:
        import_files(filled, [path], mapping={"amount": "实付"}, today=TODAY)
    [problem] = rejected.value.report.problems
    assert (problem.code, problem.column, problem.value) == ("missing_column", "实付", "amount")


def test_several_files_are_one_all_or_nothing_unit(tmp_path, filled):
    good = write(tmp_path / "good.csv", HEADER + GOOD)
    bad = write(tmp_path / "bad.csv", HEADER + "C9,someday,1,O9,1\n")
    before = snapshot(filled)
    with pytest.raises(ImportRejected) as rejected:
        import_files(filled, [good, bad], today=TODAY)
    assert [(p.file, p.row, p.code) for p in rejected.value.report.problems] == [("bad.csv", 2, "bad_date")]
    assert snapshot(filled) == before

    other = write(tmp_path / "other.csv", HEADER + "C9,2024-03-09,1,O9,1\n")
    result = import_files(filled, [good, other], today=TODAY)
    assert len(result.import_ids) == 2
    per_file = filled.df("""SELECT i.file_name, count(*) AS n FROM transactions t JOIN imports i USING (import_id)
                            GROUP BY 1 ORDER BY 1""")
    assert per_file.values.tolist() == [["good.csv", 1], ["orders_en.csv", 3], ["other.csv", 1]]


def test_skip_invalid_loads_the_good_rows_and_lists_the_skipped(tmp_path, filled):
    lines = [GOOD, "C2,2024-02-30,5,O2,1\n", "C3,2024-03-06,7.5,O3,2\n", "C4,2024-03-06,x,O4,1\n", "C5,2024-03-07,2,O5,1\n"]
    path = write(tmp_path / "mixed.csv", HEADER + "".join(lines))
    before = totals(filled)
    result = import_files(filled, [path], skip_invalid=True, today=TODAY)
    assert (result.rows_loaded, result.rows_skipped) == (3, 2)
    assert [(p.row, p.code) for p in result.report.problems] == [(3, "bad_date"), (5, "bad_amount")]
    assert totals(filled) == (before[0] + 3, before[1] + 3, before[2] + Decimal("19.50"))
    assert imports_log(filled).iloc[0][["file_name", "rows_loaded", "rows_skipped"]].tolist() == ["mixed.csv", 3, 2]


def test_skip_invalid_with_no_valid_row_imports_nothing(tmp_path, filled):
    before = snapshot(filled)
    with pytest.raises(ImportRejected):
        import_files(filled, [write(tmp_path / "all_bad.csv", HEADER + "C1,never,1,O1,1\n")], skip_invalid=True)
    assert snapshot(filled) == before


def test_identical_lines_of_one_order_are_kept_by_default_and_dropped_on_request(tmp_path, store):
    """Changed in issue 9: identical lines used to be dropped silently; now they are counted and kept
    (the file's total is what the platform reports) unless the user chooses to drop them."""
    path = write(tmp_path / "twice.csv", HEADER + GOOD + GOOD + "C2,2024-03-06,4,O2,1\n")
    checked = validate(read_file(path), today=TODAY)
    assert checked.report.facts["duplicate_lines"] == 1
    assert checked.duplicates[["row", "first_row", "order_id"]].values.tolist() == [[3, 2, "O1"]]
    result = import_files(store, [path], today=TODAY)
    assert not result.report.problems
    assert totals(store) == (3, 2, Decimal("24.00"))
    with Store(tmp_path / "other.duckdb") as other:
        result = import_files(other, [path], today=TODAY, options=ImportOptions(duplicates="drop"))
        assert result.report.facts["duplicates_dropped"] == 1
        assert totals(other) == (2, 2, Decimal("14.00"))


def test_same_file_twice_is_refused_with_the_date_of_the_first_import(tmp_path, store):
    import_files(store, [ZH], today=TODAY)
    first = store.scalar("SELECT imported_at FROM imports").date().isoformat()
    before = snapshot(store)
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(ZH.read_bytes())
    for again in (ZH, copy):  # the content counts, not the name
        with pytest.raises(ImportRejected) as rejected:
            import_files(store, [again], today=TODAY)
        [problem] = rejected.value.report.problems
        assert (problem.code, problem.value) == ("already_imported", first)
        assert first in problem.message("en") and first in problem.message("zh")
        assert f"{again.name}: " in rejected.value.report.render("en")  # a whole-file problem names no row
    assert snapshot(store) == before


def test_replace_starts_the_base_afresh(filled):
    result = import_files(filled, [EN, ZH], replace=True, today=TODAY, options=ONE_CURRENCY)  # EN again is allowed
    assert result.rows_loaded == 7
    assert totals(filled) == (7, 5, Decimal("5059.40"))
    assert filled.scalar("SELECT count(*) FROM interactions") == 0
    assert filled.scalar("SELECT count(*) FROM accounts") == 0
    assert imports_log(filled)[["file_name", "replaced"]].values.tolist() == [["orders_zh.csv", True],
                                                                              ["orders_en.csv", True]]


def test_rejected_replace_keeps_the_old_base(tmp_path, filled):
    before = snapshot(filled)
    with pytest.raises(ImportRejected):
        import_files(filled, [write(tmp_path / "bad.csv", HEADER + "C1,x,1,O1,1\n")], replace=True, today=TODAY)
    assert snapshot(filled) == before


def test_future_is_relative_to_the_given_today(tmp_path, store):
    path = write(tmp_path / "f.csv", "customer_id,order_date,amount\nC1,2024-07-01,5\nC1,2024-06-30,5\n")
    assert [p.row for p in validate(read_file(path), today=TODAY).report.problems] == [2]
    assert not validate(read_file(path), today=date(2024, 7, 1)).report.problems


# ---- report, progress, log -----------------------------------------------------------------------------

def test_report_text_lists_the_first_problems_and_the_frame_keeps_all(tmp_path, store):
    bad = "".join(f"C{i},2024-03-05,bad{i},O{i},1\n" for i in range(25))
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [write(tmp_path / "many.csv", HEADER + bad)], today=TODAY)
    report = rejected.value.report
    english, chinese = report.render("en"), report.render("zh")
    assert "many.csv, row 21, column 金额" in english and "row 22," not in english
    assert "5 more" in english
    assert "第 2 行" in chinese and "5 个问题" in chinese and "bad_amount" in chinese
    frame = report.to_frame("zh")
    assert len(frame) == 25
    assert list(frame.columns) == [translate(f"ingest.columns.{c}", "zh")
                                   for c in ("file", "row", "column", "code", "problem", "value")]
    assert frame.iloc[:, 1].tolist() == list(range(2, 27))
    assert frame.iloc[-1, 5] == "bad24"
    assert list(report.to_frame("en").columns)[:2] == ["File", "Row"]


def test_progress_reports_read_validate_load_in_order(tmp_path, store):
    calls = []
    import_files(store, [ZH, EN], today=TODAY, progress=lambda fraction, stage: calls.append((fraction, stage)),
                 options=ONE_CURRENCY)
    stages = [stage for _, stage in calls]
    assert stages.index("ingest.stage.read") < stages.index("ingest.stage.validate") < stages.index("ingest.stage.load")
    fractions = [fraction for fraction, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(translate(stage, "zh") != stage for stage in stages)


def test_imports_log_is_newest_first(store):
    import_files(store, [EN], today=TODAY, options=ONE_CURRENCY)
    import_files(store, [ZH], today=TODAY, options=ONE_CURRENCY)
    log = imports_log(store)
    assert log.file_name.tolist() == ["orders_zh.csv", "orders_en.csv"]
    assert log.columns.tolist() == ["import_id", "file_name", "file_hash", "imported_at", "format", "rows_loaded",
                                    "rows_skipped", "replaced"]
    assert store.scalar("SELECT count(*) FROM transactions WHERE import_id IS NULL") == 0


def test_existing_customer_keeps_its_row_and_gets_an_earlier_first_date(tmp_path, store):
    import_files(store, [write(tmp_path / "later.csv", "customer_id,order_date,amount,name\nC1,2024-05-01,5,Ann\n")])
    import_files(store, [write(tmp_path / "earlier.csv", "customer_id,order_date,amount,name\nC1,2024-01-01,5,Bo\n")])
    assert store.one("SELECT count(*), min(name), min(created_date) FROM customers") == (1, "Ann", date(2024, 1, 1))


def test_a_large_csv_imports_every_row(tmp_path, store):
    """100,000 rows arrive whole (speed is measured in bench/, not here)."""
    n = 100_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"订单号": [f"S{i}" for i in range(n)], "客户编号": rng.integers(0, 9000, n),
                          "下单时间": "2024/3/5", "实付金额": rng.integers(100, 100000, n) / 100})
    frame.to_csv(tmp_path / "big.csv", index=False)
    result = import_files(store, [tmp_path / "big.csv"], today=TODAY)
    assert result.rows_loaded == n
    assert totals(store) == (n, frame["客户编号"].nunique(), Decimal(str(round(frame["实付金额"].sum(), 2))))
