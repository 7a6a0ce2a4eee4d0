"""Audit log of the project: who changed what and when, with undo for every reversible change.

Undo refuses when the examples changed since, so nobody's later work is lost.
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

st.title("Activity & undo")
events = store.events(project, limit=200)
if not events:
    st.info("Nothing has happened in this project yet.")
    st.stop()

for ev in events:
    with st.container(border=True):
        c1, c2 = st.columns([5, 1])
        when = ev["created_at"].strftime("%Y-%m-%d %H:%M:%S")
        c1.markdown(md("**#{} {}** · {} · {}", ev["id"], ev["kind"], ev["author"], when))
        c1.text(ev["summary"])
        undoable = ev["kind"] not in NOT_UNDOABLE
        if ev["undone_by"]:
            c2.caption(md("undone by #{}", ev["undone_by"]))
        elif undoable and c2.button("Undo", key=f"undo_{ev['id']}"):
            try:
                store.undo(project, ev["id"], user)
            except CurationError as exc:
                st.error(esc(exc))
            else:
                st.toast(md("Undid event #{}", ev["id"]))
                st.rerun()
