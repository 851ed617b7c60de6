"""Streamlit-side code shared by pages: i18n lookup, formatting, cached data access, charts."""
