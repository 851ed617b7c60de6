"""Platform exports, generated here in each platform's shape, import with no manual mapping.

Every expected figure is computed in the test from the generated rows with plain Python (Decimal): the
rows whose status the platform documents as paid/completed, and nothing else.
"""
from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from crm_logic.ingest import ImportOptions, ImportRejected, import_files, read_file, validate
from crm_logic.store import Store

TODAY = date(2025, 1, 31)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "base.duckdb") as s:
        yield s


def write_table(path, header, rows, delimiter=",", encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def totals(store):
    count, customers, revenue = store.one("SELECT count(*), count(DISTINCT customer_id), sum(amount) FROM transactions")
    return count, customers, revenue


def orders(seed, n, statuses, customers=12):
    """(order number, customer, timestamp, amount, status) with amounts in cents, spread over 2024."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    return [(f"{1000 + i}", f"u{rng.randrange(customers)}", start + timedelta(minutes=rng.randrange(525_000)),
             Decimal(rng.randrange(100, 500_000)) / 100, rng.choice(statuses)) for i in range(n)]


def expected(rows, revenue_statuses, customer=lambda r: r[1]):
    kept = [r for r in rows if r[4] in revenue_statuses]
    return len(kept), len({customer(r) for r in kept}), sum((r[3] for r in kept), Decimal("0"))


def test_taobao_gbk_order_report(tmp_path, store):
    statuses = ["交易成功", "交易关闭", "退款成功", "等待买家付款", "卖家已发货，等待买家确认"]
    rows = orders(1, 60, statuses)
    header = ["订单编号", "买家会员名", "买家应付货款", "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间",
              "宝贝标题", "宝贝总数量", "收货人姓名"]
    body = [[o, c, f"{a + 10}", f"{a}", s, t.strftime("%Y-%m-%d %H:%M:%S"), "", "连衣裙 夏季", "1", "张三"]
            for o, c, t, a, s in rows]
    path = write_table(tmp_path / "ExportOrderList202501.csv", header, body, encoding="gbk")
    checked = validate(read_file(path), today=TODAY)
    assert checked.platform == "taobao"
    assert checked.mapping["amount"] == "买家实际支付金额" and checked.mapping["customer_id"] == "买家会员名"
    assert checked.currency == "¥"
    result = import_files(store, [path], today=TODAY)
    assert totals(store) == expected(rows, {"交易成功", "卖家已发货，等待买家确认"})
    facts = result.report.facts
    assert facts["status_cancelled"] == sum(r[4] == "交易关闭" for r in rows)
    assert facts["status_refunded"] == sum(r[4] == "退款成功" for r in rows)
    assert facts["status_unpaid"] == sum(r[4] == "等待买家付款" for r in rows)
    closed_value = sum((r[3] for r in rows if r[4] == "交易关闭"), Decimal(0))
    assert result.report.values["status_cancelled_value"] == pytest.approx(float(closed_value))
    assert store.get_meta("currency") == "¥"
    assert "淘宝" in result.report.render("zh") and "Taobao" in result.report.render("en")


def test_taobao_item_lines_keep_their_quantity(tmp_path, store):
    """Taobao's item-line export names the quantity 宝贝数量 (the order report: 宝贝总数量)."""
    header = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单创建时间", "宝贝标题", "宝贝数量"]
    body = [["T1", "buyer_a", "120.00", "交易成功", "2024-05-01 10:00:00", "连衣裙", "2"],
            ["T1", "buyer_a", "35.50", "交易成功", "2024-05-01 10:00:00", "腰带", "1"],
            ["T2", "buyer_b", "99.00", "交易成功", "2024-05-02 11:00:00", "连衣裙", "3"]]
    path = write_table(tmp_path / "ExportOrderDetailList.csv", header, body, encoding="gbk")
    assert validate(read_file(path), today=TODAY).mapping["quantity"] == "宝贝数量"
    import_files(store, [path], today=TODAY)
    assert store.scalar("SELECT sum(quantity) FROM transactions") == 6


def test_jd_lines_with_quantity_and_price(tmp_path, store):
    """JD's line export: no amount column, so each line is 订购数量 × 京东价; an order's lines are one order."""
    rng = random.Random(2)
    lines, header = [], ["订单号", "下单帐号", "下单时间", "商品名称", "订购数量", "京东价", "订单状态"]
    for i in range(30):
        status = rng.choice(["完成", "已取消", "等待付款", "等待确认收货"])
        when = datetime(2024, 3, 1) + timedelta(hours=rng.randrange(5000))
        for k in range(rng.randint(1, 3)):
            lines.append([f"JD{i}", f"jd_{i % 7}", when.strftime("%Y-%m-%d %H:%M:%S"), f"商品{k}",
                          rng.randint(1, 4), f"{rng.randrange(100, 99_999) / 100:.2f}", status])
    path = write_table(tmp_path / "jd.csv", header, lines)
    result = import_files(store, [path], today=TODAY)
    paid = [l for l in lines if l[6] in ("完成", "等待确认收货")]
    revenue = sum((l[4] * Decimal(l[5]) for l in paid), Decimal(0))
    assert totals(store) == (len(paid), len({l[1] for l in paid}), revenue)
    assert store.scalar("SELECT count(DISTINCT order_id) FROM transactions") == len({l[0] for l in paid})
    assert ("amount_from_price", {}) in result.report.notes
    assert result.report.facts["status_cancelled"] == sum(l[6] == "已取消" for l in lines)


def test_youzan_tsv(tmp_path, store):
    statuses = ["交易成功", "交易关闭", "等待买家付款", "退款成功"]
    rows = orders(3, 40, statuses)
    header = ["订单号", "订单状态", "订单创建时间", "买家付款时间", "订单实付金额", "买家手机号", "买家昵称", "商品数量",
              "收货人省份"]
    body = [[f"E{o}", s, t.strftime("%Y-%m-%d %H:%M:%S"), "", f"{a}", f"138{c[1:]:0>8}", c, "1", "浙江省"]
            for o, c, t, a, s in rows]
    path = write_table(tmp_path / "youzan.tsv", header, body, delimiter="\t")
    checked = validate(read_file(path), today=TODAY)
    assert (checked.platform, checked.raw.delimiter) == ("youzan", "\t")
    import_files(store, [path], today=TODAY)
    assert totals(store) == expected(rows, {"交易成功"})


def test_pinduoduo(tmp_path, store):
    statuses = ["已签收", "已取消", "待支付", "已发货，待签收", "未发货，退款成功"]
    rows = orders(4, 40, statuses)
    header = ["商品", "订单号", "订单状态", "商品总价(元)", "用户实付金额(元)", "商家实收金额(元)", "商品数量(件)",
              "收货人", "手机", "省", "订单成交时间", "售后状态"]
    body = [["纸巾", f"240101-{o}", s, f"{a + 2}", f"{a}", f"{a}", "2", c, f"1380000{c[1:]:0>4}", "广东省",
             t.strftime("%Y-%m-%d %H:%M:%S"), "无售后或售后取消"] for o, c, t, a, s in rows]
    path = write_table(tmp_path / "pdd.csv", header, body)
    checked = validate(read_file(path), today=TODAY)
    assert checked.platform == "pinduoduo"
    import_files(store, [path], today=TODAY)
    assert totals(store) == expected(rows, {"已签收", "已发货，待签收"})


def test_shopify_line_items_with_order_fields_on_the_first_line(tmp_path, store):
    """Shopify writes Email, Financial Status and Created at on an order's first line only."""
    rng = random.Random(5)
    header = ["Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Currency", "Subtotal", "Total",
              "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Billing Name", "Billing Province"]
    lines, paid = [], []
    for i in range(25):
        status = rng.choice(["paid", "refunded", "voided", "pending", "partially_refunded"])
        email = f"buyer{i % 6}@example.com"
        when = datetime(2024, 5, 1, 8) + timedelta(hours=rng.randrange(3000))
        items = [(rng.randint(1, 3), Decimal(rng.randrange(500, 9000)) / 100) for _ in range(rng.randint(1, 3))]
        for k, (qty, price) in enumerate(items):
            first = k == 0
            lines.append([f"#{1001 + i}", email if first else "", status if first else "", "", "fulfilled",
                          "USD" if first else "", "", "", when.strftime("%Y-%m-%d %H:%M:%S +0800") if first else "",
                          qty, f"Item {k}", f"{price}", "Ann" if first else "", "CA"])
            if status in ("paid", "partially_refunded"):
                paid.append((email, qty * price))
    path = write_table(tmp_path / "orders_export_1.csv", header, lines)
    checked = validate(read_file(path), today=TODAY)
    assert checked.platform == "shopify" and "amount" not in checked.mapping
    assert checked.currency == "$"
    import_files(store, [path], today=TODAY)
    assert totals(store) == (len(paid), len({e for e, _ in paid}), sum((v for _, v in paid), Decimal(0)))
    assert store.get_meta("currency") == "$"


def test_woocommerce_with_us_dates(tmp_path, store):
    statuses = ["completed", "processing", "cancelled", "refunded", "failed", "on-hold"]
    rows = orders(6, 50, statuses)
    header = ["Order Number", "Order Date", "Order Status", "Order Currency", "Order Total", "Billing First Name",
              "Billing Email", "Item Name", "Quantity"]
    body = [[o, t.strftime("%m/%d/%Y %H:%M"), s.title(), "EUR", f"{a}", "Bo", f"{c}@shop.test", "Mug", "1"]
            for o, c, t, a, s in rows]
    path = write_table(tmp_path / "woo.csv", header, body)
    checked = validate(read_file(path), today=TODAY)
    assert (checked.platform, checked.date_order, checked.currency) == ("woocommerce", "mdy", "€")
    assert ("date_order.mdy", {}) in checked.report.notes
    assert "month/day/year" in checked.report.render("en")
    import_files(store, [path], today=TODAY)
    assert totals(store) == expected(rows, {"completed", "processing"})
    dates = store.df("SELECT order_id, order_date FROM transactions")
    by_id = {o: t.date() for o, _, t, _, _ in rows}
    assert all(by_id[o] == d.date() for o, d in dates.values)


def test_stripe_payments_with_guests(tmp_path, store):
    statuses = ["Paid", "Failed", "Refunded"]
    rows = orders(7, 50, statuses)
    guests = {o for o, *_ in rows[::9]}
    header = ["id", "Created (UTC)", "Amount", "Amount Refunded", "Currency", "Captured", "Status", "Customer ID",
              "Customer Email", "Fee"]
    body = [[f"ch_{o}", t.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{a}", "0", "usd", "true", s,
             "" if o in guests else f"cus_{c}", "", "0.30"] for o, c, t, a, s in rows]
    path = write_table(tmp_path / "unified_payments.csv", header, body)
    result = import_files(store, [path], today=TODAY)
    known = [r for r in rows if r[0] not in guests]
    assert totals(store) == expected(known, {"Paid"})
    guest_paid = [r for r in rows if r[0] in guests and r[4] == "Paid"]
    assert result.report.facts["guests"] == len(guests)
    assert result.report.values["guests_value"] == pytest.approx(float(sum(r[3] for r in guest_paid)))
    assert store.get_meta("currency") == "$"


def test_european_semicolons_decimal_commas_and_dotted_dates(tmp_path, store):
    rows = orders(8, 30, ["x"])
    header = ["Bestellnummer", "Kundennummer", "Bestelldatum", "Betrag"]

    def german(amount: Decimal) -> str:
        whole, cents = f"{amount:.2f}".split(".")
        return f"{int(whole):,}".replace(",", ".") + "," + cents + " €"

    body = [[o, c, t.strftime("%d.%m.%Y"), german(a)] for o, c, t, a, _ in rows]
    path = write_table(tmp_path / "bestellungen.csv", header, body, delimiter=";")
    checked = validate(read_file(path), today=TODAY)
    assert (checked.decimal, checked.date_order, checked.currency) == (",", "dmy", "€")
    assert ("decimal_comma", {}) in checked.report.notes
    import_files(store, [path], today=TODAY)
    assert totals(store) == expected(rows, {"x"})
    first = rows[0]
    assert store.scalar("SELECT order_date FROM transactions WHERE order_id = ?", [first[0]]) == first[2].date()


def test_online_retail_lines_with_cancellations_and_guests(tmp_path, store):
    """The UCI Online Retail shape: Quantity × UnitPrice, 'C' invoices are cancellations, blank CustomerID are guests."""
    header = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
    lines = [["536365", "85123A", "HEART", "6", "12/1/2010 8:26", "2.55", "17850", "United Kingdom"],
             ["536365", "71053", "LANTERN", "6", "12/1/2010 8:26", "3.39", "17850", "United Kingdom"],
             ["536366", "22633", "WARMER", "6", "12/13/2010 8:28", "1.85", "13047", "United Kingdom"],
             ["C536379", "D", "Discount", "-1", "12/14/2010 9:41", "27.50", "17850", "United Kingdom"],
             ["536414", "22139", "TOY", "56", "12/14/2010 11:52", "0.00", "", "United Kingdom"]]
    path = write_table(tmp_path / "Online Retail.csv", header, lines)
    result = import_files(store, [path], today=TODAY)
    revenue = Decimal("6") * Decimal("2.55") + 6 * Decimal("3.39") + 6 * Decimal("1.85") - Decimal("27.50")
    assert totals(store) == (4, 2, revenue)
    assert result.report.facts["guests"] == 1 and result.report.facts["returns"] == 1
    assert store.scalar("SELECT min(order_date) FROM transactions") == date(2010, 12, 1)


def test_ambiguous_day_month_order_is_asked(tmp_path, store):
    path = write_table(tmp_path / "ambiguous.csv", ["customer_id", "order_date", "amount"],
                       [["A", "05/06/2024", "10"], ["B", "07/08/2024", "20"]])
    checked = validate(read_file(path), today=TODAY)
    assert checked.date_order is None
    [problem] = checked.report.problems
    assert (problem.code, problem.column, problem.row) == ("ambiguous_dates", "order_date", None)
    assert "05/06/2024" in problem.message("en") and "月/日/年" in problem.message("zh")
    lines = {lang: checked.report.render(lang).splitlines()[-1] for lang in ("en", "zh")}  # a whole-file problem
    assert lines["en"].startswith("ambiguous.csv, column order_date: ") and "row" not in lines["en"]
    assert lines["zh"].startswith("ambiguous.csv，order_date 列：") and "行：" not in lines["zh"]
    with pytest.raises(ImportRejected):
        import_files(store, [path], today=TODAY)
    import_files(store, [path], today=TODAY, options=ImportOptions(date_order="dmy"))
    assert store.df("SELECT order_date FROM transactions ORDER BY customer_id").order_date.dt.date.tolist() == [
        date(2024, 6, 5), date(2024, 8, 7)]


def test_unknown_status_is_asked_and_the_choice_applies(tmp_path, store):
    path = write_table(tmp_path / "s.csv", ["customer_id", "order_date", "amount", "status"],
                       [["A", "2024-05-01", "10", "completed"], ["B", "2024-05-02", "20", "Awaiting pickup"],
                        ["C", "2024-05-03", "40", "Awaiting pickup"]])
    checked = validate(read_file(path), today=TODAY)
    assert [(p.code, p.value) for p in checked.report.problems] == [("unknown_status", "awaiting pickup")]
    shown = checked.statuses.set_index("value")
    assert shown.loc["awaiting pickup", "rows"] == 2 and shown.loc["awaiting pickup", "amount"] == 60
    assert shown.loc["completed", "class"] == "revenue"
    import_files(store, [path], today=TODAY, options=ImportOptions(status_classes={"Awaiting pickup": "unpaid"}))
    assert totals(store) == (1, 1, Decimal("10.00"))


def test_refunds_left_out_or_loaded_as_a_purchase_and_its_return(tmp_path):
    path = write_table(tmp_path / "r.csv", ["customer_id", "order_date", "amount", "order status"],
                       [["A", "2024-05-01", "10", "paid"], ["A", "2024-05-02", "25", "refunded"]])
    with Store(tmp_path / "left_out.duckdb") as left_out:
        result = import_files(left_out, [path], today=TODAY)
        assert totals(left_out) == (1, 1, Decimal("10.00"))
        assert result.report.facts["status_refunded"] == 1
    with Store(tmp_path / "returns.duckdb") as returned:
        result = import_files(returned, [path], today=TODAY, options=ImportOptions(refunds="return"))
        assert returned.df("SELECT amount FROM transactions ORDER BY amount").amount.tolist() == [
            Decimal("-25.00"), Decimal("10.00"), Decimal("25.00")]
        assert result.report.facts["refund_returns"] == 1 and result.rows_loaded == 3


@pytest.mark.parametrize("text, expected", [
    ("2024-07-03 12:12:03 +0800", date(2024, 7, 3)), ("2024-07-03T23:10:00Z", date(2024, 7, 3)),
    ("2024-07-03T23:10:00.123+08:00", date(2024, 7, 3)), ("45123", date(2023, 7, 16)),
    ("07.04.2023", date(2023, 4, 7)), ("25/05/2024", date(2024, 5, 25)), ("05/25/2024 00:58", date(2024, 5, 25)),
    ("5/25/2024 1:05 PM", date(2024, 5, 25)),
])
def test_date_styles_of_the_platforms(tmp_path, text, expected):
    path = write_table(tmp_path / "d.csv", ["customer_id", "order_date", "amount"], [["C1", text, "1"]])
    assert validate(read_file(path), today=TODAY).rows.order_date.dt.date.tolist() == [expected]


@pytest.mark.parametrize("text, expected, currency", [
    ("$1,234.50", 1234.5, "$"), ("¥88", 88.0, "¥"), ("￥88.5", 88.5, "¥"), ("€12.00", 12.0, "€"),
    ("12.00 EUR", 12.0, "€"), ("RMB 100", 100.0, "¥"),
])
def test_currency_prefixes_are_read_and_detected(tmp_path, text, expected, currency):
    path = write_table(tmp_path / "c.csv", ["customer_id", "order_date", "amount"], [["C1", "2024-01-02", text]])
    checked = validate(read_file(path), today=TODAY)
    assert checked.rows.amount.tolist() == [pytest.approx(expected)]
    assert checked.currency == currency


def test_mixed_currencies_are_refused(tmp_path, store):
    path = write_table(tmp_path / "m.csv", ["customer_id", "order_date", "amount", "currency"],
                       [["A", "2024-01-02", "5", "USD"], ["B", "2024-01-03", "6", "EUR"]])
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [path], today=TODAY)
    assert [p.code for p in rejected.value.report.problems] == ["mixed_currencies"]
    assert store.is_empty()


@pytest.mark.parametrize("option", [{"date_order": "ydm"}, {"decimal": ";"}, {"refunds": "keep"},
                                    {"duplicates": "merge"}, {"guests": "drop"}, {"platform": "amazon"},
                                    {"status_classes": {"paid": "income"}}])
def test_an_unknown_choice_is_refused_by_name(option):
    with pytest.raises(ValueError, match=next(iter(option)).split("_")[0]):
        ImportOptions(**option)
