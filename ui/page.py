"""How an analysis page opens: its title, then the analysis date, or, on a base with no data, the way to
the Data page and nothing more."""
from __future__ import annotations

from datetime import date

import streamlit as st

from ui import state
from ui.i18n import t
from ui.widgets import empty_state


def titled_page(namespace: str) -> date:
    """Show `<namespace>.title` and return the analysis date; without one, say `<namespace>.empty` and stop."""
    st.title(t(f"{namespace}.title"))
    as_of = state.as_of()
    if as_of is None:
        empty_state(f"{namespace}.empty")
        st.stop()
    return as_of
