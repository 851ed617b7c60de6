"""Customer 360: one customer — who they are, where they stand and why, what they did, what to do next.

The customer id lives in the URL (?customer=<id>), so a link from any list survives a reload.
"""
import streamlit as st

import pandas as pd

from crm_logic import customers, tiers
from crm_logic.i18n import catalogue
from crm_logic.models import ModelError
from crm_logic.playbooks import tactics
from ui import charts, segment_charts, state
from ui import format as fmt
from ui.i18n import group_label, lang, t
from ui.page import titled_page
from ui.privacy import shown_name
from ui.segment_rules import current_rules
from ui.widgets import chart, columns_with_data, customer_table

# Which column of the segment table each reason explains, and the catalogue that names its codes.
REASON_COLUMNS = {"prospect": "rfm_segment", "rfm": "rfm_segment", "tier": "value_tier", "quadrant": "core_quadrant",
                  "form": "relationship_form", "behaviour": "behaviour_type", "maturity": "maturity"}
KINDS = {"rfm_segment": "segment", "value_tier": "tier", "core_quadrant": "quadrant", "relationship_form": "form",
         "behaviour_type": "behaviour", "maturity": "maturity"}

as_of = titled_page("customer")
cur, language = state.currency(), lang()

search = st.text_input(t("customer.search"), key="customer_search", placeholder=t("customer.search_placeholder"))
if search.strip():
    found = state.query(customers.find_customers, search.strip())
    if found.empty:
        st.info(t("customer.not_found", text=search.strip()))
        st.stop()
    names = dict(zip(found["customer_id"], found["name"]))
    picked = st.selectbox(t("customer.matches", count=len(found)), list(found["customer_id"]), key="customer_match",
                          format_func=lambda c: f"{c} · {shown_name(c, names[c])}" if names[c] else c)
    st.query_params["customer"] = picked
customer_id = st.query_params.get("customer")
profile = state.query(customers.customer_profile, customer_id) if customer_id else None
if profile is None:
    st.info(t("customer.pick") if not customer_id else t("customer.unknown_id", id=customer_id))
    st.subheader(t("customer.top_title"))
    customer_table(state.query(customers.find_customers, "", 20), "customer_top", cur)
    st.stop()

name = shown_name(customer_id, profile["name"])
st.header(f"{customer_id} · {name}" if name else customer_id)
facts = []
for field in ("customer_class", "region", "industry", "channel", "personality_style", "prospect_grade"):
    value = profile[field]
    if isinstance(value, str) and value:
        shown = group_label(field, value) if field in ("customer_class", "region") else \
            catalogue(language).get(f"customer.{field}s.{value}", value)
        facts.append(t("customer.fact", label=t(f"customer.field.{field}"), value=shown))
if profile["club_member"]:
    facts.append(t("customer.club_member"))
if profile["referred_by"]:
    facts.append(t("customer.referred_by", id=profile["referred_by"]))
if profile["created_date"] is not None and str(profile["created_date"]) != "NaT":
    facts.append(t("customer.fact", label=t("customer.field.created_date"), value=fmt.day(profile["created_date"])))
st.markdown(" · ".join(facts) if facts else t("customer.no_profile"))

try:
    values = state.customer_values()
except ModelError as error:
    values = None
    st.info(t(f"clv.error.{error.key}"))
row = values[values["customer_id"] == customer_id] if values is not None else None
settings = state.clv_settings()
if row is not None and row.empty:
    st.info(t("customer.prospect"))
elif row is not None:
    value = row.iloc[0]
    cols = st.columns(4)
    cols[0].metric(t("customer.kpi.revenue"), fmt.money(value["revenue"], language, cur), border=True,
                   help=t("customer.help.revenue", as_of=fmt.day(as_of)))
    cols[1].metric(t("customer.kpi.p_alive"), fmt.pct(value["p_alive"], 0), border=True,
                   help=t("customer.help.p_alive", as_of=fmt.day(as_of)))
    cols[2].metric(t("customer.kpi.expected_purchases"), f"{value['expected_purchases_12m']:.1f}", border=True,
                   help=t("customer.help.expected_purchases"))
    cols[3].metric(t("customer.kpi.clv"), fmt.money(value["clv"], language, cur), border=True,
                   help=t("customer.help.clv", months=settings.horizon_months,
                          discount=fmt.pct(settings.monthly_discount)))

if values is not None:
    rules = current_rules()
    table = state.segment_table(rules)
    placed = table[table["customer_id"] == customer_id]
    if not placed.empty:
        place = placed.iloc[0]
        st.subheader(t("customer.standing_title"))
        lines = []
        for key, params in tiers.reasons(place, rules):
            column = REASON_COLUMNS[key.split(".")[2]]
            lines.append("- " + t("customer.standing", label=t(f"table.{column}"),
                                  value=t(f"segments.{KINDS[column]}.{place[column]}"), reason=t(key, **params)))
            if column == "relationship_form":
                level = place["relationship_level"]
                lines.append("- " + t("customer.standing", label=t("table.relationship_level"),
                                      value=t(f"segments.level.{level}"), reason=t(f"segments.level_help.{level}")))
        if place["rfm_segment"] != tiers.PROSPECT and pd.isna(place["relationship_form"]):
            lines.append("- " + t("segments.concept.missing", concept=t("segments.concept.relationship_form"),
                                  columns=", ".join(tiers.CONCEPT_COLUMNS["relationship_form"])))
        st.markdown("\n".join(lines))
        plays = [(kind, code) for kind, code in (
            ("segment", place["rfm_segment"]), ("level", place["relationship_level"]),
            ("form", place["relationship_form"]), ("behaviour", place["behaviour_type"]),
            ("style", profile["personality_style"])) if isinstance(code, str) and tactics(kind, code, language)]
        if plays:
            st.subheader(t("customer.tactics_title"))
            for column, (kind, code) in zip(st.columns(len(plays)), plays):
                column.markdown(f"**{t(f'segments.{kind}.{code}')}**\n"
                                + "\n".join(f"- {p}" for p in tactics(kind, code, language)))

orders = state.query(customers.purchases, customer_id, as_of)
contacts = state.query(customers.interactions, customer_id, as_of)
if orders.empty and contacts.empty:
    st.info(t("customer.no_history", as_of=fmt.day(as_of)))
else:
    hover_orders = [t("customer.hover_order", day=fmt.day(r.order_date), amount=fmt.money(r.amount, language, cur),
                      categories=r.categories or "—") for r in orders.itertuples()]
    kinds = [t(f"customer.kinds.{k}") for k in contacts["kind"]]
    hover_contacts = [t("customer.hover_contact", day=fmt.day(r.interaction_date), kind=k,
                        direction=t(f"customer.directions.{r.direction}")) for k, r in zip(kinds, contacts.itertuples())]
    fig = segment_charts.purchase_timeline(
        orders, contacts, hover_orders, hover_contacts, kinds, t("customer.chart.timeline"),
        t("customer.chart.amount_axis", currency=cur), t("customer.chart.contacts_axis"))
    chart(charts.money_axis(fig, "y", orders["amount"].to_numpy(), language, cur), key="customer_timeline")
    if contacts.empty:
        st.caption(t("customer.no_contacts"))
    with st.expander(t("customer.purchases_title", count=len(orders))):
        st.dataframe(columns_with_data(orders.assign(order_date=[fmt.day(d) for d in orders["order_date"]])).rename(
            columns=lambda c: t(f"customer.column.{c}")), hide_index=True, width="stretch")
    if not contacts.empty:
        with st.expander(t("customer.contacts_title", count=len(contacts))):
            st.dataframe(columns_with_data(contacts.assign(
                interaction_date=[fmt.day(d) for d in contacts["interaction_date"]], kind=kinds,
                direction=[t(f"customer.directions.{d}") for d in contacts["direction"]],
            )).rename(columns=lambda c: t(f"customer.column.{c}")), hide_index=True, width="stretch")
