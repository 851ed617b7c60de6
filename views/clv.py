"""Customer lifetime value: what the base is worth, where the value sits, and why to trust the model."""
import streamlit as st

from crm_logic import equity, scores, validation
from crm_logic.models import ModelError
from ui import charts, state
from ui import format as fmt
from ui.i18n import group_label, labeller, lang, t
from ui.page import titled_page
from ui.privacy import shown_names
from ui.clv_validation import draw_validation
from ui.widgets import chart, customer_table, empty_state, kpi

as_of = titled_page("clv")
cur, language = state.currency(), lang()

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    horizon = c1.slider(t("clv.settings.horizon_months"), 3, 60, 12, step=3, key="keep_clv_horizon",
                        help=t("clv.settings_help.horizon_months"))
    discount = c2.number_input(t("clv_page.discount_percent"), 0.0, 10.0, 1.0, step=0.1, format="%.1f",
                               key="keep_clv_discount", help=t("clv.settings_help.monthly_discount"))
    margin = c3.number_input(t("clv_page.margin_percent"), 1.0, 100.0, 30.0, step=1.0, format="%.0f",
                             key="keep_clv_margin", help=t("clv.settings_help.default_margin"))
    model = c4.selectbox(t("clv.settings.model"), ("auto",) + validation.TRANSACTION_MODELS, key="keep_clv_model",
                         format_func=labeller("clv.model"), help=t("clv.settings_help.model"))
settings = state.clv_settings()  # the same settings, as every page reads them

progress = st.empty()  # drawn only while the facts of this base are being computed
try:
    facts = state.customer_facts(settings, lambda f, stage: progress.progress(
        min(max(f, 0.0), 1.0), text=t(f"clv.stage.{stage}")))
except ModelError as error:
    progress.empty()
    empty_state(f"clv.error.{error.key}")
    st.stop()
progress.empty()

info = scores.facts_info(facts)
summary = state.values_query(equity.clv_figures, settings, "headline")
model_name = t(f"clv.model.{info['model']}")
st.caption(t("clv.caption", months=horizon, as_of=fmt.day(as_of), discount=discount / 100, margin=margin / 100,
             model=model_name))
if info["spend_error"]:
    st.warning(t("clv.spend_missing", reason=t(f"clv.error.{info['spend_error']}")))

row = st.columns(4)
periods = dict(months=horizon, discount=discount / 100, as_of=fmt.day(as_of), customers=fmt.count(summary["customers"]))
kpi(row[0], "clv.kpi.customer_equity", fmt.money(summary["customer_equity"], language, cur),
    "clv.help.customer_equity", **periods)
kpi(row[1], "clv.kpi.mean_clv", fmt.money(summary["mean_clv"], language, cur), "clv.help.mean_clv", **periods)
kpi(row[2], "clv.kpi.top20_share", fmt.pct(summary["top20_share"]), "clv.help.top20_share", **periods)
kpi(row[3], "clv.kpi.mean_p_alive", fmt.pct(summary["mean_p_alive"], 0), "clv.help.mean_p_alive", **periods)

# Only the open tab is computed and drawn: a setting change redraws two charts, not eight.
where, spread, who, trust, classic = st.tabs(
    [t(f"clv_page.tab.{k}") for k in ("where", "spread", "who", "trust", "classic")], key="clv_tab", on_change="rerun")


def equity_bars(frame, split: str) -> None:
    """Equity by customer class, region or decile, largest first, with each group's share on hover."""
    if frame.empty or (frame["group"] == "").all():
        st.info(t(f"clv_page.no_{split}"))
        return
    labels = [group_label(split, g) for g in frame["group"]]
    hover = [t("clv_page.hover_equity", group=lab, equity=fmt.money(r.equity, language, cur), share=fmt.pct(r.share),
               customers=fmt.count(r.customers)) for lab, r in zip(labels, frame.itertuples())]
    fig = charts.ranked_bars(frame.assign(label=labels), "label", "equity", hover, t(f"clv_page.chart.{split}"),
                             t("clv_page.equity_axis", currency=cur), "")
    chart(charts.money_axis(fig, "x", frame["equity"].to_numpy(), language, cur), key=f"equity_{split}")


with where:
    if where.open:
        groups = state.values_query(equity.clv_figures, settings, "groups")
        for split, column in zip(equity.SPLITS, st.columns(2)):
            with column:
                equity_bars(groups[split], split)

with spread:
    if spread.open:
        figures = state.values_query(equity.clv_figures, settings, "spread")
        left, right = st.columns(2)
        with left:
            equity_bars(figures["decile"], "decile")
        hist = figures["histogram"]
        with right:
            fig = charts.histogram(
                list(hist["low"]), list(hist["high"]), list(hist["customers"]),
                [t("clv_page.hover_band_open" if r.open_ended else "clv_page.hover_band",
                   low=fmt.money(r.low, language, cur), high=fmt.money(r.high, language, cur),
                   customers=fmt.count(r.customers)) for r in hist.itertuples()],
                t("clv_page.chart.distribution"), t("clv_page.clv_axis", currency=cur), t("clv_page.customers_axis"),
            )
            chart(charts.money_axis(fig, "x", hist[["low", "high"]].to_numpy().ravel(), language, cur),
                  key="clv_distribution")

with who:
    if who.open:
        top = shown_names(state.values_query(equity.clv_figures, settings, "top"))
        st.subheader(t("clv_page.top_title"))
        st.caption(t("clv_page.top_caption", unit=t("clv.unit.week")))
        top = top.assign(reasons=["、".join(t(f"clv_page.reason.{r}") for r in rs) if language == "zh"
                                  else ", ".join(t(f"clv_page.reason.{r}") for r in rs) for rs in top["reasons"]])
        customer_table(top, "top_customers", cur, height=420)

with trust:
    if trust.open:
        st.subheader(t("clv_page.parameters_title"))
        st.markdown(t(f"clv.reason.{info['choice']['reason']}", model=model_name, **info["choice"]["numbers"]))
        for reading in scores.explain_parameters(info["model"], info["params"], settings.unit):
            st.markdown("- " + t(f"clv.explain.{reading['key']}", **reading["values"]))
        if info["spend_params"]:
            for reading in scores.explain_parameters("gamma_gamma", info["spend_params"], settings.unit):
                st.markdown("- " + t(f"clv.explain.{reading['key']}",
                                     **{k: fmt.money(v, language, cur) for k, v in reading["values"].items()}))
        with st.expander(t("clv_page.raw_parameters")):
            st.dataframe({t(f"clv.param.{k}"): [round(v, 4)] for k, v in {**info["params"],
                         **(info["spend_params"] or {})}.items()}, hide_index=True)
        with st.spinner(t("clv.stage.validation")):
            result = state.validation(as_of, settings.unit)
        if result is None:
            st.info(t("clv.validation.too_short", min_history_days=validation.HOLDOUT_RULES["min_history_days"]))
        else:
            draw_validation(result)

with classic:
    if classic.open:
        st.subheader(t("clv.average.title"))
        st.caption(t("clv.average.formula"))
        a, b = st.columns(2)
        spend = a.number_input(t("clv.average.marketing_spend") + f" ({cur})", 0.0, None, 0.0, step=10000.0,
                               key="keep_clv_marketing")
        retention = b.number_input(t("clv.average.retention_cost") + f" ({cur})", 0.0, None, 0.0, step=10000.0,
                                   key="keep_clv_retention")
        comparison = equity.clv_comparison(state.values_query(equity.clv_figures, settings, "comparison"),
                                            spend, retention)
        average = comparison["average"]
        row = st.columns(4)
        for column, field in zip(row, ("revenue_per_customer", "acquisition_cost_per_customer",
                                       "retention_cost_per_customer", "average_clv")):
            column.metric(t(f"clv.average.{field}"), fmt.money(getattr(average, field), language, cur), border=True)
        if comparison["bridge"]:
            steps = comparison["bridge"]
            chart(charts.waterfall([t(f"clv.bridge.{s['key']}") for s in steps], [s["value"] for s in steps],
                                   [fmt.money(s["value"], language, cur) for s in steps], t("clv.bridge.title"),
                                   t("clv_page.per_customer_axis", currency=cur)), key="clv_bridge")
