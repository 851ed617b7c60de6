"""The import wizard of the Data page: read, map, check, load — with the report in the user's language.

A large upload takes seconds to read and check, and every widget click reruns the page: the file's hash
is computed once per upload, and the read and the check are cached on it (and on the mapping), shared
and not copied (cache_resource), so a click never reads or checks the file again.
"""
from __future__ import annotations

import hashlib
import json
import re

import pandas as pd
import streamlit as st

from crm_logic import ingest
from crm_logic.exports import csv_bytes
from ui import state
from ui.i18n import lang, labeller, t

NONE = "—"
BASE_NAME = re.compile(r"^[\w\-\u4e00-\u9fff]{1,40}$")


def upload_hash(upload) -> str:
    """The SHA-256 of an upload's bytes, computed once per upload (Streamlit gives each one a file_id)."""
    known = st.session_state.setdefault("upload_hashes", {})
    if upload.file_id not in known:
        known.clear()  # one upload at a time
        known[upload.file_id] = hashlib.sha256(upload.getvalue()).hexdigest()
    return known[upload.file_id]


@st.cache_resource(show_spinner=False, max_entries=2)
def read_upload(file_hash: str, name: str, _upload) -> ingest.RawTable:
    """The file as read, keyed on its hash and name (the name appears in the report). Read-only."""
    return ingest.read_file(_upload.getvalue(), file_name=name)


@st.cache_resource(show_spinner=False, max_entries=2)
def check_upload(file_hash: str, name: str, mapping_key: str, _raw: ingest.RawTable) -> ingest.Validated:
    """The row check of a read file under one mapping. Read-only: shared by every rerun and session."""
    return ingest.validate(_raw, json.loads(mapping_key))


def read_and_check(upload, mapping_of) -> tuple[ingest.RawTable, dict, ingest.Validated]:
    """Read the upload, draw the mapping (`mapping_of(raw)`), check it; each step from the cache when it
    has been done for these bytes and this mapping, with a spinner the first time."""
    file_hash = upload_hash(upload)
    with st.spinner(t("ingest.stage.read"), show_time=True):
        raw = read_upload(file_hash, upload.name, upload)
    mapping = mapping_of(raw)
    with st.spinner(t("ingest.stage.validate"), show_time=True):
        checked = check_upload(file_hash, upload.name, json.dumps(mapping, sort_keys=True), raw)
    return raw, mapping, checked


def mapping_step(raw: ingest.RawTable) -> dict[str, str | None]:
    """What was read (format, encoding, a preview), then which column holds what."""
    from ui import format as fmt

    st.caption(t("data.detected", format=t(f"ingest.formats.{raw.fmt}"), encoding=raw.encoding or "—",
                 delimiter=repr(raw.delimiter) if raw.delimiter else "—", rows=fmt.count(len(raw.frame))))
    with st.expander(t("data.preview"), expanded=True):
        st.dataframe(raw.frame.head(20), hide_index=True, key="preview")
    st.markdown(f"**{t('data.mapping_title')}**")
    st.caption(t("data.mapping_caption"))
    return mapping_editor(raw)


def mapping_editor(raw: ingest.RawTable) -> dict[str, str | None]:
    """One selectbox per field, pre-filled from the headers; required fields carry a star."""
    columns = list(raw.frame.columns)
    guessed = ingest.auto_mapping(columns)
    field_label = labeller("ingest.fields")
    chosen = {}
    cells = st.columns(4)
    for i, field in enumerate(ingest.FIELDS):
        options = [NONE] + columns
        default = guessed.get(field)
        label = field_label(field) + (" *" if field in ingest.REQUIRED else "")
        value = cells[i % 4].selectbox(label, options, index=options.index(default) if default in options else 0,
                                       key=f"map_{field}_{raw.file_hash[:8]}")
        chosen[field] = None if value == NONE else value
    return chosen


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


def run_import(upload, mapping, base: str, is_new: bool, skip_invalid: bool, replace: bool) -> None:
    """Import with a progress bar; on success switch to the base, on refusal show why."""
    if is_new and (not BASE_NAME.match(base) or base in state.base_names()):
        st.error(t("data.bad_base_name", name=base))
        return
    store = state.store_for(base)
    bar = st.progress(0.0, text=t("ingest.stage.read"))
    try:
        result = state.stop_when_busy(ingest.import_files)(
            store, [upload], mapping=mapping, skip_invalid=skip_invalid, replace=replace,
            progress=lambda f, stage: bar.progress(min(f, 1.0), text=t(stage)))
    except ingest.ImportRejected as rejected:
        bar.empty()
        st.error(t("data.rejected"))
        st.code(rejected.report.render(lang()), language=None)
        show_report(rejected.report, "rejected")
        return
    bar.empty()
    st.session_state["import_message"] = t("data.imported", rows=f"{result.rows_loaded:,}",
                                           skipped=f"{result.rows_skipped:,}", customers=f"{result.customers_new:,}")
    state.switch_base(base)


def imports_log_frame(log: pd.DataFrame) -> pd.DataFrame:
    names = {c: t(f"data.log.{c}") for c in ("file_name", "imported_at", "format", "rows_loaded", "rows_skipped", "replaced")}
    return log[list(names)].rename(columns=names)
