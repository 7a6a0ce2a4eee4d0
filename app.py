"""Streamlit entry point: page config, navigation between the steps, and the sidebar.

Run with `streamlit run app.py`; the sidebar picks the project and the annotator name.
"""

from __future__ import annotations

import streamlit as st

from curation.errors import CurationError
from curation.jobs import list_jobs
from curation.steps import steps
from ui import state
from ui.jobs import app_worker
from ui.safe import esc, md

# An emoji favicon is drawn in the browser; a :material/...: one is fetched from Google's servers.
st.set_page_config(page_title="Instruction data curation", page_icon="🗂️", layout="wide")
state.init_state()
store = state.get_store()
app_worker()  # started once per server process; runs the jobs pages submit


def _create_project() -> None:
    # kept exactly as typed: the store refuses " padded " with the reason instead of changing it
    name = st.session_state.get("new_project_name") or ""
    try:
        store.create_project(name, state.current_user() or "anonymous")
    except CurationError as exc:
        st.session_state["sidebar_error"] = str(exc)
        return
    st.session_state[state.PROJECT] = name
    st.session_state["new_project_name"] = ""


with st.sidebar:
    st.text_input("Annotator name", key=state.USER, placeholder="e.g. ada")
    projects = store.list_projects()
    if st.session_state.get(state.PROJECT) not in projects:
        st.session_state[state.PROJECT] = projects[0] if projects else None
    if projects:
        st.selectbox("Project", projects, key=state.PROJECT)
    with st.expander("New project", expanded=not projects):
        st.text_input("Project name", key="new_project_name")
        st.button("Create project", key="create_project", on_click=_create_project)
        if err := st.session_state.pop("sidebar_error", None):
            st.error(esc(err))
    project = state.current_project()
    if project:
        stats = store.stats(project)
        st.caption(md("**{}** · {} examples", project, stats["total"]))
        by_status = stats["by_status"]
        cols = st.columns(2)
        cols[0].metric("Active", by_status.get("active", 0))
        cols[1].metric("Duplicates", by_status.get("duplicate", 0))
        if by_status.get("needs_answer") or stats["with_preference"]:
            cols = st.columns(2)
            cols[0].metric("Need an answer", by_status.get("needs_answer", 0))
            cols[1].metric("Pairs and labels", stats["with_preference"])
        done = ", ".join(steps.done(stats["steps_run"])) or "none yet"
        st.caption(
            md("Imports: {} · edited: {} · steps run: {}", stats["imports"], stats["edited"], done)
        )
        for job in list_jobs(store, project, states=("queued", "running")):
            st.caption(md("Job {}: {} {}", job.id, job.step, job.state))

pages = [
    st.Page("pages/import_page.py", title="Import", icon=":material/upload:", default=True),
    st.Page("pages/browse_page.py", title="Browse", icon=":material/table_rows:"),
    st.Page("pages/label_page.py", title="Label", icon=":material/label:"),
    st.Page("pages/dedup_page.py", title="Deduplicate", icon=":material/content_copy:"),
    st.Page("pages/quality_page.py", title="Quality", icon=":material/rule:"),
    st.Page("pages/bias_page.py", title="Bias audit", icon=":material/balance:"),
    st.Page("pages/pii_page.py", title="PII scrub", icon=":material/shield_person:"),
    st.Page("pages/export_page.py", title="Export", icon=":material/download:"),
    st.Page("pages/activity_page.py", title="Activity & undo", icon=":material/history:"),
]
st.navigation(pages).run()
