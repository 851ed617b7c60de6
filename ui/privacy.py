"""Workshop mode: customer names and contact details masked on every page, chart, hover and export.

Every place that shows a customer's name takes it from here, so one switch (in the sidebar, kept in
st.session_state) masks them all. A masked customer is "Customer 3F2A9C" / "客户 3F2A9C": a pseudonym from
a hash of their id, the same on every page, in every session and in every export, so a room can still
talk about "3F2A9C" without seeing who it is.
"""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from ui.i18n import t

MODE_KEY = "workshop_mode"
NAME_COLUMNS = ("name", "customer_name")
CONTACT_COLUMNS = ("email", "phone", "mobile", "address", "contact", "wechat")
MASK = "•••"


def workshop_mode() -> bool:
    return bool(st.session_state.get(MODE_KEY, False))


def pseudonym(customer_id) -> str:
    """A stable stand-in name from the id (six hex digits of its SHA-256)."""
    code = hashlib.sha256(str(customer_id).encode()).hexdigest()[:6].upper()
    return t("whatif.privacy.pseudonym", code=code)


def shown_name(customer_id: str, name: str | None) -> str | None:
    """The name to show for one customer."""
    return pseudonym(customer_id) if workshop_mode() else name


def shown_names(frame: pd.DataFrame, masked: bool | None = None) -> pd.DataFrame:
    """`frame` with its name (and contact) columns as they may be shown: in workshop mode names become
    pseudonyms (needs a customer_id column) and contact details a mask. `masked` says the mode where session
    state is not at hand (a download built when clicked)."""
    if not (workshop_mode() if masked is None else masked):
        return frame
    out = frame.copy()
    for column in NAME_COLUMNS:
        if column in out:
            out[column] = [pseudonym(c) for c in out["customer_id"]]
    for column in CONTACT_COLUMNS:
        if column in out:
            out[column] = MASK
    return out
