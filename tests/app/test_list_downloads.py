"""A customer list's downloads are made when clicked, off the script's thread: they hold every row (not only
the rows the page draws), in the language and workshop mode on the screen when the list was drawn."""
import hashlib
import io

import openpyxl
import pandas as pd
import pytest

from crm_logic import demo
from crm_logic.i18n import translate
from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.app.test_data_page import downloads  # noqa: F401  (records download bytes, made off the script thread)
from tests.app.test_segments_page import segment_counts
from ui import widgets


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_segment_list_downloads_every_row_in_the_screens_language_and_workshop_mode(data_dir, downloads,  # noqa: F811
                                                                                      monkeypatch, lang):
    with Store(base_path("demo")) as store:
        demo.build_demo(store, customers=300)
        champions = store.df("SELECT customer_id, name FROM customers")
    monkeypatch.setattr(widgets, "SHOWN_ROWS", 5)
    at = run_page("views/segments.py", lang, base="demo", timeout=240)
    at.toggle(key="workshop_mode").set_value(True).run()
    at.selectbox(key="rfm_pick").set_value("champions").run()
    assert_clean(at)
    assert len(at.dataframe(key="segment_customers").value) == 5  # drawn

    listed = pd.read_csv(io.BytesIO(downloads["segment_customers.csv"]), encoding="utf-8-sig", dtype=str)
    count = segment_counts(at, lang)[translate("segments.segment.champions", lang)]
    assert len(listed) == count > 5  # every row of the list, not the five drawn
    id_header, name_header = translate("table.customer_id", lang), translate("table.name", lang)
    segment_header = translate("table.rfm_segment", lang)
    assert listed.columns[0] == id_header
    assert set(listed[segment_header]) == {translate("segments.segment.champions", lang)}
    code = {i: hashlib.sha256(i.encode()).hexdigest()[:6].upper() for i in listed[id_header]}
    assert list(listed[name_header]) == [translate("whatif.privacy.pseudonym", lang, code=code[i])
                                         for i in listed[id_header]]
    assert not set(listed[name_header]) & set(champions["name"].dropna())

    workbook = openpyxl.load_workbook(io.BytesIO(downloads["segment_customers.xlsx"]))
    customers, filters = workbook.worksheets
    assert customers.max_row - 1 == count
    settings = dict(filters.iter_rows(min_row=2, values_only=True))
    assert settings[translate("common.base_label", lang)] == "demo"
    assert settings[segment_header] == translate("segments.segment.champions", lang)
