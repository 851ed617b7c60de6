"""One DuckDB file is one customer base.

The schema, the connection discipline of ../docs/architecture.md (one database instance per file, a
cursor per query, one lock for writes) and the data-set version that every cache keys on.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import pandas as pd

REPO_DIR = Path(__file__).resolve().parent.parent
CDNOW_DIR = REPO_DIR / "data" / "cdnow"
BASE_SUFFIX = ".duckdb"
DEMO_BASE = "demo"
CDNOW_BASE = "cdnow"

CUSTOMER_CLASSES = ("consumer", "buyer", "enterprise", "intermediary", "dealer")
INTERACTION_KINDS = (
    "inquiry", "complaint", "follow_up", "visit", "new_product_info", "joint_project", "club_event", "survey",
)
INTERACTION_DIRECTIONS = ("inbound", "outbound")
PROSPECT_GRADES = ("A", "B", "C", "D")
PERSONALITY_STYLES = ("amiable", "driver", "analytical", "expressive")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS customers (
    customer_id       VARCHAR PRIMARY KEY,
    name              VARCHAR,
    customer_class    VARCHAR,   -- consumer / buyer / enterprise / intermediary / dealer
    region            VARCHAR,
    industry          VARCHAR,
    channel           VARCHAR,   -- acquisition channel
    referred_by       VARCHAR,   -- customer_id of the referring customer, if any
    club_member       BOOLEAN DEFAULT FALSE,
    personality_style VARCHAR,   -- amiable / driver / analytical / expressive (optional)
    prospect_grade    VARCHAR,   -- A-D for prospects (optional)
    created_date      DATE       -- first known to us (first contact or first purchase)
);
CREATE TABLE IF NOT EXISTS transactions (
    customer_id  VARCHAR NOT NULL,
    order_id     VARCHAR,
    order_date   DATE NOT NULL,
    amount       DECIMAL(18, 2) NOT NULL,  -- negative for returns
    quantity     DOUBLE,
    category     VARCHAR,
    discounted   BOOLEAN,
    gross_margin DECIMAL(18, 2),           -- margin in money, when known
    import_id    INTEGER
);
CREATE TABLE IF NOT EXISTS interactions (
    customer_id      VARCHAR NOT NULL,
    interaction_date DATE NOT NULL,
    direction        VARCHAR NOT NULL,     -- inbound (customer-initiated) / outbound (ours)
    kind             VARCHAR NOT NULL,     -- see INTERACTION_KINDS
    satisfaction     DOUBLE                -- 1-5, surveys only
);
CREATE TABLE IF NOT EXISTS accounts (
    customer_id         VARCHAR PRIMARY KEY,
    switching_cost      DOUBLE,   -- 0-1: how hard it is for them to replace us
    wallet_share        DOUBLE,   -- 0-1: our share of their spend in our category
    bargaining_power    DOUBLE,   -- 0-1: their power over us; 0.5 is balanced
    relationship_cost   DECIMAL(18, 2),  -- yearly cost of serving the relationship, in money
    product_utilisation DOUBLE,   -- 0-1: how much of what they bought they use
    custom_requests     INTEGER   -- custom requests in the last 12 months
);
CREATE TABLE IF NOT EXISTS imports (
    import_id   INTEGER PRIMARY KEY,
    file_name   VARCHAR,
    file_hash   VARCHAR,
    imported_at TIMESTAMP,
    format      VARCHAR,
    rows_loaded INTEGER,
    rows_skipped INTEGER,
    replaced    BOOLEAN
);
"""


def data_dir() -> Path:
    """Where the bases live: $CRM_DATA_DIR, or data/ in the repository."""
    return Path(os.environ.get("CRM_DATA_DIR") or REPO_DIR / "data")


def base_path(name: str, directory: Path | None = None) -> Path:
    return (directory or data_dir()) / f"{name}{BASE_SUFFIX}"


def list_bases(directory: Path | None = None) -> list[str]:
    """The names of the bases in the data directory, demo first, then CDNOW, then the user's."""
    directory = directory or data_dir()
    names = sorted(p.name[: -len(BASE_SUFFIX)] for p in directory.glob(f"*{BASE_SUFFIX}")) if directory.exists() else []
    order = {DEMO_BASE: 0, CDNOW_BASE: 1}
    return sorted(names, key=lambda n: (order.get(n, 2), n))


@dataclass(frozen=True)
class BaseInfo:
    """The badge of a base: its customers who have bought, and the span of its orders."""

    name: str
    customers: int
    transactions: int
    first_date: Any
    last_date: Any
    currency: str
    dataset_version: int


class Store:
    """A customer base in one DuckDB file. Reads take a cursor each; writes go through `transaction()`."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(self.path), read_only=read_only)
        self._write_lock = threading.Lock()
        if not read_only:
            self._con.execute(SCHEMA)
            self._con.execute(
                "INSERT INTO meta VALUES ('dataset_version', '0') ON CONFLICT DO NOTHING"
            )

    @property
    def name(self) -> str:
        return self.path.name[: -len(BASE_SUFFIX)] if self.path.name.endswith(BASE_SUFFIX) else self.path.stem

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    def df(self, sql: str, params: Sequence[Any] | dict | None = None) -> pd.DataFrame:
        """Run a read query on its own cursor; user values go in `params`, never into `sql`."""
        with self.cursor() as cur:
            return cur.execute(sql, params or []).df()

    def large_df(self, sql: str, params: Sequence[Any] | dict | None = None) -> pd.DataFrame:
        """`df` for a result of a million rows of text, numbers and dates: through Arrow, which hands the
        text over in bulk (five times faster than `df` there). DATE columns come back as datetime64;
        DECIMAL would come back as Python objects, so cast it to DOUBLE in the query."""
        with self.cursor() as cur:
            return cur.sql(sql, params=params or []).to_arrow_table().to_pandas(date_as_object=False)

    def one(self, sql: str, params: Sequence[Any] | dict | None = None) -> tuple | None:
        with self.cursor() as cur:
            return cur.execute(sql, params or []).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] | dict | None = None) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: the block's writes commit together with a new data-set version, or not at all."""
        with self._write_lock, self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute(
                    "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS VARCHAR) WHERE key = 'dataset_version'"
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    @property
    def dataset_version(self) -> int:
        return int(self.scalar("SELECT value FROM meta WHERE key = 'dataset_version'") or 0)

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", [key])
        return default if value is None else value

    @staticmethod
    def set_meta(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
        """Set a meta value inside an open transaction."""
        cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def info(self) -> BaseInfo:
        n_tx, buyers, first, last = self.one(
            "SELECT count(*), count(DISTINCT customer_id), min(order_date), max(order_date) FROM transactions"
        )
        return BaseInfo(
            name=self.name,
            customers=int(buyers),
            transactions=int(n_tx),
            first_date=first,
            last_date=last,
            currency=self.get_meta("currency", "¥"),
            dataset_version=self.dataset_version,
        )

    def is_empty(self) -> bool:
        return not self.scalar("SELECT EXISTS (SELECT 1 FROM transactions)")

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def clear_base(cur: duckdb.DuckDBPyConnection) -> None:
    """Empty every table of a base inside an open transaction (the 'replace' import and demo rebuild)."""
    for table in ("transactions", "interactions", "accounts", "customers", "imports"):
        cur.execute(f"DELETE FROM {table}")  # table names are constants, not user input
    cur.execute("DROP TABLE IF EXISTS customer_scores")
