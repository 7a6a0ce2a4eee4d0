"""The canonical record every import becomes: `Example` made of `Message`s.

Messages use the roles system / user / assistant / tool; tool calls are kept as JSON text on
the assistant message so every trainer format can be rebuilt from one shape.
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
    """

    id: str
    messages: list[Message]
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    tools: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "messages": [m.to_dict() for m in self.messages],
            "metadata": self.metadata,
            "source": self.source,
        }
        if self.tools is not None:
            out["tools"] = self.tools
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        return cls(
            id=str(data["id"]),
            messages=[Message.from_dict(m) for m in data["messages"]],
            metadata=dict(data.get("metadata") or {}),
            source=str(data.get("source") or ""),
            tools=data.get("tools"),
            raw=dict(data.get("raw") or {}),
        )

    def text(self, fields: str = "all") -> str:
        """The example's text for search, dedup and similarity; see `example_text`."""
        return example_text(self.messages, fields)

    @property
    def prompt(self) -> str:
        """All user turns joined; the 'question' side of the example."""
        return example_text(self.messages, "user")

    @property
    def response(self) -> str:
        """All assistant turns joined; the 'answer' side of the example."""
        return example_text(self.messages, "assistant")


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


def messages_hash(messages: list[Message], tools: str | None = None) -> str:
    """sha256 of the canonical JSON of a conversation: equal conversations hash equal."""
    payload = orjson.dumps(
        {"messages": [m.to_dict() for m in messages], "tools": tools},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(payload).hexdigest()


def normalize_text(text: str) -> str:
    """Unicode NFKC, case-folded, whitespace collapsed: the form exact dedup compares."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
