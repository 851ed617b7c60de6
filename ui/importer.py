"""The import wizard of the Data page: read, map, check, load — with the report in the user's language.

A large upload takes seconds to read and check, and every widget click reruns the page: the file's hash
is computed once per upload, and the read and the check are cached on it (and on the mapping), shared
and not copied (cache_resource), so a click never reads or checks the file again, nor does the import.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from crm_logic import ingest
from crm_logic.exports import csv_bytes
from crm_logic.i18n import translate
from crm_logic.ingest.platforms import platforms
from ui import format as fmt
from ui import state
from ui.i18n import lang, labeller, t

NONE = "—"
BASE_NAME = re.compile(r"^[\w\-\u4e00-\u9fff]{1,40}$")


def upload_hash(upload) -> str:
    """The SHA-256 of an upload's bytes, computed once per upload (Streamlit gives each one a file_id);
    a new upload starts with every reading choice back on "detect"."""
    known = st.session_state.setdefault("upload_hashes", {})
    if upload.file_id not in known:
        known.clear()  # one upload at a time
        known[upload.file_id] = hashlib.sha256(upload.getvalue()).hexdigest()
        for key in [k for k in st.session_state if str(k).startswith(CHOICE_PREFIX)]:
            del st.session_state[key]
    return known[upload.file_id]


CHOICE_PREFIX = "import_choice_"  # widgets of the reading choices; what the user picked is kept under
PICKED = "import_picked"  # {option: value}: only what the user changed, so a rerun never checks again


def picked() -> dict:
    return st.session_state.setdefault(PICKED, {})


def remember(option: str, key: str):
    """on_change of a reading choice: keep what the user picked."""
    def keep() -> None:
        picked()[option] = st.session_state[key]
    return keep


def _discard(raw: ingest.RawTable) -> None:
    raw.discard()


@st.cache_resource(show_spinner=False, max_entries=2, on_release=_discard)
def read_upload(file_hash: str, name: str, sheet: str | None, header_row: int | None, _upload) -> ingest.RawTable:
    """The file as read, keyed on its hash, name (it appears in the report), sheet and header row.
    Read-only; its scratch file goes when the cache lets it go."""
    return ingest.read_file(_upload.getvalue(), file_name=name, sheet=sheet, header_row=header_row)


@st.cache_resource(show_spinner=False, max_entries=2)
def check_upload(file_hash: str, name: str, sheet: str | None, header_row: int | None, mapping_key: str,
                 options_key: str, today: date, _raw: ingest.RawTable) -> ingest.Validated:
    """The row check of a read file under one mapping and one set of options (and today's date, which
    tells a future date). Read-only: shared by every rerun and session."""
    return ingest.validate(_raw, json.loads(mapping_key), today, ingest.ImportOptions(**json.loads(options_key)))


def read_and_check(upload) -> ingest.Validated:
    """Read the upload, draw the mapping step, check; each step from the cache when it has been done for
    these bytes, this mapping and these options, with a timed spinner the first time. The import loads
    this very check (nothing is read or checked again when the button is pressed)."""
    file_hash = upload_hash(upload)
    if st.session_state.get("import_picked_for") != file_hash:
        st.session_state[PICKED], st.session_state["import_picked_for"] = {}, file_hash
    sheet, header_row = picked().get("sheet"), picked().get("header_row")
    with st.spinner(t("ingest.stage.read"), show_time=True):
        raw = read_upload(file_hash, upload.name, sheet, header_row, upload)
    mapping = mapping_step(raw)
    chosen_options(raw)
    options = ingest.ImportOptions(**{k: v for k, v in picked().items() if k != "status"},
                                   status_classes=picked().get("status", {}))
    options_key = json.dumps(asdict(options), sort_keys=True)
    with st.spinner(t("data.checking", rows=fmt.count(raw.n_rows)), show_time=True):
        checked = check_upload(file_hash, upload.name, sheet, header_row, json.dumps(mapping, sort_keys=True),
                               options_key, date.today(), raw)
    status_editor(checked)
    return checked


def mapping_step(raw: ingest.RawTable) -> dict[str, str | None]:
    """What was read (format, encoding, sheet and header row, a preview), then which column holds what."""
    st.caption(t("data.detected", format=t(f"ingest.formats.{raw.fmt}"), encoding=raw.encoding or "—",
                 delimiter=repr(raw.delimiter) if raw.delimiter else "—", rows=fmt.count(raw.n_rows)))
    if raw.fmt == "excel" and raw.sheets:
        left, right = st.columns(2)
        left.selectbox(t("data.sheet"), raw.sheets, index=raw.sheets.index(raw.sheet) if raw.sheet in raw.sheets else 0,
                       key=f"{CHOICE_PREFIX}sheet", help=t("data.sheet_help"),
                       on_change=remember("sheet", f"{CHOICE_PREFIX}sheet"))
        right.number_input(t("data.header_row"), min_value=1, max_value=1000, value=raw.header_row or 1, step=1,
                           key=f"{CHOICE_PREFIX}header_row", help=t("data.header_row_help"),
                           on_change=remember("header_row", f"{CHOICE_PREFIX}header_row"))
    with st.expander(t("data.preview"), expanded=True):
        st.dataframe(raw.head(20), hide_index=True, key="preview")
    st.markdown(f"**{t('data.mapping_title')}**")
    st.caption(t("data.mapping_caption"))
    return mapping_editor(raw)


def mapping_editor(raw: ingest.RawTable) -> dict[str, str | None]:
    """One selectbox per field, pre-filled from the headers (the platform's own names first); required
    fields carry a star."""
    columns = list(raw.columns)
    platform = picked().get("platform") or ingest.detect_platform(columns)
    guessed = ingest.auto_mapping(columns, platform)
    field_label = labeller("ingest.fields")
    chosen = {}
    cells = st.columns(4)
    for i, field in enumerate(ingest.FIELDS):
        options = [NONE] + columns
        default = guessed.get(field)
        label = field_label(field) + (" *" if field in ingest.REQUIRED else "")
        value = cells[i % 4].selectbox(label, options, index=options.index(default) if default in options else 0,
                                       key=f"map_{field}_{raw.file_hash[:8]}_{platform}")
        chosen[field] = None if value == NONE else value
    return chosen


# The reading choices of the mapping step: ImportOptions field -> the values offered ("auto": detect).
CHOICES = {"platform": (None, *platforms()), "date_order": ("auto", "ymd", "mdy", "dmy"),
           "decimal": ("auto", ".", ","), "currency": (None, "¥", "$", "€", "£"),
           "refunds": ("leave_out", "return"), "duplicates": ("keep", "drop"), "guests": ("leave_out", "refuse")}


def chosen_options(raw: ingest.RawTable) -> None:
    """How to read the file, each choice on "detect" until the user picks (the check says what it found)."""
    st.markdown(f"**{t('data.options_title')}**")
    st.caption(t("data.options_caption"))
    language, detected = lang(), ingest.detect_platform(raw.columns)
    cells = st.columns(4) + st.columns(4)
    for cell, (name, values) in zip(cells, CHOICES.items()):
        def show(value, name=name):
            if value is None:
                found = translate(f"ingest.platforms.{detected}", language) if detected else "—"
                return translate(f"data.choice.{name}.auto", language, platform=found)
            if name == "platform":
                return translate(f"ingest.platforms.{value}", language)
            return translate(f"data.choice.{name}.{value}", language)
        key = f"{CHOICE_PREFIX}{name}"
        cell.selectbox(t(f"data.option.{name}"), values, format_func=show, key=key,
                       help=t(f"data.option_help.{name}"), on_change=remember(name, key))


def status_editor(checked: ingest.Validated) -> None:
    """One line per order status in the file: how many rows, what they are worth, and its class (revenue,
    unpaid, cancelled or refunded), pre-set from the platforms' defaults and changeable."""
    if checked.statuses.empty:
        return
    st.markdown(f"**{t('data.statuses_title')}**")
    st.caption(t("data.statuses_caption"))
    label, cur = labeller("data.status_class"), checked.currency or state.currency()
    classes = list(ingest.STATUS_CLASSES)
    cells = st.columns(4)
    for i, (value, cls, rows, amount) in enumerate(checked.statuses.itertuples(index=False)):
        key = f"{CHOICE_PREFIX}status_{i}_{value}"

        def keep(value=value, key=key) -> None:
            picked().setdefault("status", {})[str(value).strip().lower()] = st.session_state[key]

        cells[i % 4].selectbox(
            t("data.status_line", value=value, rows=fmt.count(rows), amount=fmt.money(amount, lang(), cur)),
            classes, index=classes.index(cls) if cls in classes else None, format_func=label, key=key,
            placeholder=t("data.status_choose"), on_change=keep)


def check_summary(checked: ingest.Validated) -> list[str]:
    """What the check detected and counted (platform, date style, currency; guests, duplicates, statuses),
    one line each, in the user's language: the report without its heading and problem list."""
    report = checked.report
    lines = report.render(lang(), limit=0).splitlines()[1:]
    unlisted = len(report.problems) + report.facts.get("problems_not_kept", 0)
    return lines[:-1] if unlisted else lines


def show_report(report: ingest.ValidationReport, key: str) -> None:
    """The problems as a table and a download, most important first."""
    frame = report.to_frame(lang())
    if frame.empty:
        return
    st.dataframe(frame, hide_index=True, height=min(400, 38 + 35 * len(frame)), key=f"{key}_table")
    st.download_button(t("data.download_report"), csv_bytes(frame),
                       file_name="validation_report.csv", mime="text/csv", key=f"{key}_download",
                       icon=":material/download:")


def target_base() -> tuple[str, bool]:
    """Where to import: the open base or a new one; returns (base name, is new)."""
    new = st.toggle(t("data.new_base"), key="import_new_base", help=t("data.new_base_help"))
    if not new:
        return state.current_base(), False
    name = st.text_input(t("data.new_base_name"), key="import_base_name", placeholder="my_company")
    return name.strip(), True


def run_import(checked: ingest.Validated, base: str, is_new: bool, skip_invalid: bool, replace: bool) -> None:
    """Load the check the page shows, with a progress bar; on success switch to the base, on refusal show why."""
    if is_new and (not BASE_NAME.match(base) or base in state.base_names()):
        st.error(t("data.bad_base_name", name=base))
        return
    store = state.store_for(base)
    bar = st.progress(0.0, text=t("ingest.stage.load"))
    try:
        result = state.stop_when_busy(ingest.load_checked)(
            store, [checked], skip_invalid=skip_invalid, replace=replace,
            progress=lambda f, stage: bar.progress(min(f, 1.0), text=t(stage)))
    except ingest.ImportRejected as rejected:
        bar.empty()
        if is_new:
            forget_new_base(store)
        st.error(t("data.rejected"))
        st.code(rejected.report.render(lang()), language=None)
        show_report(rejected.report, "rejected")
        return
    bar.empty()
    st.session_state["import_message"] = t("data.imported", rows=f"{result.rows_loaded:,}",
                                           skipped=f"{result.rows_skipped:,}", customers=f"{result.customers_new:,}")
    state.switch_base(base)


def forget_new_base(store) -> None:
    """A refused import into a new base leaves no empty base behind in the list."""
    store.close()
    state.open_base.clear(str(store.path))
    for leftover in (store.path, Path(f"{store.path}.wal")):
        leftover.unlink(missing_ok=True)


def imports_log_frame(log: pd.DataFrame) -> pd.DataFrame:
    names = {c: t(f"data.log.{c}") for c in ("file_name", "imported_at", "format", "rows_loaded", "rows_skipped", "replaced")}
    return log[list(names)].rename(columns=names)
