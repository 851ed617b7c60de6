"""The Data page in both languages: facts on a real base, a GBK upload imported, a bad file refused."""
import io

import pandas as pd
import pytest

from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.conftest import load_cdnow_sample

GOOD = "会员号,下单时间,实付金额,订单号\nN1,2024/3/5,\"1,299.00\",A1\nN2,2024年3月6日,880,A2\nN1,20240401,120.5,A3\n"
BAD = "customer_id,order_date,amount\nA1,2024-01-05,10\nA2,2024-13-45,20\n"


@pytest.fixture
def cdnow(data_dir):
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
    Store(base_path("demo")).close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_page_shows_the_facts_of_the_base(cdnow, lang):
    at = run_page("views/data.py", lang, base="cdnow")
    assert_clean(at)
    assert at.metric[0].value == "6,919" and at.metric[1].value == "2,357"  # CDNOW sample: README figures


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_page_on_an_empty_base(data_dir, lang):
    Store(base_path("demo")).close()
    at = run_page("views/data.py", lang, base="demo")
    assert_clean(at)
    assert at.metric[0].value == "0"


def test_a_gbk_upload_is_mapped_checked_and_imported(cdnow):
    at = run_page("views/data.py", "zh", base="cdnow")
    at.file_uploader(key="upload").set_value(("订单.csv", GOOD.encode("gbk"), "text/csv")).run()
    assert_clean(at)
    assert any("3" in s.value for s in at.success), "all three rows are valid"
    at.button(key="import_button").click().run()
    assert_clean(at)
    assert at.metric[0].value == "6,922" and at.metric[1].value == "2,359"


def test_a_bad_date_is_reported_with_its_row_and_nothing_changes(cdnow):
    at = run_page("views/data.py", "en", base="cdnow")
    at.file_uploader(key="upload").set_value(("bad.csv", BAD.encode(), "text/csv")).run()
    assert at.warning, "the check must report the problem before importing"
    at.button(key="import_button").click().run()
    assert_clean(at)
    assert at.error and "Nothing was imported" in at.error[0].value
    report = "\n".join(c.value for c in at.code)
    assert "bad.csv, row 3, column order_date" in report
    assert at.metric[0].value == "6,919"


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The bytes behind every download button drawn, by file name (Streamlit's media storage, recorded).
    A download made when clicked (a callable) is made at once, on a thread of its own as Streamlit does,
    where the script's session state is not at hand."""
    from concurrent.futures import ThreadPoolExecutor

    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served: dict[str, bytes] = {}
    keep, keep_deferred = MemoryMediaFileStorage.load_and_get_id, MediaFileManager.add_deferred

    def record(self, path_or_data, mimetype, kind, filename=None):
        served[filename] = path_or_data
        return keep(self, path_or_data, mimetype, kind, filename)

    def make_now(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        with ThreadPoolExecutor(1) as worker:
            served[file_name] = worker.submit(data_callable).result()
        return keep_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", make_now)
    return served


@pytest.fixture
def counted(monkeypatch) -> dict[str, int]:
    """How often the upload is read and checked (by the page or by an import)."""
    import importlib

    from crm_logic import ingest

    load = importlib.import_module("crm_logic.ingest.load")
    calls = {"read_file": 0, "validate": 0}
    for name in calls:
        original = getattr(ingest, name)

        def counting(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(ingest, name, counting)
        monkeypatch.setattr(load, name, counting)
    return calls


def test_widget_clicks_never_read_or_check_the_upload_again(cdnow, counted):
    at = run_page("views/data.py", "en", base="cdnow")
    at.file_uploader(key="upload").set_value(("bad.csv", BAD.encode(), "text/csv")).run()
    assert counted == {"read_file": 1, "validate": 1}
    at.checkbox(key="skip_invalid").check().run()
    at.toggle(key="import_new_base").set_value(True).run()
    at.checkbox(key="replace").check().run()
    assert_clean(at)
    assert counted == {"read_file": 1, "validate": 1}, "clicks are answered from the cache"
    quantity = next(box for box in at.selectbox if str(box.key).startswith("map_quantity_"))
    quantity.set_value("amount").run()
    assert counted == {"read_file": 1, "validate": 2}, "a new mapping is a new check, of the same read"


def test_the_import_loads_the_check_the_page_shows(cdnow, counted):
    at = run_page("views/data.py", "en", base="cdnow")
    at.file_uploader(key="upload").set_value(("orders.csv", GOOD.encode("gbk"), "text/csv")).run()
    at.button(key="import_button").click().run()
    assert_clean(at)
    assert counted == {"read_file": 1, "validate": 1}, "the import neither reads nor checks the file again"
    assert at.metric[0].value == "6,922", "the three rows were loaded"


HOSTILE = ("customer_id,order_date,amount\n"
           "A1,\"=HYPERLINK(\"\"http://x.example\"\",\"\"x\"\")\",10\n"
           "A2,2024-01-02,=cmd|' /C calc'!A0\n"
           "A3,@x,5\n"
           "A4,+1,6\n"
           "A5,2024-01-03,-5\n")


def test_the_validation_report_download_is_formula_safe(cdnow, downloads):
    at = run_page("views/data.py", "en", base="cdnow")
    at.file_uploader(key="upload").set_value(("hostile.csv", HOSTILE.encode(), "text/csv")).run()
    assert_clean(at)
    frame = pd.read_csv(io.BytesIO(downloads["validation_report.csv"]), encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    assert len(frame) == 4, "rows 2-5 each have one bad cell; row 6 (a return of -5) is valid"
    cells = {c for column in frame.columns for c in frame[column]}
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert {"'=HYPERLINK(\"http://x.example\",\"x\")", "'=cmd|' /C calc'!A0", "'@x", "'+1"} <= cells


NEWER = "customer_id,order_date,amount\nLATE-1,1998-07-10,30\nLATE-2,1998-07-15,45.5\n"  # after CDNOW's last day


def import_newer_orders(at):
    at.switch_page("views/data.py").run()
    at.file_uploader(key="upload").set_value(("newer.csv", NEWER.encode(), "text/csv")).run()
    at.button(key="import_button").click().run()
    assert_clean(at)
    at.switch_page("views/overview.py").run()
    assert_clean(at)


def overview_figures(at) -> tuple[str, str, str]:
    """The sidebar badge, the Overview's period caption and its Customers figure."""
    captions = [c.value for c in at.caption]
    badge = next(c for c in captions if "customers ·" in c)
    period = next(c for c in captions if c.startswith("Last 12 months"))
    return badge, period, {m.label: m.value for m in at.metric}["Customers"]


def test_the_analysis_date_follows_newer_orders(cdnow):
    at = run_page("views/overview.py", "en", base="cdnow")
    badge, period, customers = overview_figures(at)
    assert "1998-06-30" in badge and period.endswith("1998-06-30, compared with the 12 months before.")
    assert customers == "2,357"
    import_newer_orders(at)
    badge, period, customers = overview_figures(at)
    assert badge.endswith("1997-01-01 – 1998-07-15") and "– 1998-07-15," in period
    assert customers == "2,359", "the two new customers bought before the new analysis date"
    assert at.date_input[0].value.isoformat() == "1998-07-15"


def test_an_analysis_date_the_user_chose_stays(cdnow):
    from datetime import date

    at = run_page("views/overview.py", "en", base="cdnow")
    at.date_input[0].set_value(date(1998, 3, 31)).run()
    assert "– 1998-03-31," in overview_figures(at)[1]
    import_newer_orders(at)
    badge, period, _ = overview_figures(at)
    assert badge.endswith("– 1998-07-15") and "– 1998-03-31," in period
    assert at.date_input[0].value == date(1998, 3, 31)


def test_a_base_held_by_the_command_line_is_one_sentence_not_a_traceback(cdnow, monkeypatch):
    from tests.unit.base_holder import held_base
    from ui import state

    monkeypatch.setattr(state, "WAIT_SECONDS", 0.2)
    with held_base(base_path("cdnow")) as holder:
        at = run_page("views/data.py", "en", base="cdnow")
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"The base “cdnow” is being written by the command line (python -m crm_logic, PID {holder.pid}); "
        "try again in a moment."]


TAOBAO = ("订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,宝贝标题\n"
          "1001,u1,100.00,交易成功,2024-03-01 10:00:00,连衣裙\n"
          "1002,u2,50.00,交易关闭,2024-03-02 11:00:00,连衣裙\n"
          "1003,u1,30.00,退款成功,2024-03-03 12:00:00,T恤\n"
          "1004,u3,20.00,等待买家付款,2024-03-04 13:00:00,T恤\n"
          "1005,u3,70.00,交易成功,2024-03-05 14:00:00,帽子\n")


@pytest.mark.parametrize("lang, platform_note", [("zh", "淘宝"), ("en", "Taobao")])
def test_a_taobao_export_shows_platform_and_status_classes_that_the_user_can_change(cdnow, lang, platform_note):
    at = run_page("views/data.py", lang, base="cdnow")
    at.file_uploader(key="upload").set_value(("ExportOrderList.csv", TAOBAO.encode("gbk"), "text/csv")).run()
    assert_clean(at)
    found = "\n".join(m.value for m in at.markdown)
    assert platform_note in found and "¥" in found
    statuses = {box.label.split("”")[0].lstrip("“"): box for box in at.selectbox
                if str(box.key).startswith("import_choice_status_")}
    assert set(statuses) == {"交易成功", "交易关闭", "退款成功", "等待买家付款"}
    assert statuses["交易关闭"].value == "cancelled" and statuses["交易成功"].value == "revenue"
    assert any("2" in s.value for s in at.success), "only the two 交易成功 rows are revenue"
    statuses["交易关闭"].set_value("revenue").run()
    assert_clean(at)
    assert any("3" in s.value for s in at.success), "the closed order now counts: 3 rows"
    at.toggle(key="import_new_base").set_value(True).run()
    at.text_input(key="import_base_name").input("shop").run()
    at.button(key="import_button").click().run()
    assert_clean(at)
    with Store(base_path("shop"), read_only=True) as shop:
        # 100 + 50 + 70: the rows classed revenue in the file above
        assert shop.one("SELECT count(*), sum(amount)::DOUBLE FROM transactions") == (3, 220.0)
        assert shop.get_meta("currency") == "¥"


def two_sheet_workbook() -> bytes:
    """Sheet 2023: a title line, then 2 orders; sheet 2024: a title line, then 3 orders."""
    import openpyxl

    book = openpyxl.Workbook()
    for name, n in (("2023", 2), ("2024", 3)):
        sheet = book.active if name == "2023" else book.create_sheet(name)
        sheet.title = name
        sheet.append([f"Orders {name}"])
        sheet.append(["customer_id", "order_date", "amount"])
        for i in range(n):
            sheet.append([f"X{name}-{i}", f"{name}-02-0{i + 1}", 10 * (i + 1)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_excel_sheet_and_its_header_row_are_shown_and_can_be_chosen(cdnow):
    at = run_page("views/data.py", "en", base="cdnow")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at.file_uploader(key="upload").set_value(("orders.xlsx", two_sheet_workbook(), xlsx)).run()
    assert_clean(at)
    sheet = at.selectbox(key="import_choice_sheet")
    assert sheet.options == ["2023", "2024"] and sheet.value == "2023"
    assert at.number_input(key="import_choice_header_row").value == 2, "the title line above is skipped"
    assert any("All 2 rows are valid" in s.value for s in at.success)
    sheet.set_value("2024").run()
    assert_clean(at)
    assert any("All 3 rows are valid" in s.value for s in at.success)


AMBIGUOUS = "customer_id,order_date,amount\nD1,05/06/2024,10\nD2,03/04/2024,20\n"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ambiguous_dates_are_asked_not_guessed(cdnow, lang):
    at = run_page("views/data.py", lang, base="cdnow")
    at.file_uploader(key="upload").set_value(("eu.csv", AMBIGUOUS.encode(), "text/csv")).run()
    assert_clean(at)
    assert at.warning, "05/06/2024 could be either: the user is asked"
    at.selectbox(key="import_choice_date_order").set_value("dmy").run()
    assert_clean(at)
    assert not at.warning and at.success
    at.toggle(key="import_new_base").set_value(True).run()
    at.text_input(key="import_base_name").input("eu").run()
    at.button(key="import_button").click().run()
    with Store(base_path("eu"), read_only=True) as eu:
        assert eu.df("SELECT CAST(order_date AS VARCHAR) AS d FROM transactions ORDER BY d")["d"].tolist() == [
            "2024-04-03", "2024-06-05"]


def test_a_refused_import_into_a_new_base_leaves_no_base_behind(cdnow):
    at = run_page("views/data.py", "en", base="cdnow")
    at.file_uploader(key="upload").set_value(("bad.csv", BAD.encode(), "text/csv")).run()
    at.toggle(key="import_new_base").set_value(True).run()
    at.text_input(key="import_base_name").input("fresh").run()
    at.button(key="import_button").click().run()
    assert_clean(at)
    assert at.error and "Nothing was imported" in at.error[0].value
    assert not base_path("fresh").exists()
    assert "fresh" not in at.selectbox(key="base").options


JAN_MAR = "订单号,客户编号,下单日期,实付金额\nQ1,N1,2024-01-05,100\nQ2,N2,2024-02-05,200\nQ3,N1,2024-03-05,300\n"
MAR_MAY = "订单号,客户编号,下单日期,实付金额\nQ3,N1,2024-03-05,300\nQ4,N3,2024-04-05,400\n"


@pytest.mark.parametrize("lang, says", [("zh", "已在客户库中"), ("en", "already in the base")])
def test_an_export_overlapping_an_earlier_import_is_refused_in_a_sentence(cdnow, lang, says):
    """Orders Q3 would count twice: the page says which and how many, and the base keeps its figures."""
    at = run_page("views/data.py", lang, base="cdnow")
    at.file_uploader(key="upload").set_value(("jan_mar.csv", JAN_MAR.encode(), "text/csv")).run()
    at.button(key="import_button").click().run()
    assert_clean(at)
    assert at.metric[0].value == "6,922"  # 6,919 CDNOW + 3 orders
    at.file_uploader(key="upload").set_value(("mar_may.csv", MAR_MAY.encode(), "text/csv")).run()
    at.button(key="import_button").click().run()
    assert_clean(at)
    shown = "\n".join([e.value for e in at.error] + [c.value for c in at.code])
    assert says in shown and "Q3" in shown
    assert at.metric[0].value == "6,922"


def test_thousands_without_decimals_ask_for_the_decimal_mark(cdnow):
    german = "Bestellnummer;Kundennummer;Bestelldatum;Betrag\n1;K1;05.01.2024;1.234\n2;K2;06.01.2024;2.500\n"
    at = run_page("views/data.py", "en", base="cdnow")
    at.file_uploader(key="upload").set_value(("de.csv", german.encode(), "text/csv")).run()
    assert_clean(at)
    assert at.warning, "1.234 could be either: the user is asked"
    at.selectbox(key="import_choice_decimal").set_value(",").run()
    assert not at.warning and at.success
    at.toggle(key="import_new_base").set_value(True).run()
    at.text_input(key="import_base_name").input("de").run()
    at.button(key="import_button").click().run()
    with Store(base_path("de"), read_only=True) as de:
        assert de.scalar("SELECT sum(amount) FROM transactions") == 3734  # 1234 + 2500
