"""The canonical record every import becomes: `Example` made of `Message`s.

Messages use the roles system / user / assistant / tool; tool calls are kept as JSON text on
the assistant message so every trainer format can be rebuilt from one shape.

Preference and feedback data are first-class: a preference example's `messages` are its
prompt (ending on the user's turn) and its `candidates` are the answers to that prompt, ranked
(rank 1 is preferred; equal ranks tie). A feedback (KTO) example is an ordinary conversation
whose final answer is marked `desirable` (True) or undesirable (False). An example whose last
turn is not the assistant's and that has no candidates still `needs_answer`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

ROLES = ("system", "user", "assistant", "tool")
TextFields = Literal["all", "user", "assistant"]
TEXT_FIELDS: tuple[str, ...] = ("all", "user", "assistant")


@dataclass(slots=True)
class Message:
    """One turn of a conversation.

    Attributes
    ----------
    role:
        One of ``ROLES``.
    content:
        The turn's text. An assistant turn that only calls tools has ``""``.
    tool_calls:
        JSON text of a list of OpenAI-style calls
        (``[{"type": "function", "function": {"name": ..., "arguments": "<json>"}}]``), or None.
    name:
        Optional speaker or tool name (tool results carry the tool's name when known).
    tool_call_id:
        Id of the call a tool message answers, when the source had one.
    weight:
        OpenAI per-message training weight (0 or 1) when the source had one.
    """

    role: str
    content: str
    tool_calls: str | None = None
    name: str | None = None
    tool_call_id: str | None = None
    weight: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The message as a plain dict, leaving out fields that are None."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        for key in ("tool_calls", "name", "tool_call_id", "weight"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            role=str(data["role"]),
            content=str(data.get("content") or ""),
            tool_calls=data.get("tool_calls"),
            name=data.get("name"),
            tool_call_id=data.get("tool_call_id"),
            weight=data.get("weight"),
        )


@dataclass(slots=True)
class Candidate:
    """One candidate answer to a preference example's prompt.

    Attributes
    ----------
    messages:
        The answer: normally one assistant message (several when the answer calls tools).
    rank:
        1 is the most preferred; candidates with equal ranks tie; None when unranked.
    score:
        The rating the source gave this answer (UltraFeedback's ``overall_score``...), if any.
    name:
        Who wrote the answer (a model's name), when the source says.
    """

    messages: list[Message]
    rank: int | None = None
    score: float | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"messages": [m.to_dict() for m in self.messages]}
        for key in ("rank", "score", "name"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            messages=[Message.from_dict(m) for m in data.get("messages") or []],
            rank=None if data.get("rank") is None else int(data["rank"]),
            score=None if data.get("score") is None else float(data["score"]),
            name=data.get("name"),
        )

    @property
    def text(self) -> str:
        """The answer's text (tool calls included), one turn per paragraph."""
        return example_text(self.messages, "all")


def pair(chosen: list[Message], rejected: list[Message]) -> list[Candidate]:
    """The candidates of a chosen / rejected pair."""
    return [Candidate(chosen, rank=1), Candidate(rejected, rank=2)]


@dataclass(slots=True)
class Example:
    """One instruction example in canonical form.

    Attributes
    ----------
    id:
        Stable across re-imports of the same file: the record's own id, or source hash + row.
    messages:
        The conversation, in order.
    metadata:
        Every original field that is not conversation text (category, label, source ids...).
    source:
        Where the example came from (usually the file name).
    tools:
        JSON text of the tool schemas offered to the model in this conversation, or None.
    raw:
        The original record, untouched.
    candidates:
        For preference data: the ranked answers to the prompt in `messages` (empty otherwise).
    desirable:
        For feedback (KTO) data: whether the conversation's final answer is desirable.
    """

    id: str
    messages: list[Message]
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    tools: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)
    desirable: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "messages": [m.to_dict() for m in self.messages],
            "metadata": self.metadata,
            "source": self.source,
        }
        if self.tools is not None:
            out["tools"] = self.tools
        out.update(self.preference_payload() or {})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        ex = cls(
            id=str(data["id"]),
            messages=[Message.from_dict(m) for m in data["messages"]],
            metadata=dict(data.get("metadata") or {}),
            source=str(data.get("source") or ""),
            tools=data.get("tools"),
            raw=dict(data.get("raw") or {}),
        )
        ex.set_preference(data)
        return ex

    # ---- preference and feedback ----------------------------------------------------------

    def preference_payload(self) -> dict[str, Any] | None:
        """``candidates`` and ``desirable`` as stored (None for plain instruction data)."""
        out: dict[str, Any] = {}
        if self.candidates:
            out["candidates"] = [c.to_dict() for c in self.candidates]
        if self.desirable is not None:
            out["desirable"] = self.desirable
        return out or None

    def set_preference(self, payload: dict[str, Any] | None) -> None:
        """Set ``candidates`` and ``desirable`` from a `preference_payload` (None clears)."""
        payload = payload or {}
        self.candidates = [Candidate.from_dict(c) for c in payload.get("candidates") or []]
        value = payload.get("desirable")
        self.desirable = None if value is None else bool(value)

    @property
    def kind(self) -> str:
        """``preference``, ``feedback`` (KTO), ``needs_answer`` or ``sft``."""
        if self.candidates:
            return "preference"
        if not self.messages or self.messages[-1].role != "assistant":
            return "needs_answer"
        return "feedback" if self.desirable is not None else "sft"

    @property
    def needs_answer(self) -> bool:
        """True while the example has neither a final assistant turn nor candidates."""
        return self.kind == "needs_answer"

    @property
    def is_tie(self) -> bool:
        """Two or more ranked candidates share the best rank (so none is chosen)."""
        ranked = [c.rank for c in self.candidates if c.rank is not None]
        return len(ranked) >= 2 and ranked.count(min(ranked)) >= 2

    @property
    def chosen(self) -> Candidate | None:
        """The one candidate ranked strictly best, or None (no candidates, a tie, unranked)."""
        ranked = [c for c in self.candidates if c.rank is not None]
        if not ranked:
            return None
        best = min(c.rank for c in ranked if c.rank is not None)
        top = [c for c in ranked if c.rank == best]
        return top[0] if len(top) == 1 else None

    @property
    def rejected(self) -> Candidate | None:
        """A candidate ranked strictly worst (the last such), or None when there is no chosen."""
        chosen = self.chosen
        if chosen is None:
            return None
        worse = [c for c in self.candidates if c is not chosen and c.rank is not None]
        if not worse:
            return None
        worst = max(c.rank for c in worse if c.rank is not None)
        return [c for c in worse if c.rank == worst][-1]

    def sft_messages(self) -> list[Message]:
        """The conversation an SFT trainer sees: the prompt plus the chosen answer, if any."""
        chosen = self.chosen
        if chosen is not None:
            return [*self.messages, *chosen.messages]
        return list(self.messages)

    def text(self, fields: str = "all") -> str:
        """The example's text for search, dedup and similarity; see `example_text`.

        For preference data ``"all"`` is the prompt and every candidate, ``"user"`` the
        prompt, and ``"assistant"`` the chosen answer (every candidate when none is chosen).
        """
        if not self.candidates:
            return example_text(self.messages, fields)
        if fields == "user":
            return example_text(self.messages, "user")
        chosen = self.chosen
        answers = [chosen] if fields == "assistant" and chosen is not None else self.candidates
        parts = [example_text(self.messages, fields)] + [
            example_text(c.messages, fields) for c in answers
        ]
        return "\n\n".join(p for p in parts if p)

    @property
    def prompt(self) -> str:
        """All user turns joined; the 'question' side of the example."""
        return example_text(self.messages, "user")

    @property
    def response(self) -> str:
        """All assistant turns joined (the chosen answer's for preference data)."""
        return example_text(self.sft_messages(), "assistant")


def example_text(messages: list[Message], fields: str = "all") -> str:
    """Join the chosen turns' text, one turn per paragraph.

    Parameters
    ----------
    messages:
        The conversation.
    fields:
        ``"all"`` (every turn, tool calls included), ``"user"`` (user turns only) or
        ``"assistant"`` (assistant turns, with their tool calls).
    """
    if fields not in TEXT_FIELDS:
        raise ValueError(f"fields must be one of {TEXT_FIELDS}, not {fields!r}")
    parts: list[str] = []
    for m in messages:
        if fields == "user" and m.role != "user":
            continue
        if fields == "assistant" and m.role != "assistant":
            continue
        if m.content:
            parts.append(m.content)
        if m.tool_calls and fields != "user":
            parts.append(m.tool_calls)
    return "\n\n".join(parts)


def messages_hash(
    messages: list[Message], tools: str | None = None, preference: dict[str, Any] | None = None
) -> str:
    """sha256 of the canonical JSON of a conversation: equal conversations hash equal.

    ``preference`` (an `Example.preference_payload`) is hashed too when given, so two pairs on
    one prompt with different answers differ; instruction data hashes as it always did.
    """
    content: dict[str, Any] = {"messages": [m.to_dict() for m in messages], "tools": tools}
    if preference:
        content["preference"] = preference
    payload = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def normalize_text(text: str) -> str:
    """Unicode NFKC, case-folded, whitespace collapsed: the form exact dedup compares."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
