"""Browse step: page through a project's examples with search and filters, inspect and edit one.

Preference pairs show their candidates side by side with swap / prefer / tie / edit buttons, KTO
examples a desirable toggle, prompts without an answer a form to write it. Text is shown with
st.text/st.code only, so markup inside examples stays inert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from curation import preference as pref
from curation.errors import CurationError
from curation.paths import safe_file_stem
from curation.quality.project import STEP as QUALITY_STEP
from curation.quality.project import flag_title
from curation.records import Message
from curation.steps import steps_with_results
from curation.store import STATUSES, ExampleFilter
from curation.store.pii_findings import examples_by_review_state
from ui import state
from ui.downloads import examples_csv
from ui.filters import metadata_filter, pii_state_filter, quality_flag_filter, step_flag_filter
from ui.safe import esc, md
from ui.widgets import show_example

PAGE_SIZE = 50

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()
state.require_examples(project)

st.title("Browse")


def _reset_page() -> None:
    """Filters changed: back to the first page, and the list (not an id typed earlier) decides."""
    st.session_state[state.BROWSE_PAGE] = 0
    st.session_state[state.BROWSE_PINNED] = False
    st.session_state[state.BROWSE_TABLE_NONCE] += 1
    st.session_state["browse_goto"] = ""


def _open_by_id(example_id: str) -> None:
    """Show this example, whatever the list shows, until a row is clicked or filters change."""
    st.session_state[state.BROWSE_SELECTED] = example_id
    st.session_state[state.BROWSE_PINNED] = True
    st.session_state[state.BROWSE_TABLE_NONCE] += 1  # clears the table's row selection


def _goto_changed() -> None:
    typed = (st.session_state.get("browse_goto") or "").strip()
    if typed:
        _open_by_id(typed)
    else:
        st.session_state[state.BROWSE_PINNED] = False


def _table_key() -> str:
    # A new key gives a table without a row selected: after an id is typed, and on every page.
    page = st.session_state[state.BROWSE_PAGE]
    return f"browse_table_{st.session_state[state.BROWSE_TABLE_NONCE]}_{page}"


def _show_needing_an_answer() -> None:
    st.session_state["browse_status"] = ["needs_answer"]
    _reset_page()


n_needing = store.count_examples(project, ExampleFilter(statuses=["needs_answer"]))
if n_needing and st.session_state.get("browse_status") != ["needs_answer"]:
    note, show = st.columns([3, 1], vertical_alignment="center")
    if n_needing == 1:
        note.info("1 example needs an answer: a prompt with no reply yet.")
    else:
        note.info(md("{:,} examples need an answer: prompts with no reply yet.", n_needing))
    show.button("List them", key="browse_show_needing", on_click=_show_needing_an_answer)

c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
search = c1.text_input("Search in text", key="browse_search", on_change=_reset_page)
statuses = c2.multiselect(
    "Status", list(STATUSES), default=["active"], key="browse_status", on_change=_reset_page
)
sources = c3.multiselect(
    "Source", store.sources(project), key="browse_sources", on_change=_reset_page
)
flag = quality_flag_filter(
    store.step_result_counts(project, QUALITY_STEP),
    store.step_result_total(project, QUALITY_STEP),
    key="browse_quality_flag",
    title=flag_title,
    on_change=_reset_page,
    where=c4,
)
pii_state = pii_state_filter(
    examples_by_review_state(store, project),
    key="browse_pii_state",
    on_change=_reset_page,
    where=c5,
)
meta_filter = metadata_filter(
    store.metadata_fields(project), key="browse_meta", on_change=_reset_page, none="(any)"
)
step_flag = step_flag_filter(
    steps_with_results(store, project), key="browse_step", on_change=_reset_page
)

flt = ExampleFilter(
    statuses=statuses or None,
    sources=sources or None,
    search=search or None,
    metadata=meta_filter,
    quality_flag=flag,
    pii_state=pii_state,
    step_flag=step_flag,
)
total = store.count_examples(project, flt)
pages = max(1, -(-total // PAGE_SIZE))
page = min(st.session_state[state.BROWSE_PAGE], pages - 1)


def _go(to: int) -> None:
    st.session_state[state.BROWSE_PAGE] = to


nav = st.columns([1, 1, 3])
nav[0].button("◀ Previous", key="browse_prev", disabled=page == 0, on_click=_go, args=(page - 1,))
nav[1].button(
    "Next ▶", key="browse_next", disabled=page >= pages - 1, on_click=_go, args=(page + 1,)
)
nav[2].markdown(md("**{}** matching examples · page {} of {}", total, page + 1, pages))

rows = store.list_examples(project, flt, offset=page * PAGE_SIZE, limit=PAGE_SIZE)


def _short(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


table = pd.DataFrame(
    [
        {
            "id": r.id,
            "status": r.status,
            "kind": pref.kind_label(r.example),
            "source": r.example.source,
            "turns": len(r.example.messages),
            "prompt": _short(r.example.prompt),
            "answer": _short(r.example.response),
        }
        for r in rows
    ]
)
table_key = _table_key()
event = st.dataframe(
    table,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key=table_key,
)
st.download_button(
    "Download the matching examples as CSV",
    data=lambda: examples_csv(store, project, flt),
    file_name=f"{safe_file_stem(project)}-examples.csv",
    mime="text/csv",
    key="browse_download_csv",
    help="Every matching example, all pages; cells that spreadsheets would run as formulas "
    "start with ' so they stay text.",
)
# The latest action wins: a row click, or an id typed below. A selection that differs from
# the last run's is a click; it opens its row and clears the typed id.
picked = (table_key, tuple(event.selection.rows if event is not None else ()))
if picked[1] and picked != st.session_state[state.BROWSE_LAST_PICK] and picked[1][0] < len(rows):
    st.session_state[state.BROWSE_SELECTED] = rows[picked[1][0]].id
    st.session_state[state.BROWSE_PINNED] = False
    st.session_state["browse_goto"] = ""  # not yet drawn in this run, so it may be set
st.session_state[state.BROWSE_LAST_PICK] = picked
# Unless an id was typed, an example that left the list (filters, paging) gives way to the
# list's first row.
shown = {r.id for r in rows}
pinned = st.session_state[state.BROWSE_PINNED]
if rows and not pinned and st.session_state[state.BROWSE_SELECTED] not in shown:
    st.session_state[state.BROWSE_SELECTED] = rows[0].id


def _open(example_id: str) -> None:
    st.session_state["browse_goto"] = example_id
    _open_by_id(example_id)


st.text_input(
    "Open an example by id",
    key="browse_goto",
    placeholder="e.g. identity_3",
    on_change=_goto_changed,
)
selected_id = st.session_state[state.BROWSE_SELECTED]
if not selected_id:
    st.stop()
try:
    current = store.get_example(project, selected_id)
except CurationError as exc:
    st.error(esc(exc))
    st.stop()

st.subheader(md("Example {}", current.id))
status_line = md("status **{}**", current.status)
if current.status_reason:
    status_line += md(" ({})", current.status_reason)
if current.duplicate_of:
    status_line += md(" · duplicate of {}", current.duplicate_of)
st.markdown(
    status_line + md(" · revision {} · source {}", current.revision, current.example.source)
)
if current.duplicate_of:
    st.button(
        md("Open the kept example {}", current.duplicate_of),
        key="browse_open_kept",
        on_click=_open,
        args=(current.duplicate_of,),
    )


# ---- edits of preference and feedback data: callbacks that carry the revision the annotator
# saw, so an edit made meanwhile by someone else is refused, not silently built upon


def _run_edit(edit: Callable[..., int], done: str, *args: Any, **kwargs: Any) -> None:
    try:
        rev = edit(store, project, *args, author=user, **kwargs)
    except CurationError as exc:
        st.session_state[state.BROWSE_NOTICE] = ("error", str(exc))
    else:
        st.session_state[state.BROWSE_NOTICE] = ("toast", f"{done}: revision {rev}")


def _edit_with_typed_text(
    edit: Callable[..., int], done: str, example_id: str, revision: int, text_key: str, *args: Any
) -> None:
    """A form's Save: the typed text (read from its widget) goes to `edit` after `args`."""
    _run_edit(edit, done, example_id, *args, st.session_state[text_key], expected_revision=revision)


def _set_desirable(example_id: str, revision: int, toggle_key: str) -> None:
    desirable = bool(st.session_state[toggle_key])
    _run_edit(
        pref.set_desirable,
        "Marked desirable" if desirable else "Marked undesirable",
        example_id,
        desirable,
        expected_revision=revision,
    )


def _edit_candidate_footer(index: int) -> None:
    ex = current.example
    if not pair_with_swap and ex.chosen is not ex.candidates[index]:
        st.button(
            "Prefer this one",
            key=f"pref_prefer_{index}",
            on_click=_run_edit,
            args=(pref.set_preferred, "Preferred this candidate", current.id, index),
            kwargs={"expected_revision": current.revision},
        )
    with st.expander("Edit"):
        text_key = f"cand_{current.id}_{current.revision}_{index}"
        with st.form(f"cand_form_{current.id}_{current.revision}_{index}", border=False):
            st.text_area("Answer", pref.final_answer(ex.candidates[index]), key=text_key)
            st.form_submit_button(
                "Save",
                key=f"cand_save_{index}",
                on_click=_edit_with_typed_text,
                args=(
                    pref.edit_candidate,
                    "Saved the candidate",
                    current.id,
                    current.revision,
                    text_key,
                    index,
                ),
            )


notice = st.session_state[state.BROWSE_NOTICE]
st.session_state[state.BROWSE_NOTICE] = None
if notice and notice[0] == "error":
    st.error(esc(notice[1]))
elif notice:
    st.toast(esc(notice[1]))

ex = current.example
pair_with_swap = len(ex.candidates) == 2 and ex.rejected is not None
show_example(ex, key=current.id, candidate_footer=_edit_candidate_footer if ex.candidates else None)
if ex.candidates:
    a1, a2, _ = st.columns([1, 1, 3])
    if pair_with_swap:
        a1.button(
            "Swap preference",
            key="pref_swap",
            help="Make the rejected answer the chosen one, and the chosen one rejected.",
            on_click=_run_edit,
            args=(pref.swap_preference, "Swapped chosen and rejected", current.id),
            kwargs={"expected_revision": current.revision},
        )
    if len(ex.candidates) >= 2 and not ex.is_tie:
        a2.button(
            "Mark as tie",
            key="pref_tie",
            help="Neither answer is better: every candidate gets the same rank.",
            on_click=_run_edit,
            args=(pref.mark_tie, "Marked as a tie", current.id),
            kwargs={"expected_revision": current.revision},
        )
elif ex.kind == "feedback":
    st.markdown(md("KTO label: **{}**", "desirable" if ex.desirable else "undesirable"))
    kto_key = f"kto_{current.id}_{current.revision}"
    st.toggle(
        "Desirable answer",
        value=bool(ex.desirable),
        key=kto_key,
        help="Whether a KTO trainer should learn to give this final answer (on) or avoid it.",
        on_change=_set_desirable,
        args=(current.id, current.revision, kto_key),
    )
elif ex.needs_answer:
    st.warning("This example still needs an answer.")
    answer_key = f"answer_{current.id}_{current.revision}"
    with st.form(f"answer_form_{current.id}_{current.revision}", border=False):
        st.text_area("The assistant's answer", key=answer_key)
        st.form_submit_button(
            "Save the answer",
            key="answer_save",
            on_click=_edit_with_typed_text,
            args=(pref.write_answer, "Saved the answer", current.id, current.revision, answer_key),
        )

with st.expander("Edit the prompt" if ex.candidates else "Edit this example"):
    # A form: what is typed commits with the click, so one click on "Save revision" saves it.
    with st.form(f"edit_form_{current.id}_{current.revision}", border=False):
        new_texts = [
            st.text_area(
                md("{} turn {}", m.role, i + 1),
                m.content,
                key=f"edit_{current.id}_{current.revision}_{i}",
            )
            for i, m in enumerate(current.example.messages)
        ]
        reason = st.text_input("Reason for the change", value="manual edit", key="edit_reason")
        save = st.form_submit_button("Save revision", key="edit_save")
    changed = any(t != m.content for t, m in zip(new_texts, current.example.messages, strict=True))
    if save and not changed:
        st.info("Nothing to save: the text is as it was.")
    if save and changed:
        messages = [
            Message(
                role=m.role,
                content=text,
                tool_calls=m.tool_calls,
                name=m.name,
                tool_call_id=m.tool_call_id,
                weight=m.weight,
            )
            for m, text in zip(current.example.messages, new_texts, strict=True)
        ]
        try:
            rev = store.edit_messages(
                project, current.id, messages, user, reason, expected_revision=current.revision
            )
        except CurationError as exc:
            st.error(esc(exc))
        else:
            st.toast(md("Saved revision {}", rev))
            st.rerun()
    history = store.revisions(project, current.id)
    if history:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "revision": h["revision"],
                        "by": h["author"],
                        "reason": h["reason"],
                        "at": h["created_at"],
                    }
                    for h in history
                ]
            ),
            hide_index=True,
            key="revision_table",
        )

b1, b2 = st.columns(2)
if current.status in ("active", "needs_answer"):
    # an example needing an answer becomes active by getting one, so it is only ever rejected
    if b1.button(
        "Reject the pair" if len(ex.candidates) == 2 else "Reject this example",
        key="reject_example",
    ):
        store.set_status(project, [current.id], "rejected", user, "rejected while browsing")
        st.toast(md("Rejected {}", current.id))
        st.rerun()
else:
    back_to = pref.restored_status(ex)
    if b2.button(
        "Restore to active" if back_to == "active" else "Restore (it still needs an answer)",
        key="restore_example",
    ):
        store.set_status(project, [current.id], back_to, user, "restored while browsing")
        st.toast(md("Restored {}", current.id))
        st.rerun()
