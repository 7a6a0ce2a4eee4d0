"""Quality step: flag broken, truncated, refusing and malformed examples, review the examples
behind each flag, and mark them all rejected at once (one undoable event).

Runs are saved per example in the store; the page shows the latest run and never recomputes it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from curation.errors import CurationError
from curation.jobs import Job
from curation.quality import QualityConfig, registry
from curation.quality.project import (
    BULK_STATUSES,
    STEP,
    QualityRun,
    flag_counts,
    flag_title,
    flagged_examples,
    load_quality_run,
    mark_flagged,
)
from ui import state
from ui.jobs import finished_message, job_progress, submit_job, watch_job
from ui.quality import expectations_picker
from ui.safe import esc, md
from ui.widgets import show_example

QUALITY_JOB = "quality_job_id"  # the quality job this session started and has not seen finish
SEVERITY = {"ok": st.success, "info": st.info, "warning": st.warning, "critical": st.error}

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()
state.require_examples(project)
st.session_state.setdefault(QUALITY_JOB, None)

st.title("Quality")
st.caption(
    "Checks every active example for empty, too short, truncated, refusing, templated, "
    "looping, copied or conflicting answers, and for answers that break the structure they "
    "should have. Nothing changes until you act on a flag."
)

try:
    expectations = expectations_picker()
    setup_error = None
except CurationError as exc:
    expectations, setup_error = None, str(exc)
if setup_error:
    st.error(esc(setup_error))


def _run_ended(job: Job) -> None:
    """The job this session started has ended: say what it found, or why it did not."""
    if job.state == "done" and job.result:
        st.session_state[state.QUALITY_CONFIRM] = None
        r = job.result
        st.toast(md("{:,} of {:,} examples flagged", r["n_flagged"], r["n_examples"]))
    else:
        finished_message(job, "quality")


active, ended = watch_job(project, STEP, QUALITY_JOB)
if ended is not None:
    _run_ended(ended)
if st.button(
    "Run quality checks",
    type="primary",
    key="quality_run",
    disabled=setup_error is not None or active is not None,
    help="Runs in the background: you can switch page or close the tab meanwhile.",
):
    # checked when the job is submitted (`quality_params`), like every job's parameters
    params = QualityConfig(expectations=expectations).to_dict()
    try:
        job = submit_job(project, STEP, params, user)
    except CurationError as exc:
        st.error(esc(exc))
    else:
        st.session_state[QUALITY_JOB] = job.id
        st.rerun()
if active is not None:
    job_progress(active.id, key="quality_job")


def _undo_last_bulk() -> None:
    last = store.events(project, limit=1, kinds=["quality"])
    if not last or last[0]["undone_by"]:
        return
    if st.button("Undo the last bulk action", key="quality_undo", help=esc(last[0]["summary"])):
        try:
            store.undo(project, last[0]["id"], user)
        except CurationError as exc:
            st.error(esc(exc))
        else:
            st.toast("Undone")
            st.rerun()


def _bulk_action(run: QualityRun, code: str) -> None:
    """Mark every active example behind the flag with one status, after a confirmation."""
    n_active = store.step_result_total(
        project, STEP, run_id=run.run_id, code=code, statuses=["active"]
    )
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    status = left.selectbox("Mark them", BULK_STATUSES, key="quality_bulk_status")
    if right.button(
        md("Mark the {:,} active example(s) {}", n_active, status),
        key="quality_bulk",
        disabled=n_active == 0,
    ):
        st.session_state[state.QUALITY_CONFIRM] = (code, status)
    if st.session_state[state.QUALITY_CONFIRM] != (code, status) or not n_active:
        return
    st.warning(
        md(
            "Set {:,} active example(s) flagged {} to {}? One event in the log; undo reverses it.",
            n_active,
            flag_title(code),
            status,
        )
    )
    yes, no = st.columns(2)
    if yes.button("Yes, mark them", key="quality_bulk_confirm", type="primary"):
        st.session_state[state.QUALITY_CONFIRM] = None
        try:
            event = mark_flagged(
                store, project, code, author=user, status=status, run_id=run.run_id
            )
        except CurationError as exc:
            st.error(esc(exc))
            return
        st.toast(
            "Nothing left to change"
            if event is None
            else md("Marked them {} (event {})", status, event)
        )
        st.rerun()
    if no.button("Cancel", key="quality_bulk_cancel"):
        st.session_state[state.QUALITY_CONFIRM] = None
        st.rerun()


def _review(run: QualityRun) -> None:
    """The run's summary, counts per flag, and the examples behind the chosen flag."""
    st.markdown(
        md(
            "**Run {}** by {} · {:,} examples checked · **{:,}** flagged · expected structure: {}",
            run.run_id,
            run.author,
            run.n_examples,
            run.n_flagged,
            run.expectations_label(),
        )
    )
    SEVERITY.get(run.severity, st.info)(esc(run.message))
    if run.n_errors:
        st.warning(
            md("{:,} check(s) failed on an example; those verdicts are missing.", run.n_errors)
        )
    st.dataframe(
        pd.DataFrame(flag_counts(store, project, run)), hide_index=True, key="quality_counts"
    )
    _undo_last_bulk()
    codes = run.flagged_codes()
    if not codes:
        return
    code = st.selectbox(
        "Flag",
        codes,
        key="quality_flag_pick",
        format_func=lambda c: f"{flag_title(c)} ({run.counts.get(c, 0):,})",
    )
    if code in registry:
        st.caption(esc(registry.get(code).description))
    flagged = flagged_examples(store, project, run, code)
    if not flagged:
        st.info("The examples behind this flag are no longer in the project.")
        return
    st.dataframe(
        pd.DataFrame([f.to_row() for f in flagged]),
        hide_index=True,
        key=f"quality_examples_{code}",
        column_config={
            "score": st.column_config.NumberColumn(format="%.2f", width="small"),
            "reason": st.column_config.TextColumn(width="large"),
        },
    )
    _bulk_action(run, code)
    by_id = {f.example_id: f for f in flagged}
    shown = st.selectbox("Show an example", list(by_id), key=f"quality_show_{code}")
    item = by_id[shown]
    st.markdown(md("**{}** · status {} · score {}", item.example_id, item.status, item.score))
    st.caption(esc(item.reason))
    if item.suggestion:
        st.caption(md("Suggested: {}", item.suggestion))
    if st.button("Open in Browse", key="quality_open_browse"):
        state.open_in_browse(item.example_id)
    show_example(store.get_example(project, item.example_id).example, key=item.example_id)


saved = load_quality_run(store, project)
if saved is None:
    st.info(
        "Quality checks have not run on this project yet. Choose what answers must look like "
        "and press Run quality checks."
    )
else:
    _review(saved)
