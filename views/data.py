"""Data: what is in the base, import an order export safely, load the real CDNOW log, rebuild the demo."""
import streamlit as st

from crm_logic import demo, ingest, metrics
from ui import format as fmt
from ui import importer, state
from ui.i18n import lang, t

st.title(t("data.title"))
if "import_message" in st.session_state:
    st.success(st.session_state.pop("import_message"), icon=":material/check_circle:")

facts = state.query(metrics.quality_facts)
st.subheader(t("data.facts_title"))
row = st.columns(3) + st.columns(3)
row[0].metric(t("data.facts.rows"), fmt.count(facts["rows"]), help=t("data.facts_help.rows"), border=True)
row[1].metric(t("data.facts.customers"), fmt.count(facts["customers"]), help=t("data.facts_help.customers",
              prospects=fmt.count(facts["customers_without_orders"])), border=True)
row[2].metric(t("data.facts.period"), f"{fmt.day(facts['first_date'])}", help=t("data.facts_help.period",
              first=fmt.day(facts["first_date"]), last=fmt.day(facts["last_date"])), border=True)
row[3].metric(t("data.facts.returns"), fmt.count(facts["returns"]), help=t("data.facts_help.returns",
              amount=fmt.money(facts["returns_amount"], lang(), state.currency())), border=True)
row[4].metric(t("data.facts.zero_value"), fmt.count(facts["zero_value_orders"]), help=t("data.facts_help.zero_value"),
              border=True)
row[5].metric(t("data.facts.duplicates"), fmt.count(facts["duplicate_rows"]), help=t("data.facts_help.duplicates"),
              border=True)
st.caption(t("data.facts_caption", first=fmt.day(facts["first_date"]), last=fmt.day(facts["last_date"]),
             interactions=fmt.count(facts["interactions"])))

st.subheader(t("data.import_title"))
st.caption(t("data.import_caption", limit=ingest.MAX_UPLOAD_MB))
upload = st.file_uploader(t("data.upload"), type=["csv", "txt", "tsv", "xlsx", "parquet"], key="upload",
                          help=t("data.upload_help", limit=ingest.MAX_UPLOAD_MB))
if upload is not None:
    try:
        checked = importer.read_and_check(upload)
    except Exception as error:  # a file no reader expected: one sentence, not a traceback
        st.error(t("data.unreadable", name=upload.name, reason=str(error).splitlines()[0][:200] if str(error) else
                   type(error).__name__), icon=":material/error:")
        st.stop()
    report = checked.report
    found = importer.check_summary(checked)
    if found:
        st.markdown("\n".join(f"- {line}" for line in found))
    if report.problems:
        st.warning(t("data.problems_found", problems=fmt.count(len(report.problems)),
                     valid=fmt.count(checked.rows_valid)))
        importer.show_report(report, "check")
    else:
        st.success(t("data.all_valid", rows=fmt.count(checked.rows_valid)))
    left, right = st.columns(2)
    with left:
        base, is_new = importer.target_base()
    with right:
        skip_invalid = st.checkbox(t("data.skip_invalid"), key="skip_invalid", help=t("data.skip_invalid_help"))
        replace = st.checkbox(t("data.replace"), key="replace", help=t("data.replace_help"))
    if st.button(t("data.import_button"), type="primary", key="import_button", icon=":material/upload:"):
        importer.run_import(checked, base, is_new, skip_invalid, replace)

log = state.query(ingest.imports_log)
if not log.empty:
    st.subheader(t("data.log_title"))
    st.dataframe(importer.imports_log_frame(log), hide_index=True, key="imports_log")

st.subheader(t("data.sources_title"))
cdnow, rebuild = st.columns(2)
with cdnow, st.container(border=True):
    st.markdown(t("data.cdnow_text"))
    which = st.radio(t("data.cdnow_which"), ["sample", "master"], key="cdnow_which", horizontal=True,
                     format_func=lambda w, sample=t("data.cdnow_sample"), full=t("data.cdnow_master"):
                     sample if w == "sample" else full)
    if st.button(t("data.cdnow_button"), key="load_cdnow", icon=":material/library_music:"):
        with st.spinner(t("data.cdnow_loading")):
            result = state.stop_when_busy(ingest.load_cdnow)(state.store_for("cdnow"), which)
        st.session_state["import_message"] = t("data.cdnow_loaded", rows=fmt.count(result.rows_loaded))
        state.switch_base("cdnow")
with rebuild, st.container(border=True):
    st.markdown(t("data.demo_text"))
    sure = st.checkbox(t("data.demo_confirm"), key="demo_confirm")
    if st.button(t("data.demo_button"), key="rebuild_demo", disabled=not sure, icon=":material/refresh:"):
        with st.spinner(t("common.building_demo")):
            state.stop_when_busy(demo.build_demo)(state.store_for("demo"))
        st.session_state["import_message"] = t("data.demo_rebuilt")
        state.switch_base("demo")
