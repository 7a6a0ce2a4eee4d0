"""Label step: annotate one example at a time from a queue (keyboard shortcuts, suggestions,
in-place edits), review disagreements, decide suspected label errors, see progress and
agreement, act on a filtered set at once, and set the project's schema.

The annotation panel is a fragment, so moving to the next example reruns only the panel. No
one sees another annotator's label on a field before giving their own.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from curation.errors import CurationError
from curation.jobs import Job
from curation.labeling import (
    FIELD_KINDS,
    LabelSchema,
    TextField,
    VerdictField,
    field_from_dict,
)
from curation.labeling import project as lp
from curation.labeling.job import STEP as ISSUE_STEP
from curation.quality.project import STEP as QUALITY_STEP
from curation.quality.project import flag_title
from curation.records import Message
from curation.store import STATUSES, ExampleFilter
from curation.store import labels as repo
from curation.store.pii_findings import examples_by_review_state
from ui import labeling as lab
from ui import state
from ui.filters import metadata_filter, pii_state_filter, quality_flag_filter
from ui.jobs import finished_message, job_progress, submit_job, watch_job
from ui.safe import esc, md
from ui.widgets import show_example

VIEWS = ["Annotate", "Review", "Label errors", "Progress & agreement", "Schema"]

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()
state.require_examples(project)
lab.init_label_state()

st.title("Label")
schema = repo.read_schema(store, project)
owner = repo.project_owner(store, project)
team = repo.reviewers(store, project)
reviewer = user in team
if schema is None:
    st.session_state[lab.VIEW] = "Schema"
view = st.radio("View", VIEWS, key=lab.VIEW, horizontal=True, label_visibility="collapsed")


def _notice() -> None:
    note = st.session_state[lab.NOTICE]
    st.session_state[lab.NOTICE] = None
    if note and note[0] == "error":
        st.error(esc(note[1]))
    elif note:
        st.toast(esc(note[1]))


# ---- the queue's filters (drawn outside the panel; the panel reads them from the session) ----


def _reset_queue() -> None:
    st.session_state[lab.CURRENT] = None
    st.session_state[lab.LOADED] = None


def _queue_filters() -> None:
    with st.expander("Queue and filters", expanded=False):
        c1, c2, c3 = st.columns([1, 1, 2])
        c1.selectbox("Queue", list(lab.QUEUES), key=lab.QUEUE, on_change=_reset_queue)
        c2.multiselect(
            "Source", store.sources(project), key="label_f_sources", on_change=_reset_queue
        )
        c3.text_input("Search in text", key="label_f_search", on_change=_reset_queue)
        c4, c5 = st.columns(2)
        quality_flag_filter(
            store.step_result_counts(project, QUALITY_STEP),
            store.step_result_total(project, QUALITY_STEP),
            key="label_f_quality",
            title=flag_title,
            on_change=_reset_queue,
            where=c4,
        )
        pii_state_filter(
            examples_by_review_state(store, project),
            key="label_f_pii",
            on_change=_reset_queue,
            where=c5,
        )
        st.session_state["label_f_meta_value"] = metadata_filter(
            store.metadata_fields(project),
            key="label_f_meta",
            none="(any)",
            labels=("Category (metadata field)", "Value"),
            on_change=_reset_queue,
        )
        st.multiselect(
            "Status",
            list(STATUSES),
            default=["active"],
            key="label_f_statuses",
            on_change=_reset_queue,
            help="Active by default; duplicates, rejected or filtered examples on request.",
        )


def _filter() -> ExampleFilter:
    ss = st.session_state
    quality = ss.get("label_f_quality") or None
    pii = ss.get("label_f_pii") or None
    return ExampleFilter(
        statuses=ss.get("label_f_statuses", ["active"]) or None,
        sources=ss.get("label_f_sources") or None,
        search=ss.get("label_f_search") or None,
        metadata=ss.get("label_f_meta_value") or {},
        quality_flag=quality,
        pii_state=pii,
    )


# ---- moving through the queue ------------------------------------------------------------------


def _find_next(current: str | None) -> str | None:
    how, label_state = lab.QUEUES[st.session_state[lab.QUEUE]]
    flt = _filter()
    if how == "claim":
        return repo.claim_next(store, project, user, flt, label_state=label_state)
    if how == "disagreements":
        ids = lp.disagreements(store, project, flt)
        if current in ids:
            after = ids[ids.index(current) + 1 :]
            return after[0] if after else None
        return ids[0] if ids else None
    return repo.neighbour_in_queue(
        store, project, current, flt, label_state=label_state, annotator=user
    )


def _open(example_id: str | None) -> None:
    st.session_state[lab.CURRENT] = example_id
    st.session_state[lab.LOADED] = None


def _advance() -> None:
    """Forward in this session's history, else the queue's next example."""
    history, pos = st.session_state[lab.HISTORY], st.session_state[lab.POSITION]
    if 0 <= pos < len(history) - 1:
        st.session_state[lab.POSITION] = pos + 1
        _open(history[pos + 1])
        return
    nxt = _find_next(st.session_state[lab.CURRENT])
    _open(nxt)
    if nxt is not None:
        history.append(nxt)
        del history[: max(0, len(history) - lab.HISTORY_MAX)]
        st.session_state[lab.POSITION] = len(history) - 1


def _previous() -> None:
    history, pos = st.session_state[lab.HISTORY], st.session_state[lab.POSITION]
    if pos > 0:
        st.session_state[lab.POSITION] = pos - 1
        _open(history[pos - 1])


def _save(verdict_field: str | None = None, verdict: str | None = None) -> None:
    current = st.session_state[lab.CURRENT]
    if current is None or schema is None:
        return
    values = lab.read_values(schema)
    if verdict_field is not None:
        values[verdict_field] = verdict
        st.session_state[lab.widget_key(verdict_field)] = verdict
    try:
        event = repo.annotate(
            store, project, current, values, user, expected=st.session_state[lab.SEEN]
        )
    except CurationError as exc:
        st.session_state[lab.NOTICE] = ("error", str(exc))
        st.session_state[lab.LOADED] = None if "changed elsewhere" in str(exc) else current
        return
    if event is not None:
        st.session_state[lab.LAST_EVENT] = event
    _advance()


def _skip() -> None:
    current = st.session_state[lab.CURRENT]
    if current is not None:
        try:
            repo.skip(store, project, current, user)
        except CurationError as exc:
            st.session_state[lab.NOTICE] = ("error", str(exc))
            return
    _advance()


def _undo_last() -> None:
    event = st.session_state[lab.LAST_EVENT]
    try:
        store.undo(project, event, user)
    except CurationError as exc:
        st.session_state[lab.NOTICE] = ("error", str(exc))
        return
    st.session_state[lab.LAST_EVENT] = None
    st.session_state[lab.LOADED] = None
    st.session_state[lab.NOTICE] = ("toast", f"Undid event #{event}")


def _use_suggestion(field: str, value: Any) -> None:
    st.session_state[lab.widget_key(field)] = list(value) if isinstance(value, tuple) else value


def _progress_line() -> None:
    progress = repo.queue_progress(store, project)
    mine = progress.per_annotator.get(user, 0)
    st.progress(
        progress.done_fraction,
        text=md(
            "Your labels: {:,} · complete: {:,} of {:,} examples ({} annotator(s) each)",
            mine,
            progress.complete,
            progress.examples,
            progress.annotators_per_example,
        ),
    )


def _edit_turns(view: lp.AnnotationView) -> None:
    current = view.example
    with st.expander("Edit a turn"), st.form(f"label_edit_{current.id}_{current.revision}"):
        texts = [
            st.text_area(
                md("{} turn {}", m.role, i + 1),
                m.content,
                key=f"label_edit_{current.id}_{current.revision}_{i}",
            )
            for i, m in enumerate(current.example.messages)
        ]
        if not st.form_submit_button("Save revision", key="label_edit_save"):
            return
    if all(t == m.content for t, m in zip(texts, current.example.messages, strict=True)):
        st.info("Nothing to save: the text is as it was.")
        return
    messages = [
        Message(m.role, t, m.tool_calls, m.name, m.tool_call_id, m.weight)
        for m, t in zip(current.example.messages, texts, strict=True)
    ]
    try:
        rev = store.edit_messages(
            project,
            current.id,
            messages,
            user,
            "edited while labelling",
            expected_revision=current.revision,
        )
    except CurationError as exc:
        st.error(esc(exc))
        return
    st.toast(md("Saved revision {} of {}", rev, current.id))
    st.rerun()


@st.fragment
def annotation_panel(schema: LabelSchema) -> None:
    """One example, its suggestions, the schema's widgets and the navigation buttons."""
    _notice()
    _progress_line()
    if st.session_state[lab.CURRENT] is None:
        _advance()
    current = st.session_state[lab.CURRENT]
    if current is None:
        st.success("Nothing left in this queue for you. Pick another queue or filter above.")
        return
    try:
        view = lp.annotation_view(store, project, current, user)
    except CurationError as exc:
        st.error(esc(exc))
        _open(None)
        return
    if st.session_state[lab.LOADED] != current:
        lab.load_values(schema, view.mine)
        st.session_state[lab.LOADED] = current
        st.session_state[lab.SEEN] = view.my_version
    ex = view.example
    st.subheader(md("Example {}", ex.id), anchor=False)
    st.caption(
        md(
            "status {} · revision {} · source {} · {} annotator(s) so far",
            ex.status,
            ex.revision,
            ex.example.source,
            view.annotators,
        )
    )
    show_example(ex.example, key=f"label_{ex.id}")
    for s in view.suggestions:
        left, right = st.columns([4, 1], vertical_alignment="center")
        field = schema.field(s.field)
        shown = lab.show_value(s.value, field=field)
        if s.detail:
            text = md(
                "Suggested {}: **{}** ({}; {})", field.display_title, shown, s.source, s.detail
            )
        else:
            text = md("Suggested {}: **{}** ({})", field.display_title, shown, s.source)
        left.info(text)
        right.button(
            "Use",
            key=f"label_use_{s.field}_{s.source}",
            on_click=_use_suggestion,
            args=(s.field, s.value),
            help="Puts the suggestion in the widget; nothing is saved until you save.",
        )
    if view.others:
        st.caption("Labels others gave on the fields you have labelled")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "annotator": r.annotator,
                        "role": r.role,
                        "field": r.field,
                        "value": lab.show_value(r.value, field=schema.field(r.field)),
                    }
                    for r in view.others
                ]
            ),
            hide_index=True,
            key="label_others",
        )
    lab.field_widgets(schema, n_candidates=len(ex.example.candidates), on_verdict=_save)
    pos = st.session_state[lab.POSITION]
    b1, b2, b3, b4 = st.columns(4)
    b1.button(
        "Previous",
        key="label_previous",
        shortcut=lab.PREVIOUS_KEY,
        on_click=_previous,
        disabled=pos <= 0,
        width="stretch",
    )
    b2.button("Skip", key="label_skip", shortcut=lab.SKIP_KEY, on_click=_skip, width="stretch")
    b3.button(
        "Save & next",
        key="label_save",
        type="primary",
        shortcut=lab.NEXT_KEY,
        on_click=_save,
        width="stretch",
    )
    if st.session_state[lab.LAST_EVENT] is not None:
        b4.button(
            md("Undo #{}", st.session_state[lab.LAST_EVENT]),
            key="label_undo_last",
            on_click=_undo_last,
            width="stretch",
            help="Undo this session's last save.",
        )
    st.caption(
        md(
            "Keys: verdict A / F / X · first category 1-9 · {} save & next · {} skip · {} previous",
            lab.NEXT_KEY,
            lab.SKIP_KEY,
            lab.PREVIOUS_KEY,
        )
    )
    _edit_turns(view)


def _annotate(schema: LabelSchema) -> None:
    _queue_filters()
    work, side = st.columns([3, 1])
    with side:
        st.markdown("**Guidelines**")
        if schema.guidelines.strip():
            with st.container(height=500, border=True):
                lab.show_guidelines(schema.guidelines)
        else:
            st.caption("No guidelines yet; the owner writes them in the Schema view.")
    with work:
        annotation_panel(schema)


# ---- review ------------------------------------------------------------------------------------


def _review(schema: LabelSchema) -> None:
    if not reviewer:
        st.info(md("Reviewers set final labels: {}. The owner names them.", ", ".join(team)))
        return
    ids = lp.disagreements(store, project)
    st.caption(
        md(
            "{:,} example(s) where annotators disagree without a majority. A final label "
            "set here wins over the votes; export uses it.",
            len(ids),
        )
    )
    typed = st.text_input("Or open any example by id", key="label_review_goto")
    choices = ids if not typed.strip() else [typed.strip()]
    if not choices:
        st.success("No disagreements left to review.")
        return
    if st.session_state[lab.REVIEW_PICK] not in choices:
        st.session_state[lab.REVIEW_PICK] = choices[0]
    picked = st.selectbox("Example", choices, key=lab.REVIEW_PICK)
    try:
        view = lp.annotation_view(store, project, picked, user, review_mode=True)
    except CurationError as exc:
        st.error(esc(exc))
        return
    show_example(view.example.example, key=f"review_{picked}")
    annotators = sorted({r.annotator for r in view.others if r.role == "annotator"})
    table = []
    for f in schema.fields:
        row: dict[str, Any] = {"field": f.name}
        for who in annotators:
            value = next(
                (
                    r.value
                    for r in view.others
                    if r.annotator == who and r.field == f.name and r.role == "annotator"
                ),
                None,
            )
            row[who] = lab.show_value(value, field=f)
        final = view.final.get(f.name)
        row["final"] = lab.show_value(final.value, field=f) if final else "-"
        row["status"] = final.status if final else "-"
        table.append(row)
    st.dataframe(pd.DataFrame(table), hide_index=True, key="label_review_table")
    decidable = [f for f in schema.fields if f.kind != "text"]
    with st.form(f"label_review_form_{picked}"):
        chosen: dict[str, Any] = {}
        for f in decidable:
            seen = [r.value for r in view.others if r.field == f.name]
            options = lab.value_options(f, seen)
            final = view.final.get(f.name)
            if f.kind == "multi_choice":
                chosen[f.name] = st.multiselect(
                    md("Final {}", f.display_title),
                    options,
                    default=list(final.value) if final and isinstance(final.value, tuple) else [],
                    key=f"label_review_{picked}_{f.name}",
                )
                continue
            index = options.index(final.value) if final and final.value in options else None
            chosen[f.name] = st.selectbox(
                md("Final {}", f.display_title),
                options,
                index=index,
                key=f"label_review_{picked}_{f.name}",
                format_func=lambda v, field=f: lab.show_value(v, field=field),
            )
        submitted = st.form_submit_button("Set final labels", type="primary")
    if submitted:
        # a field is decided when the choice differs from its final label, or it has none
        chosen = {k: tuple(v) if isinstance(v, list) else v for k, v in chosen.items()}
        decided = {
            name: v
            for name, v in chosen.items()
            if v not in (None, ())
            and (
                name not in view.final
                or not view.final[name].resolved
                or view.final[name].value != v
            )
        }
        try:
            event = repo.review(store, project, picked, decided, user, expected=view.version)
        except CurationError as exc:
            st.error(esc(exc))
            return
        st.toast(md("Final labels of {} set (event #{})", picked, event) if event else "No change")
        st.rerun()


# ---- label errors ------------------------------------------------------------------------------


def _issue_job_ended(job: Job) -> None:
    if job.state == "done" and job.result:
        st.toast(md("{:,} suspected label error(s) found", job.result.get("flagged", 0)))
    else:
        finished_message(job, "label check")


def _decide(example_id: str, accept: bool) -> None:
    try:
        event = lp.decide_label_issue(store, project, example_id, user, accept=accept)
    except CurationError as exc:
        st.session_state[lab.NOTICE] = ("error", str(exc))
        return
    st.session_state[lab.LAST_EVENT] = event
    st.session_state[lab.NOTICE] = ("toast", f"Recorded for {example_id} (event #{event})")


def _label_errors(schema: LabelSchema) -> None:
    _notice()
    # categories first: they are what label errors are usually about
    fields = [f.name for f in schema.fields if f.kind == "single_choice"] + [
        f.name for f in schema.fields if f.kind == "verdict"
    ]
    if not fields:
        st.info("Label errors are found for single-choice fields and verdicts; add one first.")
        return
    with st.form("label_issue_form"):
        c1, c2 = st.columns(2)
        field = c1.selectbox("Field to check", fields, key="label_issue_field")
        features = c2.selectbox(
            "Text features",
            ["auto", "tfidf", "tfidf+embeddings"],
            key="label_issue_features",
            help="auto: TF-IDF words and characters, plus sentence embeddings on up to 1,000 "
            "texts when the model is installed",
        )
        run = st.form_submit_button(
            "Find label errors", type="primary", help="Runs in the background."
        )
    active, ended = watch_job(project, ISSUE_STEP, lab.ISSUE_JOB)
    if ended is not None:
        _issue_job_ended(ended)
    if run:
        try:
            job = submit_job(project, ISSUE_STEP, {"field": field, "features": features}, user)
        except CurationError as exc:
            st.error(esc(exc))
        else:
            st.session_state[lab.ISSUE_JOB] = job.id
            st.rerun()
    if active is not None:
        job_progress(active.id, key="label_issue_job")
    latest = repo.label_issue_run(store, project)
    if latest is None:
        st.info("No label check yet: pick a field and press **Find label errors**.")
        return
    stats = latest.get("stats") or {}
    st.markdown(
        md(
            "Field **{}** · {:,} checked · **{:,}** suspected · cross-validated accuracy {} · "
            "run {} by {}",
            latest["params"].get("field"),
            stats.get("checked", 0),
            stats.get("flagged", 0),
            stats.get("cv_accuracy", "-"),
            latest["id"],
            latest["author"],
        )
    )
    items = lp.label_issue_items(store, project)
    if not items:
        st.success("No suspected label errors.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "example": i.example_id,
                    "given": i.given,
                    "suggested": i.suggested,
                    "quality": i.quality_score,
                    "decision": i.decision or "",
                }
                for i in items
            ]
        ),
        hide_index=True,
        key="label_issue_table",
        column_config={"quality": st.column_config.NumberColumn(format="%.3f")},
    )
    open_items = [i for i in items if i.decision is None] or items
    by_id = {i.example_id: i for i in open_items}
    picked = st.selectbox("Decide", list(by_id), key="label_issue_pick")
    item = by_id[picked]
    if reviewer:
        a, k = st.columns(2)
        a.button(
            md("Accept the suggestion: {}", item.suggested),
            key="label_issue_accept",
            type="primary",
            on_click=_decide,
            args=(item.example_id, True),
        )
        k.button(
            md("Keep the given label: {}", item.given),
            key="label_issue_keep",
            on_click=_decide,
            args=(item.example_id, False),
        )
    else:
        st.caption(md("Reviewers decide: {}.", ", ".join(team)))
    show_example(store.get_example(project, item.example_id).example, key=f"issue_{picked}")


# ---- progress, agreement and bulk actions ------------------------------------------------------


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _bulk(schema: LabelSchema) -> None:
    st.subheader("Act on the whole queue", anchor=False)
    _queue_filters()  # the same widgets as in Annotate: drawn here, they keep their values
    how, label_state = lab.QUEUES[st.session_state[lab.QUEUE]]
    flt = _filter()
    ids = (
        lp.disagreements(store, project, flt)
        if how == "disagreements"
        else repo.queue_ids(store, project, flt, label_state=label_state, annotator=user)
    )
    st.caption(
        md(
            "{:,} example(s) in the queue {} with these filters.",
            len(ids),
            st.session_state[lab.QUEUE],
        )
    )
    fields = [f for f in schema.fields if f.kind in ("verdict", "single_choice", "multi_choice")]
    if not fields:
        st.caption("Bulk actions set a verdict, a category or a tag; the schema has none.")
        return
    c1, c2, c3, c4 = st.columns(4)
    name = c1.selectbox("Field", [f.name for f in fields], key="label_bulk_field")
    f = schema.field(name)
    value = c2.selectbox("Value", list(getattr(f, "options", ())), key="label_bulk_value")
    modes = ["add", "remove", "set"] if f.kind == "multi_choice" else ["set"]
    mode = c3.selectbox("Action", modes, key="label_bulk_mode")
    roles = ["annotator", "reviewer"] if reviewer else ["annotator"]
    role = c4.selectbox(
        "As",
        roles,
        key="label_bulk_role",
        format_func={"annotator": "my labels", "reviewer": "final labels"}.__getitem__,
    )
    wanted = (name, value, mode, role, len(ids))
    if st.button(
        md("Apply to {:,} example(s)", len(ids)), key="label_bulk_apply", disabled=not ids
    ):
        st.session_state[lab.BULK_CONFIRM] = wanted
    if st.session_state[lab.BULK_CONFIRM] == wanted:
        st.warning(
            md(
                "{} {} = {} on {:,} example(s) as {}? One event; undo reverses it.",
                mode,
                name,
                value,
                len(ids),
                role,
            )
        )
        yes, no = st.columns(2)
        if yes.button("Yes, apply", key="label_bulk_confirm", type="primary"):
            st.session_state[lab.BULK_CONFIRM] = None
            try:
                event = repo.bulk_label(
                    store, project, ids, name, value, user, role=role, mode=mode
                )
            except CurationError as exc:
                st.error(esc(exc))
                return
            st.session_state["label_bulk_event"] = event
            st.toast(md("Applied (event #{})", event) if event else "Nothing to change")
            st.rerun()
        if no.button("Cancel", key="label_bulk_cancel"):
            st.session_state[lab.BULK_CONFIRM] = None
            st.rerun()
    last = st.session_state.get("label_bulk_event")
    if last and st.button(md("Undo the last bulk action (#{})", last), key="label_bulk_undo"):
        try:
            store.undo(project, last, user)
        except CurationError as exc:
            st.error(esc(exc))
        else:
            st.session_state["label_bulk_event"] = None
            st.toast(md("Undid event #{}", last))
            st.rerun()


def _progress_and_agreement(schema: LabelSchema) -> None:
    progress = repo.queue_progress(store, project)
    m = st.columns(4)
    m[0].metric("Examples", progress.examples)
    m[1].metric("Complete", progress.complete)
    m[2].metric("Started", progress.started)
    m[3].metric("Untouched", progress.untouched)
    st.progress(
        progress.done_fraction, text=md("{:.0%} of the annotations needed", progress.done_fraction)
    )
    if progress.per_annotator:
        st.dataframe(
            pd.DataFrame(
                [{"annotator": k, "examples": v} for k, v in progress.per_annotator.items()]
            ),
            hide_index=True,
            key="label_per_annotator",
        )
    st.subheader("Agreement", anchor=False)
    group = st.selectbox(
        "Also per group of",
        ["(none)", "source", *[f.name for f in schema.fields if f.kind == "single_choice"]],
        key="label_agreement_group",
    )
    report = lp.project_agreement(store, project, group_by=None if group == "(none)" else group)
    st.markdown(
        md(
            "Overall Krippendorff's alpha: **{}** on {:,} item(s) · annotators: {}",
            _figure(report.overall.value),
            report.overall.items,
            ", ".join(report.annotators) or "none yet",
        )
    )
    rows = []
    for name, fa in report.fields.items():
        rows.append(
            {
                "field": name,
                "figure": "alpha",
                "who / value": "all",
                "value": fa.alpha.value,
                "items": fa.alpha.items,
                "note": fa.alpha.note,
            }
        )
        for pair in fa.pairs:
            rows.append(
                {
                    "field": name,
                    "figure": "kappa",
                    "who / value": " / ".join(pair.annotators),
                    "value": pair.value,
                    "items": pair.items,
                    "note": pair.note,
                }
            )
        for value, fig in fa.per_value.items():
            if fig.items:
                rows.append(
                    {
                        "field": name,
                        "figure": "alpha per value",
                        "who / value": value,
                        "value": fig.value,
                        "items": fig.items,
                        "note": fig.note,
                    }
                )
        for g, fig in fa.per_group.items():
            rows.append(
                {
                    "field": name,
                    "figure": "alpha per group",
                    "who / value": g,
                    "value": fig.value,
                    "items": fig.items,
                    "note": fig.note,
                }
            )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        key="label_agreement_table",
        column_config={"value": st.column_config.NumberColumn(format="%.3f")},
    )
    _bulk(schema)


# ---- schema ------------------------------------------------------------------------------------


def _save_schema(new: LabelSchema | dict[str, Any]) -> None:
    try:
        event = lp.save_schema(store, project, new, user)
    except CurationError as exc:
        st.error(md("Not saved: {}", exc))
        return
    st.toast(md("Saved the label schema (event #{})", event))
    st.rerun()


def _schema_view() -> None:
    import json

    owns = user == owner
    if schema is None:
        st.info(md("This project has no label schema yet. The owner ({}) sets it.", owner))
        if owns and st.button("Start with a verdict and a note", key="label_schema_start"):
            starter: tuple[Any, ...] = (VerdictField(), TextField())
            _save_schema(LabelSchema(fields=starter))
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "field": f.name,
                        "kind": f.kind,
                        "title": f.display_title,
                        "options": ", ".join(str(o) for o in getattr(f, "options", ())),
                        "required": f.required,
                    }
                    for f in schema.fields
                ]
            ),
            hide_index=True,
            key="label_schema_table",
        )
        st.caption(
            md(
                "{} annotator(s) per example · reviewers: {} · imported: {}",
                schema.annotators_per_example,
                ", ".join(team),
                ", ".join(f"{i.field} from {i.metadata_key}" for i in schema.imported) or "none",
            )
        )
    if not owns:
        st.caption(md("Only the project's owner ({}) changes the schema.", owner))
        return
    base: dict[str, Any] = (
        schema.to_dict() if schema else {"fields": [], "guidelines": "", "imported": []}
    )
    with st.form("label_schema_form"):
        k = st.number_input(
            "Annotators per example",
            1,
            50,
            int(base.get("annotators_per_example", 1)),
            key="label_schema_k",
        )
        guidelines = st.text_area(
            "Guidelines (markdown)",
            base.get("guidelines", ""),
            key="label_schema_guidelines",
            height=160,
        )
        names = st.text_input(
            "Reviewers besides you (comma-separated)",
            ", ".join(n for n in team if n != owner),
            key="label_schema_reviewers",
        )
        fields_json = st.text_area(
            "Fields (JSON)",
            json.dumps(base.get("fields", []), indent=1, ensure_ascii=False),
            key="label_schema_fields",
            height=200,
        )
        if st.form_submit_button("Save schema", type="primary"):
            try:
                data = {
                    **base,
                    "annotators_per_example": int(k),
                    "guidelines": guidelines,
                    "fields": json.loads(fields_json or "[]"),
                }
                lp.set_reviewers(store, project, names.split(","), user)
            except (ValueError, CurationError) as exc:
                st.error(md("Not saved: {}", exc))
            else:
                _save_schema(data)
    with st.form("label_add_field"):
        st.markdown("**Add a field**")
        c1, c2, c3 = st.columns([1, 1, 2])
        kind = c1.selectbox("Kind", list(FIELD_KINDS), key="label_add_kind")
        name = c2.text_input("Name", key="label_add_name", placeholder="e.g. topic")
        options = c3.text_input("Options (comma-separated)", key="label_add_options")
        required = st.checkbox("Required", key="label_add_required")
        if st.form_submit_button("Add field"):
            spec: dict[str, Any] = {"kind": kind, "name": name.strip(), "required": required}
            if kind in ("single_choice", "multi_choice"):
                spec["options"] = [o.strip() for o in options.split(",") if o.strip()]
            try:
                new_field = field_from_dict(spec)
                fields = [*(schema.fields if schema else ()), new_field]
                new = LabelSchema(
                    fields=tuple(fields),
                    guidelines=schema.guidelines if schema else "",
                    annotators_per_example=schema.annotators_per_example if schema else 1,
                    imported=schema.imported if schema else (),
                )
            except CurationError as exc:
                st.error(md("Not added: {}", exc))
            else:
                _save_schema(new)
    keys = [f.name for f in store.metadata_fields(project)]
    if store.stats(project)["with_preference"]:
        keys.append(lp.KTO_SOURCE)
    if keys:
        with st.form("label_adopt"):
            st.markdown("**Adopt a metadata field as imported labels**")
            c1, c2, c3 = st.columns([2, 2, 1])
            key = c1.selectbox("Metadata field", keys, key="label_adopt_key")
            target = c2.text_input("Label field (default: its name)", key="label_adopt_field")
            multi = c3.checkbox("Tags", key="label_adopt_multi")
            if st.form_submit_button("Adopt"):
                try:
                    result = lp.adopt_metadata(
                        store, project, key, user, field=target.strip() or None, multi=multi
                    )
                except CurationError as exc:
                    st.error(md("Not adopted: {}", exc))
                else:
                    st.toast(md("{:,} imported label(s) for {}", result.n_labelled, result.field))
                    if result.problems:
                        st.session_state[lab.NOTICE] = (
                            "error",
                            f"{len(result.problems)} value(s) not adopted, e.g. {result.problems[0]}",
                        )
                    st.rerun()
    if schema and schema.guidelines.strip():
        with st.expander("Guidelines as annotators see them"):
            lab.show_guidelines(schema.guidelines)


if view == "Schema" or schema is None:
    _notice()
    _schema_view()
elif view == "Annotate":
    _annotate(schema)
elif view == "Review":
    _review(schema)
elif view == "Label errors":
    _label_errors(schema)
else:
    _progress_and_agreement(schema)
