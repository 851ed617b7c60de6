"""Files shaped like what users really bring, where a quiet guess would give a wrong number.

Each file is written here by hand; the expected figures are hand sums over its lines. Where the file cannot
be read one right way, the import must refuse it naming the problem (the base unchanged), never guess.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm_logic.ingest import ImportOptions, ImportRejected, import_files, read_file, validate
from crm_logic.store import Store
from tests.conftest import workbook

TODAY = date(2025, 6, 30)
HEADER = "订单号,客户编号,下单日期,实付金额\n"


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "base.duckdb") as s:
        yield s


def write(path, body, header=HEADER):
    path.write_text(header + body, encoding="utf-8")
    return path


def base(store):
    return store.one("SELECT count(*), count(DISTINCT order_id), count(DISTINCT customer_id), sum(amount) "
                     "FROM transactions")


def rejected(store, paths, **kwargs):
    with pytest.raises(ImportRejected) as caught:
        import_files(store, paths, today=TODAY, **kwargs)
    return caught.value.report


def test_an_export_overlapping_one_already_imported_is_refused_not_counted_twice(tmp_path, store):
    """Monthly exports of 'the last three months' overlap: the orders already in the base must not count twice."""
    first = write(tmp_path / "jan_mar.csv", "SO1,C1,2024-01-05,100\nSO2,C2,2024-02-05,200\nSO3,C1,2024-03-05,300\n")
    overlapping = write(tmp_path / "mar_may.csv", "SO3,C1,2024-03-05,300\nSO4,C3,2024-04-05,400\n")
    import_files(store, [first], today=TODAY)
    report = rejected(store, [overlapping])
    assert base(store) == (3, 3, 2, Decimal("600.00"))  # 100 + 200 + 300, unchanged
    problem = next(p for p in report.problems if p.code == "orders_already_in_base")
    assert (problem.file, problem.column, problem.value, problem.expected) == ("mar_may.csv", "订单号", "1", "SO3")
    assert "SO3" in report.render("en") and "SO3" in report.render("zh")


def test_the_same_orders_resaved_with_other_line_ends_are_refused(tmp_path, store):
    """A file saved again (CRLF, another hash) is not caught as 'already imported' by its hash: by its orders."""
    first = write(tmp_path / "orders.csv", "SO1,C1,2024-01-05,100\nSO2,C2,2024-02-05,200\n")
    again = tmp_path / "orders_copy.csv"
    again.write_bytes(first.read_bytes().replace(b"\n", b"\r\n"))
    import_files(store, [first], today=TODAY)
    report = rejected(store, [again])
    assert [p.value for p in report.problems if p.code == "orders_already_in_base"] == ["2"]
    assert base(store) == (2, 2, 2, Decimal("300.00"))


def test_two_overlapping_files_in_one_import_are_refused(tmp_path, store):
    a = write(tmp_path / "a.csv", "SO1,C1,2024-01-05,100\nSO2,C2,2024-02-05,200\n")
    b = write(tmp_path / "b.csv", "SO2,C2,2024-02-05,200\nSO3,C3,2024-03-05,50\n")
    report = rejected(store, [a, b])
    assert [(p.file, p.expected) for p in report.problems if p.code == "orders_already_in_base"] == [("b.csv", "SO2")]
    assert base(store) == (0, 0, 0, None)


def test_the_same_order_number_from_another_customer_is_another_order(tmp_path, store):
    """Two shops both number orders from 1001: an order is the same only with the same customer."""
    import_files(store, [write(tmp_path / "shop_a.csv", "1001,C1,2024-01-05,100\n")], today=TODAY)
    import_files(store, [write(tmp_path / "shop_b.csv", "1001,D7,2024-01-06,40\n")], today=TODAY)
    assert base(store) == (2, 1, 2, Decimal("140.00"))


def test_ids_excel_wrote_in_scientific_notation_are_refused(tmp_path, store):
    """1.23457E+11 is what Excel saves for a 12-digit ID: two customers would silently become one."""
    path = write(tmp_path / "excel_saved.csv",
                 "1,1.23457E+11,2024-01-05,100\n2,1.23457E+11,2024-02-05,200\n3,C3,2024-02-06,50\n")
    report = rejected(store, [path])
    assert [(p.row, p.column, p.value) for p in report.problems if p.code == "scientific_id"] == [
        (2, "客户编号", "1.23457E+11"), (3, "客户编号", "1.23457E+11")]
    assert "scientific" in report.render("en") and "科学计数法" in report.render("zh")
    assert base(store) == (0, 0, 0, None)


def test_order_numbers_in_scientific_notation_are_refused(tmp_path, store):
    path = write(tmp_path / "orders.csv", "2.02407E+17,C1,2024-01-05,100\n2.02407E+17,C2,2024-02-05,200\n")
    report = rejected(store, [path])
    assert {p.row for p in report.problems if p.code == "scientific_id"} == {2, 3}


@pytest.mark.parametrize("written", ["7/3/24", "7-3-24", "24/7/3", "0024-07-03"])
def test_a_two_digit_year_is_refused_not_read_as_year_24_or_7(tmp_path, store, written):
    path = write(tmp_path / "short_years.csv", f"1,C1,2024-07-01,100\n2,C1,{written},50\n")
    report = rejected(store, [path])
    assert [(p.row, p.code, p.value) for p in report.problems] == [(3, "early_date", written)]
    assert "four digits" in report.render("en") and "四位" in report.render("zh")


def test_old_dates_with_four_digit_years_still_load(tmp_path, store):
    import_files(store, [write(tmp_path / "old.csv", "1,C1,1985-07-03,100\n2,C1,1901-01-02,50\n")], today=TODAY)
    assert store.df("SELECT order_date FROM transactions ORDER BY 1")["order_date"].dt.year.tolist() == [1901, 1985]


@pytest.mark.parametrize("euro", ["", " €"])
def test_european_thousands_without_decimals_are_asked_not_read_as_decimals(tmp_path, store, euro):
    """'1.234' in a German file is one thousand two hundred thirty-four; read with a point it is 1.234."""
    path = write(tmp_path / "bestellungen.csv",
                 f"1;K1;05.01.2024;1.234{euro}\n2;K1;06.01.2024;2.500{euro}\n3;K2;07.01.2024;80{euro}\n",
                 header="Bestellnummer;Kundennummer;Bestelldatum;Betrag\n")
    report = rejected(store, [path])
    assert [p.code for p in report.problems] == ["ambiguous_decimal"]
    assert base(store) == (0, 0, 0, None)
    import_files(store, [path], today=TODAY, options=ImportOptions(decimal=","))
    assert base(store) == (3, 3, 2, Decimal("3814.00"))  # 1234 + 2500 + 80


def test_amounts_with_three_decimals_among_cents_are_read_with_a_point(tmp_path, store):
    """Unit prices of 3 decimals next to ones of 2 or 4 say the point is the decimal mark: no question."""
    path = write(tmp_path / "erp.csv", "1,C1,2024-01-05,1.250\n2,C1,2024-01-06,2.5\n3,C2,2024-01-07,0.1234\n")
    import_files(store, [path], today=TODAY)
    assert store.scalar("SELECT sum(amount) FROM transactions") == Decimal("3.87")  # 1.25 + 2.50 + 0.12


@pytest.mark.parametrize("amounts, symbols", [(("$100", "€200", "$50"), "$, €"),
                                              (("¥1,234.00", "USD 12.00", "-¥12.00"), "$, ¥")])
def test_amounts_marked_in_two_currencies_are_refused(tmp_path, store, amounts, symbols):
    body = "".join(f'{i},C{i},2024-01-0{i},"{a}"\n' for i, a in enumerate(amounts, 1))
    report = rejected(store, [write(tmp_path / "currencies.csv", body)])
    assert [(p.code, p.value) for p in report.problems] == [("mixed_currencies", symbols)]


def test_amounts_in_one_currency_with_and_without_its_mark_load(tmp_path, store):
    body = '1,C1,2024-01-05,"USD 1,200.00"\n2,C2,2024-01-06,$12.50\n3,C2,2024-01-07,7\n'
    import_files(store, [write(tmp_path / "usd.csv", body)], today=TODAY)
    assert base(store)[3] == Decimal("1219.50")
    assert store.get_meta("currency") == "$"


@pytest.mark.parametrize("total_row", ["合计,合计,2024-02-05,300", ",合计,,300", "Total,Total,,300",
                                       ",总计：,,300"])
def test_a_totals_row_is_named_not_loaded_as_a_customer(tmp_path, store, total_row):
    path = write(tmp_path / "report.csv", f"1,C1,2024-01-05,100\n2,C2,2024-02-05,200\n{total_row}\n")
    report = rejected(store, [path])
    assert (4, "totals_row") in [(p.row, p.code) for p in report.problems]
    assert "total" in report.render("en").lower() and "合计" in report.render("zh")
    result = import_files(store, [path], today=TODAY, skip_invalid=True)
    assert result.rows_skipped == 1 and base(store) == (2, 2, 2, Decimal("300.00"))


def test_a_customer_named_like_a_word_in_totals_is_a_customer(tmp_path, store):
    import_files(store, [write(tmp_path / "names.csv", "1,Totalstore,2024-01-05,100\n2,合计科技,2024-01-06,50\n")],
                 today=TODAY)
    assert base(store) == (2, 2, 2, Decimal("150.00"))


def test_erp_received_amount_header_is_recognised(tmp_path, store):
    path = write(tmp_path / "erp.csv", "SO1,C1,2024-01-05,100.5\nSO2,C2,2024-01-06,20\n",
                 header="订单号,客户编号,下单日期,实收金额\n")
    assert validate(read_file(path), today=TODAY).mapping["amount"] == "实收金额"
    import_files(store, [path], today=TODAY)
    assert base(store)[3] == Decimal("120.50")


@pytest.mark.parametrize("stamp", ["2024-07-03 15:05:00.123+08", "2024-07-03 23:05:00-05", "2024-07-03T15:05:00+0800"])
def test_timestamps_with_an_hour_only_offset_are_dates(tmp_path, store, stamp):
    import_files(store, [write(tmp_path / "pg.csv", f"1,C1,{stamp},100\n")], today=TODAY)
    assert store.scalar("SELECT order_date FROM transactions") == date(2024, 7, 3)


def test_taobao_ids_quoted_as_excel_text_are_the_plain_ids(tmp_path, store):
    """Taobao writes ="3712..." so that Excel keeps the digits: the ID is what is inside, in any later export too."""
    header = "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间\n"
    quoted = tmp_path / "ExportOrderList.csv"
    quoted.write_bytes((header + '="371234567890123456",="13800138000",90.00,交易成功,2024-05-01 10:00:00\n'
                        '="371234567890123457",tb_b,50.00,交易成功,2024-05-02 10:00:00\n').encode("gbk"))
    import_files(store, [quoted], today=TODAY)
    assert sorted(store.df("SELECT order_id, customer_id FROM transactions").itertuples(index=False, name=None)) == [
        ("371234567890123456", "13800138000"), ("371234567890123457", "tb_b")]
    plain = write(tmp_path / "plain.csv", "371234567890123457,tb_b,50.00,交易成功,2024-05-02 10:00:00\n", header=header)
    report = rejected(store, [plain])
    assert [p.expected for p in report.problems if p.code == "orders_already_in_base"] == ["371234567890123457"]


@pytest.mark.parametrize("header_encoding", ["gbk", "utf-8"])
def test_gbk_text_behind_a_utf8_mark_gets_the_encoding_message(tmp_path, store, header_encoding):
    """A UTF-8 BOM followed by GBK bytes (a tool added the mark, or rows were appended from another file)."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode(header_encoding) + "1,张三,2024-01-05,100\n".encode("gbk"))
    report = rejected(store, [path])
    assert [p.code for p in report.problems] == ["unknown_encoding"]
    assert "UTF-8" in report.render("en") and "codec" not in report.render("en")


def test_numeric_ids_saved_with_a_trailing_point_zero_are_the_same_customers_as_in_excel(tmp_path, store):
    """pandas and some ERPs write a numeric CustomerID as 17850.0; the .xlsx of the same data reads 17850."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["InvoiceNo", "CustomerID", "InvoiceDate", "Amount"])
    book.active.append(["536365", 17850, "2010-12-01", 15.3])
    book.save(tmp_path / "december.xlsx")
    import_files(store, [tmp_path / "december.xlsx"], today=TODAY)
    csv_export = write(tmp_path / "january.csv", "536366,17850.0,2011-01-04,22.0\n536367,13047.00,2011-01-05,10\n"
                       "536368,A12.0,2011-01-05,1\n", header="InvoiceNo,CustomerID,InvoiceDate,Amount\n")
    import_files(store, [csv_export], today=TODAY)
    assert sorted(store.df("SELECT DISTINCT customer_id FROM transactions")["customer_id"]) == ["13047", "17850", "A12.0"]
    assert store.scalar("SELECT sum(amount) FROM transactions WHERE customer_id = '17850'") == Decimal("37.30")


ORDERS = [["订单号", "客户编号", "下单日期", "实付金额"], ["SO1", "C1", "2024-01-05", 100], ["SO2", "C2", "2024-01-06", 200.5]]


def test_a_summary_sheet_before_the_orders_is_passed_over(tmp_path, store):
    """Reports often open on a summary sheet (指标/数值): the orders are on the sheet whose columns are an order's."""
    path = workbook(tmp_path / "report.xlsx", {"汇总": [["指标", "数值"], ["订单数", 2], ["销售额", 300.5]], "明细": ORDERS})
    assert read_file(path).sheet == "明细"
    import_files(store, [path], today=TODAY)
    assert base(store) == (2, 2, 2, Decimal("300.50"))


def test_a_workbook_without_an_order_sheet_names_the_sheet_it_read(tmp_path, store):
    path = workbook(tmp_path / "odd.xlsx", {"A": [["x", "y"], [1, 2]], "B": [["p", "q"], [3, 4]]})
    report = rejected(store, [path])
    assert ("sheet", {"sheet": "A", "count": 2}) in report.notes and "“A”" in report.render("en")


def test_a_group_header_row_above_the_column_names_is_skipped(tmp_path, store):
    """Two-level headers (订单信息 over 订单号 and 下单日期): the names are on the second row."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["订单信息", None, "客户", None])
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:D1")
    for row in ORDERS:
        sheet.append([row[0], row[2], row[1], row[3]] if row[0] != "订单号" else ["订单号", "下单日期", "客户编号", "实付金额"])
    book.save(tmp_path / "grouped.xlsx")
    assert read_file(tmp_path / "grouped.xlsx").header_row == 2
    csv_path = write(tmp_path / "grouped.csv", "订单号,下单日期,客户编号,实付金额\nSO1,2024-01-05,C1,100\n",
                     header="订单信息,,客户,\n")
    assert read_file(csv_path).header_row == 2
    import_files(store, [tmp_path / "grouped.xlsx"], today=TODAY)
    assert base(store) == (2, 2, 2, Decimal("300.50"))


def test_a_header_with_an_unnamed_column_is_not_mistaken_for_a_title(tmp_path):
    path = write(tmp_path / "unnamed.csv", "SO1,C1,2024-01-05,100,\nSO2,C2,2024-01-06,50,x\n",
                 header="订单号,客户编号,下单日期,实付金额,\n")
    assert read_file(path).header_row == 1


def test_tiny_and_huge_excel_numbers_are_read_as_numbers(tmp_path, store):
    path = workbook(tmp_path / "floats.xlsx", {"S": [ORDERS[0], ["SO1", "C1", "2024-01-05", 0.1 + 0.2],
                                                    ["SO2", "C1", "2024-01-06", 1e-7], ["SO3", "C2", "2024-01-07", 2.5e15]]})
    import_files(store, [path], today=TODAY)
    assert base(store)[3] == Decimal("2500000000000000.30")


@pytest.mark.parametrize("header_row", [99, 5])
def test_a_header_row_below_the_last_line_means_no_data_rows(tmp_path, store, header_row):
    path = write(tmp_path / "short.csv", "SO1,C1,2024-01-05,100\nSO2,C2,2024-01-06,50\n")
    report = rejected(store, [path], options=ImportOptions(header_row=header_row))
    assert [p.code for p in report.problems] == ["empty_file"]


@pytest.mark.parametrize("header_row", [0, -3])
def test_a_header_row_before_the_first_line_is_refused_as_an_option(header_row):
    with pytest.raises(ValueError, match="header_row"):
        ImportOptions(header_row=header_row)


WOO = ("Order Number,Order Status,Order Date,Billing Email,Order Currency,Order Total,Item Name,Quantity,Item Cost\n"
       "101,completed,2024-05-01 10:00,a@x.com,USD,130.00,Mug,1,50.00\n"
       "101,completed,2024-05-01 10:00,a@x.com,USD,130.00,Cup,2,40.00\n"
       "102,completed,2024-05-02 10:00,b@x.com,USD,40.00,Mug,1,40.00\n"
       "103,completed,2024-05-03 10:00,b@x.com,USD,75.50,Mug,1,40.00\n"
       "103,completed,2024-05-03 10:00,b@x.com,USD,75.50,Tea,1,35.50\n")


def test_an_order_total_written_on_each_line_is_refused_not_summed(tmp_path, store):
    """Line exports that repeat the order's total on every line (WooCommerce plugins, JD's 应付金额): summed,
    order 101 would count 130.00 twice."""
    path = tmp_path / "woo_lines.csv"
    path.write_text(WOO, encoding="utf-8")
    report = rejected(store, [path])
    [problem] = [p for p in report.problems if p.code == "order_total_on_every_line"]
    assert (problem.column, problem.value, problem.expected) == ("Order Total", "101", "2")
    assert "101" in report.render("zh") and "Order Total" in report.render("en")
    import_files(store, [path], today=TODAY, mapping={"amount": None})  # the way out: quantity × Item Cost
    assert base(store) == (5, 3, 2, Decimal("245.50"))  # 50 + 2 × 40 + 40 + 40 + 35.5


def test_jd_order_amount_repeated_on_sku_lines_is_refused(tmp_path, store):
    header = "订单号,下单帐号,下单时间,订单状态,商品名称,订购数量,京东价,应付金额\n"
    path = write(tmp_path / "jd.csv", "J1,jd_a,2024-05-01 10:00:00,完成,A,1,99.00,199.00\n"
                                      "J1,jd_a,2024-05-01 10:00:00,完成,B,1,100.00,199.00\n"
                                      "J2,jd_b,2024-05-02 10:00:00,完成,C,2,29.50,59.00\n"
                                      "J3,jd_b,2024-05-03 10:00:00,完成,A,1,9.00,21.00\n"
                                      "J3,jd_b,2024-05-03 10:00:00,完成,C,1,12.00,21.00\n", header=header)
    assert [p.code for p in rejected(store, [path]).problems] == ["order_total_on_every_line"]
    import_files(store, [path], today=TODAY, mapping={"amount": None})
    assert base(store) == (5, 3, 2, Decimal("279.00"))  # 99 + 100 + 2 × 29.50 + 9 + 12


def test_line_amounts_that_differ_only_after_the_first_rows_are_still_the_lines_own(tmp_path, store, monkeypatch):
    """The first rows settle the question only when they show an order of differing amounts: here they do not
    (J1 and J3 have equal lines), so every line is looked at, and J4's differing lines clear the file."""
    import importlib
    monkeypatch.setattr(importlib.import_module("crm_logic.ingest.validate"), "SETTLING_ROWS", 5)  # rows 2-5: J1 and J3
    header = "订单号,下单帐号,下单时间,订单状态,商品名称,订购数量,应付金额\n"
    path = write(tmp_path / "lines.csv", "J1,jd_a,2024-05-01 10:00:00,完成,A,1,99.00\n"
                                         "J1,jd_a,2024-05-01 10:00:00,完成,B,1,99.00\n"
                                         "J3,jd_b,2024-05-03 10:00:00,完成,A,1,21.00\n"
                                         "J3,jd_b,2024-05-03 10:00:00,完成,C,1,21.00\n"
                                         "J4,jd_b,2024-05-04 10:00:00,完成,A,1,10.00\n"
                                         "J4,jd_b,2024-05-04 10:00:00,完成,C,1,20.00\n", header=header)
    import_files(store, [path], today=TODAY)
    assert base(store) == (6, 3, 2, Decimal("270.00"))  # 99 + 99 + 21 + 21 + 10 + 20


def test_youzan_item_lines_are_read_by_their_line_amount(tmp_path, store):
    header = "订单号,订单状态,订单创建时间,买家手机号,订单实付金额,商品名称,商品数量,商品实际成交金额\n"
    path = write(tmp_path / "youzan.csv", "E1,交易成功,2024-05-01 10:00:00,13800000001,300.00,A,1,100.00\n"
                                          "E1,交易成功,2024-05-01 10:00:00,13800000001,300.00,B,1,200.00\n"
                                          "E2,交易成功,2024-05-02 10:00:00,13800000002,80.00,A,1,80.00\n", header=header)
    import_files(store, [path], today=TODAY)
    assert base(store) == (3, 2, 2, Decimal("380.00"))


def test_line_exports_where_some_orders_have_equal_lines_load(tmp_path, store):
    """Two items at the same price in one order happen; an order whose lines differ in amount says they are lines'."""
    path = write(tmp_path / "lines.csv", "SO1,C1,2024-01-05,杯子,50\nSO1,C1,2024-01-05,碗,50\nSO2,C2,2024-01-06,杯子,20\n"
                                         "SO2,C2,2024-01-06,茶,35\nSO3,C2,2024-01-07,碗,10\nSO3,C2,2024-01-07,茶,10\n",
                 header="订单号,客户编号,下单日期,商品名称,实付金额\n")
    import_files(store, [path], today=TODAY)
    assert base(store) == (6, 3, 2, Decimal("175.00"))


def test_order_numbers_too_long_for_an_excel_number_are_refused(tmp_path, store):
    """A 19-digit Taobao order number stored as an Excel number keeps 15-17 digits: two orders become one."""
    path = workbook(tmp_path / "numbers.xlsx", {"S": [ORDERS[0], [3712345678901234567, "C1", "2024-01-05", 100],
                                                     [3712345678901234568, "C2", "2024-01-06", 50],
                                                     [9007199254740991, "C2", "2024-01-07", 5]]})
    assert float(3712345678901234567) == float(3712345678901234568)  # what the file holds: one number
    report = rejected(store, [path])
    assert [(p.row, p.value) for p in report.problems if p.code == "scientific_id"] == [
        (2, "3.71234567890124E+18"), (3, "3.71234567890124E+18")]
    assert base(store) == (0, 0, 0, None)


STRIPE = ("id,Created (UTC),Amount,Amount Refunded,Currency,Captured,Status,Customer ID,Customer Email\n"
          "ch_1,2024-05-01 10:00:00,100.00,0.00,usd,true,Paid,cus_A,a@x.com\n"
          "ch_2,2024-05-02 10:00:00,80.00,30.00,usd,true,Paid,cus_A,a@x.com\n"
          "ch_3,2024-05-03 10:00:00,50.00,50.00,usd,true,Refunded,cus_B,b@x.com\n"
          "ch_4,2024-05-04 10:00:00,20.00,0.00,usd,false,Failed,cus_B,b@x.com\n"
          "ch_5,2024-05-05 10:00:00,45.50,,usd,true,Paid,cus_C,c@x.com\n")


def test_stripe_partial_refunds_are_taken_off_the_revenue(tmp_path, store):
    """A Paid charge of 80.00 with 30.00 refunded brought 50.00; the full refund and the failure bring nothing."""
    path = tmp_path / "unified_payments.csv"
    path.write_text(STRIPE, encoding="utf-8")
    checked = validate(read_file(path), today=TODAY)
    assert checked.mapping["refunded"] == "Amount Refunded"
    assert ("refunds_taken_off", {"column": "Amount Refunded"}) in checked.report.notes
    import_files(store, [path], today=TODAY)
    assert base(store) == (3, 3, 2, Decimal("195.50"))  # 100 + (80 - 30) + 45.50
    assert store.scalar("SELECT amount FROM transactions WHERE order_id = 'ch_2'") == Decimal("50.00")


def test_a_refunded_column_can_be_unmapped(tmp_path, store):
    path = tmp_path / "unified_payments.csv"
    path.write_text(STRIPE, encoding="utf-8")
    import_files(store, [path], today=TODAY, mapping={"refunded": None})
    assert base(store)[3] == Decimal("225.50")  # 100 + 80 + 45.50: gross, as the user chose


def test_two_files_in_two_currencies_are_refused_not_added(tmp_path, store):
    yuan = write(tmp_path / "tmall.csv", "1,C1,2024-01-05,¥100\n")
    dollars = write(tmp_path / "shopify.csv", "2,C2,2024-01-06,$50\n")
    report = rejected(store, [yuan, dollars])
    assert [(p.code, p.value) for p in report.problems] == [("mixed_currencies", "$, ¥")]
    assert base(store) == (0, 0, 0, None)


def test_a_file_in_another_currency_than_the_base_is_refused(tmp_path, store):
    import_files(store, [write(tmp_path / "tmall.csv", "1,C1,2024-01-05,¥100\n")], today=TODAY)
    report = rejected(store, [write(tmp_path / "shopify.csv", "2,C2,2024-01-06,$50\n")])
    assert [(p.code, p.value, p.expected) for p in report.problems] == [("other_currency", "$", "¥")]
    assert "¥" in report.render("zh") and "$" in report.render("en")
    assert base(store) == (1, 1, 1, Decimal("100.00")) and store.get_meta("currency") == "¥"
    import_files(store, [write(tmp_path / "plain.csv", "3,C3,2024-01-07,20\n")], today=TODAY)  # no mark: the base's
    assert base(store)[3] == Decimal("120.00") and store.get_meta("currency") == "¥"


def test_replacing_the_base_with_another_currency_is_allowed(tmp_path, store):
    import_files(store, [write(tmp_path / "tmall.csv", "1,C1,2024-01-05,¥100\n")], today=TODAY)
    import_files(store, [write(tmp_path / "shopify.csv", "2,C2,2024-01-06,$50\n")], today=TODAY, replace=True)
    assert base(store)[3] == Decimal("50.00") and store.get_meta("currency") == "$"


def test_order_cells_merged_down_an_orders_lines_belong_to_each_line(tmp_path, store):
    """Chinese report exports merge 订单号/客户/日期 down the order's product lines: each line is the order's."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["销售明细"])
    sheet.merge_cells("A1:E1")  # a title merged across: not copied into the header's place
    for row in (["订单号", "客户编号", "下单日期", "商品名称", "实付金额"], ["SO1", "C1", "2024-01-05", "杯子", 50],
                [None, None, None, "碗", 30], [None, None, None, "茶", 5], ["SO2", "C2", "2024-01-06", "茶", 20]):
        sheet.append(row)
    for column in "ABC":
        sheet.merge_cells(f"{column}3:{column}5")
    book.save(tmp_path / "merged.xlsx")
    assert read_file(tmp_path / "merged.xlsx").header_row == 2
    result = import_files(store, [tmp_path / "merged.xlsx"], today=TODAY)
    assert result.report.facts.get("guests", 0) == 0
    assert base(store) == (4, 2, 2, Decimal("105.00"))  # 50 + 30 + 5 + 20


def test_masked_buyer_ids_are_refused_not_merged(tmp_path, store):
    """Pinduoduo and Taobao mask phones and nicknames (138****1234, t**1): two buyers would become one."""
    header = "订单号,订单状态,用户实付金额(元),商品数量(件),收货人,手机,订单成交时间\n"
    path = write(tmp_path / "pdd.csv", "P1,已签收,10.00,1,张*,138****1234,2024-05-01 10:00:00\n"
                                       "P2,已签收,20.00,1,李*,138****1234,2024-05-02 10:00:00\n"
                                       "P3,已签收,30.00,1,王*,13912345678,2024-05-03 10:00:00\n", header=header)
    report = rejected(store, [path])
    assert [(p.row, p.code, p.value) for p in report.problems] == [(2, "masked_id", "138****1234"),
                                                                   (3, "masked_id", "138****1234")]
    assert "masked" in report.render("en") and "隐藏" in report.render("zh")


def test_a_password_protected_workbook_is_named_as_such_not_as_an_old_xls(tmp_path, store):
    """Excel saves a workbook with a password as an OLE2 container holding an 'EncryptedPackage' stream; the
    bytes here carry that container's signature and directory entry, as such a file does."""
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    directory = "EncryptedPackage".encode("utf-16-le") + bytes(64 - 32) + "EncryptionInfo".encode("utf-16-le")
    path = tmp_path / "订单.xlsx"
    path.write_bytes(ole2 + bytes(1024) + directory + bytes(4096))
    report = rejected(store, [path])
    assert [p.code for p in report.problems] == ["encrypted_file"]
    assert "password" in report.render("en") and "密码" in report.render("zh")
