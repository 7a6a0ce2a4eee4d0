"""Import step: upload files or give a local path, see what each would add, map columns, import.

Parsing is cached per file content; the counts shown before the click come from the store's plan.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from curation.errors import CurationError
from curation.formats import SHAPES, ColumnMapping, ImportResult, read_examples
from curation.formats.containers import load_records
from curation.formats.job import STEP, mapping_to_dict, save_upload
from curation.formats.mapping import DropRule, column_values
from curation.formats.preference import DEFAULT_RATINGS_RULE, RATINGS_RULES
from curation.formats.storable import printable
from curation.jobs import Job
from curation.records import Example
from ui import state
from ui.importing import EMPTY_VALUE, plan_rows, show_summaries
from ui.jobs import finished_message, job_progress, submit_job, watch_job
from ui.safe import esc, md
from ui.widgets import show_example

PREVIEW_CHARS = 5000  # per text in the preview; the browser chokes on megabytes of text
PROBLEM_ROWS = 500
IMPORT_JOB = "import_job_id"  # the import job this session started and has not seen finish

state.init_state()
project, user = state.require_project_and_user()
store = state.get_store()

st.title("Import")
st.session_state.setdefault(IMPORT_JOB, None)


def _import_ended(job: Job) -> None:
    """The import this session started has ended: its summaries go to the top of the page."""
    if job.state == "done" and job.result:
        summaries = job.result["summaries"]
        st.session_state[state.IMPORT_SUMMARIES] = summaries
        st.session_state[state.IMPORT_ROUND] += 1  # a new key empties the uploader
        st.session_state[state.IMPORT_CLEAR] = True
        added = sum(int(s.get("imported", 0)) for s in summaries)
        st.toast(md("Imported {:,} examples", added))
    else:
        finished_message(
            job, "import", kept="files stored before it stay imported (undo them on Activity)"
        )


active, ended = watch_job(project, STEP, IMPORT_JOB)
if ended is not None:
    _import_ended(ended)
# The last import's outcome comes first, above the (now empty) inputs.
show_summaries(st.session_state.get(state.IMPORT_SUMMARIES) or [])
st.caption(
    "JSONL, JSON, CSV/TSV, Parquet or a Hugging Face dataset folder. Alpaca, ShareGPT, OpenAI "
    "chat, prompt/completion, Dolly and Self-Instruct are detected, and so are preference and "
    "feedback data (TRL, LLaMA-Factory and OpenAI pairs, UltraFeedback ratings, KTO labels) and "
    "prompt sets; any other table is mapped column by column."
)

Ratings = tuple[str, float]  # (ratings rule, min margin) for completions rated one by one
DEFAULT_RATINGS: Ratings = (DEFAULT_RATINGS_RULE, 0.0)


@st.cache_data(show_spinner="Reading file…", max_entries=32)
def _parse_bytes(
    data: bytes,
    name: str,
    fmt: str,
    mapping: ColumnMapping | None,
    ratings: Ratings = DEFAULT_RATINGS,
) -> ImportResult:
    buffer = io.BytesIO(data)
    buffer.name = name
    return read_examples(
        buffer,
        format=fmt,
        mapping=mapping,
        source=name,
        ratings_rule=ratings[0],
        min_margin=ratings[1],
    )


@st.cache_data(show_spinner="Reading path…", max_entries=8)
def _parse_path(
    path: str,
    mtime: float,
    fmt: str,
    mapping: ColumnMapping | None,
    ratings: Ratings = DEFAULT_RATINGS,
) -> ImportResult:
    return read_examples(
        path, format=fmt, mapping=mapping, ratings_rule=ratings[0], min_margin=ratings[1]
    )


def _parse(
    source: tuple[str, bytes | None, str | None],
    fmt: str,
    mapping: ColumnMapping | None,
    ratings: Ratings,
) -> ImportResult:
    """Read an upload ``(name, bytes, None)`` or a path ``(name, None, path)``, cached."""
    name, data, path = source
    if path is not None:
        return _parse_path(path, os.path.getmtime(path), fmt, mapping, ratings)
    return _parse_bytes(data or b"", name, fmt, mapping, ratings)


def _ratings_widgets(result: ImportResult, slot: str) -> Ratings:
    """The ratings rule and margin for a file whose completions are rated one by one."""
    st.markdown(
        "**Ratings**: every completion is kept with its score; choose which two make the pair."
    )
    c1, c2 = st.columns(2)
    rule = c1.selectbox(
        "Pair",
        RATINGS_RULES,
        index=RATINGS_RULES.index(result.ratings_rule or DEFAULT_RATINGS_RULE),
        key=f"ratings_rule_{slot}",
        help="best-vs-worst: highest against lowest score. best-vs-second: the two highest. "
        "best-vs-random: highest against another picked at random, the same on every import.",
    )
    margin = c2.number_input(
        "Minimum score gap",
        min_value=0.0,
        value=float(result.min_margin or 0.0),
        step=0.5,
        key=f"min_margin_{slot}",
        help="A pair whose scores differ by less is kept as a tie (both ranked first).",
    )
    return str(rule), float(margin)


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


@st.cache_data(show_spinner=False, max_entries=32)
def _values(data: bytes | None, path: str | None, name: str, column: str) -> list[str]:
    """The column's most common values, offered as values to drop rows by."""
    source: str | io.BytesIO
    if path is not None:
        source = path
    else:
        source = io.BytesIO(data or b"")
        source.name = name
    loaded = load_records(source, source=name)
    values = [v for v, _ in column_values((r for _, r, _ in loaded.rows), column)]
    return [EMPTY_VALUE if v == "" else v for v in values]


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
    template = st.text_area(
        "User turn from a template (optional; replaces the user columns)",
        key=f"map_template_{slot}",
        placeholder="Premise: {sentence1}\nHypothesis: {sentence2}",
        help="Write each column as {column}; {{ and }} are literal braces.",
        height=80,
    ).strip("\n")
    c1, c2, c3 = st.columns(3)
    user_cols = c1.multiselect(
        "User turn (joined in order)",
        cols,
        default=[c for c in guess.user if c in cols],
        key=f"map_user_{slot}",
        disabled=bool(template),
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
    d1, d2 = st.columns(2)
    drop_column = d1.selectbox(
        "Drop rows where column…", [none, *cols], key=f"map_drop_column_{slot}"
    )
    drop_values: list[str] = []
    if drop_column != none:
        drop_values = d2.multiselect(
            "…is one of",
            _values(data, path, name, drop_column),
            key=f"map_drop_values_{slot}",
            accept_new_options=True,
            help=f"{EMPTY_VALUE} is an empty cell; type a value that is not listed.",
        )
    if not (user_cols or template) or assistant == none:
        st.warning(
            "Pick the user column(s) or write a template, and the answer column, to import "
            "this file."
        )
        return ColumnMapping(user=user_cols, assistant="")
    rules = (
        (DropRule(drop_column, tuple("" if v == EMPTY_VALUE else v for v in drop_values)),)
        if drop_values
        else ()
    )
    return ColumnMapping(
        user=[] if template else list(user_cols),
        assistant=assistant,
        system=None if system == none else system,
        user_template=template or None,
        drop_where=rules,
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
    kinds = result.kinds_summary()
    if kinds:
        st.caption(md("Of the importable examples: {}", kinds))
    for warning in result.warnings:
        if warning.line is None:  # record-level warnings are rows of the problems table
            st.warning(esc(warning.message))
    problems = result.problems()
    if problems:
        st.caption(md("{} record problem(s); the rest imports", len(problems)))
        st.dataframe(
            pd.DataFrame(problems[:PROBLEM_ROWS]),
            hide_index=True,
            height=min(250, 38 + 35 * min(len(problems), PROBLEM_ROWS)),
            key=f"errors_{slot}",
        )
        if len(problems) > PROBLEM_ROWS:
            st.caption(md("The first {} of {} are listed.", PROBLEM_ROWS, len(problems)))
    if result.examples:
        st.markdown("**Preview** (canonical chat view, first two examples)")
        # A fixed-height box scrolls instead of growing with long conversations.
        with st.container(height=420, border=True):
            preview_cols = st.columns(min(2, len(result.examples)))
            for col, example in zip(preview_cols, result.examples[:2], strict=False):
                with col, st.container(border=True):
                    st.caption(md("id {}", example.id))
                    show_example(_for_preview(example))


if st.session_state.pop(state.IMPORT_CLEAR, False):
    st.session_state["import_path"] = ""  # an import done: start again from empty inputs
uploads = st.file_uploader(
    "Upload one or more files",
    accept_multiple_files=True,
    # A new key after each import empties the uploader (its value cannot be set directly).
    key=f"import_files_{st.session_state[state.IMPORT_ROUND]}",
    max_upload_size=state.upload_limit_mb(),
)
path_text = st.text_input(
    "…or a local file or folder path (e.g. a `save_to_disk` dataset folder)", key="import_path"
)
fmt = st.selectbox("Format", ["auto", *SHAPES], key="import_format")
allow_reimport = st.checkbox(
    "Import again even if this exact file was imported before", key="import_allow_reimport"
)

sources: list[tuple[str, bytes | None, str | None]] = [
    (u.name, u.getvalue(), None) for u in (uploads or [])
]
if path_text.strip():
    sources.append((Path(path_text.strip()).name, None, path_text.strip()))

plan_box = st.container()  # filled once every file is read and mapped below
read: list[tuple[str, ImportResult | None, str]] = []  # name, result, why unreadable
job_files: dict[int, dict[str, Any]] = {}  # index in `read` -> the file's import job parameters
tabs = st.tabs([esc(name) for name, _, _ in sources]) if sources else []
for slot_index, ((name, data, path), tab) in enumerate(zip(sources, tabs, strict=True)):
    slot = f"{slot_index}"
    with tab:
        try:
            if path is not None and not os.path.exists(path):
                st.error(md("No file or folder at {}.", path))
                read.append((name, None, f"no file or folder at {path}"))
                continue
            source = (name, data, path)
            result = _parse(source, fmt, None, DEFAULT_RATINGS)
            ratings = DEFAULT_RATINGS
            if result.ratings_rule is not None:
                ratings = _ratings_widgets(result, slot)
                if ratings != DEFAULT_RATINGS:
                    result = _parse(source, fmt, None, ratings)
            mapping = _mapping_widgets(result, slot, data, path, name) if result.columns else None
            if mapping is not None and mapping.assistant:
                result = _parse(source, fmt, mapping, DEFAULT_RATINGS)
                ratings = DEFAULT_RATINGS
            else:
                mapping = None
        except CurationError as exc:
            st.error(esc(exc))
            read.append((name, None, str(exc)))
            continue
        _show_result(result, slot)
        job_files[len(read)] = {
            "name": name,
            "data": data,
            "path": path,
            "format": fmt,
            "mapping": mapping_to_dict(mapping),
            "ratings_rule": ratings[0],
            "min_margin": ratings[1],
        }
        read.append((name, result, ""))

readable = [r for _, r, _ in read if r is not None]
plans = store.plan_imports(project, readable, allow_reimport=allow_reimport)
with plan_box:
    if read:
        st.markdown("**What the import adds** (details of each file in its tab below)")
        st.dataframe(pd.DataFrame(plan_rows(read, plans)), hide_index=True, key="import_plan_table")
        total = sum(p.new for p in plans)
        n_files = sum(1 for p in plans if p.new)
        if not total:
            st.caption(
                "Nothing new to import: see the notes above (a file imported before, ids the "
                "project has, or columns still to map)."
            )
        files = md(" from {} files", n_files) if n_files > 1 else ""
        label = md("Import {:,} new example{}", total, "s" * (total != 1)) + files
        label += md(" into {}", project)
        if st.button(
            label,
            type="primary",
            key="import_button",
            disabled=not total or active is not None,
            help="Runs in the background: you can switch page or close the tab meanwhile.",
        ):
            specs = []
            for i, (_, got, _) in enumerate(read):
                if got is None or not got.examples:
                    continue
                spec = dict(job_files[i])
                data, path = spec.pop("data"), spec.pop("path")
                spec["path"] = path if path is not None else save_upload(spec["name"], data)
                specs.append(spec)
            try:
                job = submit_job(
                    project, STEP, {"files": specs, "allow_reimport": allow_reimport}, user
                )
            except CurationError as exc:
                st.error(esc(exc))
            else:
                st.session_state[IMPORT_JOB] = job.id
                st.rerun()
if active is not None:
    job_progress(active.id, key="import_job")

imports = store.list_imports(project)
if imports:
    with st.expander(md("Imports into {} ({})", project, len(imports))):
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
