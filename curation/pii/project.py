"""PII on a project in the store: scan and keep the findings, review them, scrub as revisions.

The page and `curation pii ... --project` call these; the store module
`curation.store.pii_findings` keeps the findings and their review state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from curation.pii.batch import DatasetScan, scan_dataset, scrub_dataset
from curation.pii.config import PiiConfig
from curation.pii.findings import Finding, text_sha256
from curation.pii.operators import ReplacementMap, Scrubber, ScrubConfig, new_project_secret
from curation.pii.scanner import PiiScanner
from curation.pii.targets import scan_targets
from curation.progress import ProgressFn
from curation.records import Example

if TYPE_CHECKING:
    from curation.store.store import Store

__all__ = [
    "project_pii_config",
    "save_project_pii_config",
    "scan_project",
    "scrub_project",
    "scrubber_for",
]

SETTINGS_KEY = "pii"


def project_pii_config(store: Store, project: str) -> PiiConfig:
    """The project's saved PII configuration (allow list, its own entity types), or defaults."""
    return PiiConfig.from_dict(store.project_settings(project).get(SETTINGS_KEY) or {})


def save_project_pii_config(
    store: Store, project: str, data: dict[str, Any] | None, author: str
) -> int:
    """Check and save the project's PII configuration (None = back to the defaults).

    `data` is `PiiConfig.from_dict`'s shape: ``allow_list`` and ``recognizers`` (presidio's
    shape: ``name``, ``supported_entity``, ``patterns`` with ``regex`` and ``score``,
    ``deny_list``, ``context``). Refused with the reason before anything is saved.
    """
    if data is not None:
        PiiConfig.from_dict(data)  # raises PiiConfigError naming the bad value
    return store.set_project_setting(project, SETTINGS_KEY, data, author)


def scan_project(
    store: Store,
    project: str,
    scanner: PiiScanner,
    author: str,
    *,
    roles: Sequence[str] | None = None,
    include_metadata: bool = True,
    progress: ProgressFn | None = None,
    examples: Sequence[Example] | None = None,
) -> DatasetScan:
    """Scan every example of `project` and keep the findings (review states carry over).

    `examples` are the project's examples when the caller has read them already.
    """
    from curation.store.pii_findings import save_findings

    if examples is None:
        examples = [e.example for e in store.iter_examples(project)]
    scan = scan_dataset(
        scanner, examples, roles=roles, include_metadata=include_metadata, progress=progress
    )
    params = {
        "entities": list(scanner.config.entities),
        "score_threshold": scanner.config.score_threshold,
        "roles": None if roles is None else list(roles),
        "metadata": include_metadata,
    }
    save_findings(
        store,
        project,
        [(t.example_id, t.location, f) for t, fs in scan.hits for f in fs],
        author,
        params=params,
    )
    return scan


def scrubber_for(store: Store, project: str, operator: str) -> tuple[Scrubber, str]:
    """The project's scrubber: its key and replacement map from the last scrub, or new ones."""
    saved = store.latest_step_run(project, "pii")
    state = (saved or {}).get("result") or {}
    secret = state.get("secret") or new_project_secret()
    mapping = ReplacementMap.from_dict(state["mapping"]) if state.get("mapping") else None
    return Scrubber(secret, config=ScrubConfig(operator=operator), mapping=mapping), secret


def scrub_project(
    store: Store,
    project: str,
    scanner: PiiScanner,
    operator: str,
    author: str,
    *,
    accepted_only: bool = True,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Replace the findings that still apply, as one undoable `pii_scrub` event.

    Parameters
    ----------
    accepted_only:
        Apply only findings a reviewer accepted (the page); False applies every finding not
        rejected (the command line, after its own scan).

    The key and the replacement map are saved before the texts change, so a value keeps its
    number in every later scrub. The scrubbed texts are scanned again and what is still found
    outside the replacements is kept as new, unreviewed findings (the residual).
    """
    from curation.store.pii_findings import list_findings, save_findings

    states = ["accepted"] if accepted_only else ["accepted", "pending"]
    chosen = list_findings(store, project, states=states)
    stored = store.get_examples(project, list(dict.fromkeys(x.example_id for x in chosen)))
    wanted = defaultdict(list)
    for x in chosen:
        wanted[(x.example_id, x.location)].append(x.finding)
    hits = []
    stale = 0
    examples = []
    for eid in dict.fromkeys(x.example_id for x in chosen):
        ex = stored[eid]
        examples.append(ex.example)
        for t in scan_targets([ex.example]):
            fs = wanted.get((eid, t.location))
            if not fs:
                continue
            live = [f for f in fs if f.text_sha256 == text_sha256(t.text)]
            stale += len(fs) - len(live)
            if live:
                hits.append((t, live))
    scan = DatasetScan(hits, len(examples))
    scrubber, secret = scrubber_for(store, project, operator)
    done = scrub_dataset(
        scanner, scrubber, examples, scan, messages_only=True, residual=True, progress=progress
    )
    metadata_left = sum(len(fs) for t, fs in hits if t.role is None)
    stats = {
        "operator": operator,
        "replacements": done.n_replacements,
        "examples_changed": len(done.changed),
        "metadata_findings_left": metadata_left,
    }
    run_id = store.save_step_run(
        project,
        "pii",
        {"operator": operator, "accepted_only": accepted_only},
        {"secret": secret, "mapping": scrubber.mapping.to_dict()},
        stats,
        author,
    )
    event = store.edit_many(
        project,
        {
            ex.id: (ex.messages, stored[ex.id].revision, ex.preference_payload())
            for ex in done.changed
        },
        author,
        f"PII scrub ({operator})",
        event_kind="pii_scrub",
        extra={"operator": operator, "replaced_by_type": done.counts, "run_id": run_id},
    )
    if done.residual:
        save_findings(
            store,
            project,
            [(r["example_id"], r["location"], Finding.from_dict(r)) for r in done.residual],
            author,
            params={"residual_of": event},
            replace_pending=False,
        )
    return {
        **stats,
        "event": event,
        "replaced_by_type": done.counts,
        "residual": len(done.residual),
        "stale": stale,
    }
