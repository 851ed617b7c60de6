"""The current language (kept in session state and the URL) and the lookup every page uses."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import streamlit as st

from crm_logic.i18n import LANGUAGES, catalogue, language_from_locale, translate
from crm_logic.metrics import OTHER

LANGUAGE_LABELS = {"zh": "中文", "en": "English"}


_pinned = threading.local()


@contextmanager
def pinned_language(language: str):
    """Work done off the script's thread (a download built when clicked) has no session state: it names
    its language here, for this thread only."""
    _pinned.language = language
    try:
        yield
    finally:
        del _pinned.language


def lang() -> str:
    if getattr(_pinned, "language", None):
        return _pinned.language
    value = st.session_state.get("lang")
    return value if value in LANGUAGES else language_from_locale(st.context.locale)


def t(key: str, **params) -> str:
    return translate(key, lang(), **params)


def labeller(prefix: str):
    """A format_func for option keys: `prefix.key` in the language of this run (AppTest and Streamlit
    may call a format_func after the run, when session state is no longer at hand)."""
    language = lang()
    return lambda key: translate(f"{prefix}.{key}", language)


def group_label(dimension: str, group: str) -> str:
    """A group of customers as a chart names it: our own keys (classes, deciles, the usual Chinese regions)
    in the reader's language, anything else as the data has it."""
    if group == "":
        return t("common.unknown")
    if group == OTHER:
        return t("common.other")
    if dimension == "customer_class":
        return t(f"common.classes.{group}")
    if dimension == "decile":
        return t("common.decile", low=10 * int(group) - 10, high=10 * int(group))
    return catalogue(lang()).get(f"common.{dimension}s.{group}", group)
