"""Import step: upload files or give a local path, check the detected format and mapping, import.

Parsing is cached per file content, so adjusting the mapping re-reads nothing twice.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from curation.errors import CurationError
from curation.formats import SHAPES, ColumnMapping, ImportResult, read_examples
from curation.formats.containers import load_records
from curation.formats.storable import printable
from curation.records import Example
from ui import state
from ui.safe import esc
from ui.widgets import show_example

PREVIEW_CHARS = 5000  # per text in the preview; the browser chokes on megabytes of text
PROBLEM_ROWS = 500

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()

st.title("Import")
st.caption(
    "JSONL, JSON, CSV/TSV, Parquet or a Hugging Face dataset folder. Alpaca, ShareGPT, OpenAI "
    "chat, prompt/completion, Dolly and Self-Instruct are detected; any other table is mapped "
    "column by column."
)


@st.cache_data(show_spinner="Reading file…", max_entries=32)
def _parse_bytes(data: bytes, name: str, fmt: str, mapping: ColumnMapping | None) -> ImportResult:
    buffer = io.BytesIO(data)
    buffer.name = name
    return read_examples(buffer, format=fmt, mapping=mapping, source=name)


@st.cache_data(show_spinner="Reading path…", max_entries=8)
def _parse_path(path: str, mtime: float, fmt: str, mapping: ColumnMapping | None) -> ImportResult:
    return read_examples(path, format=fmt, mapping=mapping)


@st.cache_data(show_spinner=False, max_entries=32)
def _raw_rows(data: bytes | None, path: str | None, name: str) -> pd.DataFrame:
    """The first records as they are in the file, to help choose the mapping."""
    source: str | io.BytesIO
    if path is not None:
        source = path
    else:
        source = io.BytesIO(data or b"")
        source.name = name
    loaded = load_records(source, source=name, limit=5)
    rows = [record for _, record, _ in loaded.rows if isinstance(record, dict)]
    # shown as text: values may be nested, huge or untrusted
    return pd.DataFrame(
        [{printable(k, 100): printable(str(v), 300) for k, v in r.items()} for r in rows]
    )


def _mapping_widgets(
    result: ImportResult, slot: str, data: bytes | None, path: str | None, name: str
) -> ColumnMapping | None:
    """Let the user map table columns to turns; returns the mapping or None to use detection."""
    wanted = result.needs_mapping or st.toggle(
        "Adjust column mapping", key=f"map_toggle_{slot}", value=False
    )
    if not wanted:
        return None
    cols = result.columns
    guess = result.suggested_mapping or ColumnMapping(user=[], assistant="")
    st.markdown("**Column mapping**: which columns make the user turn and the answer.")
    st.dataframe(_raw_rows(data, path, name), hide_index=True, key=f"raw_rows_{slot}")
    c1, c2, c3 = st.columns(3)
    user_cols = c1.multiselect(
        "User turn (joined in order)",
        cols,
        default=[c for c in guess.user if c in cols],
        key=f"map_user_{slot}",
    )
    none = "(none)"
    assistant_options = [none, *cols]
    assistant = c2.selectbox(
        "Assistant answer",
        assistant_options,
        index=assistant_options.index(guess.assistant) if guess.assistant in cols else 0,
        key=f"map_assistant_{slot}",
    )
    system = c3.selectbox(
        "System prompt",
        assistant_options,
        index=assistant_options.index(guess.system) if guess.system in cols else 0,
        key=f"map_system_{slot}",
    )
    if not user_cols or assistant == none:
        st.warning("Pick at least one user column and the answer column to import this file.")
        return ColumnMapping(user=user_cols, assistant="")
    return ColumnMapping(
        user=list(user_cols),
        assistant=assistant,
        system=None if system == none else system,
    )


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= PREVIEW_CHARS:
        return text
    rest = len(text) - PREVIEW_CHARS
    return f"{text[:PREVIEW_CHARS]}… ({rest:,} more characters, shown in full after import)"


def _for_preview(example: Example) -> Example:
    """A copy of ``example`` with long texts cut, for the preview only (the import is whole)."""
    messages = [
        dataclasses.replace(m, content=_cut(m.content) or "", tool_calls=_cut(m.tool_calls))
        for m in example.messages
    ]
    metadata = example.metadata
    shown = json.dumps(metadata, ensure_ascii=False, default=str)
    if len(shown) > PREVIEW_CHARS:
        metadata = {"metadata (cut for the preview)": _cut(shown)}
    return dataclasses.replace(
        example, messages=messages, metadata=metadata, tools=_cut(example.tools)
    )


def _show_result(result: ImportResult, slot: str) -> None:
    importable = len(result.examples)
    cols = st.columns(4)
    cols[0].metric("Detected format", result.detected_format)
    cols[1].metric("Records", result.total_records)
    cols[2].metric("Importable", importable)
    cols[3].metric("Skipped", result.skipped)
    for warning in result.warnings:
        if warning.line is None:  # record-level warnings are rows of the problems table
            st.warning(esc(warning.message))
    problems = result.problems()
    if problems:
        label = f"{len(problems)} record problem(s); the rest imports"
        with st.expander(label, expanded=True):
            st.dataframe(
                pd.DataFrame(problems[:PROBLEM_ROWS]), hide_index=True, key=f"errors_{slot}"
            )
            if len(problems) > PROBLEM_ROWS:
                st.caption(f"The first {PROBLEM_ROWS} of {len(problems)} are listed.")
    if result.examples:
        st.markdown("**Preview** (canonical chat view)")
        preview_cols = st.columns(min(2, len(result.examples)))
        for col, example in zip(preview_cols, result.examples[:2], strict=False):
            with col, st.container(border=True):
                st.caption(f"id {esc(example.id)}")
                show_example(_for_preview(example))


uploads = st.file_uploader(
    "Upload one or more files", accept_multiple_files=True, key="import_files"
)
path_text = st.text_input(
    "…or a local file or folder path (e.g. a `save_to_disk` dataset folder)", key="import_path"
)
fmt = st.selectbox("Format", ["auto", *SHAPES], key="import_format")
allow_reimport = st.checkbox(
    "Import again even if this exact file was imported before", key="import_allow_reimport"
)

pending: list[tuple[str, ImportResult]] = []
sources: list[tuple[str, bytes | None, str | None]] = [
    (u.name, u.getvalue(), None) for u in (uploads or [])
]
if path_text.strip():
    sources.append((Path(path_text.strip()).name, None, path_text.strip()))

for slot_index, (name, data, path) in enumerate(sources):
    slot = f"{slot_index}"
    with st.container(border=True):
        st.subheader(esc(name))
        try:
            if path is not None:
                if not os.path.exists(path):
                    st.error(f"No file or folder at {path}.")
                    continue
                result = _parse_path(path, os.path.getmtime(path), fmt, None)
            else:
                assert data is not None
                result = _parse_bytes(data, name, fmt, None)
            mapping = _mapping_widgets(result, slot, data, path, name) if result.columns else None
            if mapping is not None and mapping.assistant:
                result = (
                    _parse_path(path, os.path.getmtime(path), fmt, mapping)
                    if path is not None
                    else _parse_bytes(data, name, fmt, mapping)  # type: ignore[arg-type]
                )
        except CurationError as exc:
            st.error(esc(exc))
            continue
        _show_result(result, slot)
        if result.examples:
            pending.append((name, result))

if pending:
    total = sum(len(r.examples) for _, r in pending)
    if st.button(f"Import {total} examples into {project}", type="primary", key="import_button"):
        summaries = []
        bar = st.progress(0.0, text="Importing…")
        for i, (name, result) in enumerate(pending):
            try:
                summary = store.add_import(project, result, user, allow_reimport=allow_reimport)
            except CurationError as exc:
                st.error(f"{name}: {exc}")
                continue
            summaries.append(summary.to_dict())
            bar.progress((i + 1) / len(pending), text=f"Imported {name}")
        bar.empty()
        st.session_state[state.IMPORT_SUMMARIES] = summaries
        st.toast(f"Imported {sum(s['imported'] for s in summaries)} examples")
        st.rerun()

summaries = st.session_state.get(state.IMPORT_SUMMARIES) or []
if summaries:
    st.subheader("Last import")
    for s in summaries:
        if s["already_imported"]:
            st.warning(
                f"{s['file_name']} was already imported into this project; nothing was added. "
                "Tick 'Import again' to add its new records anyway."
            )
            continue
        reasons = "; ".join(f"{k}: {v}" for k, v in s["skipped_reasons"].items()) or "none"
        st.success(
            f"{s['file_name']}: imported {s['imported']} examples ({s['detected_format']}), "
            f"skipped {s['skipped']} ({reasons})."
        )
    st.page_link("pages/browse_page.py", label="Browse the examples", icon=":material/table_rows:")

imports = store.list_imports(project)
if imports:
    with st.expander(f"Imports into {project} ({len(imports)})"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "file": i["file_name"],
                        "format": i["format"],
                        "imported": i["n_imported"],
                        "skipped": i["n_skipped"],
                        "by": i["created_by"],
                        "at": i["created_at"],
                        "sha256": i["sha256"][:12],
                    }
                    for i in imports
                ]
            ),
            hide_index=True,
            key="imports_table",
        )
