"""Downloads the pages offer, built through `curation.safecsv` so no cell runs as a formula.

Streamlit's own table export is switched off (`client.disableDataExport`); these replace it.
"""

from __future__ import annotations

from curation.safecsv import csv_bytes
from curation.store import ExampleFilter, Store

EXAMPLE_COLUMNS = ["id", "status", "source", "turns", "prompt", "answer", "metadata"]


def examples_csv(store: Store, project: str, flt: ExampleFilter | None = None) -> bytes:
    """Every example matching `flt` as CSV bytes (UTF-8 with BOM, for spreadsheets).

    One row per example: id, status, source, number of turns, the full prompt and answer, and
    the metadata as JSON. Every cell goes through `neutralise_cell`.
    """
    rows = (
        {
            "id": row.id,
            "status": row.status,
            "source": row.example.source,
            "turns": len(row.example.messages),
            "prompt": row.example.prompt,
            "answer": row.example.response,
            "metadata": row.example.metadata,
        }
        for row in store.iter_examples(project, flt)
    )
    return csv_bytes(rows, columns=EXAMPLE_COLUMNS)
