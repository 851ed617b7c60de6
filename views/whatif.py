"""What if: move the levers, watch customer equity move, keep and compare scenarios, take a report home."""
import streamlit as st

from crm_logic import scenarios
from crm_logic.models import ModelError
from ui import privacy, report, state
from ui import format as fmt
from ui.i18n import group_label, labeller, lang, t
from ui.page import titled_page
from ui.whatif_levers import AUTHOR, COSTS, K, LEVELS, PERCENT, cost_unit, levers_from_state, open_wanted, \
    prepared_base, scope_options
from ui.whatif_results import break_even_lines, gainers_frame, kept_listing, money_columns, report_builder, \
    segments_frame, tornado_figure, waterfall_figure
from ui.widgets import chart, empty_state, kpi

as_of = titled_page("whatif")
cur, language, store = state.currency(), lang(), state.current_store()
settings = state.clv_settings()
try:
    with st.spinner(t("whatif.preparing")):
        facts = state.customer_facts(settings)
        base = prepared_base(settings, facts)
except ModelError as error:
    empty_state(f"clv.error.{error.key}")
    st.stop()
open_wanted(store, settings)

model_name = t(f"clv.model.{facts.choice.model}")
st.caption(t("whatif.caption", months=settings.horizon_months, discount=settings.monthly_discount,
             margin=settings.default_margin, model=model_name, as_of=fmt.day(as_of)))
with st.expander(t("whatif.how_title")):
    st.markdown(t("whatif.how.bg_nbd" if facts.choice.model != "pareto_nbd" else "whatif.how.pareto_nbd"))
    st.markdown(t("whatif.how.common"))

options = scope_options(base)
segment_name = lambda key: report.segment_label(key, language)  # noqa: E731


def scope_inputs(prefix: str, regions: bool = True) -> None:
    columns = st.columns(3 if regions else 2)
    if options["segments"]:
        columns[0].multiselect(t("whatif.scope.segments"), options["segments"], key=prefix + "segments",
                               format_func=segment_name, placeholder=t("whatif.scope.everyone"))
    if options["classes"]:
        columns[1].multiselect(t("whatif.scope.classes"), options["classes"], key=prefix + "classes",
                               format_func=labeller("common.classes"), placeholder=t("whatif.scope.everyone"))
    if regions and options["regions"]:
        columns[2].multiselect(t("whatif.scope.regions"), options["regions"], key=K + "regions",
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
                unit = cost_unit(key, cur)
                column.number_input(t(f"whatif.cost.{key}") + (f" ({unit})" if unit else ""), low, high, low,
                                    step=step, key=f"{K}p{level}_{key}")
            for column, effect in zip(columns[len(COSTS[level]):], PERCENT):
                column.number_input(t(f"whatif.lever.{effect}") + " (%)", -50.0, 50.0, 0.0, step=1.0,
                                    key=f"{K}p{level}_{effect}")
            scope_inputs(f"{K}p{level}_", regions=False)
with moves:
    segment_options = options["segments"]
    if not segment_options:
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

for line in break_even_lines(base, levers, result, cur, language):
    st.markdown(line)

tab_bridge, tab_sensitivity, tab_who, tab_kept, tab_report = st.tabs(
    [t("whatif.tab.waterfall"), t("whatif.tab.sensitivity"), t("whatif.tab.who"), t("whatif.tab.kept"),
     t("whatif.tab.report")])
with tab_bridge:
    chart(waterfall_figure(scenarios.waterfall(base, levers), language, cur), key="whatif_waterfall")
with tab_sensitivity:
    st.caption(t("whatif.tornado_caption"))
    if st.toggle(t("whatif.tornado_show"), key="whatif_tornado_on"):  # fourteen evaluations: on request
        chart(tornado_figure(scenarios.sensitivity(base, levers), language, cur), key="whatif_tornado")
with tab_who:
    left, right = st.columns(2)
    with left:
        st.markdown("**" + t("whatif.segments_title") + "**")
        st.dataframe(segments_frame(base, levers, language), hide_index=True, key="whatif_segments",
                     column_config=money_columns(cur))
    with right:
        st.markdown("**" + t("whatif.gainers_title") + "**")
        st.dataframe(gainers_frame(base, levers, language), hide_index=True, key="whatif_gainers",
                     column_config=money_columns(cur))

kept = scenarios.list_scenarios(store)
names = dict(zip(kept["scenario_id"], kept["name"]))
with tab_kept:
    with st.form("whatif_save", border=True):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(t("whatif.save.name"), key="whatif_name")
        description = c2.text_input(t("whatif.save.description"), key="whatif_description")
        author = c3.text_input(t("whatif.save.author"), key=AUTHOR)
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
        st.dataframe(kept_listing(kept, language, cur), hide_index=True, key="whatif_kept")
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
    chosen_ids = st.multiselect(t("whatif.report_choose"), ["current", *names], default=["current"], max_selections=4,
                                format_func=lambda i: t("whatif.current") if i == "current" else names[i],
                                key="whatif_report_choice")
    if chosen_ids:
        by_id = kept.set_index("scenario_id")
        wanted = [(t("whatif.current"), "", st.session_state.get(AUTHOR, ""), levers) if i == "current" else
                  (names[i], by_id.loc[i, "description"], by_id.loc[i, "author"], by_id.loc[i, "levers"])
                  for i in chosen_ids]
        context = {"base": store.name, "as_of": fmt.day(as_of), "model": model_name,
                   "months": settings.horizon_months, "discount": fmt.pct(settings.monthly_discount)}
        build = report_builder(base, wanted, language, cur, privacy.workshop_mode(), context)
        c1, c2 = st.columns(2)
        c1.download_button(t("whatif.download_html"), lambda: build(report.report_html),
                           file_name="whatif_report.html", mime="text/html", key="whatif_html",
                           icon=":material/download:", on_click="ignore")
        c2.download_button(t("whatif.download_excel"), lambda: build(report.report_workbook),
                           file_name="whatif_report.xlsx", key="whatif_xlsx", icon=":material/download:",
                           on_click="ignore", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
