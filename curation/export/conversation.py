"""Canonical examples seen as trainer-neutral turns: parsed tool calls, tool schemas, layout.

Every preset builds its record shape from these helpers, so parsing lives in one place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from curation.records import Example, Message


class Unrepresentable(Exception):
    """An example the chosen preset cannot express; carries a stable ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call made by an assistant turn; ``arguments`` is JSON text."""

    id: str
    name: str
    arguments: str

    def arguments_object(self) -> Any:
        return json.loads(self.arguments)


@dataclass(slots=True)
class Turn:
    """A message with its tool calls parsed."""

    role: str
    content: str
    calls: list[ToolCall] = field(default_factory=list)
    name: str | None = None
    tool_call_id: str | None = None
    weight: int | None = None


def make_call_id(example_id: str, turn: int, call: int) -> str:
    """A deterministic 9-character alphanumeric call id (the strictest format: Mistral's)."""
    return hashlib.sha256(f"{example_id}:{turn}:{call}".encode()).hexdigest()[:9]


def parse_tool_calls(text: str | None, *, example_id: str, turn: int) -> list[ToolCall]:
    """Parse a message's tool-call JSON text into `ToolCall`s.

    Accepts OpenAI-style calls (``{"id", "type", "function": {"name", "arguments"}}``) and flat
    calls (``{"name", "arguments"}``), alone or in a list; ``arguments`` may be a JSON string
    or an object. Missing ids get a deterministic one.

    Raises
    ------
    Unrepresentable
        With code ``tool_call_invalid`` when the text is not JSON or a call has no name or its
        arguments are not valid JSON.
    """
    if not text:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unrepresentable("tool_call_invalid", f"tool_calls is not valid JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    calls: list[ToolCall] = []
    for k, item in enumerate(items):
        if not isinstance(item, dict):
            raise Unrepresentable("tool_call_invalid", f"tool call {k} is not an object: {item!r}")
        fn = item.get("function") if isinstance(item.get("function"), dict) else item
        assert isinstance(fn, dict)
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise Unrepresentable("tool_call_invalid", f"tool call {k} has no function name")
        args = fn.get("arguments", {})
        if isinstance(args, str):
            try:
                json.loads(args)
            except json.JSONDecodeError as exc:
                raise Unrepresentable(
                    "tool_call_invalid", f"arguments of tool call {name!r} are not JSON: {exc}"
                ) from exc
            args_text = args
        else:
            args_text = json.dumps(args, ensure_ascii=False, allow_nan=False)
        call_id = item.get("id")
        if not isinstance(call_id, str) or not call_id:
            call_id = make_call_id(example_id, turn, k)
        calls.append(ToolCall(id=call_id, name=name, arguments=args_text))
    return calls


def example_turns(example: Example, messages: list[Message] | None = None) -> list[Turn]:
    """A conversation of the example as `Turn`s; tool messages inherit the id of the call they answer.

    Parameters
    ----------
    example:
        The example (its id seeds the ids of tool calls that have none).
    messages:
        The conversation to convert; by default the one an SFT trainer sees
        (`Example.sft_messages`: the prompt plus the chosen answer for preference data).
    """
    turns: list[Turn] = []
    pending: list[str] = []
    for i, m in enumerate(example.sft_messages() if messages is None else messages):
        calls = parse_tool_calls(m.tool_calls, example_id=example.id, turn=i)
        call_id = m.tool_call_id
        if m.role == "assistant":
            pending = [c.id for c in calls]
        elif m.role == "tool":
            if call_id is None and pending:
                call_id = pending[0]
            if call_id in pending:
                pending.remove(call_id)
        turns.append(
            Turn(
                role=m.role,
                content=m.content or "",
                calls=calls,
                name=m.name,
                tool_call_id=call_id,
                weight=m.weight,
            )
        )
    return turns


def parse_tools(text: str | None) -> list[dict[str, Any]]:
    """Tool schemas as flat function dicts (``name``, ``description``, ``parameters``).

    Accepts both a flat list (glaive / LLaMA-Factory) and OpenAI's
    ``[{"type": "function", "function": {...}}]``.

    Raises
    ------
    Unrepresentable
        With code ``tools_invalid`` when the text is not a JSON list of objects.
    """
    if not text:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unrepresentable("tools_invalid", f"tools is not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise Unrepresentable("tools_invalid", "tools must be a JSON list of objects")
    out: list[dict[str, Any]] = []
    for tool in data:
        fn = tool.get("function") if tool.get("type") == "function" else tool
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise Unrepresentable("tools_invalid", f"tool without a function name: {tool!r}")
        out.append(fn)
    return out


def openai_tools(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat function schemas wrapped the OpenAI / Hugging Face chat-template way."""
    return [{"type": "function", "function": fn} for fn in functions]


def dumps_compact(value: Any) -> str:
    """JSON text for values stored as strings in records (tools, arguments, metadata)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True, slots=True)
class Layout:
    """Which optional columns and message keys one export (train + eval together) needs.

    A preset emits an optional column on every row of both files when any example needs it, so
    keys and JSON types stay identical across lines and files (reference §1.2).
    """

    has_system: bool = False
    multi_turn: bool = False
    has_tool_calls: bool = False
    has_tools: bool = False
    has_weight: bool = False
    has_parallel_tool_calls: bool = False
    has_name: bool = False

    @classmethod
    def of(cls, examples: Iterable[Example]) -> Layout:
        """The layout of these examples; a preference example counts as prompt + each answer."""
        flags = dict.fromkeys(cls.__dataclass_fields__, False)
        for ex in examples:
            for messages in conversations(ex):
                roles = [m.role for m in messages]
                flags["has_system"] |= "system" in roles
                flags["multi_turn"] |= roles.count("user") > 1 or roles.count("assistant") > 1
                flags["has_tool_calls"] |= "tool" in roles or any(m.tool_calls for m in messages)
                flags["has_weight"] |= any(m.weight is not None for m in messages)
                flags["has_name"] |= any(m.name is not None for m in messages)
            flags["has_tools"] |= bool(ex.tools)
            flags["has_parallel_tool_calls"] |= "parallel_tool_calls" in ex.metadata
        return cls(**flags)


def conversations(example: Example) -> list[list[Message]]:
    """Every whole conversation an example holds: its messages, or its prompt + each candidate."""
    if not example.candidates:
        return [example.messages]
    return [[*example.messages, *c.messages] for c in example.candidates]


_JOINERS = ("\n\n", "\n", " ", "")


def split_instruction(example: Example, user_text: str) -> tuple[str, str]:
    """Recover Alpaca's ``instruction`` and ``input`` from a user turn.

    When the raw record had ``instruction`` and ``input`` and the user text is exactly their
    join (blank line, newline, space or nothing), the two parts come back; otherwise (edited
    text, other sources) the whole turn is the instruction and the input is ``""``.
    """
    raw = example.raw or {}
    instruction, inp = raw.get("instruction"), raw.get("input")
    if isinstance(instruction, str) and isinstance(inp, str) and inp:
        for joiner in _JOINERS:
            if user_text == f"{instruction}{joiner}{inp}":
                return instruction, inp
    return user_text, ""


def check_alternation(turns: list[Turn]) -> tuple[str | None, list[Turn]]:
    """Split an optional leading system prompt off and require strict user/assistant pairs.

    Returns the system text (or None) and the remaining turns.

    Raises
    ------
    Unrepresentable
        ``role_order`` when the turns are not user, assistant, user, assistant, ... ending on
        assistant, or when a system message is not first, or a tool turn is present.
    """
    system = None
    rest = turns
    if rest and rest[0].role == "system":
        system, rest = rest[0].content, rest[1:]
    roles = [t.role for t in rest]
    if any(t.calls for t in rest) or "tool" in roles:
        raise Unrepresentable("tool_calls_unsupported", "this preset cannot carry tool calls")
    expected = ["user", "assistant"] * (len(rest) // 2)
    if not rest or roles != expected or len(rest) % 2:
        raise Unrepresentable(
            "role_order",
            f"roles {roles} are not strict user/assistant pairs after an optional first system",
        )
    return system, rest
