"""Overview: how big is the base, is it growing, where does the revenue come from."""
import pandas as pd
import streamlit as st

from crm_logic import metrics
from ui import charts, state
from ui import format as fmt
from ui.i18n import group_label, lang, t
from ui.page import titled_page
from ui.widgets import chart, customer_table, kpi

as_of = titled_page("overview")

cur = state.currency()
with st.spinner(t("overview.computing")):  # shown only when it takes a while: the first visit of a version
    figures = state.query(metrics.overview_kpis, as_of)
    monthly = state.query(metrics.monthly_new_vs_returning, as_of)
    breakdowns = {dimension: state.query(metrics.revenue_by, dimension, as_of) for dimension in metrics.BREAKDOWNS}
now, before = figures["current"], figures["previous"]
period = dict(start=fmt.day(figures["window_start"]), end=fmt.day(as_of))
st.caption(t("overview.caption", **period))

row1 = st.columns(3)
kpi(row1[0], "overview.kpi.customers", fmt.count(now["customers"]), "overview.help.customers",
    fmt.change(now["customers"], before["customers"]), **period)
kpi(row1[1], "overview.kpi.active", fmt.count(now["active_customers"]), "overview.help.active",
    fmt.change(now["active_customers"], before["active_customers"]), **period)
kpi(row1[2], "overview.kpi.revenue", fmt.money(now["revenue"], lang(), cur), "overview.help.revenue",
    fmt.change(now["revenue"], before["revenue"]), **period)
row2 = st.columns(3)
margin = now["gross_margin"]
kpi(row2[0], "overview.kpi.margin", t("common.no_margin") if margin is None else fmt.money(margin, lang(), cur),
    "overview.help.margin", fmt.change(margin, before["gross_margin"]), **period)
kpi(row2[1], "overview.kpi.repeat_rate", fmt.pct(now["repeat_rate"]), "overview.help.repeat_rate",
    fmt.change(now["repeat_rate"], before["repeat_rate"]), **period)
kpi(row2[2], "overview.kpi.top20", fmt.pct(now["top20_share"]), "overview.help.top20",
    None, up_is_good=False, **period)

if not monthly.empty:
    monthly = monthly.reset_index(drop=True)
    kinds = {"new": t("overview.kind.new"), "returning": t("overview.kind.returning")}
    hover = [
        f"{row.month:%Y-%m} · {kinds[row.customer_kind]}: {fmt.money(row.revenue, lang(), cur)}"
        for row in monthly.itertuples()
    ]
    fig = charts.stacked_bars(
        monthly, "month", "revenue", "customer_kind", kinds, hover,
        t("overview.chart.monthly_title"), t("overview.chart.month"), t("overview.chart.revenue_axis", currency=cur),
    )
    chart(charts.money_axis(fig, "y", monthly.groupby("month").revenue.sum().to_numpy(), lang(), cur), key="monthly")


def breakdown(dimension: str, column) -> None:
    """Revenue by one attribute; clicking a bar lists the customers behind it."""
    frame = breakdowns[dimension]
    if frame.empty or (frame["group"] == "").all():
        column.info(t(f"overview.no_{dimension}"))
        return
    labels = [group_label(dimension, g) for g in frame["group"]]
    frame = frame.assign(label=labels)
    hover = [
        t("overview.chart.hover_group", group=r.label, revenue=fmt.money(r.revenue, lang(), cur),
          customers=fmt.count(r.customers))
        for r in frame.itertuples()
    ]
    with column:
        fig = charts.ranked_bars(
            frame, "label", "revenue", hover, t(f"overview.chart.{dimension}_title"),
            t("overview.chart.revenue_axis", currency=cur), "", keys=list(frame["group"]),
        )
        picked = chart(charts.money_axis(fig, "x", frame["revenue"].to_numpy(), lang(), cur),
                       key=f"by_{dimension}", selectable=True)
        st.caption(t("overview.click_hint"))
    if picked:
        group = picked[0]
        st.subheader(t("overview.customers_of", group=labels[list(frame["group"]).index(group)]))
        customer_table(state.query(metrics.customers_in_group, dimension, group, as_of), f"customers_{dimension}", cur)


left, right = st.columns(2)
breakdown("region", left)
breakdown("customer_class", right)
