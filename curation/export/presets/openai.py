"""OpenAI chat fine-tuning JSONL: ``messages`` with role/content, tool calls, weights, tools.

Validation reproduces the cookbook's format checks (reference §3) with tool calls admitted.
"""

from __future__ import annotations

from typing import Any, ClassVar

from curation.export.checks import ChatDialect, check_chat, check_tools_value
from curation.export.conversation import (
    Layout,
    Turn,
    Unrepresentable,
    example_turns,
    openai_tools,
    parse_tools,
)
from curation.export.issues import Issue
from curation.export.presets.base import Built, Preset
from curation.records import Example

OPENAI_DIALECT = ChatDialect(
    allowed_keys=(
        "role",
        "content",
        "name",
        "function_call",
        "weight",
        "tool_calls",
        "tool_call_id",
    ),
    tool_calls_key="tool_calls",
)
_TOP_LEVEL = ("messages", "tools", "parallel_tool_calls", "functions")


class OpenAIPreset(Preset):
    """OpenAI chat fine-tuning format (reference §1.5, validator §3).

    Rows: ``{"messages": [...], "tools": [...], "parallel_tool_calls": bool}``.
    Assistant tool calls are ``[{"id", "type": "function", "function": {"name", "arguments"}}]``
    with ``arguments`` a JSON string; an assistant turn that only calls tools has no
    ``content`` (as in OpenAI's own drone example). ``weight`` is written on every assistant
    message (1 when the source had none) once any message of the export has one.
    ``tools`` is written on every row (``[]`` when a row offers none) once any example has tools;
    ``parallel_tool_calls`` likewise (from ``metadata["parallel_tool_calls"]``, default True,
    the API's default).
    """

    name: ClassVar[str] = "openai"
    description: ClassVar[str] = "OpenAI chat fine-tuning JSONL (messages, tool_calls, weight)"
    default_max_tokens: ClassVar[int | None] = 16_385
    # The API reads JSON, not Arrow: varying tool schemas and per-role message keys (tool_calls,
    # tool_call_id) only trouble a Hugging Face datasets load, so they are warnings here.
    loose_schema_prefixes: ClassVar[tuple[str, ...]] = ("$.tools", "$.messages[]")
    min_records: ClassVar[int] = 10  # per OpenAI's docs as quoted in reference §1.5
    trainer_hint: ClassVar[str] = (
        "Upload train.jsonl / validation.jsonl to the OpenAI fine-tuning API."
    )

    def build(self, example: Example, layout: Layout) -> Built:
        record: dict[str, Any] = {"messages": openai_messages(example_turns(example), layout)}
        record.update(openai_row_options(example, layout))
        return Built(record)

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = check_chat(record.get("messages"), line, OPENAI_DIALECT)
        if "tools" in record:
            issues.extend(check_tools_value(record["tools"], line, as_string=False))
        if "parallel_tool_calls" in record and not isinstance(record["parallel_tool_calls"], bool):
            issues.append(Issue(line, None, "data_type", "parallel_tool_calls must be a boolean"))
        extra = sorted(k for k in record if k not in _TOP_LEVEL)
        if extra:
            issues.append(
                Issue(
                    line,
                    None,
                    "unrecognized_top_level_key",
                    f"keys {extra} are not part of the OpenAI format; allowed: {list(_TOP_LEVEL)}",
                )
            )
        messages = record.get("messages")
        if isinstance(messages, list):
            weights = [
                m.get("weight")
                for m in messages
                if isinstance(m, dict) and m.get("role") == "assistant" and "weight" in m
            ]
            if weights and not any(w == 1 for w in weights):
                issues.append(
                    Issue(
                        line,
                        None,
                        "no_trained_assistant",
                        "every assistant message has weight 0: the example trains nothing",
                    )
                )
        return issues


def openai_messages(
    turns: list[Turn], layout: Layout, *, weights: bool = True
) -> list[dict[str, Any]]:
    """Turns as OpenAI chat messages (tool calls, tool results, ``weight`` when the layout has it).

    Raises
    ------
    Unrepresentable
        For a role OpenAI has no form for, or a tool message answering no call.
    """
    messages: list[dict[str, Any]] = []
    for t in turns:
        if t.role not in ("system", "user", "assistant", "tool"):
            raise Unrepresentable("unrecognized_role", f"role {t.role!r} has no OpenAI form")
        m: dict[str, Any] = {"role": t.role}
        if t.role == "assistant" and t.calls:
            if t.content:
                m["content"] = t.content
            m["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in t.calls
            ]
        else:
            m["content"] = t.content
        if t.role == "tool":
            if t.tool_call_id is None:
                raise Unrepresentable(
                    "unrecognized_role", "a tool message must answer an assistant tool call"
                )
            m["tool_call_id"] = t.tool_call_id
        elif t.name is not None:
            m["name"] = t.name
        if weights and t.role == "assistant" and layout.has_weight:
            m["weight"] = 1 if t.weight is None else t.weight
        messages.append(m)
    return messages


def openai_row_options(example: Example, layout: Layout) -> dict[str, Any]:
    """``tools`` and ``parallel_tool_calls`` of one row, when the export's layout has them."""
    out: dict[str, Any] = {}
    if layout.has_tools:
        out["tools"] = openai_tools(parse_tools(example.tools))
    if layout.has_parallel_tool_calls:
        out["parallel_tool_calls"] = bool(example.metadata.get("parallel_tool_calls", True))
    return out
