"""Small page pieces every page uses the same way."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlencode

import pandas as pd
import streamlit as st

from crm_logic.exports import csv_bytes, excel_bytes

from ui import format as fmt
from ui.i18n import group_label, lang, pinned_language, t
from ui.privacy import shown_names, workshop_mode


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
ONE_DECIMAL_COLUMNS = {"frequency", "recency", "T", "expected_purchases_12m", "expected_purchases_horizon", "lateness",
                       "typical_gap_days"}
DATE_COLUMNS = {"last_purchase", "next_purchase_date", "last_contact"}
CODE_COLUMNS = {"customer_class": "common.classes", "rfm_segment": "segments.segment", "value_tier": "segments.tier",
                "core_quadrant": "segments.quadrant", "relationship_form": "segments.form",
                "relationship_level": "segments.level", "behaviour_type": "segments.behaviour",
                "maturity": "segments.maturity", "lifecycle_state": "churn.lifecycle", "risk_band": "churn.risk",
                "relationship_stage": "churn.stage"}
EXCEL_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def customer_link(customer_id: str, suffix: str | None = None) -> str:
    """The Customer page of one customer, with this session's language and base, as a relative URL
    (pages are siblings under the app's root). Only characters that would end the value are escaped,
    so the link column can show the id as it is. `suffix`: link_suffix(), when linking many."""
    escaped = "".join(c if c.isalnum() or c in "-_.~" else quote(c) for c in str(customer_id))
    return f"customer?customer={escaped}&" + (suffix or link_suffix())


def link_suffix() -> str:
    return urlencode({"lang": lang(), "base": st.session_state.get("base", "")})


def columns_with_data(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without the columns the base has no data for (all empty, None or NaN)."""
    def has_data(column: pd.Series) -> bool:
        present = column.notna()
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            present &= ~column.isin(["", "None"])
        return bool(present.any())
    return frame.loc[:, [c for c in frame.columns if has_data(frame[c])]]


def _named(column: pd.Series, name) -> pd.Series:
    """Each distinct value named once (a million rows hold a handful of codes); "" where there is none."""
    names = {v: name(v) for v in column.dropna().unique() if isinstance(v, str) and v}
    return column.astype(object).map(names).fillna("")


def _for_people(frame: pd.DataFrame, decimals: dict[str, int], masked: bool | None = None) -> pd.DataFrame:
    """Codes in the reader's language, names through workshop mode (`masked`: its state, where session state
    is not at hand), dates as days, numbers rounded as shown (money to `decimals` per column)."""
    shown = shown_names(frame, masked).copy()
    for column, prefix in CODE_COLUMNS.items():
        if column in shown:
            shown[column] = _named(shown[column], lambda code, prefix=prefix: t(f"{prefix}.{code}"))
    if "region" in shown:
        shown["region"] = _named(shown["region"], lambda r: group_label("region", r))
    for column in shown.columns:
        if column in PERCENT_COLUMNS:
            shown[column] = (shown[column] * 100).round(1)
        elif column in ONE_DECIMAL_COLUMNS:
            shown[column] = shown[column].astype(float).round(1)
        elif column in MONEY_COLUMNS:
            shown[column] = shown[column].astype(float).round(decimals[column])
        elif column in DATE_COLUMNS:
            shown[column] = pd.to_datetime(shown[column]).dt.date
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
    The page draws the first SHOWN_ROWS rows; the files hold every row and are made when clicked (at a
    million customers they take longer than the page). An empty list says so, with nothing to download."""
    if frame.empty:
        st.info(t("table.no_customers"))
        return
    frame = columns_with_data(frame)
    decimals = {c: _money_decimals(frame[c]) for c in frame.columns if c in MONEY_COLUMNS}
    listed = _for_people(frame.head(SHOWN_ROWS), decimals)  # a million rows would exceed one message
    config = {}
    for column in listed.columns:
        label = t(f"table.{column}")
        if column in MONEY_COLUMNS:
            config[column] = st.column_config.NumberColumn(label, format=f"{currency}%,.{decimals[column]}f")
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
    if len(frame) > SHOWN_ROWS:
        st.caption(t("table.shown_rows", shown=f"{SHOWN_ROWS:,}", total=f"{len(frame):,}"))
    suffix = link_suffix()
    linked = listed.assign(customer_id=[customer_link(c, suffix) for c in listed["customer_id"]]) \
        if "customer_id" in listed else listed
    picked = st.dataframe(linked, column_config=config, hide_index=True, height=height, key=key, width="stretch",
                          on_select="rerun", selection_mode="single-row")
    if picked and picked.selection.rows and "customer_id" in listed:
        # In this session, so the rules the user edited on this page are the ones the Customer page uses.
        st.switch_page("views/customer.py",
                       query_params={"customer": str(listed["customer_id"].iloc[picked.selection.rows[0]])})
    csv_file, excel_file = list_files(frame, decimals, filters)
    left, right = st.columns(2)
    left.download_button(t("common.download_csv"), csv_file, file_name=f"{key}.csv", mime="text/csv",
                         key=f"{key}_csv", icon=":material/download:", width="stretch", on_click="ignore")
    right.download_button(t("table.download_excel"), excel_file, file_name=f"{key}.xlsx", key=f"{key}_excel",
                          icon=":material/table_view:", width="stretch", on_click="ignore", mime=EXCEL_MIME)


def list_files(frame: pd.DataFrame, decimals: dict[str, int], filters: dict[str, str] | None = None):
    """(csv, excel): callables making a list's two files when a download is clicked. They run off the
    script's thread, where session state is not at hand: the language, workshop mode and the list's
    context are the ones on the screen now."""
    language, masked, context = lang(), workshop_mode(), export_context(filters)

    def people() -> pd.DataFrame:
        shown = _for_people(frame, decimals, masked)
        return shown.rename(columns={c: t(f"table.{c}") for c in shown.columns})

    def csv_file() -> bytes:
        with pinned_language(language):
            return csv_bytes(people())

    def excel_file() -> bytes:
        with pinned_language(language):
            return excel_bytes({t("table.sheet_customers"): people(),
                                t("table.sheet_filters"): export_description(context)})
    return csv_file, excel_file


def export_context(filters: dict[str, str] | None = None) -> dict[str, str]:
    """What a downloaded list is: base, analysis date and the filters it was made with ({label: value})."""
    from ui import state

    return {t("common.base_label"): state.current_base(), t("common.as_of"): fmt.day(state.as_of()),
            **(filters or {})}


def export_description(context: dict[str, str]) -> pd.DataFrame:
    """The filters sheet: the list's context (export_context) and when the file was made."""
    rows = {**context, t("table.exported_at"): datetime.now().strftime("%Y-%m-%d %H:%M")}
    return pd.DataFrame({t("table.setting"): list(rows), t("table.value"): [str(v) for v in rows.values()]})
