"""The What-if page's levers: widget state ↔ the engine's lever dict, and the base prepared for them.

Every lever lives in st.session_state under the prefix K, so it outlives the page (app.py keeps "keep_" keys).
"""
from __future__ import annotations

import streamlit as st

from crm_logic import scenarios
from crm_logic.store import CUSTOMER_CLASSES
from ui import state

K = "keep_whatif_"
AUTHOR = K + "author"
PERCENT = ("retention", "frequency", "spend")
LEVELS = (1, 2, 3)
COSTS = {1: (("reward_share", 0.0, 20.0, 0.5),), 2: (("cost_per_member", 0.0, None, 10.0), ("contacts_per_year", 0.0, 52.0, 1.0),
                                                     ("cost_per_contact", 0.0, None, 5.0)),
         3: (("cost_per_alliance", 0.0, None, 1000.0), ("alliances", 0.0, None, 1.0))}


def prepared_base(settings, facts) -> scenarios.Base:
    """The current base compressed for lever changes, once per base, data version and settings. Scopes
    name the segments of the default rules, the table the churn page reads too (computed once for both)."""
    store = state.current_store()
    return _prepared(str(store.path), store.dataset_version, settings, facts, state.default_segments())


@st.cache_resource(show_spinner=False, max_entries=8)
def _prepared(path: str, version: int, settings, _facts, _segments):
    return scenarios.prepare(_facts, settings, scenarios.customer_groups(state.open_base(path), _segments))


def scope_options(base: scenarios.Base) -> dict[str, list[str]]:
    """What each scope can name: segments, classes (in the house order) and regions present in the base."""
    classes = set(base.options("customer_class"))
    return {"segments": base.options("rfm_segment"), "classes": [c for c in CUSTOMER_CLASSES if c in classes],
            "regions": base.options("region")}


def cost_unit(key: str, currency: str) -> str:
    """The unit a programme cost is typed in."""
    return "%" if key == "reward_share" else ("" if key in ("contacts_per_year", "alliances") else currency)


def levers_from_state(settings) -> dict:
    """The levers the widgets hold, as the engine takes them (only what moved)."""
    get = st.session_state.get
    levers = {key: get(K + key, 0) / 100 for key in PERCENT + ("price",)}
    levers["elasticity"] = get(K + "elasticity", -1.5)
    levers["margin"] = get(K + "margin", 0.0) / 100
    for key in scenarios.SCOPE_KEYS:
        levers[key] = list(get(K + key, []))
    discount = get(K + "discount", settings.monthly_discount * 100) / 100
    if abs(discount - settings.monthly_discount) > 1e-12:
        levers["monthly_discount"] = discount
    horizon = get(K + "horizon", settings.horizon_months)
    if horizon != settings.horizon_months:
        levers["horizon_months"] = horizon
    levers["new_customers_per_month"] = get(K + "new_customers", 0.0)
    levers["acquisition_cost"] = get(K + "acquisition_cost", 0.0)
    levers["acquisition_months"] = get(K + "acquisition_months", 12)
    levers["programmes"] = []
    for level in LEVELS:
        if not get(f"{K}p{level}_on"):
            continue
        programme = {"level": level, **{e: get(f"{K}p{level}_{e}", 0.0) / 100 for e in PERCENT}}
        for key, *_ in COSTS[level]:
            value = get(f"{K}p{level}_{key}", 0.0)
            programme[key] = value / 100 if key == "reward_share" else value
        if level == 3 and not programme["alliances"]:
            programme["alliances"] = None  # one per member
        for key in ("segments", "classes"):
            programme[key] = list(get(f"{K}p{level}_{key}", []))
        levers["programmes"].append(programme)
    share = get(K + "move_share", 0)
    if share and get(K + "move_from") and get(K + "move_to"):
        levers["moves"] = [{"from": get(K + "move_from"), "to": get(K + "move_to"), "share": share / 100}]
    if levers["price"] == 0:
        levers["elasticity"] = scenarios.LEVERS["elasticity"]
    return scenarios.moved_levers(levers)


def state_from_levers(levers: dict, settings) -> None:
    """Put saved levers into the widgets (before they are drawn)."""
    for key in list(st.session_state):
        if str(key).startswith(K) and key != AUTHOR:
            del st.session_state[key]
    lv = scenarios.normalise(levers)
    for key in PERCENT + ("price",):
        st.session_state[K + key] = round(lv[key] * 100)
    st.session_state[K + "elasticity"] = lv["elasticity"]
    st.session_state[K + "margin"] = lv["margin"] * 100
    for key in scenarios.SCOPE_KEYS:
        st.session_state[K + key] = lv[key]
    st.session_state[K + "discount"] = (lv["monthly_discount"] if lv["monthly_discount"] is not None
                                        else settings.monthly_discount) * 100
    st.session_state[K + "horizon"] = lv["horizon_months"] or settings.horizon_months
    st.session_state[K + "new_customers"] = lv["new_customers_per_month"]
    st.session_state[K + "acquisition_cost"] = lv["acquisition_cost"]
    st.session_state[K + "acquisition_months"] = lv["acquisition_months"]
    for programme in lv["programmes"]:
        level = programme["level"]
        st.session_state[f"{K}p{level}_on"] = True
        for e in PERCENT:
            st.session_state[f"{K}p{level}_{e}"] = programme[e] * 100
        for key, *_ in COSTS[level]:
            value = programme[key] or 0.0
            st.session_state[f"{K}p{level}_{key}"] = value * 100 if key == "reward_share" else value
        for key in ("segments", "classes"):
            st.session_state[f"{K}p{level}_{key}"] = programme[key]
    for move in lv["moves"][:1]:
        st.session_state[K + "move_from"], st.session_state[K + "move_to"] = move["from"], move["to"]
        st.session_state[K + "move_share"] = round(move["share"] * 100)


def open_wanted(store, settings) -> None:
    """A scenario asked for by URL (?scenario=<id>) or by the Open button: its levers go into the widgets
    before they are drawn, once per request."""
    wanted = st.session_state.pop("whatif_open", None) or st.query_params.get("scenario")
    if not wanted or st.session_state.get("whatif_opened") == wanted:
        return
    kept = scenarios.get_scenario(store, wanted)
    if kept is not None:
        state_from_levers(kept["levers"], settings)
        st.session_state["whatif_opened"] = wanted
        st.session_state["whatif_name"] = kept["name"]
