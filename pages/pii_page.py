"""PII scrub step: scan the project, review each finding in context, scrub the accepted ones.

Findings and review decisions live in the store; a review and a scrub are each one event that
the Activity page undoes. The export checks what is left (`pii_status`).
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from curation.errors import CurationError
from curation.jobs import Job
from curation.pii import DEFAULT_ENTITIES, DEFAULT_SCORE_THRESHOLD, ENTITY_TYPES
from curation.pii.job import STEP as SCAN_STEP
from curation.pii.operators import OPERATORS
from curation.pii.project import save_project_pii_config, scrub_project
from curation.records import ROLES
from curation.store.pii_findings import GATE_SCORE, list_findings, pii_status, review_findings
from ui import pii as ui_pii
from ui import state
from ui.jobs import finished_message, job_progress, submit_job, watch_job
from ui.progress import bar_progress
from ui.safe import esc, md

OPERATOR_HELP = {
    "placeholder": "<PERSON>: the type only",
    "numbered": "<PERSON_1>: the same value gets the same number everywhere",
    "mask": "*****: the characters masked",
    "hash": "<PERSON:3f9a…>: a keyed hash (the key stays in the store)",
    "fake": "a made-up value of the same kind, the same for the same value",
}

SCAN_JOB = "pii_scan_job_id"  # the scan job this session started and has not seen finish

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()
state.require_examples(project)

st.title("PII scrub")
st.caption(
    "Scan for personal data, accept or reject each finding, then replace the accepted ones. "
    "Every decision and every scrub is an event you can undo on the Activity page."
)

saved_config = store.project_settings(project).get("pii") or {}
config_json = json.dumps(saved_config, sort_keys=True)
own_types = [
    r.get("supported_entity")
    for r in saved_config.get("recognizers") or []
    if r.get("supported_entity")
]

with st.expander("Your own entity types and allow list", expanded=False):
    st.caption(
        "Saved per project. Allow list: terms never reported (one per line, any case). "
        "Entity types: presidio's recognizer shape, as JSON: a name, the entity type, and "
        "regular expressions (with a score) and/or a deny list, with context words."
    )
    allow_text = st.text_area(
        "Allow list",
        value="\n".join(saved_config.get("allow_list") or []),
        key="pii_allow_list",
        height=100,
    )
    recognizers_text = st.text_area(
        "Entity types (JSON list)",
        value=json.dumps(saved_config.get("recognizers") or [], indent=1),
        key="pii_recognizers",
        height=160,
        help='e.g. [{"name": "ticket", "supported_entity": "TICKET_ID", "patterns": '
        '[{"name": "t", "regex": "TCK-\\d{6}", "score": 0.9}], "context": ["ticket"]}]',
    )
    if st.button("Save configuration", key="pii_save_config"):
        try:
            recognizers = json.loads(recognizers_text or "[]")
            allow = [t.strip() for t in allow_text.splitlines() if t.strip()]
            data = {"allow_list": allow, "recognizers": recognizers}
            saved_event = save_project_pii_config(store, project, data, user)
        except (ValueError, CurationError) as exc:
            st.error(md("Not saved: {}", exc))
        else:
            # the new entity types are chosen for the next scan (the widget keeps its own value)
            chosen = st.session_state.get("pii_entities")
            if chosen is not None:
                new_types = [r.get("supported_entity") for r in recognizers if isinstance(r, dict)]
                st.session_state["pii_entities"] = list(dict.fromkeys([*chosen, *new_types]))
            st.toast(md("Saved the PII configuration (event #{})", saved_event))
            st.rerun()

with st.form("pii_scan_form"):
    c1, c2 = st.columns([3, 1])
    entity_options = list(dict.fromkeys([*ENTITY_TYPES, *own_types]))
    entities = c1.multiselect(
        "Entity types",
        entity_options,
        default=list(dict.fromkeys([*DEFAULT_ENTITIES, *own_types])),
        key="pii_entities",
    )
    threshold = c2.slider(
        "Minimum score", 0.0, 1.0, DEFAULT_SCORE_THRESHOLD, 0.05, key="pii_threshold"
    )
    c3, c4 = st.columns([3, 1])
    roles = c3.multiselect("Turns", list(ROLES), default=list(ROLES), key="pii_roles")
    with_metadata = c4.checkbox("Metadata texts too", value=True, key="pii_metadata")
    scan_clicked = st.form_submit_button(
        "Scan project",
        type="primary",
        help="Runs in the background: you can switch page or close the tab meanwhile.",
    )


def _scan_ended(job: Job) -> None:
    """The scan job this session started has ended: say what it found, or why it did not."""
    if job.state == "done" and job.result:
        st.toast(md("Found {:,} PII findings", job.result.get("n_findings", 0)))
    else:
        finished_message(job, "PII scan")


active, ended = watch_job(project, SCAN_STEP, SCAN_JOB)
if ended is not None:
    _scan_ended(ended)

if scan_clicked:
    if not entities or not roles:
        st.error("Choose at least one entity type and one kind of turn.")
        st.stop()
    params = {
        "entities": list(entities),
        "score_threshold": float(threshold),
        "roles": list(roles),
        "metadata": bool(with_metadata),
    }
    try:
        job = submit_job(project, SCAN_STEP, params, user)
    except CurationError as exc:
        st.error(esc(exc))
    else:
        st.session_state[SCAN_JOB] = job.id
        st.session_state["pii_scanner_choice"] = (tuple(entities), float(threshold), config_json)
        st.rerun()
if active is not None:
    job_progress(active.id, key="pii_scan_job")

status = pii_status(store, project)
if not status["scanned"]:
    st.info("No PII scan yet: choose what to look for and press **Scan project**.")
    st.stop()

m = st.columns(5)
m[0].metric("Findings", status["findings"])
m[1].metric("Not reviewed", status["pending"])
m[2].metric("Accepted, not scrubbed", status["accepted_unapplied"])
m[3].metric("Rejected", status["rejected"])
m[4].metric(
    "Residual",
    status["residual"],
    help=f"what holds an export back: accepted "
    f"findings not yet scrubbed, and unreviewed ones scoring {GATE_SCORE} or more (places, "
    "dates, groups, organisations and URLs only once accepted)",
)
if status["residual"] == 0:
    st.success("Nothing left that holds the export back.")

found = list_findings(store, project)
rows = ui_pii.finding_rows(store, project, found)
if not rows:
    st.info("Every finding has been scrubbed or no longer applies to the current text.")
    st.stop()
table = pd.DataFrame(rows)

st.subheader("Counts by type")
counts = table.pivot_table(
    index="type", columns="decision", values="finding", aggfunc="count", fill_value=0
)
st.dataframe(counts, width="stretch")

st.subheader("Review in bulk")
b1, b2, b3, b4 = st.columns([2, 1, 1, 1])
bulk_type = b1.selectbox("Type", sorted(table["type"].unique()), key="pii_bulk_type")
bulk_min = b2.number_input("Score at least", 0.0, 1.0, 0.0, 0.05, key="pii_bulk_min")
bulk_to = b3.selectbox("Mark as", ["accepted", "rejected"], key="pii_bulk_to")
picked = table[
    (table["type"] == bulk_type) & (table["score"] >= bulk_min) & (table["decision"] == "pending")
]
if b4.button(md("Mark {:,} unreviewed", len(picked)), key="pii_bulk_apply", disabled=picked.empty):
    event = review_findings(store, project, dict.fromkeys(picked["finding"], bulk_to), user)
    st.toast(md("Marked {:,} {} findings {} (event #{})", len(picked), bulk_type, bulk_to, event))
    st.rerun()

st.subheader("Findings")
f1, f2 = st.columns(2)
show_types = f1.multiselect("Types shown", sorted(table["type"].unique()), key="pii_show_types")
show_states = f2.multiselect(
    "Decisions shown", ["pending", "accepted", "rejected"], key="pii_show_states"
)
shown = table
if show_types:
    shown = shown[shown["type"].isin(show_types)]
if show_states:
    shown = shown[shown["decision"].isin(show_states)]
st.caption(md("{:,} of {:,} findings · ⟦…⟧ marks the span", len(shown), len(table)))
edited = st.data_editor(
    shown.head(500),
    key="pii_editor",
    hide_index=True,
    width="stretch",
    disabled=[c for c in shown.columns if c != "decision"],
    column_config={
        "decision": st.column_config.SelectboxColumn(
            "decision", options=["pending", "accepted", "rejected"], required=True
        ),
        "finding": st.column_config.NumberColumn("finding", format="%d"),
    },
)
changed = {
    int(r.finding): str(r.decision)
    for r, before in zip(edited.itertuples(), shown.head(500).itertuples(), strict=True)
    if r.decision != before.decision
}
if st.button(
    md("Save {:,} decision(s)", len(changed)), key="pii_save_decisions", disabled=not changed
):
    event = review_findings(store, project, changed, user)
    st.toast(md("Saved {:,} decisions (event #{})", len(changed), event))
    st.rerun()

st.subheader("Scrub")
o1, o2 = st.columns([1, 2])
operator = o1.selectbox(
    "Replace with", list(OPERATORS), index=list(OPERATORS).index("numbered"), key="pii_operator"
)
o2.caption(esc(OPERATOR_HELP[operator]))
n_accepted = int((table["decision"] == "accepted").sum())
if st.button(
    md("Scrub {:,} accepted finding(s)", n_accepted),
    type="primary",
    key="pii_scrub",
    disabled=n_accepted == 0,
):
    choice = st.session_state.get("pii_scanner_choice") or (
        tuple(DEFAULT_ENTITIES),
        DEFAULT_SCORE_THRESHOLD,
        config_json,
    )
    bar = st.progress(0.0, text="Scrubbing…")
    try:
        done = scrub_project(
            store,
            project,
            ui_pii.scanner(*choice),
            operator,
            user,
            accepted_only=True,
            progress=bar_progress(bar),
        )
    except CurationError as exc:
        bar.empty()
        st.error(esc(exc))
        st.stop()
    bar.empty()
    st.toast(
        md(
            "Replaced {:,} findings in {:,} examples (event #{}); re-scan found {:,} more",
            done["replacements"],
            done["examples_changed"],
            done["event"],
            done["residual"],
        )
    )
    st.rerun()
