"""Numbers for people: 万/亿 in Chinese, K/M/B in English, percentages with one decimal."""
from __future__ import annotations

import math
from datetime import date, datetime

ZH_UNITS = ((1e8, "亿"), (1e4, "万"))
EN_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def compact(value: float, lang: str) -> str:
    """12.3万 / 123.4K: two to three significant digits for KPIs."""
    if _missing(value):
        return "—"
    for size, unit in ZH_UNITS if lang == "zh" else EN_UNITS:
        if abs(value) >= size:
            scaled = value / size
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 1000 else 0
            text = f"{scaled:,.{digits}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + unit
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}".rstrip("0").rstrip(".")


def money(value: float, lang: str, currency: str = "¥") -> str:
    if _missing(value):
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{compact(abs(value), lang)}"


def money_ticks(ticks, lang: str, currency: str = "¥") -> list[str]:
    """Labels of evenly spaced axis ticks: `money`, with more decimals of the same unit where ticks close
    together would read alike (¥53.2亿 four times on an axis zoomed onto a small change)."""
    labels = [money(v, lang, currency) for v in ticks]
    if len(set(labels)) == len(labels):
        return labels
    top = max(abs(v) for v in ticks)
    size, unit = next(((s, u) for s, u in (ZH_UNITS if lang == "zh" else EN_UNITS) if top >= s), (1.0, ""))
    for decimals in range(1, 7):
        labels = [f"{'-' if v < 0 else ''}{currency}{abs(v) / size:,.{decimals}f}{unit}" for v in ticks]
        if len(set(labels)) == len(labels):
            break
    return labels


def money_full(value: float, currency: str = "¥") -> str:
    """Full precision for tables: ¥1,234,567.89."""
    return "—" if _missing(value) else f"{currency}{value:,.2f}"


def count(value: int | float) -> str:
    return "—" if _missing(value) else f"{int(round(value)):,}"


def pct(value: float, decimals: int = 1) -> str:
    """A share or probability as a percentage: 0.234 -> 23.4%."""
    return "—" if _missing(value) else f"{value * 100:.{decimals}f}%"


def change(current: float, previous: float) -> float | None:
    """Relative change against a comparison period; None when there is nothing to compare with."""
    if _missing(current) or _missing(previous) or previous == 0:
        return None
    return current / previous - 1


def day(value: date | datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d")
