"""The latest bias audit in a few numbers, for the dataset card and the readiness summary at export.

Reads the saved run only; an audit older than the project's current examples says so in its notes.
"""

from __future__ import annotations

from typing import Any

from curation.bias.project import load_audit_run
from curation.store import ExampleFilter, Store

__all__ = ["TOP_FINDINGS", "bias_summary"]

TOP_FINDINGS = 3  # messages the card quotes, most severe first


def bias_summary(store: Store, project: str) -> dict[str, Any] | None:
    """The project's latest bias-audit run as the card's step stats; None when never audited.

    Returns
    -------
    dict | None
        ``run_id``; ``examples_audited``; ``active_now`` (the project's active examples now:
        when it differs from ``examples_audited``, the audit is out of date); ``findings``
        (total) and one count per severity (``critical``, ``warning``, ``info``);
        ``severity`` (the worst, or ``ok``); ``failed_checks`` (how many checks raised);
        ``top_findings`` (the first `TOP_FINDINGS` messages of warning or critical findings,
        most severe first; info ones when there are none); and ``notes`` (the run and its
        author, a request to run the audit again when it is out of date, then the top
        findings). The card prints every key but ``notes`` as a number, so it takes the dict
        without ``top_findings``; readiness reads ``critical``, ``warning``, ``active_now``
        and ``examples_audited``.
    """
    run = load_audit_run(store, project)
    if run is None:
        return None
    audit = run.report
    summary = audit.summary
    counts = {s: int(summary.counts.get(s, 0)) for s in ("critical", "warning", "info")}
    serious = [f for f in audit.findings if f.severity != "info"]
    top = [f.message for f in (serious or audit.findings)[:TOP_FINDINGS]]
    notes = [f"bias audit run {run.run_id} by {run.author}"]
    active = store.count_examples(project, ExampleFilter(statuses=["active"]))
    if active != summary.n_examples:
        notes.append(
            f"{summary.n_examples} examples were audited and {active} are active now: run the "
            "audit again before relying on it"
        )
    notes.extend(top)
    return {
        "run_id": run.run_id,
        "examples_audited": summary.n_examples,
        "active_now": active,
        "findings": sum(counts.values()),
        **counts,
        "severity": summary.severity,
        "failed_checks": len(summary.failed),
        "top_findings": top,
        "notes": notes,
    }
