"""The downloads of the app (customer lists through ui/widgets.customer_table, the Excel workbooks of
the churn and alliance pages) are formula-safe: customers whose ids and names a spreadsheet would run
come out as text, and number columns stay numbers."""
import io

import pandas as pd
import pytest

from tests.unit.test_exports import assert_safe_csv, assert_safe_workbook

from crm_logic.i18n import translate
from crm_logic.store import Store, base_path
from tests.app.conftest import assert_clean, run_page
from tests.app.test_data_page import downloads  # noqa: F401  (the fixture that records download bytes)
from tests.conftest import load_cdnow_sample

HOSTILE = {"00004": '=HYPERLINK("http://x.example","x")', "00021": "=cmd|' /C calc'!A0", "00071": "+1",
           "00050": "@x"}


def hostile_cdnow() -> None:
    """The CDNOW sample with four customers renamed to hostile ids and names, each given a purchase of 900
    on each of the first 18 months' first day, which makes them the most valuable customers."""
    with Store(base_path("cdnow")) as store:
        load_cdnow_sample(store)
        with store.transaction() as cur:
            for old, new in HOSTILE.items():
                cur.execute("UPDATE transactions SET customer_id = ? WHERE customer_id = ?", [new, old])
                cur.execute("UPDATE customers SET customer_id = ?, name = ? WHERE customer_id = ?", [new, new, old])
                cur.execute("""INSERT INTO transactions (customer_id, order_date, amount)
                               SELECT ?, DATE '1997-01-01' + INTERVAL (m) MONTH, 900 FROM range(18) t(m)""", [new])
    Store(base_path("demo")).close()
LIST_TABS = {"views/clv.py": ("clv_tab", "clv_page.tab.who"), "views/alliances.py": ("alliance_tab", "alliances.tab.lists")}


def open_page(page):
    """The page as a manager opens it, on the tab with its lists (only the open tab is drawn)."""
    at = run_page(page, "en", base="cdnow", timeout=300)
    tab = LIST_TABS.get(page)
    if tab:
        at.session_state[tab[0]] = translate(tab[1], "en")
        at.run()
    return at


def test_the_top_customers_download_is_formula_safe(data_dir, downloads):  # noqa: F811
    hostile_cdnow()
    at = open_page("views/clv.py")
    assert_clean(at)
    data = downloads["top_customers.csv"]
    text = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    numeric = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    for column in text.columns:
        is_number = pd.to_numeric(text[column], errors="coerce").notna()
        assert not text.loc[~is_number, column].str.startswith(("=", "+", "-", "@", "\t", "\r")).any(), column
    assert {"'" + v for v in HOSTILE.values()} <= set(text.iloc[:, 0]), "the hostile ids, neutralised"
    assert all(numeric[c].dtype.kind in "if" for c in numeric.columns if pd.to_numeric(
        text[c], errors="coerce").notna().all()), "number columns read back as numbers"


@pytest.mark.parametrize("page", ["views/clv.py", "views/churn.py", "views/alliances.py"])
def test_every_download_of_a_page_is_formula_safe(data_dir, downloads, page):  # noqa: F811
    hostile_cdnow()
    at = open_page(page)
    assert_clean(at)
    assert downloads, "the page offers downloads"
    for name, data in downloads.items():
        if name.endswith(".csv"):
            assert_safe_csv(data)
        elif name.endswith(".xlsx"):
            assert_safe_workbook(data)
