"""Small page pieces every page uses the same way."""
from __future__ import annotations

import streamlit as st

from ui import format as fmt
from ui.i18n import lang, t


def kpi(column, label_key: str, value: str, help_key: str, delta: float | None = None,
        up_is_good: bool = True, **help_params) -> None:
    """A metric with its definition as help text and, when comparable, its change in percent."""
    column.metric(
        t(label_key), value,
        delta=None if delta is None else fmt.pct(delta),
        delta_color="normal" if up_is_good else "off",
        help=t(help_key, **help_params),
        border=True,
    )


def empty_state(message_key: str, **params) -> None:
    """Say what is missing and how to fix it, with the way to the Data page."""
    st.info(t(message_key, **params))
    st.page_link("pages/data.py", label=t("common.go_to_data"), icon=":material/upload:")


def chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False, "locale": "zh-CN" if lang() == "zh" else "en"})
