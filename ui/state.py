"""Which base is open, the analysis date, and cached access to crm_logic queries.

One Store per file lives in st.cache_resource; query results are cached on (function, base path,
data-set version, arguments), so an import or a demo rebuild invalidates them by itself. The Store lets go
of its file a moment after each use, so the command line can read or write the base while the app is
open; when the command line holds it longer than the Store waits, the page says so in one sentence.
"""
from __future__ import annotations

import ctypes
import functools
import importlib
import threading
from collections import OrderedDict
from datetime import date
from typing import Any, Callable

import streamlit as st

from crm_logic.metrics import default_as_of
from crm_logic.store import DEMO_BASE, BaseBusy, Store, base_path, data_dir, list_bases

BASE_KEY = "base"
LINGER_SECONDS = 5.0  # runs this close together share one opening of the file (reopening: ~70 ms, cold cache
# ~+120 ms on the Overview, bench/bench_store_sharing.py); reads from the CLI never wait for it, writes do
WAIT_SECONDS = 10.0  # how long a run waits for the command line to let go of the base before saying so


def stop_when_busy(fn: Callable) -> Callable:
    """When another program holds the base past the Store's wait, say who in one sentence and end the run."""
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BaseBusy as busy:
            from ui.i18n import lang

            st.error(busy.message(lang()), icon=":material/lock:")
            st.stop()
    return guarded


@st.cache_resource(show_spinner=False)
def open_base(path: str) -> Store:
    return Store(path, linger=LINGER_SECONDS, wait=WAIT_SECONDS)


@stop_when_busy
def ensure_demo() -> None:
    """A fresh data directory opens on the demo company: build it once."""
    if not list_bases():
        from crm_logic.demo import build_demo
        from ui.i18n import t

        with st.spinner(t("common.building_demo")):
            build_demo(open_base(str(base_path(DEMO_BASE))))


def init_from_url() -> None:
    """A new session takes its language and base from the URL (?lang=en&base=cdnow), else from the
    browser's locale and the demo; afterwards the widgets own them and `keep_in_url` mirrors them."""
    from crm_logic.i18n import LANGUAGES, language_from_locale

    if st.session_state.get("lang") not in LANGUAGES:
        wanted = st.query_params.get("lang")
        st.session_state["lang"] = wanted if wanted in LANGUAGES else language_from_locale(st.context.locale)
    switch = st.session_state.pop("switch_base", None)  # set by a page before st.rerun()
    if switch in base_names():
        st.session_state[BASE_KEY] = switch
    if st.session_state.get(BASE_KEY) not in base_names():
        wanted = st.query_params.get(BASE_KEY)
        st.session_state[BASE_KEY] = wanted if wanted in base_names() else current_base()


def switch_base(name: str) -> None:
    """Open another base on the next run (a widget's value cannot change after it is drawn)."""
    st.session_state["switch_base"] = name
    after_write()
    st.rerun()


def keep_in_url() -> None:
    """Put the language and base in the URL, so a view can be shared or bookmarked."""
    st.query_params["lang"] = st.session_state["lang"]
    st.query_params[BASE_KEY] = st.session_state[BASE_KEY]


def base_names() -> list[str]:
    return list_bases()


def current_base() -> str:
    names = base_names()
    name = st.session_state.get(BASE_KEY)
    return name if name in names else (DEMO_BASE if DEMO_BASE in names else names[0])


def current_store() -> Store:
    return store_for(current_base())


@stop_when_busy
def store_for(name: str) -> Store:
    """The base `name`, open (so a page's direct reads that follow find it open)."""
    store = open_base(str(base_path(name)))
    with store.cursor():
        return store


@stop_when_busy
def query(fn: Callable, *args: Any) -> Any:
    """Run a crm_logic read `fn(store, *args)` on the current base, cached per data-set version."""
    store = current_store()
    return _cached(fn.__module__, fn.__qualname__, str(store.path), store.dataset_version, args)


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(module: str, name: str, path: str, version: int | str, args: tuple) -> Any:
    fn = functools.reduce(getattr, name.split("."), importlib.import_module(module))
    return fn(open_base(path), *args)


def clv_settings() -> "ScoreSettings":
    """The CLV settings of this session (set on the CLV page, defaults elsewhere): every page that shows
    a value uses the same ones, and says them in its caption."""
    from crm_logic.scores import ScoreSettings

    get = st.session_state.get
    return ScoreSettings(as_of=as_of(), model=get("keep_clv_model", "auto"), horizon_months=get("keep_clv_horizon", 12),
                         monthly_discount=get("keep_clv_discount", 1.0) / 100,
                         default_margin=get("keep_clv_margin", 30.0) / 100)


# The values of a setting are computed per request from facts shared by every session, and cached under
# that setting only: nothing a session sets is written where another session reads. The entries are
# bounded: at a million customers facts hold about 500 MB and values about 24 MB of their own (clv,
# margin rate and expected purchases to the horizon; the other columns are the facts' own arrays).
FACTS_ENTRIES, VALUES_ENTRIES = 3, 8
LARGE_BLOCK_BYTES = 1 << 20


def return_large_blocks_to_the_system(threshold: int = LARGE_BLOCK_BYTES) -> None:
    """Let glibc hand every block of `threshold` bytes or more (a column of a million values: 8 MB)
    straight back to the system when it is freed. By default glibc raises that threshold to the size of
    the largest block freed so far, so after the first setting change the columns of each new setting
    come from heaps where freed ones linger: at a million customers the server grew by up to 0.5 GB over
    a dozen setting changes before shrinking again (bench/README.md). Without glibc this does nothing."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, threshold)  # -3: M_MMAP_THRESHOLD (malloc.h); setting it also stops the raising


return_large_blocks_to_the_system()  # once per server process, when the first page imports this module


class Computed:
    """Results kept per key, the `max_entries` most recently used, each computed once: a caller asking
    for a key being computed waits for it. Unlike Streamlit's caches it records no page elements, so
    the computation may draw its progress on the page that asked."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict = OrderedDict()
        self._computing: dict = {}

    def get(self, key, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            try:
                value = compute()
                with self._lock:
                    self._entries[key] = value
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@st.cache_resource(show_spinner=False)
def _kept(kind: str, max_entries: int) -> Computed:
    """The process-wide store of one kind of result (cleared with Streamlit's caches)."""
    return Computed(max_entries)


def kept(kind: str, key, compute: Callable[[], Any], max_entries: int) -> Any:
    """`compute()` once per `key` among the `max_entries` most recently used of this `kind`, process-wide and
    dropped after an import (like the facts); unlike Streamlit's caches the computation may draw its progress."""
    return _kept(kind, max_entries).get(key, compute)


@stop_when_busy
def validation(as_of: date, unit: str = "week", progress=None) -> "ValidationResult | None":
    """The holdout validation of the current base up to `as_of` (None when the history is too short):
    one run per data-set version serves the model choice and the page that shows it."""
    store = current_store()
    return _validation(str(store.path), store.dataset_version, as_of, unit, progress)


def _validation(path: str, version: int, as_of: date, unit: str, progress):
    from crm_logic.scores import holdout_validation

    return _kept("validation", FACTS_ENTRIES).get(
        (path, version, as_of, unit), lambda: holdout_validation(open_base(path), as_of, unit, progress))


@stop_when_busy
def customer_facts(settings: "ScoreSettings | None" = None, progress=None) -> "CustomerFacts":
    """The fitted models and customer summary of the current base for this session's analysis date,
    unit and model (`progress(fraction, stage)` hears about a computation). Raises ModelError when the
    base cannot be fitted."""
    settings = settings or clv_settings()
    store = current_store()
    return _facts(str(store.path), store.dataset_version, settings.fit_key, progress)


def _facts(path: str, version: int, key, progress):
    from crm_logic.scores import customer_facts as compute

    def validate(store, as_of, unit, progress):
        return _validation(path, version, as_of, unit, progress)

    return _kept("facts", FACTS_ENTRIES).get((path, version, key),
                                             lambda: compute(open_base(path), key, progress, validate))


@stop_when_busy
def customer_values(settings: "ScoreSettings | None" = None, progress=None) -> "pd.DataFrame":
    """One row per buyer of the current base with P(alive), expected purchases and CLV under this
    session's settings (`crm_logic.scores.customer_values`). Treat it as read-only."""
    settings = settings or clv_settings()
    store = current_store()
    return _values(str(store.path), store.dataset_version, settings, customer_facts(settings, progress))


@st.cache_resource(show_spinner=False, max_entries=VALUES_ENTRIES)
def _values(path: str, version: int, settings, _facts):
    from crm_logic.scores import customer_values as compute

    return compute(_facts, settings)


@stop_when_busy
def values_query(fn: Callable, settings: "ScoreSettings", *args: Any) -> Any:
    """Run `fn(store, facts, values, *args)` on the current base's facts and its values under
    `settings`, cached per base, data-set version, settings and arguments (small results: a page's
    figures, not frames of every customer)."""
    store = current_store()
    return _values_cached(fn.__module__, fn.__qualname__, str(store.path), store.dataset_version, settings, args)


@st.cache_data(show_spinner=False, max_entries=256)
def _values_cached(module: str, name: str, path: str, version: int, settings, args: tuple) -> Any:
    fn = functools.reduce(getattr, name.split("."), importlib.import_module(module))
    facts = _facts(path, version, settings.fit_key, None)
    return fn(open_base(path), facts, _values(path, version, settings, facts), *args)


def segment_table(rules: "SegmentRules") -> "pd.DataFrame":
    """Every customer of the current base with their RFM segment, tier, quadrant, form, level and type
    (`crm_logic.tiers.segment_table`) under this session's CLV settings and segment `rules`; computed once
    per base, data version, settings and rules, so coming back to a page recomputes nothing. Read-only."""
    settings = clv_settings()
    values = customer_values(settings)
    store = current_store()
    return _segments(str(store.path), store.dataset_version, settings, repr(rules), values, rules)


@st.cache_resource(show_spinner=False, max_entries=16)
def _segments(path: str, version: int, settings, rules_key: str, _values, _rules):
    from crm_logic.tiers import segment_table as compute

    return compute(open_base(path), _values, settings.as_of, _rules)


def segments_query(fn: Callable, rules: "SegmentRules", *args: Any) -> Any:
    """`fn(segment_table, *args)` (a summary of the segment table: grid counts, a breakdown, a curve),
    cached like the table itself. Read-only."""
    table = segment_table(rules)
    store = current_store()
    return _segments_summary(fn.__module__, fn.__qualname__, str(store.path), store.dataset_version,
                             clv_settings(), repr(rules), args, table)


@st.cache_resource(show_spinner=False, max_entries=128)
def _segments_summary(module: str, name: str, path: str, version: int, settings, rules_key: str, args: tuple,
                      _table):
    fn = functools.reduce(getattr, name.split("."), importlib.import_module(module))
    return fn(_table, *args)


def segment_migration(rules: "SegmentRules", later: date, earlier: date) -> "Migration":
    """Who moved between RFM segments from `earlier` to `later` (`crm_logic.tiers.segment_migration`),
    once per base, data version, rules and dates. Read-only."""
    settings, store = clv_settings(), current_store()
    values = customer_values(settings) if later == settings.as_of else None  # saves a customer summary
    return _migration(str(store.path), store.dataset_version, repr(rules), later, earlier, rules, values)


@st.cache_resource(show_spinner=False, max_entries=16)
def _migration(path: str, version: int, rules_key: str, later: date, earlier: date, _rules, _values):
    from crm_logic.tiers import segment_migration as compute

    return compute(open_base(path), later, earlier, _rules, values=_values)


def churn_evaluation(rules: dict) -> "dict | None":
    """How each churn signal predicted the base's last held-out period (`crm_logic.churn.evaluate_signals`);
    the scored history is cached per data version, analysis date, model and rhythm rules."""
    from crm_logic import churn

    settings = clv_settings()
    facts = customer_facts(settings)
    rhythm = {name: rules[name] for name in ("min_own_purchases", "min_group_customers", "fixed_days")}
    frame = query(churn.evaluation_frame, facts.as_of, settings.unit, facts.choice.model, rhythm)
    return churn.evaluate_signals(frame, rules)


def default_segments() -> "pd.DataFrame":
    """The segments under the default rules (`crm_logic.tiers.segment_table`): those the churn page compares
    short histories with and the what-if scopes name. The Segments page's own table when it has the
    defaults, so no page computes it twice."""
    from crm_logic.tiers import DEFAULT_RULES

    settings = clv_settings()
    values = customer_values(settings)
    store = current_store()
    return _segments(str(store.path), store.dataset_version, settings, repr(DEFAULT_RULES), values, DEFAULT_RULES)


def churn_table(rules: dict) -> "pd.DataFrame":
    """`crm_logic.churn.churn_table` of the current base under this session's CLV settings and `rules`
    (whose alert rule is already resolved, not "auto"). Treat it as read-only."""
    settings = clv_settings()
    facts, values = customer_facts(settings), customer_values(settings)
    store = current_store()
    return _churn(str(store.path), store.dataset_version, settings, tuple(sorted(rules.items())), facts, values,
                  default_segments())


@st.cache_resource(show_spinner=False, max_entries=16)
def _churn(path: str, version: int, settings, rules: tuple, _facts, _values, _segments):
    from crm_logic import churn

    return churn.churn_table(open_base(path), _facts, _values, _facts.as_of, dict(rules), segments=_segments)


CALL_LISTS = 4  # at a million customers a call list holds most of them (~200 MB): the last few rule sets


def churn_calls(rules: dict) -> "pd.DataFrame":
    """The call list (`crm_logic.churn.call_list`) of `churn_table(rules)`, once per base, data version,
    settings and rules: at a million customers it holds most of them. Read-only."""
    settings = clv_settings()
    table, values, segments = churn_table(rules), customer_values(settings), default_segments()
    store = current_store()
    return _churn_calls(str(store.path), store.dataset_version, settings, tuple(sorted(rules.items())), table,
                        values, segments)


@st.cache_resource(show_spinner=False, max_entries=CALL_LISTS)
def _churn_calls(path: str, version: int, settings, rules: tuple, _table, _values, _segments):
    from crm_logic import churn

    return churn.call_list(open_base(path), _table, _values, _segments)


def churn_new_calls(rules: dict, since: date) -> "pd.DataFrame":
    """The rows of the call list whose alert fired since `since` (`crm_logic.churn.new_alerts`), cached like
    the list. Read-only."""
    settings = clv_settings()
    facts, table, calls = customer_facts(settings), churn_table(rules), churn_calls(rules)
    store = current_store()
    return _churn_new_calls(str(store.path), store.dataset_version, settings, tuple(sorted(rules.items())), since,
                            facts, table, calls)


@st.cache_resource(show_spinner=False, max_entries=CALL_LISTS)
def _churn_new_calls(path: str, version: int, settings, rules: tuple, since: date, _facts, _table, _calls):
    from crm_logic import churn

    fresh = churn.new_alerts(_facts, _table, since, dict(rules))
    return _calls[churn.is_in(_calls["customer_id"], fresh["customer_id"])]


def churn_query(fn: Callable, rules: dict, *args: Any) -> Any:
    """`fn(churn_table, call_list, *args)` (a summary the Churn page draws), cached like the table. Read-only."""
    table, calls = churn_table(rules), churn_calls(rules)
    store = current_store()
    return _churn_summary(fn.__module__, fn.__qualname__, str(store.path), store.dataset_version, clv_settings(),
                          tuple(sorted(rules.items())), args, table, calls)


@st.cache_resource(show_spinner=False, max_entries=64)
def _churn_summary(module: str, name: str, path: str, version: int, settings, rules: tuple, args: tuple, _table,
                   _calls):
    fn = functools.reduce(getattr, name.split("."), importlib.import_module(module))
    return fn(_table, _calls, *args)


def as_of() -> date | None:
    """The analysis date the user chose in the sidebar for the current base, else its last order date,
    which moves on when newer orders come in."""
    return st.session_state.get(f"as_of_chosen_{current_base()}") or query(default_as_of)


def as_of_widget(last_date: date) -> dict:
    """Key, value and on_change of the sidebar's analysis date: a fresh widget for each last order date,
    showing the user's choice if they made one; choosing the last date means "follow the data"."""
    base = current_base()
    key, chosen = f"as_of_{base}_{last_date}", f"as_of_chosen_{base}"

    def remember() -> None:
        picked = st.session_state[key]
        st.session_state[chosen] = None if picked is None or picked >= last_date else picked

    value = st.session_state.get(chosen)
    return {"key": key, "value": value if value and value <= last_date else last_date, "on_change": remember}


@stop_when_busy
def currency() -> str:
    return current_store().get_meta("currency", "¥")


def after_write() -> None:
    """Drop cached results after an import or rebuild (the version key already makes them stale; this
    frees their memory at once)."""
    _cached.clear()
    _kept.clear()
    _values.clear()
    _values_cached.clear()
    _segments.clear()
    _segments_summary.clear()
    _migration.clear()
    _churn.clear()
    _churn_calls.clear()
    _churn_new_calls.clear()
    _churn_summary.clear()


__all__ = ["open_base", "current_store", "query", "as_of", "currency", "after_write", "data_dir"]
