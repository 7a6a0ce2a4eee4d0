"""Session-state keys with their defaults, and the cached store every page uses.

State holds ids and small values only; the data lives in the store.
"""

from __future__ import annotations

import math
import os
from typing import Any

import streamlit as st

from curation.errors import CurationError
from curation.store import Store, default_db_url

PROJECT = "project"  # name of the current project
USER = "annotator"  # name of the person making changes
BROWSE_PAGE = "browse_page"  # 0-based page number in the browse view
BROWSE_SELECTED = "browse_selected"  # example id shown in detail
BROWSE_PINNED = "browse_pinned"  # True while the shown example was opened by its id
BROWSE_TABLE_NONCE = "browse_table_nonce"  # bumped to clear the table's row selection
BROWSE_LAST_PICK = "browse_last_pick"  # (table key, selected rows) seen on the last run
BROWSE_NOTICE = "browse_notice"  # (level, text) an edit's callback leaves for the page to show
IMPORT_SUMMARIES = "import_summaries"  # summaries of the last import, for the page to show
IMPORT_ROUND = "import_round"  # imports done this session: part of the uploader's key
IMPORT_CLEAR = "import_clear"  # set by an import: empty the path input on the next run
DEDUP_RUN = "dedup_run"  # id of the step run the dedup page shows
DEDUP_CLUSTER = "dedup_cluster"  # index of the cluster under review
DEDUP_JOB = "dedup_job"  # id of the dedup job this session started and has not seen finish
EXPORT_RESULT = "export_result"  # summary of the last export
CONTAM_REPORT = "contam_report"  # the last contamination check's report, for the page to show
UNDO_CONFIRM = "undo_confirm"  # id of the event whose undo waits for a confirmation
EXPORT_DRY_RUN = "export_dry_run"  # what the last readiness check's dry run would write
QUALITY_CONFIRM = "quality_confirm"  # (flag code, status) of the bulk action awaiting a yes

DEFAULTS: dict[str, Any] = {
    PROJECT: os.environ.get("CURATION_PROJECT") or None,
    USER: os.environ.get("CURATION_USER", ""),
    BROWSE_PAGE: 0,
    BROWSE_SELECTED: None,
    BROWSE_PINNED: False,
    BROWSE_TABLE_NONCE: 0,
    BROWSE_LAST_PICK: ("", ()),
    BROWSE_NOTICE: None,
    IMPORT_SUMMARIES: [],
    IMPORT_ROUND: 0,
    IMPORT_CLEAR: False,
    DEDUP_RUN: None,
    DEDUP_CLUSTER: 0,
    DEDUP_JOB: None,
    EXPORT_RESULT: None,
    CONTAM_REPORT: None,
    UNDO_CONFIRM: None,
    EXPORT_DRY_RUN: None,
    QUALITY_CONFIRM: None,
}


def _leave_legacy_multipage_mode() -> None:
    # Streamlit treats an app with a `pages/` folder as a v1 multipage app until st.navigation
    # runs once, and AppTest resets that flag before every run; in that mode a page script can
    # run without app.py (no sidebar, no navigation). Switch the flag off and rerun through
    # app.py, which always calls st.navigation.
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def init_state() -> None:
    """Fill every missing key with its default (safe to call on every rerun)."""
    _leave_legacy_multipage_mode()
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = list(value) if isinstance(value, list) else value


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    return Store(url)


def get_store() -> Store:
    """The process-wide store for `CURATION_DB_URL` (or the local SQLite file)."""
    return _store(default_db_url())


def current_project() -> str | None:
    return st.session_state.get(PROJECT)


def current_user() -> str:
    return (st.session_state.get(USER) or "").strip()


def require_project_and_user() -> tuple[str, str]:
    """Stop the page with a pointer to the sidebar unless a project and a name are set."""
    project, user = current_project(), current_user()
    if not project:
        st.info("Choose or create a project in the sidebar first.")
        st.stop()
    if not user:
        st.info("Enter your annotator name in the sidebar: every change is attributed to it.")
        st.stop()
    return project, user  # type: ignore[return-value]


def upload_limit_mb() -> int | None:
    """Per-file cap for upload widgets in MB: the importer's size limit (`CURATION_MAX_IMPORT_MB`),
    never above what the server accepts (`server.maxUploadSize`). None leaves the server's cap
    (the setting is not a number; the import itself reports that)."""
    from curation.formats.containers import max_import_bytes

    try:
        limit = max_import_bytes()
    except CurationError:
        return None
    server = int(st.get_option("server.maxUploadSize"))
    return max(1, min(server, math.ceil(limit / 2**20)))


def open_in_browse(example_id: str) -> None:
    """Go to Browse showing this example, opened by its id (whatever Browse's filters list),
    as typing the id into Browse's "Open an example by id" does."""
    st.session_state[BROWSE_SELECTED] = example_id
    st.session_state[BROWSE_PINNED] = True
    st.session_state[BROWSE_TABLE_NONCE] = st.session_state.get(BROWSE_TABLE_NONCE, 0) + 1
    st.session_state["browse_goto"] = example_id  # Browse's id box is not drawn on this page
    st.switch_page("pages/browse_page.py")


def require_examples(project: str) -> None:
    """Stop the page with a link to Import when the project has no examples yet."""
    if get_store().count_examples(project) == 0:
        st.info("This project has no examples yet.")
        st.page_link("pages/import_page.py", label="Import data", icon=":material/upload:")
        st.stop()


@st.cache_data(show_spinner="Detecting languages…", max_entries=32)
def _project_languages(db_url: str, project: str, version: tuple[int, int]) -> dict[str, Any]:
    from curation.dedup.project import project_languages as detect

    return detect(get_store(), project).to_dict()


def project_languages(project: str) -> dict[str, Any]:
    """The languages of a project's active examples (a sample), cached until the project
    changes (its active count or its latest event: an import, an edit, a status change)."""
    from curation.store import ExampleFilter

    store = get_store()
    latest = store.events(project, limit=1)
    version = (
        store.count_examples(project, ExampleFilter(statuses=["active"])),
        int(latest[0]["id"]) if latest else 0,
    )
    return _project_languages(store.url, project, version)
