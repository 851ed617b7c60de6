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


def labeller(prefix: str):
    """A format_func for option keys: `prefix.key` in the language of this run (AppTest and Streamlit
    may call a format_func after the run, when session state is no longer at hand)."""
    language = lang()
    return lambda key: translate(f"{prefix}.{key}", language)
