"""Plain community formats: ShareGPT (FastChat ``conversations``) and Stanford Alpaca.

Neither carries tool calls; Alpaca carries single-turn examples without a system prompt only.
"""

from __future__ import annotations

from typing import Any, ClassVar

from curation.export.checks import ChatDialect, check_chat, check_strings
from curation.export.conversation import (
    Layout,
    Unrepresentable,
    check_alternation,
    example_turns,
    split_instruction,
)
from curation.export.issues import Issue
from curation.export.presets.base import Built, Preset
from curation.records import Example

_SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}


class SharegptPreset(Preset):
    """ShareGPT as FastChat writes it: ``{"id", "conversations": [{"from", "value"}]}``.

    Roles are ``system`` (first only), ``human`` and ``gpt``, strictly alternating from
    ``human`` and ending on ``gpt``. For Axolotl map it with ``field_messages: conversations``
    and ``message_property_mappings: {role: from, content: value}`` (its aliases know human/gpt).
    """

    name: ClassVar[str] = "sharegpt"
    description: ClassVar[str] = "ShareGPT / FastChat conversations (from: human/gpt/system)"
    default_max_tokens: ClassVar[int | None] = 4096
    messages_key: ClassVar[str | None] = "conversations"

    def build(self, example: Example, layout: Layout) -> Built:
        system, turns = check_alternation(example_turns(example))
        conv = [{"from": "system", "value": system}] if system is not None else []
        conv += [
            {"from": "human" if t.role == "user" else "gpt", "value": t.content} for t in turns
        ]
        return Built({"id": example.id, "conversations": conv})

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = check_strings(record, ("id",), line, non_empty=("id",))
        issues.extend(
            check_chat(
                record.get("conversations"),
                line,
                ChatDialect(
                    role_key="from",
                    content_key="value",
                    roles=_SHAREGPT_ROLES,
                    allowed_keys=("from", "value"),
                ),
            )
        )
        return issues


class AlpacaPreset(Preset):
    """Stanford Alpaca: ``{"instruction", "input", "output"}``, ``input`` always a string.

    Only single-turn user -> assistant examples without a system prompt fit; others are
    reported as unrepresentable (use ``llama-factory-alpaca`` for system prompts and history).
    """

    name: ClassVar[str] = "alpaca"
    description: ClassVar[str] = "Stanford Alpaca JSONL (instruction/input/output), single-turn"
    default_max_tokens: ClassVar[int | None] = 2048
    messages_key: ClassVar[str | None] = None

    def build(self, example: Example, layout: Layout) -> Built:
        system, turns = check_alternation(example_turns(example))
        if system is not None:
            raise Unrepresentable(
                "system_unsupported",
                "alpaca has no system prompt; use the llama-factory-alpaca preset",
            )
        if len(turns) != 2:
            raise Unrepresentable(
                "multi_turn_unsupported",
                f"alpaca holds one exchange, this example has {len(turns) // 2}; "
                "use llama-factory-alpaca (history) or a chat preset",
            )
        instruction, inp = split_instruction(example, turns[0].content)
        return Built({"instruction": instruction, "input": inp, "output": turns[1].content})

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        return check_strings(
            record, ("instruction", "input", "output"), line, non_empty=("instruction", "output")
        )
