"""Line-level exports: the lines of one order are one order, and the revenue is the sum of the lines.

The files are generated here; expected totals come from plain Python sums over the generated lines.
"""
from __future__ import annotations

import csv
import random
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm_logic.ingest import (ImportOptions, ImportRejected, import_files, imports_log, load_checked, read_file,
                              validate)
from crm_logic.store import Store

TODAY = date(2025, 1, 31)
HEADER = ["订单号", "客户编号", "下单时间", "商品名称", "数量", "单价", "实付金额"]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "base.duckdb") as s:
        yield s


def line_export(seed: int, orders: int = 80):
    """Orders of 1-4 product lines each; the amount column is quantity × unit price per line."""
    rng = random.Random(seed)
    lines = []
    for i in range(orders):
        customer, day = f"C{rng.randrange(20):03d}", date(2024, 1, 1) + timedelta(days=rng.randrange(360))
        for k in range(rng.randint(1, 4)):
            qty, price = rng.randint(1, 5), Decimal(rng.randrange(100, 50_000)) / 100
            lines.append([f"SO{i:04d}", customer, f"{day} 10:{k:02d}:00", f"商品{k}", str(qty), f"{price}",
                          f"{qty * price}"])
    return lines


def write(path, lines, header=HEADER):
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(lines)
    return path


def test_lines_of_one_order_are_summed_not_refused(tmp_path, store):
    lines = line_export(1)
    assert len({l[0] for l in lines}) < len(lines)  # orders really have several lines
    result = import_files(store, [write(tmp_path / "明细.csv", lines)], today=TODAY)
    assert not result.report.problems
    revenue = sum((Decimal(l[6]) for l in lines), Decimal(0))
    assert store.one("SELECT count(*), sum(amount), count(DISTINCT order_id) FROM transactions") == (
        len(lines), revenue, len({l[0] for l in lines}))
    first = lines[0][0]
    assert store.scalar("SELECT sum(amount) FROM transactions WHERE order_id = ?", [first]) == sum(
        Decimal(l[6]) for l in lines if l[0] == first)
    assert store.scalar("SELECT count(DISTINCT category) FROM transactions") == len({l[3] for l in lines})


def test_duplicate_lines_are_reported_kept_by_default_or_dropped(tmp_path):
    lines = line_export(2)
    repeated = [lines[3], lines[10], lines[10]]
    path = write(tmp_path / "with_duplicates.csv", lines + repeated)
    all_lines = sum((Decimal(l[6]) for l in lines + repeated), Decimal(0))
    without = sum((Decimal(l[6]) for l in lines), Decimal(0))
    checked = validate(read_file(path), today=TODAY)
    assert checked.report.facts["duplicate_lines"] == 3
    assert checked.duplicates.first_row.tolist() == [5, 12, 12]  # the original lines (header is line 1)
    assert checked.duplicates.row.tolist() == [len(lines) + 2, len(lines) + 3, len(lines) + 4]
    assert "3" in checked.report.render("en") and "kept" in checked.report.render("en")
    with Store(tmp_path / "kept.duckdb") as kept:
        import_files(kept, [path], today=TODAY)
        assert kept.one("SELECT count(*), sum(amount) FROM transactions") == (len(lines) + 3, all_lines)
    with Store(tmp_path / "dropped.duckdb") as dropped:
        result = import_files(dropped, [path], today=TODAY, options=ImportOptions(duplicates="drop"))
        assert dropped.one("SELECT count(*), sum(amount) FROM transactions") == (len(lines), without)
        assert result.report.facts["duplicates_dropped"] == 3


def test_a_check_loads_as_it_was_shown_and_stays_unchanged(tmp_path, store):
    lines = line_export(5)
    path = write(tmp_path / "lines.csv", lines)
    checked = validate(read_file(path), today=TODAY)
    result = load_checked(store, [checked])
    revenue = sum((Decimal(l[6]) for l in lines), Decimal(0))
    assert (result.rows_loaded, store.scalar("SELECT sum(amount) FROM transactions")) == (len(lines), revenue)
    with pytest.raises(ImportRejected) as again:
        load_checked(store, [checked])
    assert [p.code for p in again.value.report.problems] == ["already_imported"]
    assert checked.report.problems == [] and checked.report.status == "checked", "the shown check is not changed"
    assert store.scalar("SELECT count(*) FROM transactions") == len(lines)


def test_amount_is_quantity_times_unit_price_without_an_amount_column(tmp_path, store):
    lines = line_export(3)
    import_files(store, [write(tmp_path / "no_amount.csv", [l[:6] for l in lines], HEADER[:6])], today=TODAY)
    assert store.scalar("SELECT sum(amount) FROM transactions") == sum(
        (int(l[4]) * Decimal(l[5]) for l in lines), Decimal(0))


def test_negative_quantity_is_a_return(tmp_path, store):
    lines = [["O1", "A", "2024-02-01", "x", "2", "10.00", "20.00"],
             ["O2", "A", "2024-02-03", "x", "-1", "10.00", "10.00"]]  # the amount column kept positive
    result = import_files(store, [write(tmp_path / "ret.csv", lines)], today=TODAY)
    assert store.df("SELECT amount FROM transactions ORDER BY order_id").amount.tolist() == [
        Decimal("20.00"), Decimal("-10.00")]
    assert result.report.facts["returns"] == 1


def test_lines_disagreeing_on_customer_or_date_are_a_conflict(tmp_path, store):
    lines = [["O1", "A", "2024-02-01", "x", "1", "5", "5"], ["O1", "A", "2024-02-01 18:00", "y", "1", "6", "6"],
             ["O2", "B", "2024-02-02", "x", "1", "5", "5"], ["O2", "Z", "2024-02-02", "y", "1", "6", "6"],
             ["O3", "C", "2024-02-03", "x", "1", "5", "5"], ["O3", "C", "2024-02-04", "y", "1", "6", "6"]]
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [write(tmp_path / "conflict.csv", lines)], today=TODAY)
    problems = [(p.row, p.column, p.code, p.value, p.expected) for p in rejected.value.report.problems]
    assert problems == [(5, "订单号", "conflicting_order", "O2", "4"), (7, "订单号", "conflicting_order", "O3", "6")]
    assert "第 4 行" in rejected.value.report.problems[0].message("zh")
    assert store.is_empty()


def test_repeated_lines_in_orders_of_two_or_three_lines_and_beside_a_conflict(tmp_path):
    lines = [["O1", "A", "2024-02-01", "x", "1", "5", "5"], ["O1", "A", "2024-02-01", "y", "1", "6", "6"],
             ["O2", "B", "2024-02-02", "x", "1", "5", "5"], ["O2", "B", "2024-02-02", "y", "1", "6", "6"],
             ["O2", "B", "2024-02-02", "x", "1", "5", "5"],  # line 6 repeats line 4
             ["O3", "C", "2024-02-03", "x", "1", "5", "5"], ["O3", "C", "2024-02-03", "x", "1", "5", "5"],  # 8 of 7
             ["O4", "D", "2024-02-04", "x", "1", "5", "5"], ["O4", "E", "2024-02-04", "x", "1", "5", "5"],
             ["O4", "E", "2024-02-04", "x", "1", "5", "5"]]  # line 10 conflicts with line 9, line 11 repeats 10
    checked = validate(read_file(write(tmp_path / "repeats.csv", lines)), today=TODAY)
    assert list(zip(checked.duplicates.row, checked.duplicates.first_row)) == [(6, 4), (8, 7), (11, 10)]
    assert checked.report.facts["duplicate_lines"] == 3
    assert [(p.row, p.code, p.expected) for p in checked.report.problems] == [(10, "conflicting_order", "9"),
                                                                             (11, "conflicting_order", "9")]


def test_guests_are_counted_valued_and_left_out_or_refused(tmp_path, store):
    lines = [["O1", "A", "2024-02-01", "x", "1", "5", "5"], ["O2", "", "2024-02-02", "x", "1", "7.5", "7.50"],
             ["O3", "", "2024-02-03", "x", "2", "6", "12"]]
    path = write(tmp_path / "guests.csv", lines)
    with pytest.raises(ImportRejected) as rejected:
        import_files(store, [path], today=TODAY, options=ImportOptions(guests="refuse"))
    assert [(p.row, p.code) for p in rejected.value.report.problems] == [(3, "missing_customer_id"),
                                                                        (4, "missing_customer_id")]
    result = import_files(store, [path], today=TODAY)
    assert (result.report.facts["guests"], result.report.values["guests_value"]) == (2, 19.5)
    assert "¥19.50" in result.report.render("en") or "19.50" in result.report.render("en")
    assert store.one("SELECT count(*), sum(amount) FROM transactions") == (1, Decimal("5.00"))


def test_file_imported_by_two_sessions_at_once_is_imported_once(tmp_path, store):
    """Both imports pass the early check before either writes; the check inside the write decides."""
    path = write(tmp_path / "same.csv", line_export(4, 10))
    both_checked = threading.Barrier(2)
    outcomes = []

    def wait_for_the_other(fraction, stage):
        if stage == "ingest.stage.load" and fraction == pytest.approx(0.6):
            both_checked.wait(timeout=60)

    def run():
        try:
            import_files(store, [path], today=TODAY, progress=wait_for_the_other)
            outcomes.append("imported")
        except ImportRejected as rejected:
            outcomes.append(rejected.report.problems[0].code)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_imported", "imported"]
    assert len(imports_log(store)) == 1
    assert store.scalar("SELECT count(*) FROM transactions") == len(line_export(4, 10))
