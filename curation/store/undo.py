"""Undo: one handler per event kind, registered in `UNDO_HANDLERS`, applied in a unit of work.

An event is undone only when no later event that is not undone touched its examples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

from curation.errors import ConflictError, StoreError
from curation.store import schema as s
from curation.store.metadata_index import rebuild_index
from curation.store.rows import (
    BATCH,
    LOCKED_COLUMNS,
    lock_rows,
    plural,
    some,
    status_of,
    text_of,
)

if TYPE_CHECKING:
    from curation.store.session import UnitOfWork

NOT_UNDOABLE = ("undo", "create_project", "step_run", "export")  # events that changed no example
CONFIRM_UNDO_ABOVE = 5  # undoing more examples than this (or any import) asks for confirmation


@dataclass(frozen=True, slots=True)
class UndoPreview:
    """What undoing one event would do, in words, before anyone clicks.

    Attributes
    ----------
    event_id, kind:
        The event.
    n_examples:
        Examples the undo would change (or remove, for an import).
    effect:
        One sentence naming what goes: "removes the 2,000 examples imported from a.json ...".
    needs_confirmation:
        True for imports and for events touching more than `CONFIRM_UNDO_ABOVE` examples.
    """

    event_id: int
    kind: str
    n_examples: int
    effect: str
    needs_confirmation: bool


# ---- the handlers ------------------------------------------------------------------------------


class UndoHandler:
    """How one kind of event is reversed.

    `rows` finds the examples the event touched (locked in pk order for an undo, plain for a
    preview); `apply` checks they are as the event left them and restores the state before it,
    raising `ConflictError` (nothing written) when they are not; `effect` says what the undo
    would do, in one sentence.
    """

    always_confirm = False

    def rows(self, uow: UnitOfWork, ev: Any, *, lock: bool) -> list[Any]:
        pks = sorted({int(ch["pk"]) for ch in (ev.payload or {}).get("changes") or []})
        c = s.examples.c
        where = c.project_id == uow.pid
        if lock:
            return lock_rows(uow.conn, where, pks=pks)
        rows: list[Any] = []
        for start in range(0, len(pks), BATCH):
            query = select(*LOCKED_COLUMNS).where(where, c.pk.in_(pks[start : start + BATCH]))
            rows += uow.conn.execute(query.order_by(c.pk)).all()
        return rows

    def apply(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> None:
        raise NotImplementedError

    def effect(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> tuple[int, str]:
        return 0, f"reverses event {ev.id} ({ev.kind})"


class ImportUndo(UndoHandler):
    """An import: its examples are deleted once each is still as imported, then the import."""

    always_confirm = True

    def rows(self, uow: UnitOfWork, ev: Any, *, lock: bool) -> list[Any]:
        c = s.examples.c
        import_id = (ev.payload or {}).get("import_id")
        if lock:
            uow.lock_project()  # no import into the project meanwhile
            return lock_rows(uow.conn, c.import_id == import_id)
        query = select(*LOCKED_COLUMNS).where(c.project_id == uow.pid, c.import_id == import_id)
        return list(uow.conn.execute(query.order_by(c.pk)).all())

    def apply(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> None:
        edited = {r.pk for r in rows if r.revision > 0}
        base = uow.revisions.texts({(pk, 0) for pk in edited})
        changed = [
            r.example_id
            for r in rows
            if status_of(r) != _IMPORTED or (r.pk in edited and base.get((r.pk, 0)) != text_of(r))
        ]
        if changed:
            raise ConflictError(changed_outside_the_log(ev, changed))
        import_id = ev.payload["import_id"]
        uow.conn.execute(s.examples.delete().where(s.examples.c.import_id == import_id))
        uow.conn.execute(s.imports.delete().where(s.imports.c.id == import_id))
        rebuild_index(uow.conn, uow.pid)

    def effect(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> tuple[int, str]:
        import_id = (ev.payload or {}).get("import_id")
        n = int(
            uow.conn.scalar(
                select(func.count()).where(
                    s.examples.c.project_id == uow.pid, s.examples.c.import_id == import_id
                )
            )
            or 0
        )
        row = uow.conn.execute(select(s.imports).where(s.imports.c.id == import_id)).first()
        source = f" from {row.file_name}" if row is not None else ""
        when = ev.created_at.strftime("%Y-%m-%d %H:%M")
        return n, (
            f"removes the {n:,} example{'s' * (n != 1)} imported{source} by {ev.author} "
            f"on {when}, and the import itself (the file can be imported again)"
        )


_IMPORTED = {"status": "active", "status_reason": None, "duplicate_of": None}


class ExampleChangesUndo(UndoHandler):
    """Events that list their example ``changes``: status before/after, revision from/to.

    A unit of work may record both kinds; every change is checked before anything is written,
    then statuses are put back and the earlier texts written as new revisions.
    """

    def apply(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> None:
        statuses, revisions = _split(ev)
        by_pk = {r.pk: r for r in rows}
        changed = [
            str(ch.get("id", ch["pk"]))
            for ch in statuses
            if (row := by_pk.get(ch["pk"])) is None
            or row.example_id != ch.get("id", row.example_id)
            or status_of(row) != ch["after"]
        ]
        wanted = {(ch["pk"], ch["to"]) for ch in revisions} | {
            (ch["pk"], ch["from"]) for ch in revisions
        }
        text = uow.revisions.texts(wanted) if revisions else {}
        changed += [
            by_pk[ch["pk"]].example_id if ch["pk"] in by_pk else f"pk {ch['pk']}"
            for ch in revisions
            if ch["pk"] not in by_pk
            or text.get((ch["pk"], ch["to"])) != text_of(by_pk[ch["pk"]])
            or (ch["pk"], ch["from"]) not in text
        ]
        if changed:
            raise ConflictError(changed_outside_the_log(ev, list(dict.fromkeys(changed))))
        uow.statuses.write([(ch["pk"], ch["before"]) for ch in statuses])
        if statuses and revisions:  # the restored status is what the revision write starts from
            by_pk = {r.pk: r for r in self.rows(uow, ev, lock=True)}
        for ch in revisions:
            messages, tools, preference = text[(ch["pk"], ch["from"])]
            uow.revisions.write(
                by_pk[ch["pk"]], messages, tools, f"undo of event {ev.id}", preference=preference
            )

    def effect(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> tuple[int, str]:
        statuses, revisions = _split(ev)
        parts = []
        if statuses:
            moves = Counter((ch["after"]["status"], ch["before"]["status"]) for ch in statuses)
            parts.append(
                "puts "
                + ", ".join(
                    f"{k:,} example{'s' * (k != 1)} back from {after!r} to {before!r}"
                    for (after, before), k in sorted(moves.items(), key=lambda m: -m[1])
                )
            )
        if revisions:
            n = len(revisions)
            parts.append(f"{self.restores} of {n:,} example{'s' * (n != 1)}")
        if not parts:
            return super().effect(uow, ev, rows)
        return len({ch["pk"] for ch in statuses + revisions}), "; and ".join(parts)

    restores = "restores the previous text"


class StatusUndo(ExampleChangesUndo):
    """A status change (rejecting, filtering, a quality or contamination action)."""


class DedupUndo(StatusUndo):
    """A dedup decision: the duplicates and the kept example get their earlier status back."""

    def effect(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> tuple[int, str]:
        n, text = super().effect(uow, ev, rows)
        run = (ev.payload or {}).get("run_id")
        return n, text + (f" (dedup run {run})" if run is not None and n else "")


class RevisionUndo(ExampleChangesUndo):
    """An edit: the text before it comes back as a new revision (nothing is deleted)."""


class ScrubUndo(RevisionUndo):
    """A PII scrub: the text before the scrub comes back as a new revision."""

    restores = "restores the text from before the PII scrub"


class SettingsUndo(UndoHandler):
    """A settings change: the value before it comes back, if nobody changed it since."""

    def apply(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> None:
        key, before, after = ev.payload["key"], ev.payload.get("before"), ev.payload.get("after")
        current = uow.settings.all(lock=True)
        if current.get(key) != after:
            raise ConflictError(
                f"Event #{ev.id}: the {key} settings were changed again since; undo that "
                "change first."
            )
        if before is None:
            current.pop(key, None)
        else:
            current[key] = before
        uow.settings.replace(current)

    def effect(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> tuple[int, str]:
        return 0, f"puts the {(ev.payload or {}).get('key')} settings back to their earlier value"


class LabelsUndo(UndoHandler):
    """Labels given, reviewed or imported: the event's label rows are retracted."""

    def apply(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> None:
        from curation.store.labels import undo_labels

        undo_labels(uow.conn, ev)


class PiiReviewUndo(UndoHandler):
    """A review of PII findings: each finding goes back to its earlier review state."""

    def apply(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> None:
        from curation.store.pii_findings import undo_review

        undo_review(uow.conn, ev)

    def effect(self, uow: UnitOfWork, ev: Any, rows: list[Any]) -> tuple[int, str]:
        k = len((ev.payload or {}).get("findings") or [])
        return 0, f"puts {k:,} PII finding{'s' * (k != 1)} back to their earlier review state"


EXAMPLE_CHANGES = ExampleChangesUndo()
UNDO_HANDLERS: dict[str, UndoHandler] = {
    "import": ImportUndo(),
    "status": StatusUndo(),
    "quality": StatusUndo(),
    "contamination": StatusUndo(),
    "dedup": DedupUndo(),
    "edit": RevisionUndo(),
    "pii_scrub": ScrubUndo(),
    "settings": SettingsUndo(),
    "labels": LabelsUndo(),
    "pii_review": PiiReviewUndo(),
}
"""Event kind -> its undo handler. A kind not listed here (callers of `Store.set_status` and
`Store.edit_many` name their own) is undone by `EXAMPLE_CHANGES` from its ``changes``."""


def handler_for(ev: Any) -> UndoHandler:
    """The handler that undoes `ev`; `StoreError` for events that cannot be undone."""
    if ev.kind in NOT_UNDOABLE:
        raise StoreError(f"Events of kind {ev.kind!r} cannot be undone.")
    handler = UNDO_HANDLERS.get(ev.kind, EXAMPLE_CHANGES)
    if isinstance(handler, ExampleChangesUndo):
        changes = (ev.payload or {}).get("changes")
        if not isinstance(changes, list):
            raise StoreError(f"Event #{ev.id} ({ev.kind}) records no change to examples to undo.")
        if any(
            not isinstance(ch, dict) or ("before" not in ch and "from" not in ch) for ch in changes
        ):
            raise StoreError(f"Event #{ev.id} ({ev.kind}) records changes this app cannot undo.")
    return handler


def _split(ev: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The event's status changes (before/after) and revision changes (from/to)."""
    changes = (ev.payload or {}).get("changes") or []
    return [ch for ch in changes if "before" in ch], [ch for ch in changes if "from" in ch]


# ---- undo and its preview ----------------------------------------------------------------------


def undo_events(uow: UnitOfWork, event_ids: Sequence[int]) -> list[int]:
    """Undo the events, newest first, in the unit's transaction; its event is the ``undo``.

    The rule: an event can be undone when every later event that touched any of its examples
    has itself been undone (undo events do not count; events of the same batch count as undone
    once their turn came, which is why the batch goes newest first), and the examples are in
    the state the event left them. A refusal (`ConflictError`) names the later events to undo
    first and undoes nothing. The events and the examples are locked from the check to the
    write, and ``undone_by`` is set with ``WHERE undone_by IS NULL``: of several people
    undoing one event, exactly one wins and the others are told it was already undone.
    """
    uow.require_write()
    ids = sorted({int(i) for i in event_ids}, reverse=True)
    if not ids:
        raise StoreError("Name at least one event to undo.")
    done: list[Any] = []
    for event_id in ids:
        ev = uow.events.get(event_id, lock=True)
        if ev.undone_by is not None:
            raise StoreError(already_undone(uow.conn, ev))
        handler = handler_for(ev)
        rows = handler.rows(uow, ev, lock=True)
        # later writers lock these rows before logging their event, so with the rows locked
        # every later event that touched them is committed and visible here
        blockers = later_events_touching(
            uow.conn, uow.pid, event_id, {r.pk for r in rows}, undone={e.id for e in done}
        )
        if blockers:
            raise ConflictError(blocked_message(ev, blockers, rows))
        handler.apply(uow, ev, rows)
        done.append(ev)
    if len(done) == 1:
        uow.describe("undo", f"undid event {done[0].id}: {done[0].summary}", event=done[0].id)
    else:
        uow.describe(
            "undo",
            f"undid {len(done)} events: {some([f'#{e.id}' for e in done], limit=8)}",
            events=[e.id for e in done],
        )

    def mark(undo_id: int) -> None:
        e = s.events.c
        for ev in done:
            marked = uow.conn.execute(
                update(s.events)
                .where(e.id == ev.id, e.undone_by.is_(None))
                .values(undone_by=undo_id)
            )
            if marked.rowcount != 1:  # compare-and-set on undone_by; the lock makes it moot
                raise StoreError(
                    f"Event #{ev.id} was already undone by someone else at the same moment."
                )

    uow.on_event(mark)
    return [e.id for e in done]


def preview(uow: UnitOfWork, event_id: int) -> UndoPreview:
    """What `undo_events` of this one event would change, without changing anything.

    Gives the same refusals the undo would (already undone, not undoable, later events first),
    so nobody confirms an undo that cannot happen.
    """
    ev = uow.events.get(event_id)
    if ev.undone_by is not None:
        raise StoreError(already_undone(uow.conn, ev))
    handler = handler_for(ev)
    rows = handler.rows(uow, ev, lock=False)
    blockers = later_events_touching(uow.conn, uow.pid, event_id, {r.pk for r in rows})
    if blockers:
        raise ConflictError(blocked_message(ev, blockers, rows))
    n, effect = handler.effect(uow, ev, rows)
    return UndoPreview(
        event_id=event_id,
        kind=ev.kind,
        n_examples=n,
        effect=effect,
        needs_confirmation=handler.always_confirm or n > CONFIRM_UNDO_ABOVE,
    )


# ---- conflicts ---------------------------------------------------------------------------------


def touched_pks(payload: Any) -> set[int]:
    """Primary keys of the examples an event changed (events list them in ``changes``)."""
    changes = payload.get("changes") if isinstance(payload, dict) else None
    if not isinstance(changes, list):
        return set()
    return {int(ch["pk"]) for ch in changes if isinstance(ch, dict) and "pk" in ch}


def later_events_touching(
    conn: Connection, pid: int, event_id: int, pks: set[int], *, undone: set[int] | None = None
) -> list[tuple[Any, set[int]]]:
    """Later events, not undone (nor in `undone`) and not themselves undos, that changed `pks`."""
    if not pks:
        return []
    e = s.events.c
    later = conn.execute(
        select(e.id, e.kind, e.author, e.payload)
        .where(
            e.project_id == pid,
            e.id > event_id,
            e.undone_by.is_(None),
            e.kind.not_in(NOT_UNDOABLE),
        )
        .order_by(e.id)
    )
    found = []
    for row in later:
        if undone and row.id in undone:
            continue
        hit = touched_pks(row.payload) & pks
        if hit:
            found.append((row, hit))
    return found


def blocked_message(ev: Any, blockers: list[tuple[Any, set[int]]], rows: list[Any]) -> str:
    ids = {r.pk: r.example_id for r in rows}
    affected = sorted({ids[pk] for _, hit in blockers for pk in hit})
    events = some([f"#{b.id} ({b.kind} by {b.author})" for b, _ in blockers], limit=8)
    which = (
        f"import event #{ev.id}: {len(affected)} of its {len(rows)} examples"
        if ev.kind == "import"
        else f"event #{ev.id}: {plural(len(affected), 'example')}"
    )
    first = "Undo it first" if len(blockers) == 1 else "Undo those first, newest first"
    return (
        f"Cannot undo {which} ({some(affected)}) changed since, by "
        f"{plural(len(blockers), 'later event')} not undone: {events}. {first}."
    )


def changed_outside_the_log(ev: Any, changed: Sequence[str]) -> str:
    return (
        f"Cannot undo event #{ev.id}: {plural(len(changed), 'example')} ({some(changed)}) "
        "changed by someone else since, in a way no later event records; nothing was undone. "
        "Reload the page to see their current state."
    )


def already_undone(conn: Connection, ev: Any) -> str:
    e = s.events.c
    undo = conn.execute(select(e.author, e.created_at).where(e.id == ev.undone_by)).first()
    by = f" ({undo.author}, {undo.created_at:%Y-%m-%d %H:%M})" if undo else ""
    return f"Event #{ev.id} was already undone by event #{ev.undone_by}{by}; nothing to do."
