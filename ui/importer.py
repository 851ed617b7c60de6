"""The import wizard of the Data page: read, map, check, load — with the report in the user's language."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from crm_logic import ingest
from ui import state
from ui.i18n import lang, labeller, t

NONE = "—"
BASE_NAME = re.compile(r"^[\w\-\u4e00-\u9fff]{1,40}$")


@st.cache_data(show_spinner=False, max_entries=4)
def read_upload(name: str, data: bytes) -> ingest.RawTable:
    return ingest.read_file(data, file_name=name)


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
    st.download_button(t("data.download_report"), frame.to_csv(index=False).encode("utf-8-sig"),
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
        result = ingest.import_files(store, [upload], mapping=mapping, skip_invalid=skip_invalid, replace=replace,
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
