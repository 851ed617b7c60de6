"""The What-if page's results for people: figures, translated tables and the report's scenarios, built from
the engine's results (crm_logic.scenarios remembers those per scenario, so a rerun that moves no lever
computes nothing again)."""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np
import pandas as pd
import streamlit as st

from crm_logic import scenarios
from ui import charts, privacy, report
from ui import format as fmt
from ui.i18n import group_label, pinned_language, t

MONEY_COLUMNS = ("baseline", "scenario", "delta", "baseline_clv", "scenario_clv")


def translated(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its column names in the reader's language."""
    return frame.rename(columns={c: t(f"whatif.column.{c}") for c in frame.columns})


def money_columns(currency: str) -> dict:
    """Column formats for a translated table: its money columns in the base's currency."""
    return {t(f"whatif.column.{c}"): st.column_config.NumberColumn(format=f"{currency}%,.0f") for c in MONEY_COLUMNS}


def waterfall_figure(steps: list[dict], language: str, currency: str):
    """From baseline to scenario, one bar per moved lever, the axis zoomed onto where the bars move."""
    labels = [t(f"whatif.step.{s['key']}") for s in steps]
    values = [s["value"] for s in steps]
    money = [fmt.money(v, language, currency) for v in values]
    text = [m if i in (0, len(values) - 1) else ("+" if v >= 0 else "") + m
            for i, (v, m) in enumerate(zip(values, money))]
    fig = charts.waterfall(labels, values, text, t("whatif.chart.waterfall"), t("whatif.axis.money", currency=currency))
    levels = np.cumsum(values[:-1])
    return charts.zoomed_money_axis(fig, "y", float(min(levels.min(), values[-1])),
                                    float(max(levels.max(), values[-1])), language, currency)


def tornado_figure(frame: pd.DataFrame, language: str, currency: str):
    """How far each lever at ±10 % moves customer equity."""
    labels = [t(f"whatif.lever.{k}") for k in frame["lever"]]

    def hover(side: str, sign: str) -> list[str]:
        return [f"{label} {sign}10%: {fmt.money(v, language, currency)}" for label, v in zip(labels, frame[side])]

    fig = charts.tornado(labels, list(frame["low"]), list(frame["high"]), hover("low", "−"), hover("high", "+"),
                         t("whatif.tornado_low"), t("whatif.tornado_high"), t("whatif.chart.tornado"),
                         t("whatif.axis.delta", currency=currency))
    return charts.money_axis(fig, "x", frame[["low", "high"]].to_numpy().ravel(), language, currency)


def segments_frame(base: scenarios.Base, levers: dict, language: str) -> pd.DataFrame:
    """Equity per RFM segment (per customer class in a base without segments), before and after."""
    by_segment = base.has("rfm_segment")
    frame = scenarios.by_segment(base, levers, "rfm_segment" if by_segment else "customer_class").round(
        {"baseline": 2, "scenario": 2, "delta": 2})
    label = ((lambda g: report.segment_label(g, language)) if by_segment
             else (lambda g: group_label("customer_class", g)))
    return translated(frame.assign(group=[label(g) for g in frame["group"]]))


def gainers_frame(base: scenarios.Base, levers: dict, language: str, masked: bool | None = None) -> pd.DataFrame:
    """The customers who gain most, their names as workshop mode allows and their groups named."""
    frame = privacy.shown_names(scenarios.top_gainers(base, levers), masked).round(
        {"baseline_clv": 2, "scenario_clv": 2, "delta": 2})
    names = {"customer_class": lambda c: t(f"common.classes.{c}"), "region": lambda r: group_label("region", r),
             "rfm_segment": lambda s: report.segment_label(s, language)}
    for column, name in names.items():
        if column in frame:
            frame[column] = [name(v) if isinstance(v, str) else "" for v in frame[column]]
    return translated(frame)


def break_even_lines(base: scenarios.Base, levers: dict, result: dict, currency: str, language: str) -> list[str]:
    """Sentences on what pays: each costly programme's break-even retention, and whether a new customer is
    worth what acquiring one costs."""
    lines, normal = [], scenarios.normalise(levers)
    for number, programme in enumerate(normal["programmes"]):
        if result["programme_costs"][number] <= 0:
            continue
        needed = scenarios.break_even(base, levers, "retention", programme=number)
        label = t(f"whatif.level.{programme['level']}")
        lines.append(t("whatif.break_even", programme=label, share=fmt.pct(needed)) if needed is not None
                     else t("whatif.break_even_none", programme=label))
    if normal["new_customers_per_month"] and normal["acquisition_cost"]:
        lines.append(t("whatif.acquisition_pays" if normal["acquisition_cost"] < result["new_customer_value"]
                       else "whatif.acquisition_loses",
                       value=fmt.money(result["new_customer_value"], language, currency),
                       cost=fmt.money(normal["acquisition_cost"], language, currency)))
    return lines


def kept_listing(kept: pd.DataFrame, language: str, currency: str) -> pd.DataFrame:
    """The kept scenarios as a translated table: name, author, when, gain, ROI, whether stale, description."""
    listing = kept.assign(
        created_at=[f"{c:%Y-%m-%d %H:%M}" for c in kept["created_at"]],
        delta_equity=[fmt.money(r.get("delta_equity"), language, currency) for r in kept["results"]],
        roi=[fmt.pct(r.get("roi")) for r in kept["results"]],
        stale=[t("whatif.stale") if s else "" for s in kept["stale"]],
    )[["name", "author", "created_at", "delta_equity", "roi", "stale", "description"]]
    return translated(listing)


def report_item(base: scenarios.Base, name: str, description: str, author: str, levers: dict, language: str,
                currency: str, masked: bool) -> dict:
    """One scenario of the report, computed on the current base and settings."""
    return {"name": name, "description": description, "author": author, "levers": levers,
            "result": scenarios.simulate(base, levers),
            "waterfall_fig": waterfall_figure(scenarios.waterfall(base, levers), language, currency),
            "tornado_fig": tornado_figure(scenarios.sensitivity(base, levers), language, currency),
            "segments": segments_frame(base, levers, language),
            "gainers": gainers_frame(base, levers, language, masked)}


def report_builder(base: scenarios.Base, wanted: list[tuple], language: str, currency: str, masked: bool,
                   context: dict) -> Callable:
    """`build(write)` for the download buttons: the report is computed when a download is clicked (slow at
    a million customers, so never on a lever move), once for both files. It runs off the script's thread,
    where session state is not at hand: the language and workshop mode are the ones on the screen.
    `wanted`: (name, description, author, levers) per scenario."""
    built, building = {}, threading.Lock()

    def build(write: Callable) -> bytes:
        with building, pinned_language(language):
            if "items" not in built:
                built["items"] = [report_item(base, *one, language, currency, masked) for one in wanted]
            return write(built["items"], language, currency, context)

    return build
