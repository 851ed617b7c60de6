"""One DuckDB file is one customer base.

The schema, the connection discipline of ../docs/architecture.md (one database instance per file, a
cursor per query, one lock for writes), sharing the file with other processes, and the data-set version
that every cache keys on.
"""
from __future__ import annotations

import os
import re
import threading
import time
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
WAIT_SECONDS = 10.0  # how long opening a base waits for another process to let go of it

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


class BaseMissing(FileNotFoundError):
    """A read of a base that does not exist: reading must not create it."""

    def __init__(self, path: Path):
        super().__init__(str(path))
        self.path = path

    def message(self, lang: str) -> str:
        from crm_logic.i18n import translate

        return translate("cli.base_missing", lang, path=self.path)


class BaseBusy(Exception):
    """Another process held the base's file longer than we were willing to wait. `holder` says who:
    "app" (streamlit), "cli" (python -m crm_logic), "this" (another Store of this process) or "other"."""

    def __init__(self, path: Path, holder: str, pid: int | None):
        super().__init__(f"{path} is held by {holder} (PID {pid})")
        self.path, self.holder, self.pid = path, holder, pid

    def message(self, lang: str) -> str:
        from crm_logic.i18n import translate

        return translate(f"common.base_busy.{self.holder}", lang, name=self.path.stem, pid=self.pid or "?")


def _holder(error: Exception) -> tuple[str, int | None]:
    """Who holds the lock, from DuckDB's "Conflicting lock is held in <program> (PID n)" and /proc."""
    found = re.search(r"\(PID (\d+)\)", str(error))
    if not found:
        return "this", os.getpid()
    pid = int(found.group(1))
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        command = str(error)
    return ("app" if "streamlit" in command else "cli" if "crm_logic" in command else "other"), pid


class Store:
    """A customer base in one DuckDB file. Reads take a cursor each; writes go through `transaction()`.

    DuckDB lets one process hold a file for writing, or several hold it for reading. A Store made with
    `linger` (the app's) shares the file: it reads through a read-only connection, opens it for writing
    only for a write, and lets go of it `linger` seconds after its last use, so the command line can read
    or write the base meanwhile. Without `linger` (the command line, scripts) the file stays open until
    `close()`. Opening waits up to `wait` seconds for another process to let go, then raises BaseBusy.
    """

    def __init__(self, path: str | Path, read_only: bool = False, linger: float | None = None,
                 wait: float = WAIT_SECONDS):
        self.path = Path(path)
        self.read_only, self.linger, self.wait = read_only, linger, wait
        self._state = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._writable = False
        self._users = 0
        self._writers_waiting = 0
        self._last_use = 0.0
        self._timer: threading.Timer | None = None
        self._write_lock = _WriteLock()
        if read_only and not self.path.exists():
            raise BaseMissing(self.path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection(write=True) as con:  # creates the file and any table it lacks
                con.execute(SCHEMA)
                con.execute("INSERT INTO meta VALUES ('dataset_version', '0') ON CONFLICT DO NOTHING")
        else:
            with self._connection():
                pass

    @contextmanager
    def _connection(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The open connection, in a mode that can write if `write`; the file stays open while in use."""
        write = write and not self.read_only
        deadline = time.monotonic() + self.wait
        with self._state:
            self._writers_waiting += write
            try:
                while not (self._con is not None and (self._writable or not write)
                           and (write or self._writable or not self._writers_waiting)):
                    if write or not self._writers_waiting:  # readers let a waiting writer go first
                        if self._con is None:
                            self._open((write or self.linger is None) and not self.read_only, deadline)
                            continue
                        if self._users == 0:  # open for reading only, and nobody reads: reopen for writing
                            self._close_connection()
                            continue
                    if not self._state.wait(timeout=max(0.0, deadline - time.monotonic())):
                        raise BaseBusy(self.path, "this", os.getpid())
            finally:
                self._writers_waiting -= write
                self._state.notify_all()
            self._users += 1
        try:
            yield self._con
        finally:
            with self._state:
                self._users -= 1
                self._last_use = time.monotonic()
                if self._users == 0:
                    self._state.notify_all()
                    if self._writable and self.linger is not None:  # a write is done: back to sharing
                        self._close_connection()
                    self._release_later()

    def _open(self, write: bool, deadline: float) -> None:
        """Connect, waiting (bounded) while another process holds the file."""
        pause = 0.02
        while True:
            try:
                self._con = duckdb.connect(str(self.path), read_only=not write)
                self._writable = write
                return
            except duckdb.ConnectionException as error:  # another Store of this process has it in the other mode
                if not write:  # share its read-write instance
                    write = True
                    continue
                busy = error
            except duckdb.IOException as error:
                if "lock" not in str(error):
                    raise
                busy = error
            if time.monotonic() + pause > deadline:
                raise BaseBusy(self.path, *_holder(busy)) from None
            time.sleep(pause)  # waiting for another process to let go; this Store's threads wait with us
            pause = min(pause * 2, 0.25)

    def _release_later(self) -> None:
        """Close the file once it has gone unused for `linger` seconds (only for a Store that shares it)."""
        if self.linger is None or self._timer is not None:
            return
        self._timer = threading.Timer(self.linger, self._release_if_idle)
        self._timer.daemon = False  # an exiting interpreter waits for it rather than kill it inside DuckDB
        self._timer.start()

    def _release_if_idle(self) -> None:
        with self._state:
            self._timer = None
            if self._users or self._con is None:
                return
            if time.monotonic() - self._last_use >= self.linger:
                self._close_connection()
            else:
                self._release_later()

    def _close_connection(self) -> None:
        self._con.close()
        self._con, self._writable = None, False
        self._state.notify_all()

    @property
    def name(self) -> str:
        return self.path.name[: -len(BASE_SUFFIX)] if self.path.name.endswith(BASE_SUFFIX) else self.path.stem

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own (DuckDB connections are not shared between threads); it can write when the
        thread holds the write lock."""
        with self._connection(write=self._write_lock.held_here()) as con, con.cursor() as cur:
            yield cur

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
        with self._state:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._con is not None:
                self._close_connection()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _WriteLock:
    """The lock writes take; a thread holding it gets cursors that can write."""

    def __init__(self):
        self._lock = threading.Lock()
        self._local = threading.local()

    def held_here(self) -> bool:
        return getattr(self._local, "held", False)

    def __enter__(self):
        self._lock.acquire()
        self._local.held = True
        return self

    def __exit__(self, *exc) -> None:
        self._local.held = False
        self._lock.release()


def clear_base(cur: duckdb.DuckDBPyConnection) -> None:
    """Empty every table of a base inside an open transaction (the 'replace' import and demo rebuild)."""
    for table in ("transactions", "interactions", "accounts", "customers", "imports"):
        cur.execute(f"DELETE FROM {table}")  # table names are constants, not user input
    cur.execute("DROP TABLE IF EXISTS customer_scores")
