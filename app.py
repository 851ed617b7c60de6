"""Entry point: language, base and analysis date in the sidebar, then the page the user picked."""
import streamlit as st

from crm_logic.i18n import LANGUAGES, language_from_locale, translate
from crm_logic.store import Store
from ui import format as fmt
from ui import state
from ui.i18n import LANGUAGE_LABELS, lang, t

st.set_page_config(page_title="CRM", page_icon=":material/groups:", layout="wide")
state.ensure_demo()

with st.sidebar:
    st.segmented_control(
        "Language / 语言", LANGUAGES, key="lang", bind="query-params", required=True,
        default=language_from_locale(st.context.locale), format_func=LANGUAGE_LABELS.get,
        label_visibility="collapsed",
    )
    names, language = state.base_names(), lang()  # format_func must not read session state later
    st.selectbox(
        t("common.base_label"), names, key=state.BASE_KEY, bind="query-params",
        index=names.index(state.current_base()), format_func=lambda n: translate(f"common.base_names.{n}", language) if n in ("demo", "cdnow") else n,
        help=t("common.base_help"),
    )
    info = state.query(Store.info)
    st.badge(t("common.badge", customers=fmt.count(info.customers), first=fmt.day(info.first_date),
               last=fmt.day(info.last_date)), icon=":material/database:", color="blue")
    if info.last_date:
        st.date_input(
            t("common.as_of"), value=info.last_date, min_value=info.first_date, max_value=info.last_date,
            key=f"as_of_{state.current_base()}", help=t("common.as_of_help"), format="YYYY-MM-DD",
        )

pages = [
    st.Page("pages/overview.py", title=t("nav.overview"), icon=":material/insights:", url_path="overview", default=True),
    st.Page("pages/data.py", title=t("nav.data"), icon=":material/database:", url_path="data"),
]
st.navigation(pages).run()
