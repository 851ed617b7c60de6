"""What an import found, in the user's language: problems naming file, row and column, and the facts."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from crm_logic.i18n import DEFAULT_LANGUAGE, translate

MAX_LISTED = 20  # problems shown in the text report; the frame keeps every problem kept
MAX_KEPT = 10_000  # problems kept per check: an all-invalid file of millions of rows stays light
# Counts shown in the report, in this order; the *_value entries of `values` are money next to them.
FACTS = ("files", "rows_read", "rows_invalid", "guests", "duplicate_lines", "duplicates_dropped",
         "status_revenue", "status_unpaid", "status_cancelled", "status_refunded", "refund_returns", "returns",
         "rows_loaded", "rows_skipped", "customers_new")


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where the user can find it: row is the line/row number they see (None: whole file)."""
    file: str
    row: int | None
    column: str | None
    code: str
    value: str | None = None
    expected: str | None = None

    def message(self, lang: str = DEFAULT_LANGUAGE) -> str:
        value = translate(f"ingest.fields.{self.value}", lang) if self.code == "missing_column" else self.value
        return translate(f"ingest.problems.{self.code}", lang, value=value or "", column=self.column or "",
                         expected=self.expected or "")


@dataclass
class ValidationReport:
    """Problems, counts (`facts`), money next to some counts (`values`, same keys + '_value'), and what was
    detected (`notes`: (key, params) pairs, e.g. ("date_order.mdy", {}))."""
    problems: list[Problem] = field(default_factory=list)
    facts: dict[str, int] = field(default_factory=dict)
    status: str = "checked"  # checked / imported / rejected
    values: dict[str, float] = field(default_factory=dict)
    notes: list[tuple[str, dict]] = field(default_factory=list)
    currency: str = ""

    def add(self, other: "ValidationReport") -> None:
        self.problems += other.problems
        for key, count in other.facts.items():
            self.facts[key] = self.facts.get(key, 0) + count
        for key, value in other.values.items():
            self.values[key] = self.values.get(key, 0.0) + value
        self.notes += [n for n in other.notes if n not in self.notes]
        self.currency = self.currency or other.currency

    def render(self, lang: str = DEFAULT_LANGUAGE, limit: int = MAX_LISTED) -> str:
        lines = [translate(f"ingest.report.{self.status}", lang)]
        lines += [translate(f"ingest.notes.{key}", lang, **{k: translate(f"ingest.platforms.{v}", lang)
                                                             if k == "platform" else v for k, v in params.items()})
                  for key, params in self.notes]
        for key in FACTS:
            if self.facts.get(key):
                value = self.values.get(f"{key}_value")
                lines.append(translate(f"ingest.facts.{key}", lang, count=f"{self.facts[key]:,}",
                                       value="" if value is None else f"{self.currency}{value:,.2f}"))
        for p in self.problems[:limit]:
            template = ("cell" if p.row else "column") if p.column else "row" if p.row else "file"
            lines.append(translate(f"ingest.report.{template}", lang, file=p.file, row=p.row, column=p.column,
                                   message=p.message(lang), code=p.code))
        more = len(self.problems) - limit + self.facts.get("problems_not_kept", 0)
        if more > 0:
            lines.append(translate("ingest.report.more", lang, count=f"{more:,}"))
        return "\n".join(lines)

    def to_frame(self, lang: str = DEFAULT_LANGUAGE) -> pd.DataFrame:
        """All kept problems, headers in the reader's language: the download behind the text report."""
        rows = [(p.file, p.row, p.column, p.code, p.message(lang), p.value) for p in self.problems]
        frame = pd.DataFrame(rows, columns=["file", "row", "column", "code", "problem", "value"])
        frame["row"] = frame["row"].astype("Int64")
        return frame.rename(columns=lambda c: translate(f"ingest.columns.{c}", lang))


class ImportRejected(Exception):
    """Nothing was written; the report says why."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.render("en"))
        self.report = report
