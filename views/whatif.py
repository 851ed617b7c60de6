"""What if: move the levers, watch customer equity move, keep and compare scenarios, take a report home."""
import threading

import numpy as np
import streamlit as st

from crm_logic import scenarios
from crm_logic.models import ModelError
from crm_logic.store import CUSTOMER_CLASSES
from ui import charts, privacy, report, state
from ui import format as fmt
from ui.i18n import group_label, labeller, lang, pinned_language, t
from ui.widgets import chart, empty_state, kpi

K = "keep_whatif_"  # every lever lives in session state under this prefix: it outlives the page
PERCENT = ("retention", "frequency", "spend")
LEVELS = (1, 2, 3)
COSTS = {1: (("reward_share", 0.0, 20.0, 0.5),), 2: (("cost_per_member", 0.0, None, 10.0), ("contacts_per_year", 0.0, 52.0, 1.0),
                                                     ("cost_per_contact", 0.0, None, 5.0)),
         3: (("cost_per_alliance", 0.0, None, 1000.0), ("alliances", 0.0, None, 1.0))}


@st.cache_resource(show_spinner=False, max_entries=8)
def prepared(path: str, version: int, settings, _facts, _values):
    """The base compressed for lever changes (per base, data version and settings)."""
    groups = scenarios.customer_groups(state.open_base(path), _values, _facts.as_of)
    return scenarios.prepare(_facts, settings, groups)


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
        if str(key).startswith(K) and key not in (K + "author",):
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


st.title(t("whatif.title"))
as_of = state.as_of()
if as_of is None:
    empty_state("whatif.empty")
    st.stop()
cur, language, store = state.currency(), lang(), state.current_store()
settings = state.clv_settings()
try:
    with st.spinner(t("whatif.preparing")):
        facts = state.customer_facts(settings)
        values = state.customer_values(settings)
        base = prepared(str(store.path), store.dataset_version, settings, facts, values)
except ModelError as error:
    empty_state(f"clv.error.{error.key}")
    st.stop()

# a scenario opened by URL (?scenario=<id>) or by a button: its levers go into the widgets before they are drawn
wanted = st.session_state.pop("whatif_open", None) or st.query_params.get("scenario")
if wanted and st.session_state.get("whatif_opened") != wanted:
    kept = scenarios.get_scenario(store, wanted)
    if kept is not None:
        state_from_levers(kept["levers"], settings)
        st.session_state["whatif_opened"] = wanted
        st.session_state["whatif_name"] = kept["name"]

model_name = t(f"clv.model.{facts.choice.model}")
st.caption(t("whatif.caption", months=settings.horizon_months, discount=settings.monthly_discount,
             margin=settings.default_margin, model=model_name, as_of=fmt.day(as_of)))
with st.expander(t("whatif.how_title")):
    st.markdown(t("whatif.how.bg_nbd" if facts.choice.model != "pareto_nbd" else "whatif.how.pareto_nbd"))
    st.markdown(t("whatif.how.common"))

has_segments = base.has("rfm_segment")
segment_options = sorted(base.customers["rfm_segment"].dropna().unique()) if has_segments else []
class_options = [c for c in CUSTOMER_CLASSES if c in set(base.customers["customer_class"].dropna())]
region_options = sorted(base.customers["region"].dropna().unique()) if base.has("region") else []
segment_name = lambda key: report.segment_label(key, language)  # noqa: E731


def scope_inputs(prefix: str, regions: bool = True) -> None:
    columns = st.columns(3 if regions else 2)
    if has_segments:
        columns[0].multiselect(t("whatif.scope.segments"), segment_options, key=prefix + "segments",
                               format_func=segment_name, placeholder=t("whatif.scope.everyone"))
    if class_options:
        columns[1].multiselect(t("whatif.scope.classes"), class_options, key=prefix + "classes",
                               format_func=labeller("common.classes"), placeholder=t("whatif.scope.everyone"))
    if regions and region_options:
        columns[2].multiselect(t("whatif.scope.regions"), region_options, key=K + "regions",
                               format_func=lambda r: group_label("region", r), placeholder=t("whatif.scope.everyone"))


behaviour, money, acquisition, programmes, moves = st.tabs(
    [t("whatif.tab.behaviour"), t("whatif.tab.money"), t("whatif.tab.acquisition"), t("whatif.tab.programmes"),
     t("whatif.tab.moves")])
with behaviour:
    c1, c2, c3 = st.columns(3)
    for column, key in zip((c1, c2, c3), PERCENT):
        column.slider(t(f"whatif.lever.{key}") + " (%)", -50, 50, 0, key=K + key, help=t(f"whatif.help.{key}"))
    scope_inputs(K)
with money:
    c1, c2, c3 = st.columns(3)
    c1.slider(t("whatif.lever.price") + " (%)", -30, 30, 0, key=K + "price", help=t("whatif.help.price"))
    c2.number_input(t("whatif.lever.elasticity"), -5.0, 0.0, -1.5, step=0.1, key=K + "elasticity",
                    help=t("whatif.help.elasticity"))
    c3.slider(t("whatif.lever.margin") + f" ({t('whatif.points')})", -10.0, 10.0, 0.0, step=0.5, key=K + "margin",
              help=t("whatif.help.margin"))
    c1, c2 = st.columns(2)
    c1.number_input(t("whatif.lever.monthly_discount") + " (%)", 0.0, 10.0, settings.monthly_discount * 100, step=0.1,
                    format="%.1f", key=K + "discount", help=t("whatif.help.monthly_discount"))
    c2.slider(t("whatif.lever.horizon_months"), 3, 60, settings.horizon_months, step=3, key=K + "horizon",
              help=t("whatif.help.horizon_months"))
with acquisition:
    c1, c2, c3 = st.columns(3)
    c1.number_input(t("whatif.lever.new_customers_per_month"), 0.0, None, 0.0, step=10.0, key=K + "new_customers")
    c2.number_input(t("whatif.lever.acquisition_cost") + f" ({cur})", 0.0, None, 0.0, step=50.0,
                    key=K + "acquisition_cost")
    c3.slider(t("whatif.lever.acquisition_months"), 1, 36, 12, key=K + "acquisition_months")
    st.caption(t("whatif.help.acquisition", value=fmt.money(base.baseline.new_customer_value, language, cur)))
with programmes:
    st.caption(t("whatif.help.programmes"))
    for level in LEVELS:
        with st.container(border=True):
            st.toggle(t(f"whatif.level.{level}"), key=f"{K}p{level}_on", help=t(f"whatif.level_help.{level}"))
            if not st.session_state.get(f"{K}p{level}_on"):
                continue
            columns = st.columns(len(COSTS[level]) + 3)
            for column, (key, low, high, step) in zip(columns, COSTS[level]):
                unit = "%" if key == "reward_share" else ("" if key in ("contacts_per_year", "alliances") else cur)
                column.number_input(t(f"whatif.cost.{key}") + (f" ({unit})" if unit else ""), low, high, low,
                                    step=step, key=f"{K}p{level}_{key}")
            for column, effect in zip(columns[len(COSTS[level]):], PERCENT):
                column.number_input(t(f"whatif.lever.{effect}") + " (%)", -50.0, 50.0, 0.0, step=1.0,
                                    key=f"{K}p{level}_{effect}")
            scope_inputs(f"{K}p{level}_", regions=False)
with moves:
    if not has_segments:
        st.info(t("whatif.no_segments"))
    else:
        c1, c2, c3 = st.columns(3)
        c1.selectbox(t("whatif.move.from"), segment_options, key=K + "move_from", format_func=segment_name,
                     index=segment_options.index("at_risk") if "at_risk" in segment_options else 0)
        c2.selectbox(t("whatif.move.to"), segment_options, key=K + "move_to", format_func=segment_name,
                     index=segment_options.index("loyal") if "loyal" in segment_options else 0)
        c3.slider(t("whatif.move.share") + " (%)", 0, 100, 0, key=K + "move_share", help=t("whatif.help.moves"))

try:
    levers = levers_from_state(settings)
    result = scenarios.simulate(base, levers)
except ValueError as error:
    st.error(t("whatif.bad_levers", reason=str(error)))
    st.stop()

# ---------------------------------------------------------------- results
money_text = lambda v: fmt.money(v, language, cur)  # noqa: E731
st.subheader(t("whatif.results"))
row = st.columns(3)
kpi(row[0], "whatif.kpi.delta_equity", money_text(result["delta_equity"]), "whatif.kpi_help.delta_equity",
    fmt.change(result["scenario_equity"], result["baseline_equity"]),
    baseline=money_text(result["baseline_equity"]), scenario=money_text(result["scenario_equity"]))
kpi(row[1], "whatif.kpi.scenario_revenue_12m", money_text(result["scenario_revenue_12m"]),
    "whatif.kpi_help.revenue_12m", fmt.change(result["scenario_revenue_12m"], result["baseline_revenue_12m"]),
    baseline=money_text(result["baseline_revenue_12m"]))
kpi(row[2], "whatif.kpi.scenario_margin_12m", money_text(result["scenario_margin_12m"]),
    "whatif.kpi_help.margin_12m", fmt.change(result["scenario_margin_12m"], result["baseline_margin_12m"]),
    baseline=money_text(result["baseline_margin_12m"]))
row = st.columns(3)
kpi(row[0], "whatif.kpi.investment", money_text(result["investment"]), "whatif.kpi_help.investment")
kpi(row[1], "whatif.kpi.roi", fmt.pct(result["roi"]), "whatif.kpi_help.roi", net=money_text(result["net_gain"]))
kpi(row[2], "whatif.kpi.payback_months", report.kpi_text("payback_months", result["payback_months"], language, cur),
    "whatif.kpi_help.payback_months")

normal = scenarios.normalise(levers)
for number, programme in enumerate(normal["programmes"]):
    if result["programme_costs"][number] <= 0:
        continue
    needed = scenarios.break_even(base, levers, "retention", programme=number)
    label = t(f"whatif.level.{programme['level']}")
    st.markdown(t("whatif.break_even", programme=label, share=fmt.pct(needed)) if needed is not None
                else t("whatif.break_even_none", programme=label))
if normal["new_customers_per_month"] and normal["acquisition_cost"]:
    st.markdown(t("whatif.acquisition_pays" if normal["acquisition_cost"] < result["new_customer_value"]
                  else "whatif.acquisition_loses", value=money_text(result["new_customer_value"]),
                  cost=money_text(normal["acquisition_cost"])))


def waterfall_figure(steps, language):
    labels = [t(f"whatif.step.{s['key']}") for s in steps]
    values = [s["value"] for s in steps]
    text = [money_text(v) if i in (0, len(values) - 1) else f"{'+' if v >= 0 else ''}{money_text(v)}"
            for i, v in enumerate(values)]
    fig = charts.waterfall(labels, values, text, t("whatif.chart.waterfall"), t("whatif.axis.money", currency=cur))
    levels = np.cumsum(values[:-1])
    return charts.zoomed_money_axis(fig, "y", float(min(levels.min(), values[-1])),
                                    float(max(levels.max(), values[-1])), language, cur)


def tornado_figure(frame):
    labels = [t(f"whatif.lever.{k}") for k in frame["lever"]]
    hover = lambda side, sign: [f"{label} {sign}10%: {money_text(v)}" for label, v in zip(labels, frame[side])]  # noqa: E731
    fig = charts.tornado(labels, list(frame["low"]), list(frame["high"]), hover("low", "−"), hover("high", "+"),
                         t("whatif.tornado_low"), t("whatif.tornado_high"), t("whatif.chart.tornado"),
                         t("whatif.axis.delta", currency=cur))
    return charts.money_axis(fig, "x", frame[["low", "high"]].to_numpy().ravel(), language, cur)


MONEY_COLUMNS = ("baseline", "scenario", "delta", "baseline_clv", "scenario_clv")


def money_table(frame, key):
    """A table with its money columns in the base's currency (columns already translated)."""
    config = {t(f"whatif.column.{c}"): st.column_config.NumberColumn(format=f"{cur}%,.0f") for c in MONEY_COLUMNS}
    st.dataframe(frame, hide_index=True, key=key, column_config=config)


def segments_frame(levers):
    column = "rfm_segment" if has_segments else "customer_class"
    frame = scenarios.by_segment(base, levers, column).round({"baseline": 2, "scenario": 2, "delta": 2})
    label = segment_name if has_segments else (lambda g: group_label("customer_class", g))
    return frame.assign(group=[label(g) for g in frame["group"]]).rename(
        columns={c: t(f"whatif.column.{c}") for c in frame.columns})


def gainers_frame(levers, masked=None):
    frame = privacy.shown_names(scenarios.top_gainers(base, levers), masked).round(
        {"baseline_clv": 2, "scenario_clv": 2, "delta": 2})
    if "customer_class" in frame:
        frame["customer_class"] = [t(f"common.classes.{c}") if isinstance(c, str) else "" for c in frame["customer_class"]]
    if "region" in frame:
        frame["region"] = [group_label("region", r) if isinstance(r, str) else "" for r in frame["region"]]
    if "rfm_segment" in frame:
        frame["rfm_segment"] = [segment_name(s) if isinstance(s, str) else "" for s in frame["rfm_segment"]]
    return frame.rename(columns={c: t(f"whatif.column.{c}") for c in frame.columns})


steps = scenarios.waterfall(base, levers)
tab_bridge, tab_sensitivity, tab_who, tab_kept, tab_report = st.tabs(
    [t("whatif.tab.waterfall"), t("whatif.tab.sensitivity"), t("whatif.tab.who"), t("whatif.tab.kept"),
     t("whatif.tab.report")])
with tab_bridge:
    chart(waterfall_figure(steps, language), key="whatif_waterfall")
with tab_sensitivity:
    st.caption(t("whatif.tornado_caption"))
    if st.toggle(t("whatif.tornado_show"), key="whatif_tornado_on"):  # fourteen evaluations: on request
        chart(tornado_figure(scenarios.sensitivity(base, levers)), key="whatif_tornado")
with tab_who:
    left, right = st.columns(2)
    with left:
        st.markdown("**" + t("whatif.segments_title") + "**")
        money_table(segments_frame(levers), "whatif_segments")
    with right:
        st.markdown("**" + t("whatif.gainers_title") + "**")
        money_table(gainers_frame(levers), "whatif_gainers")


def item(name, description, author, kept_levers, masked=None):
    """A scenario for the comparison and the report, computed on the current base and settings."""
    return {"name": name, "description": description, "author": author, "levers": kept_levers,
            "result": scenarios.simulate(base, kept_levers),
            "waterfall_fig": waterfall_figure(scenarios.waterfall(base, kept_levers), language),
            "tornado_fig": tornado_figure(scenarios.sensitivity(base, kept_levers)),
            "segments": segments_frame(kept_levers), "gainers": gainers_frame(kept_levers, masked)}


kept = scenarios.list_scenarios(store)
names = dict(zip(kept["scenario_id"], kept["name"]))
with tab_kept:
    with st.form("whatif_save", border=True):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(t("whatif.save.name"), key="whatif_name")
        description = c2.text_input(t("whatif.save.description"), key="whatif_description")
        author = c3.text_input(t("whatif.save.author"), key=K + "author")
        if st.form_submit_button(t("whatif.save.button"), icon=":material/save:"):
            if not name.strip():
                st.warning(t("whatif.save.need_name"))
            else:
                new = scenarios.save_scenario(store, name.strip(), levers, result, description, author)
                st.session_state["whatif_opened"] = new
                st.query_params["scenario"] = new
                st.rerun()
    if kept.empty:
        st.info(t("whatif.none_kept"))
    else:
        listing = kept.assign(
            created_at=[f"{c:%Y-%m-%d %H:%M}" for c in kept["created_at"]],
            delta_equity=[money_text(r.get("delta_equity")) for r in kept["results"]],
            roi=[fmt.pct(r.get("roi")) for r in kept["results"]],
            stale=[t("whatif.stale") if s else "" for s in kept["stale"]],
        )[["name", "author", "created_at", "delta_equity", "roi", "stale", "description"]]
        st.dataframe(listing.rename(columns={c: t(f"whatif.column.{c}") for c in listing.columns}), hide_index=True,
                     key="whatif_kept")
        c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 1], vertical_alignment="bottom")
        chosen = c1.selectbox(t("whatif.kept.choose"), list(names), format_func=names.get, key="whatif_chosen")
        if c2.button(t("whatif.kept.open"), key="whatif_open_button"):
            st.session_state["whatif_open"] = chosen
            st.session_state.pop("whatif_opened", None)
            st.query_params["scenario"] = chosen
            st.rerun()
        if c3.button(t("whatif.kept.duplicate"), key="whatif_duplicate"):
            scenarios.duplicate_scenario(store, chosen, t("whatif.kept.copy_of", name=names[chosen]))
            st.rerun()
        if c4.button(t("whatif.kept.recompute"), key="whatif_recompute", disabled=not bool(kept["stale"].any())):
            for row_ in kept[kept["stale"]].itertuples():
                scenarios.update_results(store, row_.scenario_id, scenarios.simulate(base, row_.levers))
            st.rerun()
        if c5.button(t("whatif.kept.delete"), key="whatif_delete", type="primary"):
            scenarios.delete_scenario(store, chosen)
            if st.query_params.get("scenario") == chosen:
                del st.query_params["scenario"]
            st.rerun()
        st.markdown("**" + t("whatif.compare_title") + "**")
        compared = st.multiselect(t("whatif.compare_choose"), list(names), format_func=names.get, max_selections=4,
                                  key="whatif_compare")
        if compared:
            by_id = kept.set_index("scenario_id")
            items = [{"name": names[i], "result": scenarios.simulate(base, by_id.loc[i, "levers"])} for i in compared]
            st.dataframe(report.comparison_table(items, language, cur), hide_index=True, key="whatif_compare_table")
            chart(report.comparison_chart(items, language, cur), key="whatif_compare_chart")

with tab_report:
    options = ["current"] + list(names)
    chosen_ids = st.multiselect(t("whatif.report_choose"), options, default=["current"], max_selections=4,
                                format_func=lambda i: t("whatif.current") if i == "current" else names[i],
                                key="whatif_report_choice")
    if chosen_ids:
        by_id = kept.set_index("scenario_id")
        wanted = [(t("whatif.current"), "", st.session_state.get(K + "author", ""), levers) if i == "current" else
                  (names[i], by_id.loc[i, "description"], by_id.loc[i, "author"], by_id.loc[i, "levers"])
                  for i in chosen_ids]
        context = {"base": store.name, "as_of": fmt.day(as_of), "model": model_name,
                   "months": settings.horizon_months, "discount": fmt.pct(settings.monthly_discount)}
        masked, built, building = privacy.workshop_mode(), {}, threading.Lock()

        def build(write):
            """One click: the report is computed when a download is clicked (slow at a million customers, so
            never on a lever move), once for both files. It runs off the script's thread, where session state
            is not at hand: the language and workshop mode are the ones on the screen."""
            with building, pinned_language(language):
                if "items" not in built:
                    built["items"] = [item(*one, masked=masked) for one in wanted]
                return write(built["items"], language, cur, context)

        c1, c2 = st.columns(2)
        c1.download_button(t("whatif.download_html"), lambda: build(report.report_html),
                           file_name="whatif_report.html", mime="text/html", key="whatif_html",
                           icon=":material/download:", on_click="ignore")
        c2.download_button(t("whatif.download_excel"), lambda: build(report.report_workbook),
                           file_name="whatif_report.xlsx", key="whatif_xlsx", icon=":material/download:",
                           on_click="ignore", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
