"""The CDNOW sample for the CLV tests: a base filled by pandas, and an independent pandas summary.

The base is filled by `tests.conftest.load_cdnow_sample` (pandas straight into the tables, independent of
the ingest room); the published split is the one of ../../docs (model-anchors.md): calibration
1997-01-01 .. 1997-09-30, holdout to 1998-06-30.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from crm_logic.store import CDNOW_DIR, Store
from tests.conftest import load_cdnow_sample

CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)

# Published parameters (Fader, Hardie & Lee 2005; Fader & Hardie 2013), via model-anchors.md.
BG_NBD_PARAMS = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
GAMMA_GAMMA_PARAMS = {"p": 6.2496, "q": 3.7442, "gamma": 15.4435}


def cdnow_base(path: Path) -> Store:
    """A new base at `path` holding the CDNOW sample (the caller closes it)."""
    store = Store(path)
    load_cdnow_sample(store)
    return store


def cdnow_lines() -> pd.DataFrame:
    """The sample's lines as pandas reads them: customer_id, date, amount."""
    raw = pd.read_csv(
        CDNOW_DIR / "CDNOW_sample.txt", sep=r"\s+", header=None,
        names=["customer_id", "sample_id", "day", "cds", "amount"], dtype={"customer_id": str, "day": str},
    )
    raw["date"] = pd.to_datetime(raw["day"], format="%Y%m%d")
    return raw[["customer_id", "date", "amount"]]


def pandas_summary(end: date, unit_days: float = 7.0) -> pd.DataFrame:
    """frequency / recency / T / repeat spend computed with pandas alone, as model-anchors.md defines them."""
    lines = cdnow_lines()
    days = lines[lines.date <= pd.Timestamp(end)].groupby(["customer_id", "date"], as_index=False).amount.sum()
    days = days.sort_values(["customer_id", "date"])
    first = days.groupby("customer_id").date.transform("min")
    repeat = days[days.date > first]
    out = days.groupby("customer_id").agg(first=("date", "min"), last=("date", "max"), n=("date", "size"))
    out["frequency"] = out.n - 1
    out["recency"] = (out["last"] - out["first"]).dt.days / unit_days
    out["T"] = (pd.Timestamp(end) - out["first"]).dt.days / unit_days
    out["monetary_value"] = repeat.groupby("customer_id").amount.mean()
    return out[["frequency", "recency", "T", "monetary_value"]]
