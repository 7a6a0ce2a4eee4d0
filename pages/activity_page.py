"""Audit log of the project: who changed what and when, with undo for every reversible change.

Undo refuses when the examples changed since; undoing an import or a large change asks first.
"""

from __future__ import annotations

import streamlit as st

from curation.errors import CurationError
from curation.store.store import NOT_UNDOABLE
from ui import state
from ui.safe import esc, md

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()


def _undo(event_id: int) -> None:
    st.session_state[state.UNDO_CONFIRM] = None
    try:
        store.undo(project, event_id, user)
    except CurationError as exc:  # names the later events to undo first, newest first
        st.error(esc(str(exc)))
    else:
        st.toast(md("Undid event #{}", event_id))
        st.rerun()


st.title("Activity & undo")
events = store.events(project, limit=200)
if not events:
    st.info("Nothing has happened in this project yet.")
    st.stop()

asking = st.session_state.get(state.UNDO_CONFIRM)  # event id whose undo awaits confirmation
for ev in events:
    with st.container(border=True):
        c1, c2 = st.columns([5, 1])
        when = ev["created_at"].strftime("%Y-%m-%d %H:%M:%S")
        c1.markdown(md("**#{} {}** · {} · {}", ev["id"], ev["kind"], ev["author"], when))
        c1.text(ev["summary"])
        undoable = ev["kind"] not in NOT_UNDOABLE
        if ev["undone_by"]:
            c2.caption(md("undone by #{}", ev["undone_by"]))
        elif undoable and asking == ev["id"]:
            try:
                preview = store.undo_preview(project, ev["id"])
            except CurationError as exc:
                st.session_state[state.UNDO_CONFIRM] = None
                c1.error(esc(str(exc)))
                continue
            c1.warning(md("Undoing #{} {}. Undo it?", ev["id"], preview.effect))
            if c2.button("Yes, undo", type="primary", key=f"confirm_undo_{ev['id']}"):
                _undo(ev["id"])
            if c2.button("Cancel", key=f"cancel_undo_{ev['id']}"):
                st.session_state[state.UNDO_CONFIRM] = None
                st.rerun()
        elif undoable and c2.button("Undo", key=f"undo_{ev['id']}"):
            try:
                preview = store.undo_preview(project, ev["id"])
            except CurationError as exc:
                c1.error(esc(str(exc)))
                continue
            if preview.needs_confirmation:
                st.session_state[state.UNDO_CONFIRM] = ev["id"]
                st.rerun()
            _undo(ev["id"])
