"""AppTest helpers: run the real app.py on a data directory of the test's own, in either language."""
from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = str(REPO / "app.py")


@pytest.fixture(autouse=True)
def fresh_caches():
    """Cached Stores and results must not leak from one test's data directory into the next."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def run_page(page: str, lang: str, base: str | None = None, timeout: float = 60) -> AppTest:
    """Open `page` (e.g. 'views/overview.py') of the app in `lang`, on `base` if given."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["lang"] = lang
    if base:
        at.session_state["base"] = base
    at.run()
    if page != "views/overview.py":
        at.switch_page(page).run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception, and no untranslated catalogue key shown anywhere on the page."""
    assert not at.exception, [e.value for e in at.exception]
    from crm_logic.i18n import catalogue

    keys = set(catalogue("en"))
    texts = [m.value for m in at.markdown] + [m.value for m in at.title] + [m.value for m in at.caption]
    texts += [m.label for m in at.metric] + [str(m.value) for m in at.info]
    shown_keys = [text for text in texts if text in keys]
    assert not shown_keys, f"raw catalogue keys on the page: {shown_keys}"
