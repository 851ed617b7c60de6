"""The segment rules of this session: what the user edited on the Segments page, defaults otherwise.

They live in st.session_state under keep_segments_* keys (per session, never shared), so the Customer
page and the lists place a customer exactly as the Segments page the user is looking at.
"""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from crm_logic.tiers import DEFAULT_RULES, SegmentRules, validate_cutoffs
from crm_logic.tiers.rules import RFM_MEASURES

GRID_KEY = "keep_segments_grid"
SCORING_KEY = "keep_segments_scoring"  # "quantiles" or "cutoffs"
MEASURE_KEY = "keep_segments_abc_measure"
CUTOFF_KEYS = {measure: f"keep_segments_cutoffs_{measure}" for measure in RFM_MEASURES}


def parse_cutoffs(text: str) -> tuple[float, ...] | None:
    """'30, 90, 180, 365' -> (30.0, 90.0, 180.0, 365.0); None when a part is not a number."""
    try:
        return tuple(float(part) for part in text.replace("，", ",").split(",") if part.strip())
    except ValueError:
        return None


def cutoff_problem(measure: str, text: str, scale: int) -> str | None:
    """Why the cut-offs typed for `measure` cannot be used (a key under segments.cutoff_error), or None."""
    values = parse_cutoffs(text)
    return "order" if values is None else validate_cutoffs(measure, values, scale)


def current_rules() -> SegmentRules:
    """The rules in force: the accepted grid, the user's cut-offs where valid (else quantiles), the ABC
    measure; everything else the defaults of crm-concepts.md 4a."""
    get = st.session_state.get
    rfm = DEFAULT_RULES.rfm
    if get(SCORING_KEY) == "cutoffs":
        cutoffs = tuple((m, parse_cutoffs(get(key, ""))) for m, key in CUTOFF_KEYS.items()
                        if get(key) and cutoff_problem(m, get(key), rfm.scale) is None)
        rfm = replace(rfm, cutoffs=cutoffs)
    if get(GRID_KEY) is not None:
        rfm = replace(rfm, grid=get(GRID_KEY))
    value = replace(DEFAULT_RULES.value, abc_measure=get(MEASURE_KEY, DEFAULT_RULES.value.abc_measure))
    return replace(DEFAULT_RULES, rfm=rfm, value=value)
