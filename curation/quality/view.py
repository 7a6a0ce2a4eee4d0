"""What every quality check reads: an example's answer turns with their prompts, computed once.

Also the text helpers the checks share: fenced code blocks, inline code, prose without code, words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from curation.errors import InputError
from curation.records import Message

__all__ = [
    "AnswerTurn",
    "ExampleView",
    "Fence",
    "QualitySubject",
    "code_fences",
    "line_column",
    "prose_of",
    "words_of",
]


class QualitySubject(Protocol):
    """What the checks need of an example: `curation.records.Example` and the platform's
    step input both have it (the id is read from ``id`` or ``example_id``)."""

    messages: list[Message]
    metadata: dict[str, Any]
    tools: str | None


# A fence line: up to 3 spaces, then 3+ backticks or tildes, then an optional info string.
_FENCE_LINE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\n`]*?)[ \t]*$", re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_WORD = re.compile(r"\w+(?:['’]\w+)*")


@dataclass(frozen=True, slots=True)
class Fence:
    """One fenced code block of a text (CommonMark: a closing fence has the opener's
    character, at least its length and no info string).

    Attributes
    ----------
    start, end:
        Offsets of the block in the text, fences included (``end`` is exclusive).
    body_start, body_end:
        Offsets of the code between the fences.
    info:
        The info string's first word, lower-cased (``"json"``, ``"sql"``, ``""``).
    closed:
        False when the text ends before a closing fence (then the block runs to the end).
    """

    start: int
    end: int
    body_start: int
    body_end: int
    info: str
    closed: bool

    def body(self, text: str) -> str:
        return text[self.body_start : self.body_end]


def code_fences(text: str) -> list[Fence]:
    """The fenced code blocks of `text`, in order; an unclosed one runs to the end."""
    if "```" not in text and "~~~" not in text:
        return []
    fences: list[Fence] = []
    opener: re.Match[str] | None = None
    for m in _FENCE_LINE.finditer(text):
        marker, info = m.group(1), m.group(2)
        if opener is None:
            opener = m
            continue
        open_marker = opener.group(1)
        if marker[0] == open_marker[0] and len(marker) >= len(open_marker) and not info:
            body_start = min(opener.end() + 1, m.start())
            body_end = max(m.start() - 1, body_start)
            fences.append(
                Fence(opener.start(), m.end(), body_start, body_end, _info(opener.group(2)), True)
            )
            opener = None
    if opener is not None:
        body_start = min(opener.end() + 1, len(text))
        fences.append(
            Fence(opener.start(), len(text), body_start, len(text), _info(opener.group(2)), False)
        )
    return fences


def _info(info: str) -> str:
    return info.split()[0].lower() if info.strip() else ""


def prose_of(text: str, fences: Sequence[Fence] | None = None) -> str:
    """`text` with fenced blocks and inline code spans blanked (offsets are kept: each removed
    character becomes a space, so a position in the prose is a position in the text)."""
    fences = code_fences(text) if fences is None else fences
    if fences:
        parts: list[str] = []
        last = 0
        for f in fences:
            parts.append(text[last : f.start])
            parts.append(_blank(text[f.start : f.end]))
            last = f.end
        parts.append(text[last:])
        text = "".join(parts)
    if "`" in text:
        text = _INLINE_CODE.sub(lambda m: _blank(m.group(0)), text)
    return text


def _blank(span: str) -> str:
    """Spaces for every character of `span` except newlines, which stay (line numbers hold)."""
    return re.sub(r"[^\n]", " ", span)


def words_of(text: str) -> list[str]:
    """Word tokens (letters, digits and inner apostrophes) of `text`."""
    return _WORD.findall(text)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based ``(line, column)`` of character `offset` in `text`."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


class AnswerTurn:
    """One assistant turn and the user turn it answers.

    Attributes
    ----------
    index:
        Position of the assistant message in the conversation (0-based).
    text:
        The assistant message's text (``""`` for a turn that only calls tools).
    prompt:
        The text of the nearest user message before it (``""`` when there is none).
    tool_calls:
        The message's tool-call JSON text, or None.
    last:
        True for the conversation's last assistant turn.
    memo:
        Scratch space for values several checks derive from the turn (computed once).
    """

    def __init__(
        self, index: int, text: str, prompt: str, tool_calls: str | None, last: bool
    ) -> None:
        self.index = index
        self.text = text
        self.prompt = prompt
        self.tool_calls = tool_calls
        self.last = last
        self.memo: dict[str, Any] = {}

    @cached_property
    def stripped(self) -> str:
        return self.text.strip()

    @cached_property
    def fences(self) -> list[Fence]:
        return code_fences(self.text)

    @cached_property
    def prose(self) -> str:
        """The text with code blanked (see `prose_of`)."""
        return prose_of(self.text, self.fences)

    @cached_property
    def words(self) -> list[str]:
        return words_of(self.text)

    @cached_property
    def prose_words(self) -> list[str]:
        """Words outside code (the same list as `words` when the answer has no code)."""
        return words_of(self.prose) if "`" in self.text or "~~~" in self.text else self.words

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    @cached_property
    def prompt_words(self) -> list[str]:
        return words_of(self.prompt)


class ExampleView:
    """An example as the checks see it: id, turns, and lazily computed text shared by checks.

    Parameters
    ----------
    example:
        A `curation.records.Example` or anything with ``messages``, ``metadata``, ``tools``
        and an ``id`` or ``example_id``.
    """

    def __init__(self, example: QualitySubject) -> None:
        ident = getattr(example, "id", None)
        if ident is None:
            ident = getattr(example, "example_id", None)
        if ident is None:
            raise InputError(f"an example needs an id or example_id: {example!r:.80}")
        self.id = str(ident)
        self.messages: list[Message] = _checked_turns(example)
        self.metadata: Mapping[str, Any] = example.metadata or {}
        self.tools: str | None = example.tools

    @cached_property
    def turns(self) -> list[AnswerTurn]:
        """Every assistant turn, in order, each with the user turn before it."""
        out: list[AnswerTurn] = []
        prompt = ""
        indices = [i for i, m in enumerate(self.messages) if m.role == "assistant"]
        last = indices[-1] if indices else -1
        for i, m in enumerate(self.messages):
            if m.role == "user":
                prompt = m.content or ""
            elif m.role == "assistant":
                out.append(AnswerTurn(i, m.content or "", prompt, m.tool_calls, i == last))
        return out

    @cached_property
    def text_turns(self) -> list[AnswerTurn]:
        """Assistant turns that carry text (a turn that only calls tools has none to check)."""
        return [t for t in self.turns if not (t.tool_calls and not t.text.strip())]

    @cached_property
    def prompt(self) -> str:
        """Every user turn's text, one per paragraph."""
        return "\n\n".join(m.content for m in self.messages if m.role == "user" and m.content)

    @cached_property
    def system(self) -> str:
        return "\n\n".join(m.content for m in self.messages if m.role == "system" and m.content)

    @cached_property
    def answer(self) -> str:
        """Every assistant turn's text (tool calls left out), one per paragraph."""
        return "\n\n".join(t.text for t in self.turns if t.text)


def _checked_turns(example: QualitySubject) -> list[Message]:
    """The turns checked: a pair's prompt and preferred answer (its first when it ties).

    A rejected answer is meant to be worse; flagging it would only be noise.
    """
    candidates = getattr(example, "candidates", None)
    if not candidates:
        return list(example.messages)
    best = example.chosen or candidates[0]  # type: ignore[attr-defined]
    return [*example.messages, *best.messages]
