"""Conversational ``messages`` records for chat-template trainers: TRL and Axolotl.

Both share one record builder; they differ in weights and in Axolotl's YAML config snippet.
"""

from __future__ import annotations

from typing import Any, ClassVar

from curation.export.checks import ChatDialect, check_chat, check_tools_value
from curation.export.conversation import (
    Layout,
    Turn,
    Unrepresentable,
    dumps_compact,
    example_turns,
    openai_tools,
    parse_tools,
)
from curation.export.issues import Issue
from curation.export.presets.base import Built, Preset
from curation.records import Example


def chat_messages(
    turns: list[Turn], layout: Layout, *, weights: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """Turns as ``{role, content[, tool_calls][, weight]}`` messages, plus lossy-conversion notes.

    See `chat_template_record` for the key rules; shared by the pair and KTO presets.
    """
    warnings: list[str] = []
    messages: list[dict[str, Any]] = []
    for t in turns:
        if t.role not in ("system", "user", "assistant", "tool"):
            raise Unrepresentable("unrecognized_role", f"role {t.role!r} has no chat-template form")
        m: dict[str, Any] = {"role": t.role, "content": t.content}
        if layout.has_tool_calls:
            m["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in t.calls
            ]
        if weights:
            m["weight"] = (1 if t.weight is None else t.weight) if t.role == "assistant" else 0
        elif t.weight is not None and t.weight != 1:
            warnings.append(f"weight {t.weight} dropped: this preset has no per-message weight")
        if t.name is not None and t.role != "tool":  # a tool result's name follows from its call
            warnings.append(f"speaker name {t.name!r} dropped")
        messages.append(m)
    return messages, warnings


def chat_tools(example: Example) -> str:
    """The example's tool schemas as the JSON string TRL and Axolotl read (``[]`` when none)."""
    return dumps_compact(openai_tools(parse_tools(example.tools)))


def chat_template_record(example: Example, layout: Layout, *, weights: bool) -> Built:
    """``{"messages": [...], "tools": "<json>"}`` with a uniform message key set.

    Every message has ``role`` and ``content``; once any example has tool calls, every message
    also has ``tool_calls`` (``[]`` when it makes none) so the Arrow struct carries no nulls;
    call ``arguments`` and the row's ``tools`` are JSON strings (reference §1.2 item 3; TRL and
    Axolotl both ``json.loads`` them). With ``weights``, every message has ``weight``
    (assistant: the source's, default 1; other roles: 0). Speaker ``name`` and
    ``tool_call_id`` are dropped (reported as a lossy-conversion warning): calls are matched to
    results by order. Preference data goes out as its prompt plus the chosen answer.
    """
    messages, warnings = chat_messages(example_turns(example), layout, weights=weights)
    record: dict[str, Any] = {"messages": messages}
    if layout.has_tools:
        record["tools"] = chat_tools(example)
    return Built(record, tuple(dict.fromkeys(warnings)))


def check_chat_template_record(record: dict[str, Any], line: int, *, weights: bool) -> list[Issue]:
    """Chat rules plus the ``tools`` JSON string."""
    keys = ["role", "content", "tool_calls"] + (["weight"] if weights else [])
    issues = check_chat(
        record.get("messages"),
        line,
        ChatDialect(allowed_keys=tuple(keys), tool_calls_key="tool_calls"),
    )
    if "tools" in record:
        issues.extend(check_tools_value(record["tools"], line, as_string=True))
    return issues


class TrlMessagesPreset(Preset):
    """TRL ``SFTTrainer`` conversational language-modelling format (reference §1.1)."""

    name: ClassVar[str] = "trl-messages"
    description: ClassVar[str] = "TRL SFTTrainer conversational: messages (+ tools JSON string)"
    default_max_tokens: ClassVar[int | None] = 1024  # SFTConfig.max_length default
    trainer_hint: ClassVar[str] = (
        'load_dataset("json", data_files={"train": "train.jsonl", "validation": "validation.jsonl"})'
    )

    def build(self, example: Example, layout: Layout) -> Built:
        return chat_template_record(example, layout, weights=False)

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        return check_chat_template_record(record, line, weights=False)


class AxolotlPreset(Preset):
    """Axolotl ``type: chat_template`` records plus an ``axolotl.yaml`` snippet (§1.3, §4)."""

    name: ClassVar[str] = "axolotl"
    description: ClassVar[str] = "Axolotl chat_template: messages + axolotl.yaml datasets snippet"
    default_max_tokens: ClassVar[int | None] = 2048  # sequence_len in Axolotl's examples
    trainer_hint: ClassVar[str] = "Paste axolotl.yaml's datasets/test_datasets into your config."

    def build(self, example: Example, layout: Layout) -> Built:
        return chat_template_record(example, layout, weights=layout.has_weight)

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        msgs = record.get("messages")
        weights = isinstance(msgs, list) and any(
            isinstance(m, dict) and "weight" in m for m in msgs
        )
        return check_chat_template_record(record, line, weights=weights)

    def extra_files(
        self,
        train_name: str,
        eval_name: str | None,
        dataset_name: str,
        *,
        layout: Layout | None = None,
    ) -> dict[str, str]:
        weights = ["    message_field_training: weight"] if layout and layout.has_weight else []
        lines = [
            f"# Axolotl dataset config for {dataset_name!r} (reference: docs/dataset-formats).",
            "# Paths are relative to the export folder: prefix them with where you copy it.",
            "datasets:",
            f"  - path: {train_name}",
            "    ds_type: json",
            "    type: chat_template",
            "    field_messages: messages",
            '    roles_to_train: ["assistant"]',
            *weights,
        ]
        if eval_name is not None:
            lines += [
                "test_datasets:",
                f"  - path: {eval_name}",
                "    ds_type: json",
                "    type: chat_template",
                "    field_messages: messages",
                *weights,
                "    split: train  # a single local file loads as split 'train'",
            ]
        return {"axolotl.yaml": "\n".join(lines) + "\n"}
