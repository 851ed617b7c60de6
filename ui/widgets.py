"""Small page pieces every page uses the same way."""
from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from crm_logic.exports import csv_bytes, excel_bytes

from ui import format as fmt
from ui.i18n import group_label, lang, t
from ui.privacy import shown_names


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
SHOWN_ROWS = 10_000  # rows drawn on the page; the downloads hold every row
ONE_DECIMAL_COLUMNS = {"frequency", "recency", "T", "expected_purchases_12m", "expected_purchases_horizon"}
CODE_COLUMNS = {"customer_class": "common.classes", "rfm_segment": "segments.segment", "value_tier": "segments.tier",
                "core_quadrant": "segments.quadrant", "relationship_form": "segments.form",
                "relationship_level": "segments.level", "behaviour_type": "segments.behaviour",
                "maturity": "segments.maturity"}


def customer_link(customer_id: str) -> str:
    """The Customer page of one customer, with this session's language and base, as a relative URL
    (pages are siblings under the app's root). Only characters that would end the value are escaped,
    so the link column can show the id as it is."""
    escaped = "".join(c if c.isalnum() or c in "-_.~" else quote(c) for c in str(customer_id))
    return f"customer?customer={escaped}&" + urlencode({"lang": lang(), "base": st.session_state.get("base", "")})


def columns_with_data(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without the columns the base has no data for (all empty, None or NaN)."""
    def has_data(column: pd.Series) -> bool:
        return bool(column.map(lambda v: not (v is None or v is pd.NA or v is pd.NaT or v == "" or v == "None"
                                              or (isinstance(v, float) and math.isnan(v)))).any())
    return frame.loc[:, [c for c in frame.columns if has_data(frame[c])]]


def _for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns the base has data for, codes in the reader's language, numbers rounded as shown."""
    shown = shown_names(columns_with_data(frame).copy())
    for column, prefix in CODE_COLUMNS.items():
        if column in shown:
            shown[column] = [t(f"{prefix}.{c}") if isinstance(c, str) and c else "" for c in shown[column]]
    if "region" in shown:
        shown["region"] = [group_label("region", r) if r else "" for r in shown["region"]]
    for column in shown.columns:
        if column in PERCENT_COLUMNS:
            shown[column] = (shown[column] * 100).round(1)
        elif column in ONE_DECIMAL_COLUMNS:
            shown[column] = shown[column].astype(float).round(1)
        elif column in MONEY_COLUMNS:
            shown[column] = shown[column].astype(float).round(_money_decimals(shown[column]))
    return shown


def _money_decimals(values: pd.Series) -> int:
    """Cents where amounts are small (CDNOW's $15 orders), whole units where they are large."""
    typical = values.abs().median()
    return 2 if pd.notna(typical) and typical < 100 else 0


def customer_table(frame: pd.DataFrame, key: str, currency: str, height: int = 360,
                   filters: dict[str, str] | None = None) -> None:
    """A table of customers as people read it: only the columns the base has data for, headers and codes
    in the current language, numbers rounded, names through workshop mode, the id a link to the
    Customer page; below it the same rows as CSV (UTF-8 with BOM, for Chinese Excel) and Excel, whose
    second sheet says the base, the analysis date and `filters` ({label: value}) the list was made with.
    An empty list says so, with nothing to download."""
    if frame.empty:
        st.info(t("table.no_customers"))
        return
    shown = _for_people(frame)
    config = {}
    for column in shown.columns:
        label = t(f"table.{column}")
        if column in MONEY_COLUMNS:
            config[column] = st.column_config.NumberColumn(
                label, format=f"{currency}%,.{_money_decimals(shown[column])}f")
        elif column in PERCENT_COLUMNS:
            config[column] = st.column_config.NumberColumn(label, format="%.1f%%")
        elif column in ONE_DECIMAL_COLUMNS:
            config[column] = st.column_config.NumberColumn(label, format="%.1f")
        elif column == "customer_id":
            config[column] = st.column_config.LinkColumn(label, display_text=r"customer=([^&]*)", pinned=True,
                                                         help=t("table.open_customer"))
        elif column == "name":
            config[column] = st.column_config.TextColumn(label, pinned=True)
        else:
            config[column] = st.column_config.Column(label)
    listed = shown.head(SHOWN_ROWS)  # a million rows would exceed what the browser is sent in one message
    if len(shown) > SHOWN_ROWS:
        st.caption(t("table.shown_rows", shown=f"{SHOWN_ROWS:,}", total=f"{len(shown):,}"))
    linked = listed.assign(customer_id=[customer_link(c) for c in listed["customer_id"]]) \
        if "customer_id" in listed else listed
    picked = st.dataframe(linked, column_config=config, hide_index=True, height=height, key=key, width="stretch",
                          on_select="rerun", selection_mode="single-row")
    if picked and picked.selection.rows and "customer_id" in shown:
        # In this session, so the rules the user edited on this page are the ones the Customer page uses.
        st.switch_page("views/customer.py",
                       query_params={"customer": str(shown["customer_id"].iloc[picked.selection.rows[0]])})
    export = shown.rename(columns={c: t(f"table.{c}") for c in shown.columns})
    left, right = st.columns(2)
    left.download_button(t("common.download_csv"), csv_bytes(export), file_name=f"{key}.csv", mime="text/csv",
                         key=f"{key}_csv", icon=":material/download:", width="stretch",
                         on_click="ignore")
    right.download_button(
        t("table.download_excel"), excel_bytes({t("table.sheet_customers"): export,
                                                t("table.sheet_filters"): export_description(filters)}),
        file_name=f"{key}.xlsx", key=f"{key}_excel", icon=":material/table_view:", width="stretch", on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def export_description(filters: dict[str, str] | None = None) -> pd.DataFrame:
    """What a downloaded list is: base, analysis date, the filters it was made with, when it was made."""
    from ui import state

    rows = {t("common.base_label"): state.current_base(), t("common.as_of"): fmt.day(state.as_of()),
            **(filters or {}), t("table.exported_at"): datetime.now().strftime("%Y-%m-%d %H:%M")}
    return pd.DataFrame({t("table.setting"): list(rows), t("table.value"): [str(v) for v in rows.values()]})
