"""TRL prompt/completion records: plain strings for single-turn data, message lists otherwise.

One file holds one kind only, because TRL decides the kind from the first row (reference §1.1).
"""

from __future__ import annotations

from typing import Any, ClassVar

from curation.export.checks import ChatDialect, check_chat
from curation.export.conversation import Layout, check_alternation, example_turns
from curation.export.issues import Issue
from curation.export.presets.base import Built, Preset
from curation.records import Example

_DIALECT = ChatDialect(allowed_keys=("role", "content"))


class TrlPromptCompletionPreset(Preset):
    """TRL ``SFTTrainer`` prompt-completion (loss on the completion only by default).

    The kind is chosen for the whole export (train and eval together): *conversational*
    (``prompt`` = every message before the last assistant turn, ``completion`` = that turn, as
    ``{role, content}`` lists) when any example is multi-turn or has a system prompt; otherwise
    *standard* strings, where TRL concatenates ``prompt + completion`` as text, so the
    completion carries the boundary whitespace: a single space is prepended unless the prompt
    already ends in whitespace or the answer starts with it. Tool-call conversations are
    unrepresentable (use ``trl-messages``).
    """

    name: ClassVar[str] = "trl-prompt-completion"
    description: ClassVar[str] = (
        "TRL SFTTrainer prompt/completion (strings, or lists if multi-turn)"
    )
    default_max_tokens: ClassVar[int | None] = 1024
    messages_key: ClassVar[str | None] = None
    trainer_hint: ClassVar[str] = (
        'load_dataset("json", data_files={"train": "train.jsonl", "validation": "validation.jsonl"})'
    )

    @staticmethod
    def conversational(layout: Layout) -> bool:
        """True when the export uses message lists rather than strings."""
        return layout.multi_turn or layout.has_system

    def build(self, example: Example, layout: Layout) -> Built:
        system, turns = check_alternation(example_turns(example))
        if self.conversational(layout):
            msgs = [{"role": "system", "content": system}] if system is not None else []
            msgs += [{"role": t.role, "content": t.content} for t in turns]
            return Built({"prompt": msgs[:-1], "completion": msgs[-1:]})
        prompt, answer = turns[0].content, turns[1].content
        if not (prompt[-1:].isspace() or answer[:1].isspace()):
            answer = " " + answer
        return Built({"prompt": prompt, "completion": answer})

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        prompt, completion = record.get("prompt"), record.get("completion")
        if isinstance(prompt, list) or isinstance(completion, list):
            if not (isinstance(prompt, list) and isinstance(completion, list)):
                return [
                    Issue(
                        line,
                        None,
                        "data_type",
                        "prompt and completion must both be strings or both message lists",
                    )
                ]
            issues = check_chat(prompt + completion, line, _DIALECT)
            if prompt and isinstance(prompt[-1], dict) and prompt[-1].get("role") != "user":
                issues.append(
                    Issue(line, None, "role_order", "the prompt must end with a user message")
                )
            if (
                len(completion) != 1
                or not isinstance(completion[0], dict)
                or completion[0].get("role") != "assistant"
            ):
                issues.append(
                    Issue(
                        line,
                        None,
                        "role_order",
                        "the completion must be exactly one assistant message",
                    )
                )
            return issues
        issues = []
        for key, value in (("prompt", prompt), ("completion", completion)):
            if not isinstance(value, str) or not value.strip():
                issues.append(
                    Issue(line, None, "missing_content", f"{key} must be a non-empty string")
                )
        if (
            isinstance(prompt, str)
            and isinstance(completion, str)
            and prompt
            and completion
            and not (prompt[-1].isspace() or completion[0].isspace())
        ):
            issues.append(
                Issue(
                    line,
                    None,
                    "completion_boundary",
                    "prompt and completion meet without whitespace; TRL concatenates them",
                )
            )
        return issues
