"""The workshop report: one self-contained HTML file (plotly.js inline, so its charts work with no network)
and one Excel workbook of its tables, for the chosen scenarios, in one language.

Names reach here already through ui.privacy (the page passes shown_names frames), so workshop mode masks
them in the report as on the screen.
"""
from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from crm_logic.exports import excel_bytes
from crm_logic.i18n import translate
from ui import charts
from ui import format as fmt

KPIS = ("baseline_equity", "scenario_equity", "delta_equity", "investment", "net_gain", "roi", "payback_months",
        "scenario_revenue_12m", "scenario_margin_12m")
MONEY = {"baseline_equity", "scenario_equity", "delta_equity", "investment", "net_gain", "scenario_revenue_12m",
         "scenario_margin_12m"}


def kpi_text(key: str, value, lang: str, currency: str) -> str:
    """A headline figure as people read it."""
    if key in MONEY:
        return fmt.money(value, lang, currency)
    if key == "roi":
        return fmt.pct(value)
    if key == "payback_months":
        return "—" if value is None else translate("whatif.payback_at", lang, months=value)
    return str(value)


def comparison_table(items: list[dict], lang: str, currency: str, formatted: bool = True) -> pd.DataFrame:
    """One row per headline figure, one column per scenario."""
    rows = {}
    for key in KPIS:
        label = translate(f"whatif.kpi.{key}", lang)
        rows[label] = [kpi_text(key, item["result"][key], lang, currency) if formatted else item["result"][key]
                       for item in items]
    frame = pd.DataFrame(rows, index=[item["name"] for item in items]).T
    frame.index.name = translate("whatif.report.figure", lang)
    return frame.reset_index()


def comparison_chart(items: list[dict], lang: str, currency: str) -> go.Figure:
    """Equity gain, investment and net gain of each scenario side by side."""
    frame = pd.DataFrame({"scenario": [i["name"] for i in items],
                          **{k: [i["result"][k] for i in items] for k in ("delta_equity", "investment", "net_gain")}})
    series = {k: translate(f"whatif.kpi.{k}", lang) for k in ("delta_equity", "investment", "net_gain")}
    fig = charts.grouped_bars(frame, "scenario", series, translate("whatif.chart.compare", lang), "",
                              translate("whatif.axis.money", lang, currency=currency))
    for trace, key in zip(fig.data, series):
        trace.hovertext = [f"{i['name']} · {series[key]}: {fmt.money(i['result'][key], lang, currency)}" for i in items]
        trace.hoverinfo, trace.hovertemplate = "text", None
    values = frame[list(series)].to_numpy().ravel()
    return charts.money_axis(fig, "y", values, lang, currency)


PERCENT_LEVERS = ("retention", "frequency", "spend", "price")


def segment_label(key: str, lang: str) -> str:
    from crm_logic.i18n import catalogue

    return catalogue(lang).get(f"segments.segment.{key}", key)


def _scope(lever: dict, lang: str) -> str:
    """"(segments: Loyal; classes: Dealers)" or "" for everyone."""
    from crm_logic.i18n import catalogue

    parts = []
    for key in ("segments", "classes", "regions"):
        if lever.get(key):
            if key == "segments":
                names = [segment_label(v, lang) for v in lever[key]]
            elif key == "classes":
                names = [translate(f"common.classes.{v}", lang) for v in lever[key]]
            else:
                names = [catalogue(lang).get(f"common.regions.{v}", v) for v in lever[key]]
            parts.append(translate(f"whatif.scope.{key}", lang) + ": " + ", ".join(names))
    return f" ({'; '.join(parts)})" if parts else ""


def lever_lines(levers: dict, lang: str, currency: str = "¥") -> list[str]:
    """The moved levers as sentences, e.g. "Retention (less drop-out): +5.0% (classes: Dealers)"."""
    from crm_logic.scenarios import moved_levers

    moved, lines = moved_levers(levers), []
    tr = lambda key, **kw: translate(f"whatif.{key}", lang, **kw)  # noqa: E731
    for key in PERCENT_LEVERS:
        if key in moved:
            lines.append(f"{tr('lever.' + key)}: {moved[key]:+.1%}{_scope(moved, lang)}")
    if "price" in moved:
        lines.append(f"{tr('lever.elasticity')}: {moved.get('elasticity', -1.5):.2f}")
    if "margin" in moved:
        lines.append(f"{tr('lever.margin')}: {moved['margin'] * 100:+.1f} {tr('points')}")
    if "monthly_discount" in moved:
        lines.append(f"{tr('lever.monthly_discount')}: {moved['monthly_discount']:.1%}")
    if "horizon_months" in moved:
        lines.append(f"{tr('lever.horizon_months')}: {tr('months', months=moved['horizon_months'])}")
    if moved.get("new_customers_per_month"):
        lines.append(tr("acquisition_line", customers=fmt.count(moved["new_customers_per_month"]),
                        months=moved.get("acquisition_months", 12),
                        cost=fmt.money_full(moved.get("acquisition_cost", 0.0), currency)))
    for programme in moved.get("programmes", []):
        costs = {"reward_share": fmt.pct(programme.get("reward_share", 0.0)),
                 "cost_per_member": fmt.money_full(programme.get("cost_per_member", 0.0), currency),
                 "cost_per_contact": fmt.money_full(programme.get("cost_per_contact", 0.0), currency),
                 "contacts_per_year": programme.get("contacts_per_year", 0.0),
                 "cost_per_alliance": fmt.money_full(programme.get("cost_per_alliance", 0.0), currency),
                 "alliances": programme.get("alliances") or tr("every_member")}
        effects = ", ".join(f"{tr('lever.' + e)} {programme[e]:+.1%}" for e in ("retention", "frequency", "spend")
                            if programme.get(e))
        lines.append(tr(f"programme_line.{programme['level']}", **costs, effects=effects or "—")
                     + _scope(programme, lang))
    for move in moved.get("moves", []):
        lines.append(tr("move_line", share=fmt.pct(move["share"]), source=segment_label(move["from"], lang),
                        target=segment_label(move["to"], lang)))
    return lines


def report_html(items: list[dict], lang: str, currency: str, context: dict) -> bytes:
    """The whole report. `items`: [{name, description, author, levers, result, waterfall_fig, tornado_fig,
    segments, gainers}] with frames already translated and names already shown as allowed."""
    tr = lambda key, **kw: translate(f"whatif.report.{key}", lang, **kw)  # noqa: E731
    parts, first = [], True

    def figure(fig: go.Figure) -> str:
        nonlocal first
        out = fig.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False})
        first = False
        return out

    def table(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False, escape=True, border=0, classes="t", float_format=lambda v: f"{v:,.2f}")

    parts.append(f"<h1>{html.escape(tr('title'))}</h1>")
    parts.append(f"<p>{html.escape(tr('made', when=datetime.now().strftime('%Y-%m-%d %H:%M'), **context))}</p>")
    parts.append(f"<h2>{html.escape(tr('comparison'))}</h2>")
    parts.append(table(comparison_table(items, lang, currency)))
    parts.append(figure(comparison_chart(items, lang, currency)))
    for item in items:
        parts.append(f"<h2>{html.escape(item['name'])}</h2>")
        byline = " · ".join(x for x in (item.get("author"), item.get("description")) if x)
        if byline:
            parts.append(f"<p>{html.escape(byline)}</p>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lever_lines(item["levers"], lang, currency))
                     + "</ul>")
        parts.append(figure(item["waterfall_fig"]))
        parts.append(figure(item["tornado_fig"]))
        parts.append(f"<h3>{html.escape(tr('segments'))}</h3>" + table(item["segments"]))
        parts.append(f"<h3>{html.escape(tr('gainers'))}</h3>" + table(item["gainers"]))
    style = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;max-width:1200px}"
             ".t{border-collapse:collapse}.t td,.t th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}")
    page = (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(tr('title'))}</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    return page.encode("utf-8")


def report_workbook(items: list[dict], lang: str, currency: str, context: dict) -> bytes:
    """The report's tables: the comparison (numbers, not text), each scenario's levers, segments, gainers,
    and a sheet saying what it was made with."""
    tr = lambda key, **kw: translate(f"whatif.report.{key}", lang, **kw)  # noqa: E731
    sheets = {tr("comparison"): comparison_table(items, lang, currency, formatted=False)}
    for number, item in enumerate(items, 1):
        sheets[f"{number} {tr('levers')}"] = pd.DataFrame({item["name"]: lever_lines(item["levers"], lang, currency) or ["—"]})
        sheets[f"{number} {tr('segments')}"] = item["segments"]
        sheets[f"{number} {tr('gainers')}"] = item["gainers"]
    sheets[tr("about")] = pd.DataFrame({tr("about"): [tr("made", when=datetime.now().strftime("%Y-%m-%d %H:%M"),
                                                        **context)]})
    return excel_bytes(sheets)
