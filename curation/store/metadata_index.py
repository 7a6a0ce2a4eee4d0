"""The per-project index of metadata fields: their JSON types, counts and (bounded) distinct values.

Imports add to it in their own transaction and an import's undo rebuilds it, so Browse, Export's
filter and "stratify by" list every field, even one that appears only after row 500.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from curation.store import schema as s

MAX_VALUES = 200  # distinct values listed per field; beyond that `more_values` is set
MAX_VALUE_CHARS = 200  # longer strings are free text, counted but not listed as values
CATEGORICAL_MAX = 50  # at most this many values for a field to be offered for stratification
SCALAR_TYPES = ("boolean", "integer", "number", "string")
_SCAN_BATCH = 2000


def json_type(value: Any) -> str:
    """The JSON type name of a metadata value: boolean, integer, number, string, list, object,
    null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    return "object"


@dataclass(slots=True)
class MetadataField:
    """What the project's examples hold under one metadata field.

    Attributes
    ----------
    name:
        The field's key in `Example.metadata`.
    n_examples:
        Examples that have the field (any status).
    types:
        Examples per JSON type (``{"boolean": 150}``; a field can mix types).
    values:
        ``(value, count)`` most frequent first: typed scalars (``True``, ``3``, ``"en"``),
        and the scalar items of list values (a list field matches a filter on any of its items).
    more_values:
        True when more distinct values exist than are listed (over `MAX_VALUES`, or strings
        longer than `MAX_VALUE_CHARS`); listed counts are then lower bounds.
    """

    name: str
    n_examples: int = 0
    types: dict[str, int] = field(default_factory=dict)
    values: list[tuple[Any, int]] = field(default_factory=list)
    more_values: bool = False

    @property
    def type_label(self) -> str:
        """The types, most common first (``"boolean"``, ``"list, string"``)."""
        return ", ".join(t for t, _ in sorted(self.types.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def is_categorical(self) -> bool:
        """Scalar values only, all listed, at most `CATEGORICAL_MAX`: fit to stratify a split by."""
        return (
            not self.more_values
            and 0 < len(self.values) <= CATEGORICAL_MAX
            and all(t in SCALAR_TYPES for t in self.types)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_examples": self.n_examples,
            "types": dict(self.types),
            "values": [[v, n] for v, n in self.values],
            "more_values": self.more_values,
        }


def _value_key(value: Any) -> tuple[str, Any] | None:
    """Identity of a listable value: booleans apart from numbers (True is not 1), 1 == 1.0 as
    in JSON; None for values that are not listed (lists, objects, null, long text)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str) and len(value) <= MAX_VALUE_CHARS:
        return ("s", value)
    return None


@dataclass(slots=True)
class _Tally:
    n_examples: int = 0
    types: Counter[str] = field(default_factory=Counter)
    values: dict[tuple[str, Any], list[Any]] = field(default_factory=dict)  # key -> [value, n]
    more_values: bool = False

    def add_value(self, value: Any, n: int = 1) -> None:
        key = _value_key(value)
        if key is None:
            if isinstance(value, str):
                self.more_values = True  # long text: counted, not listed
            return
        slot = self.values.get(key)
        if slot is None:
            self.values[key] = [value, n]
        else:
            slot[1] += n

    def add_items(self, items: list[Any]) -> None:
        """A list value: each listable item once (a "contains" filter counts examples)."""
        seen: set[tuple[str, Any]] = set()
        for item in items:
            key = _value_key(item)
            if key is not None and key not in seen:
                seen.add(key)
                self.add_value(item)
            elif key is None and isinstance(item, str):
                self.more_values = True

    def merge(self, other: _Tally) -> None:
        self.n_examples += other.n_examples
        self.types.update(other.types)
        self.more_values = self.more_values or other.more_values
        for value, n in other.values.values():
            self.add_value(value, n)

    def bounded(self, name: str) -> MetadataField:
        ranked = sorted(self.values.items(), key=lambda kv: (-kv[1][1], kv[0][0], str(kv[0][1])))
        return MetadataField(
            name=name,
            n_examples=self.n_examples,
            types=dict(sorted(self.types.items())),
            values=[(v, int(n)) for _, (v, n) in ranked[:MAX_VALUES]],
            more_values=self.more_values or len(ranked) > MAX_VALUES,
        )


_KINDS: dict[type, tuple[str, str | None]] = {  # Python type -> (JSON type, value tag)
    bool: ("boolean", "b"),
    int: ("integer", "n"),
    float: ("number", "n"),
    str: ("string", "s"),
    list: ("list", None),
    dict: ("object", None),
    type(None): ("null", None),
}


def _tally(metas: Iterable[dict[str, Any]]) -> dict[str, _Tally]:
    """Tally every field of many metadata dicts (the import hot path: one pass, no JSON)."""
    tallies: dict[str, _Tally] = {}
    for meta in metas:
        if not meta:
            continue
        for name, value in meta.items():
            tally = tallies.get(name)
            if tally is None:
                tally = tallies[name] = _Tally()
            tally.n_examples += 1
            kind, tag = _KINDS.get(type(value)) or (json_type(value), None)
            types = tally.types
            types[kind] = types.get(kind, 0) + 1
            if tag is None:
                if kind == "list":
                    tally.add_items(value)
            elif tag == "s" and len(value) > MAX_VALUE_CHARS:
                tally.more_values = True
            else:
                key = (tag, value)
                slot = tally.values.get(key)
                if slot is None:
                    tally.values[key] = [value, 1]
                else:
                    slot[1] += 1
    return tallies


def _from_row(row: Any) -> _Tally:
    tally = _Tally(
        n_examples=int(row.n_examples),
        types=Counter({str(k): int(v) for k, v in (row.types or {}).items()}),
        more_values=bool(row.more_values),
    )
    for value, n in row.top_values or []:
        tally.add_value(value, int(n))
    return tally


def _row_values(f: MetadataField) -> dict[str, Any]:
    return {
        "n_examples": f.n_examples,
        "types": f.types,
        "top_values": [[v, n] for v, n in f.values],
        "more_values": f.more_values,
    }


def add_to_index(conn: Connection, pid: int, metas: Iterable[dict[str, Any]]) -> None:
    """Count newly imported examples' metadata into the project's index.

    Call inside the import's transaction, after its inserts: on SQLite the transaction then
    holds the write lock, and on PostgreSQL the project row is locked first, so two imports at
    once never lose each other's counts.
    """
    new = _tally(metas)
    if not new:
        return
    _lock_project(conn, pid)
    t = s.metadata_fields.c
    existing = {
        r.name: r for r in conn.execute(select(s.metadata_fields).where(t.project_id == pid))
    }
    for name, tally in new.items():
        row = existing.get(name)
        if row is None:
            conn.execute(
                insert(s.metadata_fields).values(
                    project_id=pid, name=name, **_row_values(tally.bounded(name))
                )
            )
            continue
        merged = _from_row(row)
        merged.merge(tally)
        conn.execute(
            update(s.metadata_fields)
            .where(t.id == row.id)
            .values(**_row_values(merged.bounded(name)))
        )


def rebuild_index(conn: Connection, pid: int) -> None:
    """Recount the project's index from its examples (after an import's undo, on migration)."""
    _lock_project(conn, pid)
    c = s.examples.c
    tallies: dict[str, _Tally] = {}
    last = -1
    while True:  # keyset paging over the metadata column only
        rows = conn.execute(
            select(c.pk, c.meta)
            .where(c.project_id == pid, c.pk > last)
            .order_by(c.pk)
            .limit(_SCAN_BATCH)
        ).all()
        for name, tally in _tally(r.meta for r in rows).items():
            if name in tallies:
                tallies[name].merge(tally)
            else:
                tallies[name] = tally
        if len(rows) < _SCAN_BATCH:
            break
        last = rows[-1].pk
    conn.execute(delete(s.metadata_fields).where(s.metadata_fields.c.project_id == pid))
    if tallies:
        conn.execute(
            insert(s.metadata_fields),
            [
                {"project_id": pid, "name": name, **_row_values(t.bounded(name))}
                for name, t in sorted(tallies.items())
            ],
        )


def read_index(conn: Connection, pid: int) -> list[MetadataField]:
    """The project's metadata fields, by name."""
    t = s.metadata_fields.c
    rows = conn.execute(select(s.metadata_fields).where(t.project_id == pid).order_by(t.name)).all()
    return [_from_row(r).bounded(r.name) for r in rows]


def _lock_project(conn: Connection, pid: int) -> None:
    if conn.dialect.name == "postgresql":
        # FOR NO KEY UPDATE: it does not conflict with the KEY SHARE locks that inserting rows
        # referencing the project takes, so two imports queue here instead of deadlocking.
        conn.execute(
            select(s.projects.c.id).where(s.projects.c.id == pid).with_for_update(key_share=True)
        )


def typed_value(text: str, meta_field: MetadataField) -> Any:
    """A filter value typed in as text, read as the field's JSON type.

    ``"true"``/``"false"`` become booleans for a boolean field (or a list of booleans), digits
    numbers for a numeric one; anything else, and any value of a string field, stays text.
    """
    kinds = set(meta_field.types) | {json_type(v) for v, _ in meta_field.values}
    if "string" in kinds:
        return text
    raw = text.strip()
    if "boolean" in kinds and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if kinds & {"integer", "number"}:
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                pass
    return text


__all__ = [
    "CATEGORICAL_MAX",
    "MAX_VALUES",
    "MAX_VALUE_CHARS",
    "MetadataField",
    "add_to_index",
    "json_type",
    "read_index",
    "rebuild_index",
    "typed_value",
]
