"""PII page helpers: one cached scanner per choice of entities, and findings as table rows.

Rows hold a short context around each span as plain text: tables render it inert.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from curation.pii import PiiConfig, PiiScanner
from curation.pii.findings import text_sha256
from curation.pii.targets import scan_targets
from curation.store import Store
from curation.store.pii_findings import StoredFinding

CONTEXT = 40  # characters shown on each side of a finding


@st.cache_resource(show_spinner=False, max_entries=8)
def scanner(entities: tuple[str, ...], threshold: float, config_json: str = "{}") -> PiiScanner:
    """A scanner kept for the server's life: spaCy loads once per choice, not once per click.

    `config_json` is the project's saved configuration (allow list, its own entity types).
    """
    config = PiiConfig.from_dict(json.loads(config_json))
    return PiiScanner(entities=list(entities), score_threshold=threshold, config=config)


def finding_rows(store: Store, project: str, found: list[StoredFinding]) -> list[dict[str, Any]]:
    """One row per finding that still applies, with its span in context (text, not markdown)."""
    ids = list(dict.fromkeys(x.example_id for x in found))
    examples = store.get_examples(project, ids)
    texts: dict[tuple[str, str], str] = {}
    for eid, stored in examples.items():
        for t in scan_targets([stored.example]):
            texts[(eid, t.location)] = t.text
    rows = []
    for x in found:
        text = texts.get((x.example_id, x.location))
        f = x.finding
        if text is None or len(text) < f.end:
            continue
        if text_sha256(text) != f.text_sha256:
            continue  # the text changed since the scan (scrubbed or edited)
        before = text[max(0, f.start - CONTEXT) : f.start]
        after = text[f.end : f.end + CONTEXT]
        rows.append(
            {
                "finding": x.pk,
                "example": x.example_id,
                "where": x.location,
                "type": f.entity_type,
                "score": round(f.score, 2),
                "text": text[f.start : f.end],
                "in context": f"…{before}⟦{text[f.start : f.end]}⟧{after}…".replace("\n", " "),
                "decision": x.state,
                "reviewed by": x.reviewed_by or "",
            }
        )
    return rows
