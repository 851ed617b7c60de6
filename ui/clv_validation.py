"""The validation view of the CLV page: did the models forecast a period that had already happened?"""
from __future__ import annotations

import streamlit as st

from crm_logic.summary import UNIT_DAYS
from crm_logic.validation import ValidationResult
from ui import charts
from ui import format as fmt
from ui.i18n import t
from ui.widgets import chart


def draw_validation(result: ValidationResult) -> None:
    ends = dict(calibration_end=fmt.day(result.calibration_end), holdout_end=fmt.day(result.holdout_end))
    st.subheader(t("clv.validation.title"))
    st.caption(t("clv.validation.intro", weeks=result.holdout_length * UNIT_DAYS[result.unit] / 7, **ends))
    if result.sample_share is not None:
        st.caption(t("clv.validation.sampled", customers=fmt.count(len(result.customers)),
                     share=fmt.pct(result.sample_share)))
    fitted = list(result.models["model"])
    names = {m: t(f"clv.model.{m}") for m in fitted}
    chart(charts.grouped_bars(
        result.by_frequency, "frequency_bin",
        {"actual": t("clv.validation.actual"), **names, "naive": t("clv.model.naive")},
        t("clv.validation.by_frequency_title"), t("clv.validation.by_frequency_axis", **ends),
        t("clv.validation.per_customer_axis"),
    ), key="validation_by_frequency")
    chart(charts.lines(
        result.tracking, "week", {"actual": t("clv.validation.actual"), **names},
        t("clv.validation.tracking_title"), t("clv.validation.week_axis"), t("clv.validation.cumulative_axis"),
        marker_x=result.calibration_weeks, marker_label=t("clv.validation.calibration_marker"),
    ), key="validation_tracking")
    table = result.models.assign(model=[names[m] for m in fitted],
                                 log_likelihood=[f"{v:,.1f}" for v in result.models["log_likelihood"]])
    naive = {"model": t("clv.model.naive"), "mae": result.naive_mae, "log_likelihood": "—",
             "predicted": float(result.customers["naive"].sum()), "actual": float(result.customers["actual"].sum())}
    st.dataframe(
        [*table.to_dict("records"), naive], hide_index=True,
        column_order=["model", "mae", "log_likelihood", "predicted", "actual"],
        column_config={
            "model": st.column_config.TextColumn(t("clv.column.model")),
            "mae": st.column_config.NumberColumn(t("clv.validation.mae"), help=t("clv.validation.mae_help"), format="%.3f"),
            "log_likelihood": st.column_config.TextColumn(  # text: the naive baseline has none
                t("clv.validation.log_likelihood"), help=t("clv.validation.log_likelihood_help")),
            "predicted": st.column_config.NumberColumn(t("clv.validation.predicted"), format="%,.0f"),
            "actual": st.column_config.NumberColumn(t("clv.validation.actual_total"), format="%,.0f"),
        },
    )
    for model, reason in result.failures.items():
        st.warning(t("clv.validation.failed", model=t(f"clv.model.{model}"), reason=t(f"clv.error.{reason}")))

