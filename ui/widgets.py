"""Small page pieces every page uses the same way."""
from __future__ import annotations

import streamlit as st

from crm_logic.exports import csv_bytes

from ui import format as fmt
from ui.i18n import group_label, lang, t


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
    st.page_link("views/data.py", label=t("common.go_to_data"), icon=":material/upload:")


def chart(fig, key: str, selectable: bool = False):
    """Draw a figure; with `selectable`, return the clicked points (their customdata keys)."""
    config = {"displaylogo": False, "locale": "zh-CN" if lang() == "zh" else "en"}
    if not selectable:
        st.plotly_chart(fig, key=key, config=config)
        return []
    event = st.plotly_chart(fig, key=key, config=config, on_select="rerun", selection_mode="points")
    return [p.get("customdata") for p in (event.selection.points if event else []) if p.get("customdata")]


MONEY_COLUMNS = {"revenue", "margin", "monetary_value", "expected_spend", "clv", "value_at_risk",
                 "revenue_12m", "margin_12m", "relationship_cost", "excess_cost"}
PERCENT_COLUMNS = {"p_alive", "share"}


def customer_table(frame, key: str, currency: str, height: int = 360) -> None:
    """A table of customers with headers in the current language, money and shares formatted,
    id and name pinned, and a CSV download (UTF-8 with BOM, for Chinese Excel)."""
    shown = frame.copy()
    if "customer_class" in shown:
        shown["customer_class"] = [t(f"common.classes.{c}") if c else "" for c in shown["customer_class"]]
    if "region" in shown:
        shown["region"] = [group_label("region", r) if r else "" for r in shown["region"]]
    if "p_alive" in shown:
        shown["p_alive"] = shown["p_alive"] * 100
    config = {}
    for column in shown.columns:
        label = t(f"table.{column}")
        if column in MONEY_COLUMNS:
            config[column] = st.column_config.NumberColumn(label, format=f"{currency}%,.2f")
        elif column in PERCENT_COLUMNS:
            config[column] = st.column_config.NumberColumn(label, format="%.1f%%")
        elif column in ("customer_id", "name"):
            config[column] = st.column_config.TextColumn(label, pinned=True)
        else:
            config[column] = st.column_config.Column(label)
    st.dataframe(shown, column_config=config, hide_index=True, height=height, key=key)
    st.download_button(
        t("common.download_csv"), csv_bytes(shown.rename(columns={c: t(f"table.{c}") for c in shown.columns})),
        file_name=f"{key}.csv", mime="text/csv", key=f"{key}_csv", icon=":material/download:",
    )
