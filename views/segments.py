"""Segments: who our customers are, in the groups managers use."""
import streamlit as st

from ui.i18n import t

st.title(t("segments_page.title"))
