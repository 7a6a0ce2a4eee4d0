"""Labels in the store: annotators', reviewers' and imported values per example and field, the
annotation queue's holds, and the undo of a labelling event.

Every write is one transaction that locks the examples it labels (primary-key order, as every
writer does) before it reads what they hold, checks the values against the project's schema
read in that same transaction, and logs one ``labels`` event; undo retracts that event's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, case, delete, false, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from curation.errors import ConflictError, LabelError, NotFoundError
from curation.labeling.assignment import ASSIGNMENT_ORDERS, AnnotationProgress, next_examples
from curation.labeling.labels import LABEL_ROLES, Label, check_labels
from curation.labeling.schema import LabelSchema, LabelValue
from curation.store import schema as s
from curation.store.db import json_dumps, json_loads, reading, writing
from curation.store.step_results import latest_run_id

if TYPE_CHECKING:
    from curation.store.store import ExampleFilter, Store

__all__ = [
    "EVENT_KIND",
    "HOLD_MINUTES",
    "LABEL_ISSUES_STEP",
    "LABEL_STATES",
    "REVIEWERS_SETTING",
    "SCHEMA_SETTING",
    "StoredLabel",
    "annotate",
    "bulk_label",
    "claim_next",
    "count_queue",
    "example_version",
    "import_labels",
    "is_reviewer",
    "label_issue_rows",
    "label_issue_run",
    "list_labels",
    "neighbour_in_queue",
    "newest_label_id",
    "open_holds",
    "project_labels",
    "project_owner",
    "queue_ids",
    "queue_progress",
    "read_schema",
    "release_holds",
    "review",
    "reviewers",
    "skip",
    "undo_labels",
    "version_token",
    "write_imported",
]

SCHEMA_SETTING = "label_schema"  # project setting holding `LabelSchema.to_dict()`
REVIEWERS_SETTING = "label_reviewers"  # project setting: names who may set final labels
EVENT_KIND = "labels"  # the audit event of every label write; `Store.undo` dispatches on it
LABEL_ISSUES_STEP = "label_issues"  # the step whose latest run the ``label_issues`` queue reads
HOLD_MINUTES = 30  # an example held open longer without a label is offered to others again
LABEL_STATES: tuple[str, ...] = (
    "unlabelled",
    "mine",
    "not_mine",
    "started",
    "complete",
    "reviewed",
    "label_issues",
)
"""Queue filters on labels: ``unlabelled`` (no annotator yet), ``mine`` / ``not_mine`` (the
given annotator labelled it or not), ``started`` (fewer annotators than the schema needs, at
least one: needs another annotator), ``complete`` (enough annotators), ``reviewed`` (a reviewer
set a final label), ``label_issues`` (flagged by the latest label-issue run and not decided
by a reviewer since)."""
_BATCH = 2000
_SAMPLE = 20  # example ids an event names in its payload (its summary gives the count)


@dataclass(frozen=True, slots=True)
class StoredLabel:
    """A label row as the store keeps it.

    Attributes
    ----------
    id:
        The row's id; a later row on the same (example, annotator, field, role) wins.
    example_id, field, annotator, role:
        What it is about and who gave it (`curation.labeling.LABEL_ROLES`); for ``imported``
        rows the annotator is the metadata key the value came from.
    value:
        The canonical value, None when the row clears the field.
    created_at, event_id:
        When, and the ``labels`` event that wrote it (what undo retracts).
    """

    id: int
    example_id: str
    field: str
    annotator: str
    role: str
    value: LabelValue | None
    created_at: datetime
    event_id: int

    def as_label(self) -> Label:
        """The core's `Label` (only for rows with a value)."""
        if self.value is None:
            raise LabelError(f"label row {self.id} clears {self.field!r}; it has no value")
        return Label(
            self.example_id, self.annotator, self.field, self.value, self.created_at, self.role
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "example_id": self.example_id,
            "field": self.field,
            "annotator": self.annotator,
            "role": self.role,
            "value": _to_json(self.value),
            "time": self.created_at.isoformat() if self.created_at else None,
            "event_id": self.event_id,
        }


# ---- small helpers ---------------------------------------------------------------------------


def _now() -> datetime:
    from curation.store.store import _now as now

    return now()


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time this module writes is UTC
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _check_author(author: str) -> str:
    from curation.store.store import _check_author as check

    return check(author)


def _to_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _from_json(value: Any) -> LabelValue | None:
    return tuple(value) if isinstance(value, list) else value


def _encode(value: LabelValue | None) -> str | None:
    """A value as the JSON text the ``value`` column holds (None: the field is cleared)."""
    return None if value is None else json_dumps(_to_json(value))


def _decode(text: str | None) -> LabelValue | None:
    return None if text is None else _from_json(json_loads(text))


def _live(pid: int) -> list[Any]:
    lab = s.labels.c
    return [lab.project_id == pid, lab.retracted == false()]


def _stored(row: Any) -> StoredLabel:
    return StoredLabel(
        id=int(row.id),
        example_id=row.example_id,
        field=row.field,
        annotator=row.annotator,
        role=row.role,
        value=_decode(row.value),
        created_at=_aware(row.created_at),
        event_id=int(row.event_id),
    )


def _settings(conn: Connection, pid: int) -> dict[str, Any]:
    return dict(conn.scalar(select(s.projects.c.settings).where(s.projects.c.id == pid)) or {})


def _schema_of(settings: Mapping[str, Any], project: str) -> LabelSchema:
    data = settings.get(SCHEMA_SETTING)
    if not data:
        raise LabelError(
            f"Project {project!r} has no label schema yet: set one on the Label page, or with "
            f"`curation label-schema --project {project} --set schema.json`."
        )
    return LabelSchema.from_dict(data)


def read_schema(store: Store, project: str) -> LabelSchema | None:
    """The project's saved label schema, or None when none was set."""
    data = store.project_settings(project).get(SCHEMA_SETTING)
    return LabelSchema.from_dict(data) if data else None


def _reviewers_in(conn: Connection, pid: int) -> set[str]:
    owner = conn.scalar(select(s.projects.c.created_by).where(s.projects.c.id == pid))
    named = _settings(conn, pid).get(REVIEWERS_SETTING) or []
    return {str(n) for n in named} | ({str(owner)} if owner else set())


def project_owner(store: Store, project: str) -> str:
    """Who created the project: the owner, who sets the schema and always may review."""
    from curation.store.store import _project_id

    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        return str(conn.scalar(select(s.projects.c.created_by).where(s.projects.c.id == pid)))


def reviewers(store: Store, project: str) -> list[str]:
    """Who may set final labels: the owner and the names saved under `REVIEWERS_SETTING`."""
    from curation.store.store import _project_id

    with reading(store.engine) as conn:
        return sorted(_reviewers_in(conn, _project_id(conn, project)))


def is_reviewer(store: Store, project: str, name: str) -> bool:
    return name.strip() in reviewers(store, project)


def _candidates(row: Any) -> int:
    return len((row.preference or {}).get("candidates") or [])


def _locked(conn: Connection, pid: int, project: str, example_ids: Sequence[str]) -> list[Any]:
    """The examples, locked in primary-key order; `NotFoundError` naming the missing ones."""
    from curation.store.store import _lock_examples

    c = s.examples.c
    rows = _lock_examples(conn, pid, example_ids, columns=[c.pk, c.example_id, c.preference])
    missing = set(example_ids) - {r.example_id for r in rows}
    if missing:
        raise NotFoundError(
            f"No example(s) {', '.join(sorted(missing)[:5])} in project {project!r}; nothing "
            "was labelled."
        )
    return rows


def _latest(
    conn: Connection,
    pid: int,
    pks: Collection[int],
    *,
    roles: Collection[str] | None = None,
    annotator: str | None = None,
) -> dict[tuple[int, str, str, str], tuple[int, LabelValue | None]]:
    """(example pk, annotator, field, role) -> (row id, value) of the newest live row."""
    lab = s.labels.c
    out: dict[tuple[int, str, str, str], tuple[int, LabelValue | None]] = {}
    ordered = sorted(pks)
    for start in range(0, len(ordered), _BATCH):
        query = select(lab.id, lab.example_pk, lab.annotator, lab.field, lab.role, lab.value).where(
            *_live(pid), lab.example_pk.in_(ordered[start : start + _BATCH])
        )
        if roles is not None:
            query = query.where(lab.role.in_(list(roles)))
        if annotator is not None:
            query = query.where(lab.annotator == annotator)
        for r in conn.execute(query.order_by(lab.id)):
            out[(r.example_pk, r.annotator, r.field, r.role)] = (int(r.id), _decode(r.value))
    return out


def version_token(
    rows: Iterable[Any], *, annotator: str | None = None, role: str | None = None
) -> str:
    """The version of an example's labels: newest live row id and number of live rows (of
    `annotator` and `role` when given), from rows with ``id``, ``annotator`` and ``role``
    (`list_labels(..., history=True)` of the example gives them)."""
    ids = [
        int(r.id)
        for r in rows
        if (annotator is None or r.annotator == annotator) and (role is None or r.role == role)
    ]
    return f"{max(ids, default=0)}:{len(ids)}"


def _version(
    conn: Connection, pid: int, pk: int, *, annotator: str | None, role: str | None
) -> str:
    lab = s.labels.c
    rows = conn.execute(
        select(lab.id, lab.annotator, lab.role).where(*_live(pid), lab.example_pk == pk)
    )
    return version_token(rows, annotator=annotator, role=role)


def example_version(
    store: Store,
    project: str,
    example_id: str,
    *,
    annotator: str | None = None,
    role: str | None = None,
) -> str:
    """An opaque token that changes whenever the example's live labels change (of `annotator`
    and `role` when given); pass it back as ``expected`` to refuse a write made on stale
    labels (`annotate`, `review`)."""
    from curation.store.store import _project_id

    c = s.examples.c
    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        pk = conn.scalar(select(c.pk).where(c.project_id == pid, c.example_id == example_id))
        if pk is None:
            raise NotFoundError(f"No example {example_id!r} in project {project!r}.")
        return _version(conn, pid, int(pk), annotator=annotator, role=role)


@dataclass(frozen=True, slots=True)
class _Write:
    pk: int
    example_id: str
    field: str
    annotator: str
    role: str
    value: LabelValue | None

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.pk, self.annotator, self.field, self.role)


def _write(
    conn: Connection,
    store: Store,
    pid: int,
    writes: Iterable[_Write],
    author: str,
    *,
    action: str,
    summary: str,
    extra: Mapping[str, Any] | None = None,
) -> int | None:
    """Write the rows whose value differs from the newest live one, under ONE event.

    `summary` may hold ``{n}`` (labels written) and ``{examples}`` (examples touched). Returns
    the event's id, or None when nothing changes. The caller holds the examples' locks.
    """
    last: dict[tuple[int, str, str, str], _Write] = {}
    for w in writes:
        last[w.key] = w  # a later write of the same key wins
    if not last:
        return None
    current = _latest(conn, pid, {w.pk for w in last.values()})
    todo = [w for key, w in last.items() if current.get(key, (0, None))[1] != w.value]
    if not todo:
        return None
    examples = list(dict.fromkeys(w.example_id for w in todo))
    payload = {
        "action": action,
        "n_labels": len(todo),
        "n_examples": len(examples),
        "fields": sorted({w.field for w in todo}),
        "roles": sorted({w.role for w in todo}),
        "examples": examples[:_SAMPLE],
        **(extra or {}),
    }
    event_id = store._log(
        conn,
        pid,
        EVENT_KIND,
        author,
        summary.replace("{n}", str(len(todo))).replace("{examples}", str(len(examples))),
        payload,
    )
    now = _now()
    rows = [
        {
            "project_id": pid,
            "example_pk": w.pk,
            "example_id": w.example_id,
            "field": w.field,
            "annotator": w.annotator,
            "role": w.role,
            "value": _encode(w.value),
            "event_id": event_id,
            "retracted": False,
            "created_at": now,
        }
        for w in todo
    ]
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(s.labels), rows[start : start + _BATCH])
    return event_id


def _drop_holds(conn: Connection, pid: int, pks: Collection[int], annotator: str) -> None:
    h = s.label_holds.c
    ordered = sorted(pks)
    for start in range(0, len(ordered), _BATCH):
        conn.execute(
            delete(s.label_holds).where(
                h.project_id == pid,
                h.annotator == annotator,
                h.example_pk.in_(ordered[start : start + _BATCH]),
            )
        )


def _require_reviewer(conn: Connection, pid: int, name: str) -> None:
    allowed = _reviewers_in(conn, pid)
    if name not in allowed:
        raise LabelError(
            f"{name!r} may not set final labels: reviewers are {', '.join(sorted(allowed))} "
            "(the project owner names reviewers on the Label page or with `curation "
            "label-schema --reviewers`)."
        )


# ---- writes ----------------------------------------------------------------------------------


def annotate(
    store: Store,
    project: str,
    example_id: str,
    values: Mapping[str, object],
    annotator: str,
    *,
    expected: str | None = None,
    partial: bool = False,
) -> int | None:
    """Save one annotator's annotation of one example as one event; returns its id (None when
    nothing changed).

    Parameters
    ----------
    values:
        Field -> value as the page gives it (`LabelSchema.validate_labels`). A full annotation
        by default: the schema's fields left out (or empty) are cleared, and required fields
        must have a value; with `partial`, only the given fields change.
    expected:
        `example_version(..., annotator=annotator, role="annotator")` as the annotator saw it;
        when their labels on this example changed since (another tab, an undo), nothing is
        written and a `ConflictError` says so.

    Raises
    ------
    LabelError
        A value the schema refuses, or an annotation without any value.
    """
    annotator = _check_author(annotator)
    from curation.store.store import _project_id

    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        (row,) = _locked(conn, pid, project, [example_id])
        schema = _schema_of(_settings(conn, pid), project)
        checked = schema.validate_labels(
            values, n_candidates=_candidates(row), complete=not partial
        )
        if not partial and not checked:
            raise LabelError(
                f"The annotation of {example_id} has no value; choose at least one, or Skip."
            )
        if expected is not None:
            now_at = _version(conn, pid, row.pk, annotator=annotator, role="annotator")
            if now_at != expected:
                raise ConflictError(
                    f"Your labels on {example_id} were changed elsewhere since you opened it "
                    "(another tab, or an undo); nothing was saved. Reload it and label again."
                )
        fields = list(checked) if partial else list(schema.field_names)
        writes = [
            _Write(row.pk, example_id, f, annotator, "annotator", checked.get(f)) for f in fields
        ]
        event = _write(
            conn,
            store,
            pid,
            writes,
            annotator,
            action="annotate",
            summary=f"labelled {example_id}: {{n}} value(s)",
        )
        _drop_holds(conn, pid, [row.pk], annotator)
        return event


def review(
    store: Store,
    project: str,
    example_id: str,
    values: Mapping[str, object],
    reviewer: str,
    *,
    expected: str | None = None,
    action: str = "review",
    note: str = "",
) -> int | None:
    """Set final labels of one example (role ``reviewer``) as one event; None for no change.

    Only the given fields change; a None value withdraws the reviewer's decision on that field
    (the votes decide again). `expected` is `example_version` (every role) as the reviewer saw
    it: an annotator or another reviewer who changed a label since makes this a
    `ConflictError`, so nobody decides on votes they have not seen.
    """
    reviewer = _check_author(reviewer)
    from curation.store.store import _project_id

    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        (row,) = _locked(conn, pid, project, [example_id])
        _require_reviewer(conn, pid, reviewer)
        schema = _schema_of(_settings(conn, pid), project)
        cleared = [schema.field(f).name for f, v in values.items() if v is None]
        checked = schema.validate_labels(
            {f: v for f, v in values.items() if v is not None}, n_candidates=_candidates(row)
        )
        if expected is not None and _version(conn, pid, row.pk, annotator=None, role=None) != (
            expected
        ):
            raise ConflictError(
                f"The labels of {example_id} changed since you opened it (an annotator or "
                "another reviewer saved meanwhile); nothing was saved. Reload to see them."
            )
        writes = [
            _Write(row.pk, example_id, f, reviewer, "reviewer", checked[f]) for f in checked
        ] + [_Write(row.pk, example_id, f, reviewer, "reviewer", None) for f in cleared]
        what = f" ({note})" if note else ""
        return _write(
            conn,
            store,
            pid,
            writes,
            reviewer,
            action=action,
            summary=f"set the final label of {example_id}{what}: {{n}} field(s)",
        )


BULK_MODES = ("set", "add", "remove", "clear")


def bulk_label(
    store: Store,
    project: str,
    example_ids: Sequence[str],
    field: str,
    value: object,
    author: str,
    *,
    role: str = "annotator",
    mode: str = "set",
) -> int | None:
    """One field of many examples as ONE event, so one undo reverses it all.

    Parameters
    ----------
    field, value:
        The schema field and its value (a verdict, a category, a tag for ``add``/``remove``).
    role:
        ``annotator``: `author`'s own labels (they count as `author` having annotated those
        examples); ``reviewer``: final labels (reviewers only).
    mode:
        ``set`` the value; ``add`` / ``remove`` one tag of a multi-choice field, keeping the
        author's other tags on each example; ``clear`` withdraws the author's value (`value`
        is ignored).
    """
    author = _check_author(author)
    if mode not in BULK_MODES:
        raise LabelError(f"mode must be one of {', '.join(BULK_MODES)}, not {mode!r}")
    if role not in ("annotator", "reviewer"):
        raise LabelError(f"bulk labels are given as 'annotator' or 'reviewer', not {role!r}")
    ids = list(dict.fromkeys(example_ids))
    if not ids:
        return None
    from curation.store.store import _project_id

    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        rows = _locked(conn, pid, project, ids)
        if role == "reviewer":
            _require_reviewer(conn, pid, author)
        schema = _schema_of(_settings(conn, pid), project)
        f = schema.field(field)
        if mode in ("add", "remove") and f.kind != "multi_choice":
            raise LabelError(
                f"{mode} works on tags; field {field!r} is {f.kind}: use mode 'set' instead"
            )
        current = (
            _latest(conn, pid, [r.pk for r in rows], roles=[role], annotator=author)
            if mode in ("add", "remove")
            else {}
        )
        writes = []
        for r in rows:
            new: LabelValue | None
            if mode == "clear":
                new = None
            elif mode == "set":
                new = f.validate(value, n_candidates=_candidates(r))
            else:
                picked = f.validate([value])
                tag = picked[0] if isinstance(picked, tuple) else str(picked)
                had = current.get((r.pk, author, field, role), (0, None))[1]
                mine = set(had) if isinstance(had, tuple) else set()
                new = f.validate(sorted(mine | {tag} if mode == "add" else mine - {tag}))
            writes.append(_Write(r.pk, r.example_id, field, author, role, new))
        shown = "" if mode == "clear" else f" {value}"
        return _write(
            conn,
            store,
            pid,
            writes,
            author,
            action="bulk",
            summary=f"bulk {mode} {field}{shown} ({role}): {{examples}} example(s)",
            extra={"mode": mode, "field": field, "value": _to_json(value)},
        )


def write_imported(
    store: Store,
    project: str,
    values: Mapping[str, Mapping[str, LabelValue]],
    sources: Mapping[str, str],
    author: str,
    *,
    fields: Collection[str],
) -> int | None:
    """Make the imported labels of `fields` exactly `values` (example id -> field -> value),
    as ONE event: new and changed values are written, imported values of those fields that
    `values` no longer holds (another source, a value that went) are cleared.

    `sources` maps each field to the metadata key it is adopted from (the rows' annotator).
    """
    author = _check_author(author)
    from curation.store.store import _project_id

    lab = s.labels.c
    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        schema = _schema_of(_settings(conn, pid), project)
        for name in fields:
            schema.field(name)
        held = {
            r.example_id
            for r in conn.execute(
                select(lab.example_id)
                .where(*_live(pid), lab.role == "imported", lab.field.in_(list(fields)))
                .distinct()
            )
        }
        rows = _locked(conn, pid, project, sorted(set(values) | held))
        by_id = {r.example_id: r for r in rows}
        current = _latest(conn, pid, [r.pk for r in rows], roles=["imported"])
        writes: list[_Write] = []
        wanted: set[tuple[int, str, str, str]] = set()
        for eid, by_field in values.items():
            r = by_id[eid]
            checked = schema.validate_labels(dict(by_field), n_candidates=_candidates(r))
            for name, value in checked.items():
                w = _Write(r.pk, eid, name, sources[name], "imported", value)
                wanted.add(w.key)
                writes.append(w)
        pks = {r.pk: r.example_id for r in rows}
        for key, (_, held_value) in current.items():
            if key[2] in fields and key not in wanted and held_value is not None:
                writes.append(_Write(key[0], pks[key[0]], key[2], key[1], "imported", None))
        return _write(
            conn,
            store,
            pid,
            writes,
            author,
            action="adopt",
            summary=f"imported labels of {', '.join(sorted(fields))} from metadata: "
            "{n} value(s) on {examples} example(s)",
            extra={"sources": dict(sources)},
        )


def import_labels(
    store: Store, project: str, labels: Sequence[Label], author: str, *, source: str = ""
) -> int | None:
    """Labels made elsewhere (a file), any annotators and roles, as ONE event.

    Each value is checked against the schema (`check_labels`); a bad one, or an unknown
    example, refuses the whole import with a message naming it, so nothing half-lands.
    Reviewer (final) labels are only taken from a reviewer.
    """
    author = _check_author(author)
    from curation.store.store import _project_id

    ids = list(dict.fromkeys(label.example_id for label in labels))
    if not ids:
        return None
    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        rows = _locked(conn, pid, project, ids)
        if any(label.role == "reviewer" for label in labels):
            _require_reviewer(conn, pid, author)  # final labels from a file: a reviewer's call
        schema = _schema_of(_settings(conn, pid), project)
        by_id = {r.example_id: r for r in rows}
        checked = check_labels(
            labels, schema, candidates={eid: _candidates(r) for eid, r in by_id.items()}
        )
        writes = [
            _Write(
                by_id[lab.example_id].pk,
                lab.example_id,
                lab.field,
                lab.annotator,
                lab.role,
                lab.value,
            )
            for lab in checked
        ]
        where = f" from {source}" if source else ""
        return _write(
            conn,
            store,
            pid,
            writes,
            author,
            action="import",
            summary=f"imported labels{where}: {{n}} value(s) on {{examples}} example(s)",
            extra={"source": source},
        )


# ---- reads -----------------------------------------------------------------------------------


def list_labels(
    store: Store,
    project: str,
    *,
    example_ids: Sequence[str] | None = None,
    roles: Sequence[str] | None = None,
    annotators: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    history: bool = False,
) -> list[StoredLabel]:
    """Live labels in row order: the newest per (example, annotator, field, role) that holds a
    value, or with `history` every live row (cleared ones and superseded ones too)."""
    from curation.store.store import _project_id

    lab = s.labels.c
    bad = sorted(set(roles or ()) - set(LABEL_ROLES))
    if bad:
        raise LabelError(f"unknown role(s) {bad}; roles: {', '.join(LABEL_ROLES)}")
    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        query = select(
            lab.id,
            lab.example_id,
            lab.field,
            lab.annotator,
            lab.role,
            lab.value,
            lab.created_at,
            lab.event_id,
        ).where(*_live(pid))
        if roles:
            query = query.where(lab.role.in_(list(roles)))
        if annotators:
            query = query.where(lab.annotator.in_(list(annotators)))
        if fields:
            query = query.where(lab.field.in_(list(fields)))
        out: list[StoredLabel] = []
        if example_ids is None:
            out = [_stored(r) for r in conn.execute(query.order_by(lab.id))]
        else:
            ids = list(dict.fromkeys(example_ids))
            for start in range(0, len(ids), _BATCH):
                batch = query.where(lab.example_id.in_(ids[start : start + _BATCH]))
                out += [_stored(r) for r in conn.execute(batch)]
            out.sort(key=lambda x: x.id)
    if history:
        return out
    newest: dict[tuple[str, str, str, str], StoredLabel] = {}
    for row in out:
        newest[(row.example_id, row.annotator, row.field, row.role)] = row
    return sorted((r for r in newest.values() if r.value is not None), key=lambda r: r.id)


def newest_label_id(store: Store, project: str) -> int:
    """The id of the project's newest label row (0 when none): what a check has read."""
    from curation.store.store import _project_id

    lab = s.labels.c
    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        return int(conn.scalar(select(func.max(lab.id)).where(lab.project_id == pid)) or 0)


def project_labels(store: Store, project: str, **filters: Any) -> list[Label]:
    """Every live label with a value as the core's `Label`s (agreement, final labels)."""
    return [row.as_label() for row in list_labels(store, project, **filters)]


def label_issue_run(store: Store, project: str) -> dict[str, Any] | None:
    """The latest label-issue run (``id``, ``params``, ``stats``, ``result``...), or None."""
    return store.latest_step_run(project, LABEL_ISSUES_STEP)


def label_issue_rows(
    store: Store, project: str, *, example_ids: Sequence[str] | None = None
) -> list[Any]:
    """The flagged rows (`curation.store.StepResult`) of the latest label-issue run, of the
    given examples when named; [] when the check never ran."""
    rows = store.step_results(project, LABEL_ISSUES_STEP)
    if example_ids is None:
        return rows
    wanted = set(example_ids)
    return [r for r in rows if r.example_id in wanted]


def _state_clause(
    conn: Connection, pid: int, state: str, annotator: str | None, k: int
) -> list[Any]:
    people = _people(pid)
    if state == "unlabelled":
        return [people == 0]
    if state == "started":
        return [people > 0, people < k]
    if state == "complete":
        return [people >= k]
    if state in ("mine", "not_mine"):
        if not annotator:
            raise LabelError(f"the {state!r} queue needs an annotator name")
        mine = _labelled_by(conn, pid, annotator)
        return [mine if state == "mine" else ~mine]
    if state == "reviewed":
        return [_labelled_by(conn, pid, None, role="reviewer")]
    if state == "label_issues":
        from curation.store.step_results import flag_clause

        run = conn.execute(
            select(s.step_runs.c.params).where(
                s.step_runs.c.id == latest_run_id(pid, LABEL_ISSUES_STEP)
            )
        ).first()
        if run is None:
            return [false()]
        params = run.params or {}
        decided = _labelled_by(
            conn,
            pid,
            None,
            role="reviewer",
            field=str(params.get("field")),
            after_id=int(params.get("max_label_id") or 0),
        )
        return [flag_clause(pid, LABEL_ISSUES_STEP, "*"), ~decided]
    raise LabelError(f"unknown queue filter {state!r}; use one of {', '.join(LABEL_STATES)}")


_LITERAL_IN_MAX = 20_000  # below SQLite's 32,766 bound parameters per statement


def _labelled_by(
    conn: Connection,
    pid: int,
    annotator: str | None,
    *,
    role: str = "annotator",
    field: str | None = None,
    after_id: int = 0,
) -> Any:
    """Examples with a live label of `role` (by `annotator`, on `field`, newer than row
    `after_id`, when given) as ``pk IN (...)``: their pks are read first (one index range),
    since PostgreSQL plans a correlated EXISTS as a loop over every label on tables it has no
    statistics for yet; a subquery beyond `_LITERAL_IN_MAX` of them."""
    lab, e = s.labels.c, s.examples.c
    query = select(lab.example_pk).where(*_live(pid), lab.role == role).distinct()
    if annotator is not None:
        query = query.where(lab.annotator == annotator)
    if field is not None:
        query = query.where(lab.field == field)
    if after_id:
        query = query.where(lab.id > after_id)
    pks = sorted(int(pk) for pk in conn.scalars(query))
    if len(pks) > _LITERAL_IN_MAX:
        return e.pk.in_(query)
    return e.pk.in_(pks) if pks else false()


def _queue_where(
    store: Store,
    conn: Connection,
    pid: int,
    flt: ExampleFilter | None,
    states: Sequence[str],
    annotator: str | None,
) -> list[Any]:
    from curation.store.store import ExampleFilter

    where = list(store._where(pid, flt if flt is not None else ExampleFilter(statuses=["active"])))
    if states:
        saved = _settings(conn, pid).get(SCHEMA_SETTING)
        k = LabelSchema.from_dict(saved).annotators_per_example if saved else 1
        for state in states:
            where += _state_clause(conn, pid, state, annotator, k)
    return where


def _states(label_state: str | Sequence[str] | None) -> list[str]:
    if label_state is None:
        return []
    return [label_state] if isinstance(label_state, str) else list(label_state)


def queue_ids(
    store: Store,
    project: str,
    flt: ExampleFilter | None = None,
    *,
    label_state: str | Sequence[str] | None = None,
    annotator: str | None = None,
) -> list[str]:
    """Ids of the examples a queue lists, in import order.

    `flt` is the store's `ExampleFilter` (status, source, search, metadata, quality flag, PII
    state; default: active examples only); `label_state` one or more of `LABEL_STATES`.
    """
    from curation.store.store import _project_id

    e = s.examples.c
    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        where = _queue_where(store, conn, pid, flt, _states(label_state), annotator)
        return list(conn.scalars(select(e.example_id).where(*where).order_by(e.position)))


def count_queue(
    store: Store,
    project: str,
    flt: ExampleFilter | None = None,
    *,
    label_state: str | Sequence[str] | None = None,
    annotator: str | None = None,
) -> int:
    """How many examples `queue_ids` would list, counted in the database."""
    from curation.store.store import _project_id

    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        where = _queue_where(store, conn, pid, flt, _states(label_state), annotator)
        return int(conn.scalar(select(func.count()).select_from(s.examples).where(*where)) or 0)


def neighbour_in_queue(
    store: Store,
    project: str,
    example_id: str | None,
    flt: ExampleFilter | None = None,
    *,
    label_state: str | Sequence[str] | None = None,
    annotator: str | None = None,
    step: int = 1,
) -> str | None:
    """The queue's example after (`step` = 1) or before (-1) `example_id` in import order (the
    first one for None); None at the end. One indexed query, whatever the queue's size."""
    from curation.store.store import _project_id

    e = s.examples.c
    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        where = _queue_where(store, conn, pid, flt, _states(label_state), annotator)
        if example_id is not None:
            position = conn.scalar(
                select(e.position).where(e.project_id == pid, e.example_id == example_id)
            )
            if position is not None:
                where.append(e.position > position if step > 0 else e.position < position)
        order = e.position if step > 0 else e.position.desc()
        return conn.scalar(select(e.example_id).where(*where).order_by(order).limit(1))


def _people(pid: int) -> Any:
    """How many distinct annotators labelled the example of the outer query's row: a scalar
    subquery correlated on its pk (one index range per example; a grouped join is planned
    as a rescan per row by PostgreSQL on tables it has no statistics for yet)."""
    lab, e = s.labels.c, s.examples.c
    return (
        select(func.count(func.distinct(lab.annotator)))
        .where(*_live(pid), lab.example_pk == e.pk, lab.role == "annotator")
        .scalar_subquery()
    )


def _presence(conn: Connection, pid: int, ids_by_pk: Mapping[int, str]) -> list[Label]:
    """One `Label` per (example, annotator) who labelled one of the examples: what the
    assignment rule counts."""
    lab = s.labels.c
    out: list[Label] = []
    pks = sorted(ids_by_pk)
    for start in range(0, len(pks), _BATCH):
        rows = conn.execute(
            select(lab.example_pk, lab.annotator)
            .where(
                *_live(pid),
                lab.role == "annotator",
                lab.example_pk.in_(pks[start : start + _BATCH]),
            )
            .distinct()
        )
        out += [
            Label(ids_by_pk[r.example_pk], r.annotator, "*", "", role="annotator") for r in rows
        ]
    return out


def _holds(
    conn: Connection, pid: int, annotator: str, now: datetime
) -> tuple[dict[int, list[str]], set[int]]:
    """Open holds younger than `HOLD_MINUTES` by example pk, and `annotator`'s skipped pks."""
    h = s.label_holds.c
    cutoff = now - timedelta(minutes=HOLD_MINUTES)
    held: dict[int, list[str]] = defaultdict(list)
    skipped: set[int] = set()
    rows = conn.execute(
        select(h.example_pk, h.annotator, h.state, h.updated_at).where(h.project_id == pid)
    )
    for r in rows:
        if r.state == "skipped":
            if r.annotator == annotator:
                skipped.add(int(r.example_pk))
        elif _aware(r.updated_at) >= cutoff:
            held[int(r.example_pk)].append(r.annotator)
    return dict(held), skipped


def _upsert_hold(conn: Connection, pid: int, pk: int, annotator: str, state: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    now = _now()
    stmt = dialect.insert(s.label_holds).values(
        project_id=pid, example_pk=pk, annotator=annotator, state=state, updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["project_id", "example_pk", "annotator"],
            set_={"state": state, "updated_at": now},
        )
    )


def claim_next(
    store: Store,
    project: str,
    annotator: str,
    flt: ExampleFilter | None = None,
    *,
    label_state: str | Sequence[str] | None = None,
    order: str = "finish",
) -> str | None:
    """The next example for `annotator` (`curation.labeling.next_examples`), held open for them.

    The project row is locked from the read of labels and holds to the write of the hold, so
    of several annotators asking at once each sees the others' new holds: no example gets more
    annotators (labelled or holding it) than the schema's ``annotators_per_example``. The
    annotator's other open holds are released. Returns None when the queue has nothing left.

    The database narrows the candidates first (examples `annotator` has not labelled, with
    fewer annotators than needed, in the rule's order, as many as there are held examples
    plus one, and every held one): whatever holds and skips do to the order, the rule's choice
    is among them, and the rule itself then picks from that handful.
    """
    annotator = _check_author(annotator)
    if order not in ASSIGNMENT_ORDERS:
        raise LabelError(f"order must be one of {', '.join(ASSIGNMENT_ORDERS)}, not {order!r}")
    from curation.store.store import _project_id

    e, h = s.examples.c, s.label_holds.c
    with writing(store.engine) as conn:
        pid = _project_id(conn, project, lock=True)
        k = _schema_of(_settings(conn, pid), project).annotators_per_example
        where = _queue_where(store, conn, pid, flt, _states(label_state), annotator)
        holds, skipped = _holds(conn, pid, annotator, _now())
        n = _people(pid)
        mine = _labelled_by(conn, pid, annotator)
        base = select(e.pk, e.example_id, e.position).where(*where, ~mine, n < k)
        progress = n.desc() if order == "finish" else n.asc()
        ranks = [e.pk.in_(sorted(skipped)), progress] if skipped else [progress]
        ranked = base.order_by(*ranks, e.position).limit(len(holds) + 1)
        found = {int(r.pk): r for r in conn.execute(ranked)}
        if holds:
            held = conn.execute(base.where(e.pk.in_(sorted(holds)))).all()
            found.update({int(r.pk): r for r in held})
        candidates = sorted(found.values(), key=lambda r: r.position)
        ids_by_pk = {int(r.pk): r.example_id for r in candidates}
        picked = next_examples(
            [r.example_id for r in candidates],
            _presence(conn, pid, ids_by_pk),
            annotator,
            annotators_per_example=k,
            in_progress={ids_by_pk[p]: who for p, who in holds.items() if p in ids_by_pk},
            skipped={ids_by_pk[p] for p in skipped if p in ids_by_pk},
            order=order,
        )
        conn.execute(
            delete(s.label_holds).where(
                h.project_id == pid, h.annotator == annotator, h.state == "open"
            )
        )
        if not picked:
            return None
        pk = next(p for p, eid in ids_by_pk.items() if eid == picked[0])
        _upsert_hold(conn, pid, pk, annotator, "open")
        return picked[0]


def skip(store: Store, project: str, example_id: str, annotator: str) -> None:
    """`annotator` skips the example: their hold goes, and their queue offers it again only
    after everything else (others are not affected)."""
    annotator = _check_author(annotator)
    from curation.store.store import _project_id

    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        (row,) = _locked(conn, pid, project, [example_id])
        _upsert_hold(conn, pid, row.pk, annotator, "skipped")


def release_holds(store: Store, project: str, annotator: str) -> int:
    """Drop `annotator`'s open holds (they stopped annotating); returns how many."""
    from curation.store.store import _project_id

    h = s.label_holds.c
    with writing(store.engine) as conn:
        pid = _project_id(conn, project)
        return int(
            conn.execute(
                delete(s.label_holds).where(
                    h.project_id == pid, h.annotator == annotator, h.state == "open"
                )
            ).rowcount
            or 0
        )


def open_holds(store: Store, project: str) -> dict[str, list[str]]:
    """Example id -> annotators holding it open now (holds younger than `HOLD_MINUTES`)."""
    from curation.store.store import _project_id

    e = s.examples.c
    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        held, _ = _holds(conn, pid, "", _now())
        ids = dict(
            conn.execute(
                select(e.pk, e.example_id).where(e.project_id == pid, e.pk.in_(sorted(held)))
            ).all()
        )
    return {ids[pk]: sorted(who) for pk, who in held.items() if pk in ids}


def queue_progress(
    store: Store, project: str, flt: ExampleFilter | None = None
) -> AnnotationProgress:
    """How far annotation is over the examples `flt` lists (default: active), as
    `curation.labeling.annotation_progress` counts it (what the panel shows on every move):
    one aggregate over the examples and two single-table reads, no row object per label."""
    from curation.store.store import _project_id

    e, lab = s.examples.c, s.labels.c
    with reading(store.engine) as conn:
        pid = _project_id(conn, project)
        k = _schema_of(_settings(conn, pid), project).annotators_per_example
        where = _queue_where(store, conn, pid, flt, [], None)
        counted = select(_people(pid).label("n")).where(*where).subquery()
        n = counted.c.n
        total, complete, started, given = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((n >= k, 1), else_=0)), 0),
                func.coalesce(func.sum(case((and_(n > 0, n < k), 1), else_=0)), 0),
                func.coalesce(func.sum(case((n >= k, k), else_=n)), 0),
            ).select_from(counted)
        ).one()
        # two single-table reads joined here: PostgreSQL plans a join of the two (or an EXISTS,
        # or a subquery per label) as a loop over every example on tables it has no
        # statistics for yet, seconds for 5,000 examples; these stay milliseconds
        in_queue = set(conn.scalars(select(e.pk).where(*where)))
        pairs = conn.execute(
            select(lab.example_pk, lab.annotator)
            .where(*_live(pid), lab.role == "annotator")
            .distinct()
        ).all()
    counts: dict[str, int] = defaultdict(int)
    for pk, who in pairs:
        if pk in in_queue:
            counts[str(who)] += 1
    per = sorted(counts.items())
    total, complete, started, given = int(total), int(complete), int(started), int(given)
    return AnnotationProgress(
        examples=total,
        annotators_per_example=k,
        complete=complete,
        started=started,
        untouched=total - complete - started,
        done_fraction=given / (k * total) if total else 0.0,
        per_annotator={str(a): int(c) for a, c in per},
    )


# ---- undo --------------------------------------------------------------------------------------


def undo_labels(conn: Connection, ev: Any) -> None:
    """Retract the rows of a ``labels`` event (called by `Store.undo` in its transaction).

    Refused (`ConflictError`) when a later live row overrides one of them (the same person's
    later label on the same field): undo that later event first, so nobody's later label is
    silently brought back or lost.
    """
    from curation.store.store import _lock_rows

    lab = s.labels.c
    rows = conn.execute(
        select(lab.id, lab.example_pk, lab.annotator, lab.field, lab.role, lab.example_id)
        .where(lab.event_id == ev.id, lab.retracted == false())
        .order_by(lab.id)
    ).all()
    if not rows:
        return  # its examples were removed since (an undone import): nothing is left to retract
    pks = sorted({int(r.example_pk) for r in rows})
    _lock_rows(conn, s.examples.c.project_id == ev.project_id, pks=pks, columns=[s.examples.c.pk])
    newest: dict[tuple[int, str, str, str], tuple[int, int]] = {}
    for start in range(0, len(pks), _BATCH):
        later = conn.execute(
            select(lab.id, lab.example_pk, lab.annotator, lab.field, lab.role, lab.event_id)
            .where(
                *_live(ev.project_id),
                lab.example_pk.in_(pks[start : start + _BATCH]),
                lab.event_id != ev.id,
            )
            .order_by(lab.id)
        )
        for r in later:
            newest[(r.example_pk, r.annotator, r.field, r.role)] = (int(r.id), int(r.event_id))
    blocked = [
        (r, newest[key])
        for r in rows
        if (key := (r.example_pk, r.annotator, r.field, r.role)) in newest and newest[key][0] > r.id
    ]
    if blocked:
        events = sorted({later[1] for _, later in blocked})
        examples = sorted({r.example_id for r, _ in blocked})
        shown = ", ".join(f"#{e}" for e in events[:8])
        raise ConflictError(
            f"Cannot undo event #{ev.id}: {len(blocked)} of its label(s) on "
            f"{', '.join(examples[:5])} were changed again since by later event(s) {shown}, "
            "not undone. Undo those first, newest first."
        )
    conn.execute(update(s.labels).where(lab.event_id == ev.id).values(retracted=True))
