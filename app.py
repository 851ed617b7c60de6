"""Entry point: language, base and analysis date in the sidebar, then the page the user picked."""
import streamlit as st

from crm_logic.i18n import LANGUAGES
from crm_logic.store import Store
from ui import format as fmt
from ui import privacy, state
from ui.i18n import LANGUAGE_LABELS, labeller, t

st.set_page_config(page_icon=":material/groups:", layout="wide")  # the tab title is the page's, translated
state.ensure_demo()
state.init_from_url()
# Settings outlive the page that draws them, and the base outlives a language switch (its selectbox's
# translated options make it a new widget, which would start on its default).
for key in [k for k in st.session_state if str(k).startswith("keep_")] + [state.BASE_KEY]:
    st.session_state[key] = st.session_state[key]

with st.sidebar:
    st.segmented_control(
        "Language / 语言", LANGUAGES, key="lang", required=True, format_func=LANGUAGE_LABELS.get,
        label_visibility="collapsed",
    )
    names, base_label = state.base_names(), labeller("common.base_names")
    st.selectbox(
        t("common.base_label"), names, key=state.BASE_KEY,
        format_func=lambda n: base_label(n) if n in ("demo", "cdnow") else n,
        help=t("common.base_help"),
    )
    info = state.query(Store.info)
    st.caption(t("common.badge", customers=fmt.count(info.customers), first=fmt.day(info.first_date),
                 last=fmt.day(info.last_date)))
    if info.last_date:
        st.date_input(
            t("common.as_of"), min_value=info.first_date, max_value=info.last_date,
            help=t("common.as_of_help"), format="YYYY-MM-DD", **state.as_of_widget(info.last_date),
        )
    st.toggle(t("whatif.privacy.switch"), key=privacy.MODE_KEY, help=t("whatif.privacy.help"))

overview = st.Page("views/overview.py", title=t("nav.overview"), icon=":material/insights:", url_path="overview")
pages = [
    overview,
    st.Page("views/segments.py", title=t("nav.segments"), icon=":material/donut_small:", url_path="segments"),
    st.Page("views/customer.py", title=t("nav.customer"), icon=":material/person_search:", url_path="customer"),
    st.Page("views/clv.py", title=t("nav.clv"), icon=":material/savings:", url_path="clv"),
    st.Page("views/churn.py", title=t("nav.churn"), icon=":material/person_alert:", url_path="churn"),
    st.Page("views/alliances.py", title=t("nav.alliances"), icon=":material/handshake:", url_path="alliances"),
    st.Page("views/whatif.py", title=t("whatif.nav"), icon=":material/tune:", url_path="whatif"),
    st.Page("views/data.py", title=t("nav.data"), icon=":material/database:", url_path="data"),
]
# Streamlit serves its default page at "/" only, so /overview would be "Page not found": the root is a
# hidden page of its own that opens the overview at its own URL.
home = st.Page(lambda: st.switch_page(overview, query_params=st.query_params.to_dict()), title=t("nav.overview"),
               url_path="home", default=True, visibility="hidden")
state.keep_in_url()
st.navigation([home, *pages]).run()
