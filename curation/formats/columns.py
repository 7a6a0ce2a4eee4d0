"""What a column's name says it holds: the user's side, the answer, a chat list, or neither.

Shared by the column-mapping guess and by shape detection (a record with no answer column).
"""

from __future__ import annotations

import re

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


def column_words(column: str) -> list[str]:
    """The lower-case words of a column name: ``questionText`` -> ``["question", "text"]``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", column)
    return [w for w in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if w]


def column_role(column: str) -> str | None:
    """``"user"`` or ``"assistant"`` when the name says the column holds that turn, else None."""
    words = column_words(column)
    if not words or words[-1] in NOT_TEXT_SUFFIXES and len(words) > 1:
        return None
    for word in words:
        if word in USER_WORDS:
            return "user"
        if word in ASSISTANT_WORDS:
            return "assistant"
    return None


def column_rank(column: str, vocabulary: tuple[str, ...]) -> int:
    """How early the name's best word comes in ``vocabulary`` (99: none of its words do)."""
    return min((vocabulary.index(w) for w in column_words(column) if w in vocabulary), default=99)


def has_answer_column(columns: list[str]) -> bool:
    """True when some column's name says it holds an answer (``output``, ``response``...)."""
    return any(column_role(c) == "assistant" for c in columns)
