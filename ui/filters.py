"""Filters pages share: a metadata field and one of its typed values (Browse and Export), a
flag of the latest quality run, and a result code of any step that keeps per-example rows (Browse).

Fields, types and values come from the store's metadata index, so every field is offered and a
boolean field filters by true/false, not by the text "True".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from curation.steps import StepResults
from curation.store import ANY_FLAG, MetadataField
from curation.store.metadata_index import typed_value


def show_value(value: Any) -> str:
    """A metadata value as people read it in JSON: true/false, numbers, text as it is."""
    return value if isinstance(value, str) else json.dumps(value)


def value_key(key: str, field_name: str) -> str:
    """The session-state key of the value widget for one field (one widget per field, so a
    value picked for one field never lands on another)."""
    return f"{key}_value:{field_name}"


def metadata_filter(
    fields: Sequence[MetadataField],
    *,
    key: str,
    none: str,
    labels: tuple[str, str] = ("Metadata field", "Value"),
    on_change: Callable[[], None] | None = None,
    columns: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """A field picker and a value picker; returns ``{field: typed value}`` or ``{}``.

    Parameters
    ----------
    fields:
        `Store.metadata_fields(project)`.
    key:
        Prefix of the widgets' keys: ``{key}_field`` and `value_key`.
    none:
        The field option meaning "no filter".
    labels:
        Labels of the two widgets.
    on_change:
        Called when either widget changes (e.g. back to the first page).
    columns:
        Two containers for the two widgets; default two new columns.
    """
    if not fields:
        return {}
    by_name = {f.name: f for f in fields}
    where = list(columns) if columns is not None else st.columns(2)

    def _label(name: str) -> str:
        if name == none:
            return name
        f = by_name[name]
        return f"{name} ({f.type_label}; {f.n_examples:,} examples)"

    name = where[0].selectbox(
        labels[0],
        [none, *by_name],
        key=f"{key}_field",
        format_func=_label,
        on_change=on_change,
        help="A field holding a list matches when the list contains the value.",
    )
    if name == none:
        return {}
    chosen = by_name[name]
    if chosen.values and not chosen.more_values:
        counts = dict((json.dumps(v), n) for v, n in chosen.values)
        value = where[1].selectbox(
            labels[1],
            [v for v, _ in chosen.values],
            key=value_key(key, name),
            format_func=lambda v: f"{show_value(v)} ({counts[json.dumps(v)]:,})",
            on_change=on_change,
        )
        return {name: value}
    typed = where[1].text_input(
        labels[1],
        key=value_key(key, name),
        on_change=on_change,
        placeholder="type a value (too many to list)",
        help="Read as the field's type: true/false for booleans, digits for numbers.",
    )
    return {name: typed_value(typed, chosen)} if typed.strip() else {}


NO_FLAG_FILTER = ""


def quality_flag_filter(
    counts: Mapping[str, int],
    n_flagged: int,
    *,
    key: str,
    title: Callable[[str], str],
    on_change: Callable[[], None] | None = None,
    where: Any = None,
) -> str | None:
    """A select of the latest quality run's flags; returns a flag code, `ANY_FLAG` or None.

    Parameters
    ----------
    counts:
        Examples per flag code in the run (`Store.step_result_counts`); empty = no run, and
        the select is shown disabled with a pointer to the Quality page.
    n_flagged:
        Examples with any flag in the run.
    key:
        The widget's key.
    title:
        A flag code's title (`curation.quality.project.flag_title`).
    on_change:
        Called when the choice changes (e.g. back to the first page).
    where:
        The container to draw in; default the page.
    """
    box = where if where is not None else st
    labels = {NO_FLAG_FILTER: "(any example)", ANY_FLAG: f"any flag ({n_flagged:,})"}
    labels.update({code: f"{title(code)} ({n:,})" for code, n in counts.items()})
    picked = box.selectbox(
        "Quality flag",
        list(labels),
        key=key,
        format_func=labels.__getitem__,
        on_change=on_change,
        disabled=not counts,
        help="Examples flagged by the latest quality run (the Quality page runs it)."
        if counts
        else "No quality run yet: run the checks on the Quality page first.",
    )
    return None if picked in (None, NO_FLAG_FILTER) else str(picked)


def step_flag_filter(
    found: Sequence[StepResults],
    *,
    key: str,
    on_change: Callable[[], None] | None = None,
    columns: Sequence[Any] | None = None,
) -> tuple[str, str] | None:
    """A select of the steps with results, then one of that step's codes; returns the
    ``ExampleFilter.step_flag`` pair, or None (no filter).

    Parameters
    ----------
    found:
        `curation.steps.steps_with_results(store, project)`; empty = no step kept rows yet,
        and the select is shown disabled.
    key:
        Prefix of the widgets' keys: ``{key}_step`` and ``{key}_code:{step}``.
    on_change:
        Called when either widget changes (e.g. back to the first page).
    columns:
        Two containers for the two widgets; default two new columns.
    """
    where = list(columns) if columns is not None else st.columns(2)
    by_name = {f.name: f for f in found}
    labels = {NO_FLAG_FILTER: "(any example)"}
    labels.update({f.name: f"{f.title} ({f.total:,})" for f in found})
    picked = where[0].selectbox(
        "Step results",
        list(labels),
        key=f"{key}_step",
        format_func=labels.__getitem__,
        on_change=on_change,
        disabled=not found,
        help="Examples with a result of the step's latest run."
        if found
        else "No step has kept per-example results yet.",
    )
    chosen = by_name.get(str(picked)) if picked not in (None, NO_FLAG_FILTER) else None
    if chosen is None:
        return None
    codes = {ANY_FLAG: f"any result ({chosen.total:,})"}
    codes.update(
        {code: f"{chosen.code_titles.get(code, code)} ({n:,})" for code, n in chosen.counts.items()}
    )
    code = where[1].selectbox(
        "Result",
        list(codes),
        key=f"{key}_code:{chosen.name}",
        format_func=codes.__getitem__,
        on_change=on_change,
    )
    return chosen.flag(str(code if code is not None else ANY_FLAG))


PII_STATE_LABELS = {
    "*": "any finding",
    "pending": "not reviewed",
    "accepted": "accepted",
    "rejected": "rejected",
}


def pii_state_filter(
    counts: Mapping[str, int],
    *,
    key: str,
    on_change: Callable[[], None] | None = None,
    where: Any = None,
) -> str | None:
    """A select of PII finding review states; returns a state, ``"*"`` or None (no filter).

    `counts` are examples per state (`examples_by_review_state`); empty = never scanned, and
    the select is shown disabled with a pointer to the PII scrub page.
    """
    box = where if where is not None else st
    labels = {NO_FLAG_FILTER: "(any example)"}
    labels.update(
        {state: f"{label} ({counts.get(state, 0):,})" for state, label in PII_STATE_LABELS.items()}
    )
    picked = box.selectbox(
        "PII findings",
        list(labels),
        key=key,
        format_func=labels.__getitem__,
        on_change=on_change,
        disabled=not counts,
        help="Examples with a finding of the latest PII scans in that review state."
        if counts
        else "No PII scan yet: scan the project on the PII scrub page first.",
    )
    return None if picked in (None, NO_FLAG_FILTER) else str(picked)
