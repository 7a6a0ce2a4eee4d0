"""PII findings in the store: the latest scan of every text, reviewed, and what still applies.

A finding names its text by example, location and the text's sha256, never by the characters
it covers. It *applies* while the text at its location still has that sha256: a scrub or an
edit makes it history, and undoing them makes it apply again, so the export gate reads the
truth from the current texts without bookkeeping that an undo could leave behind.

Review decisions (accept / reject) are one audit event per call, undone like any other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from curation.errors import ConflictError, StoreError
from curation.pii.findings import Finding, text_sha256
from curation.store import schema as s
from curation.store.db import reading, writing

if TYPE_CHECKING:
    from curation.store.store import Store

__all__ = [
    "REVIEW_STATES",
    "examples_by_review_state",
    "StoredFinding",
    "current_texts",
    "list_findings",
    "pii_status",
    "review_findings",
    "save_findings",
    "undo_review",
]

REVIEW_STATES = ("pending", "accepted", "rejected")
# Unreviewed findings at or above this score hold an export back (presidio: NER 0.85,
# checksum-valid numbers 1.0, context-less patterns lower).
GATE_SCORE = 0.5
# Unreviewed findings of these types do not hold an export back: in instruction data a place,
# date, group or organisation is mostly a fact ("the capital of France"). Accepted ones do.
CONTEXT_TYPES = frozenset({"LOCATION", "DATE_TIME", "NRP", "ORGANIZATION", "URL"})


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as the store keeps it, with its review state."""

    pk: int
    example_id: str
    example_pk: int
    location: str
    finding: Finding
    state: str
    reviewed_by: str | None

    def key(self) -> tuple[int, str, str]:
        return (self.example_pk, self.location, self.finding.id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "example_id": self.example_id,
            "location": self.location,
            "state": self.state,
            "reviewed_by": self.reviewed_by,
            "finding_id": self.finding.id,
            **self.finding.to_dict(),
        }


def save_findings(
    store: Store,
    project: str,
    hits: Iterable[tuple[str, str, Finding]],
    author: str,
    *,
    params: dict[str, Any] | None = None,
    replace_pending: bool = True,
) -> int:
    """Keep a scan's findings (example id, location, finding); returns the scan's run id.

    A finding seen before keeps its review state. With `replace_pending`, unreviewed findings
    this scan did not make again (another entity choice, a threshold, a changed text) go;
    reviewed ones stay, so a decision is never lost to a re-scan. One transaction, one event.
    """
    from curation.store.store import _check_author, _project_id

    author = _check_author(author)
    hits = list(hits)
    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        pks = _example_pks(conn, pid, {eid for eid, _, _ in hits})
        f = s.pii_findings.c
        existing = {
            (r.example_pk, r.location, r.finding_id): r.id
            for r in conn.execute(
                select(f.id, f.example_pk, f.location, f.finding_id).where(f.project_id == pid)
            )
        }
        run_id = int(
            conn.execute(
                insert(s.step_runs).values(
                    project_id=pid,
                    step="pii_scan",
                    params=params or {},
                    result={},
                    stats={"findings": len(hits)},
                    author=author,
                    created_at=_now(),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        seen: set[tuple[int, str, str]] = set()
        new_rows = []
        for eid, location, finding in hits:
            key = (pks[eid], location, finding.id)
            if key in seen:
                continue
            seen.add(key)
            if key in existing:
                continue
            new_rows.append(
                {
                    "project_id": pid,
                    "example_pk": key[0],
                    "location": location,
                    "finding_id": finding.id,
                    "entity_type": finding.entity_type,
                    "start": finding.start,
                    "end": finding.end,
                    "score": float(finding.score),
                    "recognizer": finding.recognizer,
                    "text_sha256": finding.text_sha256,
                    "state": "pending",
                    "reviewed_by": None,
                    "scan_id": run_id,
                }
            )
        if replace_pending:
            gone = [pk for key, pk in existing.items() if key not in seen]
            for start in range(0, len(gone), 2000):
                conn.execute(
                    delete(s.pii_findings).where(
                        f.id.in_(gone[start : start + 2000]), f.state == "pending"
                    )
                )
        if new_rows:
            conn.execute(insert(s.pii_findings), new_rows)
        store._log(
            conn,
            pid,
            "step_run",
            author,
            f"PII scan: {len(hits)} findings",
            {"run_id": run_id, "params": params or {}},
        )
    return run_id


def _example_pks(conn: Connection, pid: int, example_ids: set[str]) -> dict[str, int]:
    c = s.examples.c
    ids = sorted(example_ids)
    out: dict[str, int] = {}
    for start in range(0, len(ids), 2000):
        rows = conn.execute(
            select(c.example_id, c.pk).where(
                c.project_id == pid, c.example_id.in_(ids[start : start + 2000])
            )
        )
        out.update({r.example_id: r.pk for r in rows})
    missing = example_ids - set(out)
    if missing:
        raise StoreError(f"No example(s) {', '.join(sorted(missing)[:5])} in project.")
    return out


def _now() -> Any:
    from curation.store.store import _now as now

    return now()


def list_findings(
    store: Store,
    project: str,
    *,
    states: Sequence[str] | None = None,
    entity_types: Sequence[str] | None = None,
    min_score: float | None = None,
    example_ids: Sequence[str] | None = None,
) -> list[StoredFinding]:
    """Stored findings, by example position and location; filters are ANDed."""
    pid = store.project_id(project)
    f, e = s.pii_findings.c, s.examples.c
    query = (
        select(s.pii_findings, e.example_id)
        .join(s.examples, e.pk == f.example_pk)
        .where(f.project_id == pid)
        .order_by(e.position, f.location, f.start)
    )
    if states:
        query = query.where(f.state.in_(list(states)))
    if entity_types:
        query = query.where(f.entity_type.in_(list(entity_types)))
    if min_score is not None:
        query = query.where(f.score >= min_score)
    if example_ids is not None:
        query = query.where(e.example_id.in_(list(example_ids)))
    with reading(store.engine) as conn:
        rows = conn.execute(query).all()
    return [
        StoredFinding(
            pk=r.id,
            example_id=r.example_id,
            example_pk=r.example_pk,
            location=r.location,
            finding=Finding(
                start=r.start,
                end=r.end,
                entity_type=r.entity_type,
                score=r.score,
                recognizer=r.recognizer,
                text_sha256=r.text_sha256,
            ),
            state=r.state,
            reviewed_by=r.reviewed_by,
        )
        for r in rows
    ]


def examples_by_review_state(store: Store, project: str) -> dict[str, int]:
    """Examples with a finding in each review state, and under ``"*"`` with any finding (the
    counts beside `ExampleFilter.pii_state`); empty when the project was never scanned."""
    from sqlalchemy import func

    pid = store.project_id(project)
    f = s.pii_findings.c
    with reading(store.engine) as conn:
        rows = conn.execute(
            select(f.state, func.count(func.distinct(f.example_pk)))
            .where(f.project_id == pid)
            .group_by(f.state)
        ).all()
        total = conn.scalar(
            select(func.count(func.distinct(f.example_pk))).where(f.project_id == pid)
        )
    out = {str(state): int(n) for state, n in rows}
    if total:
        out["*"] = int(total)
    return out


def review_findings(
    store: Store, project: str, decisions: Mapping[int, str], author: str
) -> int | None:
    """Set findings' review states ({finding pk: state}) as ONE audit event.

    Returns the event's id, or None when no finding's state changes.
    """
    from curation.store.store import _check_author, _project_id

    bad = sorted({v for v in decisions.values() if v not in REVIEW_STATES})
    if bad:
        raise StoreError(f"Unknown review state {bad[0]!r}; use one of {', '.join(REVIEW_STATES)}.")
    author = _check_author(author)
    f = s.pii_findings.c
    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        rows: list[Any] = []
        pks = sorted(decisions)
        for start in range(0, len(pks), 2000):
            rows += conn.execute(
                select(f.id, f.state, f.entity_type)
                .where(f.project_id == pid, f.id.in_(pks[start : start + 2000]))
                .order_by(f.id)
                .with_for_update()
            ).all()
        todo = [r for r in rows if r.state != decisions[r.id]]
        if not todo:
            return None
        by_state: dict[str, list[int]] = defaultdict(list)
        for r in todo:
            by_state[decisions[r.id]].append(r.id)
        for state, ids in by_state.items():
            for start in range(0, len(ids), 2000):
                conn.execute(
                    update(s.pii_findings)
                    .where(f.id.in_(ids[start : start + 2000]))
                    .values(state=state, reviewed_by=None if state == "pending" else author)
                )
        moves = ", ".join(f"{len(ids)} {state}" for state, ids in sorted(by_state.items()))
        types = ", ".join(sorted({r.entity_type for r in todo}))
        return store._log(
            conn,
            pid,
            "pii_review",
            author,
            f"reviewed {len(todo)} PII finding(s): {moves} ({types})",
            {"findings": [{"id": r.id, "before": r.state, "after": decisions[r.id]} for r in todo]},
        )


def undo_review(conn: Connection, ev: Any) -> None:
    """Put findings back to their state before a review event (called by `Store.undo`)."""
    f = s.pii_findings.c
    items = ev.payload.get("findings") or []
    ids = [int(i["id"]) for i in items]
    rows = {
        r.id: r
        for r in conn.execute(
            select(f.id, f.state).where(f.id.in_(ids)).order_by(f.id).with_for_update()
        )
    }
    moved = [i["id"] for i in items if i["id"] not in rows or rows[i["id"]].state != i["after"]]
    if moved:
        raise ConflictError(
            f"Event #{ev.id}: {len(moved)} finding(s) were reviewed again or re-scanned since; "
            "undo the later reviews first."
        )
    by_state: dict[str, list[int]] = defaultdict(list)
    for i in items:
        by_state[i["before"]].append(int(i["id"]))
    for before, pks in by_state.items():
        conn.execute(
            update(s.pii_findings)
            .where(f.id.in_(pks))
            .values(state=before, reviewed_by=None if before == "pending" else ev.author)
        )


def current_texts(store: Store, project: str) -> dict[tuple[str, str], str]:
    """sha256 of every scannable text of the project now, by (example id, location)."""
    from curation.pii.targets import scan_targets

    out = {}
    for stored in store.iter_examples(project):
        for t in scan_targets([stored.example]):
            out[(t.example_id, t.location)] = text_sha256(t.text)
    return out


def pii_status(store: Store, project: str, *, gate_score: float = GATE_SCORE) -> dict[str, Any]:
    """What the findings say about the data as it is now (the export gate's numbers).

    A finding applies while its text is unchanged. ``residual`` counts findings that apply and
    are accepted (found, confirmed, not yet scrubbed) or unreviewed with a score of at least
    `gate_score` and a type outside `CONTEXT_TYPES`; rejected findings (false alarms) never count.
    """
    found = list_findings(store, project)
    if not found:
        return {"scanned": False}
    now = current_texts(store, project)
    applying = [x for x in found if now.get((x.example_id, x.location)) == x.finding.text_sha256]
    accepted = [x for x in applying if x.state == "accepted"]
    pending = [x for x in applying if x.state == "pending"]
    pending_high = [
        x
        for x in pending
        if x.finding.score >= gate_score and x.finding.entity_type not in CONTEXT_TYPES
    ]
    by_type: dict[str, int] = defaultdict(int)
    for x in accepted + pending_high:
        by_type[x.finding.entity_type] += 1
    return {
        "scanned": True,
        "findings": len(applying),
        "accepted_unapplied": len(accepted),
        "pending": len(pending),
        "pending_high": len(pending_high),
        "rejected": sum(x.state == "rejected" for x in applying),
        "no_longer_apply": len(found) - len(applying),
        "residual": len(accepted) + len(pending_high),
        "residual_by_type": dict(sorted(by_type.items())),
        "gate_score": gate_score,
    }
