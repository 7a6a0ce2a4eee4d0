"""The Quality page's widgets for what answers must look like: a structure, its dialect or
pattern, and an optional JSON Schema upload, read into the same expectations the CLI builds.
"""

from __future__ import annotations

import streamlit as st

from curation.errors import InputError
from curation.quality import SQL_DIALECTS, StructureExpectations
from curation.quality.report import expectations_from_options, parse_schema

STRUCTURES = {
    "none": "anything (no declared structure)",
    "json": "JSON",
    "yaml": "YAML",
    "sql": "SQL",
    "regex": "text matching a regular expression",
}
ANY_DIALECT = "(any)"


def expectations_picker(*, key: str = "quality") -> StructureExpectations | None:
    """Widgets for the declared structure; returns the expectations, or None for "none".

    Raises
    ------
    InputError
        For a pattern that is missing or does not compile, or an uploaded schema that is not
        a JSON object (the message names the file, line and column).
    """
    left, right = st.columns([1, 2])
    kind = left.selectbox(
        "Answers must be",
        list(STRUCTURES),
        key=f"{key}_expect",
        format_func=STRUCTURES.__getitem__,
        help="Every assistant answer is validated; code fences around the output are read.",
    )
    if kind == "none":
        return None
    schema = None
    expect = kind
    if kind == "sql":
        dialect = right.selectbox(
            "SQL dialect", [ANY_DIALECT, *SQL_DIALECTS], key=f"{key}_sql_dialect"
        )
        expect = "sql" if dialect == ANY_DIALECT else f"sql:{dialect}"
    elif kind == "regex":
        pattern = right.text_input(
            "Pattern every answer must match",
            key=f"{key}_pattern",
            placeholder=r"e.g. ^(yes|no)$",
        )
        if not pattern:
            raise InputError("Type the pattern answers must match, or choose another structure.")
        expect = f"regex:{pattern}"
    else:
        upload = right.file_uploader(
            "JSON Schema the answers must match (optional)",
            type=["json"],
            key=f"{key}_schema",
        )
        if upload is not None:
            schema = parse_schema(upload.getvalue(), upload.name)
    return expectations_from_options(expect, schema=schema)
