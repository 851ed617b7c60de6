"""The segment rules of this session: what the user edited on the Segments page, defaults otherwise.

They live in st.session_state under keep_segments_* keys (per session, never shared), so the Customer
page and the lists place a customer exactly as the Segments page the user is looking at.
"""
from __future__ import annotations

from dataclasses import replace

import streamlit as st

from crm_logic.tiers import DEFAULT_RULES, SegmentRules, normalise_grid, validate_cutoffs, validate_grid
from crm_logic.tiers.rules import RFM_MEASURES
from ui import format as fmt
from ui.i18n import t
from ui.segment_view import grid_editor_frame, grid_labels, grid_proposal

GRID_KEY = "keep_segments_grid"
SCORING_KEY = "keep_segments_scoring"  # "quantiles" or "cutoffs"
MEASURE_KEY = "keep_segments_abc_measure"
CUTOFF_KEYS = {measure: f"keep_segments_cutoffs_{measure}" for measure in RFM_MEASURES}
SCALES = (3, 4, 5, 6, 7)  # RFM scales the page offers (the rules take 2-9; 3-7 keep every grid readable)
# The thresholds the page edits: (rules section, field) -> (minimum, maximum, step). Shares are edited in
# percent (a value of 80 means 0.80); the ABC shares as A and the B that follows it, both in percent.
THRESHOLDS = {
    ("rfm", "scale"): (3, 7, 1),
    ("value", "a_share"): (5, 99, 1), ("value", "b_share"): (1, 95, 1),
    ("ladder", "window_days"): (30, 3650, 30), ("ladder", "follow_up_days"): (1, 365, 1),
    ("ladder", "responsible_min_share"): (1, 100, 5), ("ladder", "proactive_min_contacts"): (1, 52, 1),
    ("ladder", "partner_min_joint_projects"): (1, 20, 1), ("ladder", "passive_min_inbound"): (1, 52, 1),
    ("behaviour", "hunter_min_share"): (1, 100, 5), ("behaviour", "hunter_min_purchases"): (1, 50, 1),
    ("behaviour", "loyal_min_purchases"): (2, 100, 1), ("behaviour", "loyal_min_tenure_days"): (0, 3650, 30),
    ("behaviour", "loyal_min_referrals"): (1, 50, 1), ("behaviour", "target_max_distance"): (0.1, 5.0, 0.1),
    ("behaviour", "target_min_tenure_days"): (1, 3650, 30),
}
PERCENT = {"a_share", "b_share", "responsible_min_share", "hunter_min_share"}


def threshold_key(section: str, name: str) -> str:
    return f"keep_segments_rule_{section}_{name}"


def default_threshold(section: str, name: str):
    """A threshold's default as the page edits it (shares in percent, B as the share after A)."""
    a, b = DEFAULT_RULES.value.abc_shares
    if (section, name) == ("value", "a_share"):
        return round(a * 100)
    if (section, name) == ("value", "b_share"):
        return round((b - a) * 100)
    value = getattr(getattr(DEFAULT_RULES, section), name)
    return round(value * 100) if name in PERCENT else value


def abc_problem() -> bool:
    """True when the A and B shares typed add up to more than 100 % (the defaults stay in force)."""
    get = st.session_state.get
    a = get(threshold_key("value", "a_share"), default_threshold("value", "a_share"))
    b = get(threshold_key("value", "b_share"), default_threshold("value", "b_share"))
    return a + b > 100


def reset_thresholds() -> None:
    """Back to the defaults of crm-concepts.md 4a; leaving another scale also drops its grid and cut-offs
    (an edited 5-point grid stays)."""
    scale_key = threshold_key("rfm", "scale")
    if st.session_state.get(scale_key, DEFAULT_RULES.rfm.scale) != DEFAULT_RULES.rfm.scale:
        forget_scaled()
    for section, name in THRESHOLDS:
        st.session_state.pop(threshold_key(section, name), None)


def forget_scaled() -> None:
    """The grid and the cut-offs are made for one scale: a new scale starts from its default grid and
    quantiles (the cut-offs are suggested afresh from the quantiles of the new scale)."""
    for key in (GRID_KEY, "segments_grid_editor", *CUTOFF_KEYS.values()):
        st.session_state.pop(key, None)


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
    """The rules in force: the scale, the accepted grid, the user's cut-offs where valid (else quantiles),
    the ABC measure and shares, the ladder and behaviour thresholds; defaults of crm-concepts.md 4a otherwise."""
    get = st.session_state.get

    def edited(section: str, name: str):
        value = get(threshold_key(section, name), default_threshold(section, name))
        return value / 100 if name in PERCENT else value

    rfm = replace(DEFAULT_RULES.rfm, scale=int(edited("rfm", "scale")))
    if get(SCORING_KEY) == "cutoffs":
        cutoffs = tuple((m, parse_cutoffs(get(key, ""))) for m, key in CUTOFF_KEYS.items()
                        if get(key) and cutoff_problem(m, get(key), rfm.scale) is None)
        rfm = replace(rfm, cutoffs=cutoffs)
    if get(GRID_KEY) is not None and len(get(GRID_KEY)) == rfm.scale:
        rfm = replace(rfm, grid=get(GRID_KEY))
    value = replace(DEFAULT_RULES.value, abc_measure=get(MEASURE_KEY, DEFAULT_RULES.value.abc_measure))
    if not abc_problem():
        a = edited("value", "a_share")
        value = replace(value, abc_shares=(a, min(1.0, round(a + edited("value", "b_share"), 6))))
    ladder = replace(DEFAULT_RULES.ladder, **{n: edited(s, n) for s, n in THRESHOLDS if s == "ladder"})
    behaviour = replace(DEFAULT_RULES.behaviour, **{n: edited(s, n) for s, n in THRESHOLDS if s == "behaviour"})
    return replace(DEFAULT_RULES, rfm=rfm, value=value, ladder=ladder, behaviour=behaviour)


def rules_editor(rules: SegmentRules) -> None:
    """The rules and thresholds of this session, editable, with a reset to the defaults; what is in force
    stays readable below the (closed) expander."""
    with st.expander(t("segments_page.rules_title")):
        st.caption(t("segments_page.rules_intro"))
        sections = st.columns(4)
        for column, section in zip(sections, ("rfm", "value", "ladder", "behaviour")):
            column.markdown(f"**{t(f'segments_page.rules_section.{section}')}**")
            for (where, field), (low, high, step) in THRESHOLDS.items():
                if where != section:
                    continue
                key = threshold_key(section, field)
                if key not in st.session_state:
                    st.session_state[key] = default_threshold(section, field)
                label = t(f"segments_page.rule.{field}")
                if field == "scale":
                    column.selectbox(label, SCALES, key=key, on_change=forget_scaled,
                                     help=t("segments_page.scale_help"))
                else:
                    column.number_input(label, min_value=low, max_value=high, step=step, key=key,
                                        format="%.1f" if isinstance(step, float) else "%d")
            if section == "value" and abc_problem():
                column.error(t("segments_page.abc_too_large"))
        st.button(t("segments_page.reset_rules"), on_click=reset_thresholds, icon=":material/restart_alt:",
                  key="reset_rules")
    a, b = rules.value.abc_shares
    ladder, behaviour = rules.ladder, rules.behaviour
    st.caption(t("segments_page.rules_in_force", scale=rules.rfm.scale, a=fmt.pct(a, 0), b=fmt.pct(b - a, 0),
                 measure=t(f"segments_page.measure_in_text.{rules.value.abc_measure}"),
                 window=ladder.window_days, follow_up=ladder.follow_up_days,
                 share=fmt.pct(ladder.responsible_min_share, 0), proactive=ladder.proactive_min_contacts,
                 joint=ladder.partner_min_joint_projects, inbound=ladder.passive_min_inbound,
                 hunter_share=fmt.pct(behaviour.hunter_min_share, 0), hunter=behaviour.hunter_min_purchases,
                 loyal=behaviour.loyal_min_purchases, tenure=behaviour.loyal_min_tenure_days,
                 referrals=behaviour.loyal_min_referrals, distance=f"{behaviour.target_max_distance:g}"))


def cutoff_inputs(rules: SegmentRules, in_force: dict, language: str, cur: str) -> None:
    """The RFM score boundaries: typed per measure when scoring by cut-offs (seeded with those in force, each
    checked as typed), else the quantile boundaries in force, for reading."""
    if st.session_state.get(SCORING_KEY) != "cutoffs":
        st.caption(t("segments_page.quantile_cutoffs",
                     recency=", ".join(f"{v:g}" for v in in_force["recency"]),
                     frequency=", ".join(f"{v:g}" for v in in_force["frequency"]),
                     monetary=", ".join(fmt.money(v, language, cur) for v in in_force["monetary"])))
        return
    for column, (measure, key) in zip(st.columns(3), CUTOFF_KEYS.items()):
        if key not in st.session_state:
            st.session_state[key] = ", ".join(f"{v:g}" for v in in_force[measure])
        text = column.text_input(t(f"segments_page.cutoffs.{measure}"), key=key,
                                 help=t(f"segments_page.cutoffs_help.{measure}", scale=rules.rfm.scale,
                                        count=rules.rfm.scale - 1))
        problem = cutoff_problem(measure, text, rules.rfm.scale)
        if problem:
            column.error(t(f"segments.cutoff_error.{problem}"))


def grid_editor_form(rules: SegmentRules) -> None:
    """The editable R×F grid of segment names: a valid edit becomes the session's grid (and the page reruns
    on it), an invalid one is refused with its reasons; the reset returns to the default grid."""
    st.markdown(f"**{t('segments_page.editor_title')}**")
    grid, scale = rules.rfm.segment_grid(), rules.rfm.scale
    shown = grid_editor_frame(rules)
    options = list(grid_labels().values())
    edited = st.data_editor(shown, key="segments_grid_editor", width="stretch",
                            column_config={c: st.column_config.SelectboxColumn(c, options=options) for c in shown.columns})
    proposal = grid_proposal(edited)
    problems = validate_grid(proposal, scale)
    if problems:
        st.error(t("segments_page.grid_refused") + "\n" + "\n".join(
            "- " + t(f"segments.grid_problem.{p.kind}", r=p.r, f=p.f, content=p.content) for p in problems))
    elif normalise_grid(proposal, scale) != grid:
        st.session_state[GRID_KEY] = normalise_grid(proposal, scale)
        st.rerun()

    def reset_grid() -> None:
        st.session_state.pop(GRID_KEY, None)
        st.session_state.pop("segments_grid_editor", None)

    st.button(t("segments_page.reset_grid"), on_click=reset_grid, icon=":material/restart_alt:",
              disabled=st.session_state.get(GRID_KEY) is None and not problems, key="reset_grid")
    st.caption(t("segments_page.editor_help", scale=scale))
