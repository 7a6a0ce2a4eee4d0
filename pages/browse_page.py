"""Browse step: page through a project's examples with search and filters, inspect and edit one.

Text is shown with st.text/st.code only, so markup inside examples stays inert.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from curation.errors import CurationError
from curation.paths import safe_file_stem
from curation.quality.project import STEP as QUALITY_STEP
from curation.quality.project import flag_title
from curation.records import Message
from curation.store import STATUSES, ExampleFilter
from ui import state
from ui.downloads import examples_csv
from ui.filters import metadata_filter, quality_flag_filter
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


c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
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
meta_filter = metadata_filter(
    store.metadata_fields(project), key="browse_meta", on_change=_reset_page, none="(any)"
)

flt = ExampleFilter(
    statuses=statuses or None,
    sources=sources or None,
    search=search or None,
    metadata=meta_filter,
    quality_flag=flag,
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
show_example(current.example, key=current.id)

with st.expander("Edit this example"):
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
if current.status == "active":
    if b1.button("Reject this example", key="reject_example"):
        store.set_status(project, [current.id], "rejected", user, "rejected while browsing")
        st.toast(md("Rejected {}", current.id))
        st.rerun()
elif b2.button("Restore to active", key="restore_example"):
    store.set_status(project, [current.id], "active", user, "restored while browsing")
    st.toast(md("Restored {}", current.id))
    st.rerun()
