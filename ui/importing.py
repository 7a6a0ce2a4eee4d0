"""Import page glue: the per-file plan table before an import and the summary after it.

Counts come from the store (`Store.plan_imports`, `ImportSummary`); this module only words them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from curation.formats import ImportResult
from curation.formats.results import kinds_sentence
from curation.store import ImportPlan
from ui.safe import md

EMPTY_VALUE = "(empty)"  # how an empty cell is offered as a value to drop rows by


def _reasons(reasons: dict[str, int]) -> str:
    return "; ".join(f"{k}: {v:,}" for k, v in reasons.items())


def _note(result: ImportResult, plan: ImportPlan) -> str:
    notes = []
    if plan.already_imported:
        before = plan.earlier_import
        if before:
            when = before["created_at"]
            stamp = when.strftime("%Y-%m-%d %H:%M") if hasattr(when, "strftime") else str(when)
            notes.append(
                f"imported before ({before['file_name']}, {stamp} by {before['created_by']}): "
                "nothing is added unless 'Import again' is ticked"
            )
        else:
            notes.append("the same file is listed above: it is imported once")
    elif result.needs_mapping:
        notes.append("map its columns (in its tab) to import it")
    if plan.skipped_reasons and not plan.already_imported:
        notes.append("skipped: " + _reasons(plan.skipped_reasons))
    if result.warnings:
        notes.append(f"{len(result.warnings)} warning(s) in its tab")
    return "; ".join(notes)


def plan_rows(
    read: Sequence[tuple[str, ImportResult | None, str]], plans: Sequence[ImportPlan]
) -> list[dict[str, Any]]:
    """One table row per file: what the import would add, and why not more.

    Parameters
    ----------
    read:
        ``(file name, result or None, why it could not be read)`` per file, in page order.
    plans:
        `Store.plan_imports` of the readable results, in the same order.
    """
    rows: list[dict[str, Any]] = []
    pending = iter(plans)
    for name, result, problem in read:
        if result is None:
            rows.append({"file": name, "records": None, "new examples": 0, "note": problem})
            continue
        plan = next(pending)
        rows.append(
            {
                "file": name,
                "records": plan.records,
                "new examples": plan.new,
                "ids already in project": plan.already_in_project,
                "ids in an earlier file": plan.in_earlier_file,
                "records skipped": 0 if plan.already_imported else plan.skipped,
                "note": _note(result, plan),
            }
        )
    return rows


def show_summaries(summaries: Sequence[dict[str, Any]]) -> None:
    """The outcome of the last import, file by file, with a link to browse the examples."""
    if not summaries:
        return
    st.subheader("Last import")
    added = sum(s.get("imported", 0) for s in summaries)
    if len(summaries) > 1:
        st.success(md("Added {:,} examples from {} files.", added, len(summaries)))
    for s in summaries:
        name = s["file_name"]
        if "error" in s:
            st.error(md("{}: nothing was imported: {}", name, s["error"]))
        elif s["already_imported"]:
            st.warning(
                md(
                    "{} was already imported into this project; nothing was added. "
                    "Tick 'Import again' to add its new records anyway.",
                    name,
                )
            )
        else:
            reasons = _reasons(s["skipped_reasons"]) or "none"
            kinds = kinds_sentence(s.get("kinds") or {})
            st.success(
                md(
                    "{}: imported {:,} examples ({}), skipped {:,} ({}).",
                    name,
                    s["imported"],
                    s["detected_format"],
                    s["skipped"],
                    reasons,
                )
                + (md(" In the file: {}.", kinds) if kinds else "")
            )
    st.page_link("pages/browse_page.py", label="Browse the examples", icon=":material/table_rows:")
