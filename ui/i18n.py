"""The current language (kept in session state and the URL) and the lookup every page uses."""
from __future__ import annotations

import streamlit as st

from crm_logic.i18n import LANGUAGES, language_from_locale, translate

LANGUAGE_LABELS = {"zh": "中文", "en": "English"}


def lang() -> str:
    value = st.session_state.get("lang")
    return value if value in LANGUAGES else language_from_locale(st.context.locale)


def t(key: str, **params) -> str:
    return translate(key, lang(), **params)
