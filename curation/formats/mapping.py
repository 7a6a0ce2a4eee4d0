"""Column mappings: how any table's columns become user / assistant / system turns.

`suggest_mapping` guesses one from column names; `mapped_converter` turns a mapping into a shape.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from curation.errors import MappingError
from curation.formats.shapes import (
    Converted,
    Converter,
    RecordError,
    check_turns,
    join_text,
    metadata_from,
    parse_chat,
    type_name,
)
from curation.records import Message

USER_WORDS = ("instruction", "question", "prompt", "query", "input", "text")
ASSISTANT_WORDS = ("answer", "response", "output", "completion", "target", "label")
MESSAGES_WORDS = ("messages", "conversations", "conversation", "dialog", "dialogue", "chat")
ID_COLUMNS = ("id", "uid", "example_id")
# A name ending in one of these is about the text, not the text itself (question_id, text_type).
NOT_TEXT_SUFFIXES = (
    "id",
    "ids",
    "uid",
    "idx",
    "index",
    "type",
    "lang",
    "language",
    "len",
    "length",
)


@dataclass
class ColumnMapping:
    """Which columns of a table hold the conversation.

    Attributes
    ----------
    user:
        Columns joined with a blank line (in this order) into the user turn.
    assistant:
        Column holding the assistant turn.
    system:
        Column holding a system prompt, if any.
    id:
        Column holding the record's own id, if any.
    metadata:
        Columns kept as metadata; None keeps every column not used as text.
    messages:
        Column holding a whole chat list (role/content or from/value); used instead of
        ``user`` / ``assistant`` when set.
    """

    user: list[str] = field(default_factory=list)
    assistant: str = ""
    system: str | None = None
    id: str | None = None
    metadata: list[str] | None = None
    messages: str | None = None

    def text_columns(self) -> set[str]:
        """Columns whose values become conversation text."""
        used = set(self.user)
        for name in (self.assistant, self.system, self.messages):
            if name:
                used.add(name)
        return used


def _words(column: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)
    return [w for w in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if w]


def _classify(column: str) -> str | None:
    words = _words(column)
    if not words or words[-1] in NOT_TEXT_SUFFIXES and len(words) > 1:
        return None
    for word in words:
        if word in USER_WORDS:
            return "user"
        if word in ASSISTANT_WORDS:
            return "assistant"
    return None


def _rank(column: str, vocabulary: tuple[str, ...]) -> int:
    return min((vocabulary.index(w) for w in _words(column) if w in vocabulary), default=99)


def suggest_mapping(columns: list[str]) -> tuple[ColumnMapping, bool]:
    """Guess a mapping from column names.

    Parameters
    ----------
    columns:
        The table's column names.

    Returns
    -------
    (mapping, needs_mapping):
        The best guess, and True when no user or no assistant column was found (the guess is
        then incomplete and must be completed by the user).
    """
    lowered = {c: c.strip().lower() for c in columns}
    system = next((c for c in columns if "system" in _words(c)), None)
    id_column = next((c for c in columns if lowered[c] in ID_COLUMNS), None)
    user = [c for c in columns if c != system and _classify(c) == "user"]
    user.sort(key=lambda c: (_rank(c, USER_WORDS), columns.index(c)))
    assistants = [c for c in columns if c != system and _classify(c) == "assistant"]
    assistants.sort(key=lambda c: (_rank(c, ASSISTANT_WORDS), columns.index(c)))
    if not (user and assistants):
        chat = next((c for c in columns if lowered[c] in MESSAGES_WORDS), None)
        if chat is not None:
            return ColumnMapping(system=system, id=id_column, messages=chat), False
    mapping = ColumnMapping(
        user=user,
        assistant=assistants[0] if assistants else "",
        system=system,
        id=id_column,
    )
    return mapping, not (user and assistants)


def validate_mapping(mapping: ColumnMapping, columns: list[str]) -> None:
    """Raise `MappingError` unless every column the mapping names exists.

    Parameters
    ----------
    mapping:
        The mapping to check.
    columns:
        The columns the file has.
    """
    if not mapping.messages and not (mapping.user and mapping.assistant):
        raise MappingError(
            "A column mapping needs user column(s) and an assistant column, or a messages "
            f"column. Available columns: {', '.join(columns) or 'none'}."
        )
    named = [*mapping.user, mapping.assistant, mapping.system, mapping.id, mapping.messages]
    named += mapping.metadata or []
    present = set(columns)
    for column in named:
        if column and column not in present:
            raise MappingError(
                f"Column {column!r} is not in the file. Available columns: "
                f"{', '.join(columns) or 'none'}."
            )


def cell_text(record: dict[str, Any], column: str) -> str:
    """A cell as text: strings as they are, numbers and booleans written out, null as ``""``."""
    value = record.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise RecordError("non-text content", f"column {column!r} is {type_name(value)}, expected text")


def mapped_converter(mapping: ColumnMapping) -> Converter:
    """A converter that reads records through ``mapping``.

    Parameters
    ----------
    mapping:
        A mapping already checked with `validate_mapping`.
    """
    text_columns = mapping.text_columns()

    def convert_mapped(record: dict[str, Any]) -> list[Converted]:
        messages: list[Message] = []
        if mapping.system:
            system = cell_text(record, mapping.system)
            if system.strip():
                messages.append(Message("system", system))
        if mapping.messages:
            turns = parse_chat(record.get(mapping.messages), what=mapping.messages)
            if any(m.role == "system" for m in turns):
                messages = []
            messages += turns
        else:
            user = join_text([cell_text(record, c) for c in mapping.user])
            messages.append(Message("user", user))
            messages.append(Message("assistant", cell_text(record, mapping.assistant)))
        check_turns(messages)
        if mapping.metadata is None:
            metadata = metadata_from(record, text_columns)
        else:
            keep = set(mapping.metadata)
            metadata = metadata_from(record, {c for c in record if c not in keep})
        return [Converted(messages, metadata)]

    return convert_mapped
