"""Fixtures every test layer shares: a data directory of its own, bases filled from real files."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crm_logic.store import CDNOW_DIR, Store

REPO = Path(__file__).resolve().parent.parent


def load_cdnow_sample(store: Store) -> None:
    """Fill a base with the CDNOW sample read by pandas (independent of the ingest room)."""
    raw = pd.read_csv(
        CDNOW_DIR / "CDNOW_sample.txt", sep=r"\s+", header=None,
        names=["customer_id", "sample_id", "day", "cds", "amount"], dtype={"customer_id": str, "day": str},
    )
    raw["order_date"] = pd.to_datetime(raw["day"], format="%Y%m%d")
    with store.transaction() as cur:
        cur.register("raw", raw)
        cur.execute(
            "INSERT INTO transactions (customer_id, order_date, amount, quantity) "
            "SELECT customer_id, order_date, amount, cds FROM raw"
        )
        cur.execute("INSERT INTO customers (customer_id) SELECT DISTINCT customer_id FROM raw")
        Store.set_meta(cur, "currency", "$")


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data directory, set as CRM_DATA_DIR for the code under test."""
    directory = tmp_path / "data"
    directory.mkdir()
    monkeypatch.setenv("CRM_DATA_DIR", str(directory))
    return directory


@pytest.fixture(autouse=True, scope="session")
def ingest_scratch(tmp_path_factory):
    """The importer's scratch files (staged uploads and checks) go to this session's temporary directory."""
    patch = pytest.MonkeyPatch()
    patch.setenv("CRM_INGEST_DIR", str(tmp_path_factory.mktemp("ingest_scratch")))
    yield
    patch.undo()


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An .xlsx at `path` with one sheet per entry, its rows as given."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path
