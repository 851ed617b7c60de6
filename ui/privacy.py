"""Workshop mode: customer names and contact details masked on every page, chart, hover and export.

Every place that shows a customer's name takes it from here, so one switch masks them all.
(Stub: masking arrives with the what-if issue; today names pass through.)
"""
from __future__ import annotations

import pandas as pd


def shown_name(customer_id: str, name: str | None) -> str | None:
    """The name to show for one customer."""
    return name


def shown_names(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its name (and contact) columns as they may be shown."""
    return frame
