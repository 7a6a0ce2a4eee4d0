"""Bias audit step: coverage, skew and representation checks run as a background job; findings
ranked by severity, a chart per check, and the examples behind any finding, bar or group.

Runs are saved in the store; the page shows the latest one and never recomputes it.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from curation.bias import Bar, Chart, Finding, registry
from curation.bias.charts import SELECTION, altair_chart
from curation.bias.job import STEP
from curation.bias.project import AuditRun, examples_behind, load_audit_run, project_label_fields
from curation.bias.report import render_html
from curation.errors import CurationError
from curation.jobs import Job
from curation.paths import safe_file_stem
from ui import state
from ui.jobs import finished_message, job_progress, submit_job, watch_job
from ui.safe import esc, md
from ui.widgets import show_example

AUDIT_JOB = "bias_audit_job_id"  # the audit job this session started and has not seen finish
SEVERITY = {
    "ok": st.success,
    "info": st.info,
    "warning": st.warning,
    "critical": st.error,
    "failed": st.error,
}
# a coloured dot per severity in tab labels (markdown colours, no emoji font needed)
DOTS = {
    "critical": ":red[●]",
    "warning": ":orange[●]",
    "info": ":blue[●]",
    "ok": ":green[●]",
    "failed": ":gray[●]",
}
NONE = "(choose)"

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()
state.require_examples(project)
st.session_state.setdefault(AUDIT_JOB, None)

st.title("Bias audit")
st.caption(
    "Label balance, lengths, languages, topics, who the data mentions, how groups fare in "
    "labels and curation decisions, and offensive terms, over the active examples (rejected "
    "ones are read to compare how often each group is rejected). Nothing changes in the data."
)

codes = list(registry.codes())
with st.expander("What to audit", expanded=False):
    picked_checks = st.multiselect(
        "Checks",
        codes,
        default=codes,
        format_func=lambda c: registry.get(c).title,
        key="bias_checks",
    )
    picked_fields = st.multiselect(
        "Label fields (none chosen: detected from the metadata)",
        project_label_fields(store, project),
        key="bias_label_fields",
    )
    min_group = st.number_input(
        "Examples a group needs before its rates are compared",
        min_value=1,
        max_value=10_000,
        value=20,
        step=1,
        key="bias_min_group",
        help="Below it a rate moves by several points with every example (see the README).",
    )


def _audit_ended(job: Job) -> None:
    """The job this session started has ended: say what it found, or why it did not."""
    if job.state == "done" and job.result:
        r = job.result
        st.toast(
            md(
                "Audit done: {} critical, {} warning, {} info",
                r.get("critical", 0),
                r.get("warning", 0),
                r.get("info", 0),
            )
        )
    else:
        finished_message(job, "bias audit")


active, ended = watch_job(project, STEP, AUDIT_JOB)
if ended is not None:
    _audit_ended(ended)

if st.button(
    "Run bias audit",
    type="primary",
    key="bias_run",
    disabled=active is not None or not picked_checks,
    help="Runs in the background: you can switch page or close the tab meanwhile.",
):
    # checked when the job is submitted (`audit_params`), like every job's parameters
    params: dict[str, Any] = {
        "checks": list(picked_checks),
        "label_fields": list(picked_fields) or None,
        "settings": {"outcome_disparity": {"min_group": int(min_group)}}
        if "outcome_disparity" in picked_checks
        else {},
    }
    try:
        job = submit_job(project, STEP, params, user)
    except CurationError as exc:
        st.error(esc(exc))
    else:
        st.session_state[AUDIT_JOB] = job.id
        st.rerun()
if active is not None:
    job_progress(active.id, key="bias_job")


def _examples(
    run: AuditRun, title: str, codes: tuple[str, ...], ids: tuple[str, ...], key: str
) -> None:
    """The examples behind a finding or bar: a table, then one shown in full."""
    listed = examples_behind(store, project, run, codes=codes, example_ids=ids)
    st.markdown(md("**{}** · {:,} example(s)", title, len(listed)))
    if not listed:
        st.info("No example behind it is left in the project.")
        return
    st.dataframe(
        pd.DataFrame([x.to_row() for x in listed]),
        hide_index=True,
        key=f"{key}_table",
        column_config={"detail": st.column_config.TextColumn(width="medium")},
    )
    by_id = {x.example_id: x for x in listed}
    shown = st.selectbox("Show an example", list(by_id), key=f"{key}_show")
    if shown is None:
        return
    item = by_id[shown]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    left.markdown(md("**{}** · status {}", item.example_id, item.status))
    if right.button("Open in Browse", key=f"{key}_browse"):
        state.open_in_browse(item.example_id)
    show_example(store.get_example(project, item.example_id).example, key=f"{key}_{shown}")


def _finding_label(f: Finding) -> str:
    text = f.message if len(f.message) <= 110 else f.message[:109] + "…"
    return f"{f.severity} · {f.check} · {text}"


def _findings(run: AuditRun) -> None:
    findings = run.report.findings
    if not findings:
        st.success("The audit found nothing to report.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {"severity": f.severity, "check": f.check, "finding": f.message, "examples": f.n}
                for f in findings
            ]
        ),
        hide_index=True,
        key="bias_findings_table",
        column_config={"finding": st.column_config.TextColumn(width="large")},
    )
    listable = [i for i, f in enumerate(findings) if f.codes or f.example_ids]
    pick = st.selectbox(
        "Review the examples behind a finding",
        [None, *listable],
        format_func=lambda i: NONE if i is None else _finding_label(findings[i]),
        key="bias_finding_pick",
    )
    if pick is not None:
        f = findings[pick]
        _examples(run, f"{f.severity}: {f.check}", f.codes, f.example_ids, key="bias_finding")


def _bar_label(bar: Bar) -> str:
    series = f" ({bar.series})" if bar.series else ""
    return f"{bar.label}{series} · {bar.n:,} example(s)"


def _chart(run: AuditRun, chart: Chart, index: int) -> None:
    key = f"bias_chart_{index}"
    event = st.altair_chart(altair_chart(chart), on_select="rerun", key=key, width="stretch")
    if chart.note:
        st.caption(esc(chart.note))
    listable = [i for i, b in enumerate(chart.bars) if b.codes]
    if not listable:
        return
    # a click on a bar chooses it below, once: the list can then choose another
    points = (getattr(event, "selection", None) or {}).get(SELECTION) or []
    chosen = str(points[0].get("key", "")) if points else ""
    pick_key, seen_key = f"bias_bar_{index}", f"bias_bar_{index}_clicked"
    if chosen != st.session_state.get(seen_key, ""):
        st.session_state[seen_key] = chosen
        if chosen.isdigit() and int(chosen) in listable:
            st.session_state[pick_key] = int(chosen)
    pick = st.selectbox(
        "Examples behind a bar (or click one)",
        [None, *listable],
        format_func=lambda i: NONE if i is None else _bar_label(chart.bars[i]),
        key=pick_key,
    )
    if pick is not None:
        bar = chart.bars[pick]
        series = f" ({bar.series})" if bar.series else ""
        _examples(run, f"{chart.title}: {bar.label}{series}", bar.codes, (), key=f"{pick_key}_x")


def _checks(run: AuditRun) -> None:
    checks = run.report.checks
    tabs = st.tabs([f"{DOTS.get(c.severity, '')} {esc(c.title)}" for c in checks])
    n = 0
    for tab, check in zip(tabs, checks, strict=True):
        with tab:
            st.caption(esc(check.description))
            SEVERITY.get(check.severity, st.info)(esc(check.message))
            if check.error:
                st.code(str(check.info.get("traceback") or check.error), language=None)
            for chart in check.charts:
                if chart.bars:
                    _chart(run, chart, n)
                n += 1


def _downloads(run: AuditRun) -> None:
    stem = safe_file_stem(project, fallback="project")
    left, right = st.columns(2)
    left.download_button(
        "Download the HTML report",
        data=lambda: render_html(run.report, title=f"Bias audit: {project}"),
        file_name=f"{stem}-bias-audit.html",
        mime="text/html",
        key="bias_download_html",
        icon=":material/description:",
    )
    right.download_button(
        "Download the JSON report",
        data=json.dumps(run.report.to_json(), indent=2, ensure_ascii=False, default=str),
        file_name=f"{stem}-bias-audit.json",
        mime="application/json",
        key="bias_download_json",
        icon=":material/data_object:",
    )


saved = load_audit_run(store, project)
if saved is None:
    st.info("No bias audit yet: press Run bias audit.")
    st.stop()
summary = saved.report.summary
st.markdown(
    md(
        "**Run {}** by {} · {:,} examples audited ({:,} read) · {} critical · {} warning · {} info",
        saved.run_id,
        saved.author,
        summary.n_examples,
        summary.n_read,
        summary.counts.get("critical", 0),
        summary.counts.get("warning", 0),
        summary.counts.get("info", 0),
    )
)
SEVERITY.get(summary.severity, st.info)(esc(summary.message))
_downloads(saved)
st.subheader("Findings, most severe first")
_findings(saved)
st.subheader("Checks")
_checks(saved)
