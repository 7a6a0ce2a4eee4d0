"""Preference presets: chosen/rejected pairs (DPO) and answers labelled desirable or not (KTO).

Shapes from the trainers' own docs and code: TRL ``docs/source/dpo_trainer.md`` and
``kto_trainer.md`` with ``dataset_formats.md`` (conversational preference and unpaired
preference, explicit prompt, optional ``tools`` column); OpenAI's fine-tuning guide "Direct
preference optimization" (``input`` / ``preferred_output`` / ``non_preferred_output``; only
assistant and tool roles in an output); LLaMA-Factory ``data/README.md`` and
``src/llamafactory/data/converter.py`` ``SharegptDatasetConverter`` (``ranking: true`` rows
end on a human turn and carry ``chosen`` / ``rejected`` as one ``{from, value}`` turn each;
KTO rows carry a boolean ``kto_tag``; broken rows are dropped silently, so they are
unrepresentable here).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from curation.export.checks import ChatDialect, check_chat, check_tools_value
from curation.export.conversation import Layout, Turn, Unrepresentable, example_turns
from curation.export.issues import Issue
from curation.export.presets.base import Built, LeftOut, Preset
from curation.export.presets.chat_template import chat_messages, chat_tools
from curation.export.presets.llama_factory import (
    LF_DIALECT,
    SHAREGPT_TAGS,
    LlamaFactorySharegptPreset,
    check_positions,
    check_sharegpt_positions,
    dataset_info,
    sharegpt_conversation,
    sharegpt_tools,
)
from curation.export.presets.openai import (
    OPENAI_DIALECT,
    openai_messages,
    openai_row_options,
)
from curation.export.tokens import TokenCounter, record_tokens
from curation.records import Candidate, Example

KTO_ROW_SEPARATOR = "/"  # a pair's KTO rows are "<id>/chosen" and "<id>/rejected"
_CHAT = ChatDialect(allowed_keys=("role", "content", "tool_calls"), tool_calls_key="tool_calls")
_ANSWER_ROLES = ("assistant", "tool", "call")


# ---- which examples, as which rows ----------------------------------------------------------


def pair_prepare(example: Example) -> list[Example] | LeftOut:
    """A pair preset writes an example with a unique chosen and a worse rejected answer.

    Everything else is left out by design, with its reason: a tie, candidates without a
    unique best one or without a worse one, a conversation without candidates (plain SFT or
    feedback data), a prompt that still needs an answer.
    """
    kind = example.kind
    if kind == "needs_answer":
        return LeftOut("needs_answer", "a prompt without an answer or candidate answers")
    if kind != "preference":
        return LeftOut("no_candidates", "a conversation without candidate answers, not a pair")
    if example.is_tie:
        return LeftOut("tie", "its candidate answers tie: neither is chosen")
    if example.chosen is None:
        return LeftOut("no_chosen", "no candidate answer is ranked strictly best")
    if example.rejected is None:
        return LeftOut("no_rejected", "its chosen answer has no worse-ranked one to pair with")
    return [example]


def kto_row(example: Example, answer: Candidate, desirable: bool, side: str) -> Example:
    """One KTO row of a pair: the prompt plus one answer, labelled."""
    return dataclasses.replace(
        example,
        id=f"{example.id}{KTO_ROW_SEPARATOR}{side}",
        messages=[*example.messages, *answer.messages],
        candidates=[],
        desirable=desirable,
    )


def kto_prepare(example: Example) -> list[Example] | LeftOut:
    """A KTO preset writes labelled answers; a chosen/rejected pair becomes two rows.

    As TRL's KTOTrainer does with paired data (``kto_trainer.md``: "separating the chosen
    and rejected responses, assigning label = True to the chosen completions and label =
    False to the rejected ones"), a pair gives ``<id>/chosen`` (desirable) and
    ``<id>/rejected`` (undesirable); a chosen answer without a worse one gives only the first.
    Middle-ranked candidates are not used. Conversations without a label are left out
    (``no_label``; `ExportOptions.sft_as_desirable` labels them desirable instead), as are
    ties and prompts without an answer.
    """
    kind = example.kind
    if kind == "feedback":
        return [example]
    if kind == "needs_answer":
        return LeftOut("needs_answer", "a prompt without an answer or candidate answers")
    if kind == "sft":
        return LeftOut("no_label", "its answer is labelled neither desirable nor undesirable")
    if example.is_tie:
        return LeftOut("tie", "its candidate answers tie: neither is desirable over the other")
    chosen, rejected = example.chosen, example.rejected
    if chosen is None:
        return LeftOut("no_chosen", "no candidate answer is ranked strictly best")
    rows = [kto_row(example, chosen, True, "chosen")]
    if rejected is not None:
        rows.append(kto_row(example, rejected, False, "rejected"))
    return rows


def _require(prepared: list[Example] | LeftOut) -> list[Example]:
    """The rows of a preparation, or `Unrepresentable` when it left the example out."""
    if isinstance(prepared, LeftOut):
        raise Unrepresentable(prepared.code, prepared.message)
    return prepared


def _pair(example: Example) -> tuple[Candidate, Candidate]:
    _require(pair_prepare(example))
    chosen, rejected = example.chosen, example.rejected
    assert chosen is not None and rejected is not None  # pair_prepare checked both
    return chosen, rejected


def answer_turns(example: Example, answer: Candidate) -> list[Turn]:
    """An answer's turns, parsed in the context of the prompt (tool results find their calls).

    Raises
    ------
    Unrepresentable
        ``missing_answer`` for an answer without messages, ``answer_role`` for an answer
        holding anything but assistant and tool turns (it would change the prompt).
    """
    if not answer.messages:
        raise Unrepresentable("missing_answer", "a candidate answer holds no message")
    turns = example_turns(example, [*example.messages, *answer.messages])[len(example.messages) :]
    roles = sorted({t.role for t in turns} - {"assistant", "tool"})
    if roles:
        raise Unrepresentable(
            "answer_role",
            f"a candidate answer holds {roles} turns; an answer is assistant and tool turns only",
        )
    return turns


# ---- checks shared by the pair and KTO presets ----------------------------------------------


def _issue(line: int, code: str, message: str) -> Issue:
    return Issue(line, None, code, message)


def _answer_issues(
    name: str, answer: Any, prompt: list[Any], line: int, dialect: ChatDialect
) -> tuple[list[Issue], list[Issue]]:
    """(issues of the answer's own shape, chat issues of prompt + answer)."""
    if not isinstance(answer, list) or not answer:
        return [_issue(line, "missing_answer", f"{name} is missing or empty")], []
    own = []
    for i, m in enumerate(answer):
        role = dialect.canonical(m.get(dialect.role_key)) if isinstance(m, dict) else None
        if role is not None and role not in _ANSWER_ROLES:
            own.append(
                _issue(
                    line,
                    "answer_role",
                    f"{name} message {i} is {role!r}: an answer holds only assistant and tool "
                    "turns, so that every answer continues the same prompt",
                )
            )
    return own, check_chat(prompt + answer, line, dialect)


def check_pair(
    prompt: Any,
    answers: dict[str, Any],
    line: int,
    dialect: ChatDialect,
) -> list[Issue]:
    """Rules of one pair read back: a prompt, both answers present, non-empty and different.

    Parameters
    ----------
    prompt:
        The prompt's messages (ending on the user's turn).
    answers:
        Column name -> answer messages, chosen first (``{"chosen": ..., "rejected": ...}``).
    line:
        The record's line.
    dialect:
        How the preset spells messages.

    Returns
    -------
    list[Issue]
        ``missing_prompt``, ``missing_answer``, ``answer_role``, ``chosen_equals_rejected`` and
        the chat rules of prompt + each answer (`check_chat`); a problem of the prompt is
        reported once, a problem of one answer names it.
    """
    issues: list[Issue] = []
    if not isinstance(prompt, list) or not prompt:
        issues.append(_issue(line, "missing_prompt", "prompt is missing or empty"))
        prompt = []
    chat: dict[str, list[Issue]] = {}
    for name, answer in answers.items():
        own, chat[name] = _answer_issues(name, answer, prompt, line, dialect)
        issues.extend(own)
    keyed = {name: {(i.code, i.message) for i in found} for name, found in chat.items()}
    shared = set.intersection(*keyed.values()) if keyed else set()
    reported: set[tuple[str, str]] = set()
    for name, found in chat.items():
        for i in found:
            key = (i.code, i.message)
            if key in shared:
                if key not in reported:
                    reported.add(key)
                    issues.append(i)
            else:
                issues.append(_issue(line, i.code, f"{name} (after the prompt): {i.message}"))
    values = list(answers.values())
    if len(values) == 2 and values[0] and values[0] == values[1]:
        names = " and ".join(answers)
        issues.append(
            _issue(
                line,
                "chosen_equals_rejected",
                f"{names} are the same answer: the pair teaches no preference",
            )
        )
    return issues


def check_label(value: Any, key: str, line: int) -> list[Issue]:
    """A KTO label must be JSON ``true`` or ``false`` (not ``"yes"``, ``1`` or null)."""
    if isinstance(value, bool):
        return []
    return [
        _issue(
            line,
            "label_invalid",
            f"{key} must be true or false, not {value!r:.40}; KTO trainers read a boolean",
        )
    ]


def _extra_keys(record: dict[str, Any], allowed: tuple[str, ...], line: int) -> list[Issue]:
    extra = sorted(k for k in record if k not in allowed)
    if not extra:
        return []
    return [
        _issue(
            line,
            "unrecognized_top_level_key",
            f"keys {extra} are not part of this format; allowed: {list(allowed)}",
        )
    ]


def _sequence_tokens(prompt: Any, answer: Any, extra: Any, counter: TokenCounter) -> int:
    """Tokens of prompt + one answer (what a trainer holds against its length limit)."""
    messages = (prompt if isinstance(prompt, list) else []) + (
        answer if isinstance(answer, list) else []
    )
    return record_tokens({"messages": messages, "extra": extra}, counter, messages_key="messages")


# ---- TRL ------------------------------------------------------------------------------------


class TrlDpoPreset(Preset):
    """TRL ``DPOTrainer`` conversational preference rows with an explicit prompt.

    ``{"prompt": [...], "chosen": [...], "rejected": [...], "tools": "<json>"}``: ``prompt``
    is the conversation up to the user's last turn (system prompt included), ``chosen`` and
    ``rejected`` the two answers (assistant turns, with tool calls and results when the
    answer uses tools). Messages use the ``trl-messages`` key rules (``tool_calls`` on every
    message once any has one, ``tools`` a JSON string on every row once any example has
    tools), which TRL documents for DPO ("Tool Calling with DPO").
    """

    name: ClassVar[str] = "trl-dpo"
    task: ClassVar[str] = "preference"
    description: ClassVar[str] = "TRL DPOTrainer: prompt / chosen / rejected message lists"
    default_max_tokens: ClassVar[int | None] = 1024  # DPOConfig.max_length default
    messages_key: ClassVar[str | None] = None
    trainer_hint: ClassVar[str] = (
        'load_dataset("json", data_files={"train": "train.jsonl", "validation": '
        '"validation.jsonl"}) and pass it to DPOTrainer'
    )

    def prepare(self, example: Example) -> list[Example] | LeftOut:
        return pair_prepare(example)

    def build(self, example: Example, layout: Layout) -> Built:
        chosen, rejected = _pair(example)
        prompt, notes = chat_messages(
            example_turns(example, example.messages), layout, weights=False
        )
        record: dict[str, Any] = {"prompt": prompt}
        for key, answer in (("chosen", chosen), ("rejected", rejected)):
            record[key], more = chat_messages(answer_turns(example, answer), layout, weights=False)
            notes.extend(more)
        if layout.has_tools:
            record["tools"] = chat_tools(example)
        return Built(record, tuple(dict.fromkeys(notes)))

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = _extra_keys(record, ("prompt", "chosen", "rejected", "tools"), line)
        chosen, rejected = record.get("chosen"), record.get("rejected")
        prompt = record.get("prompt")
        if "prompt" not in record and isinstance(chosen, list) and isinstance(rejected, list):
            # TRL's implicit-prompt form: both conversations must open with the same prompt
            prompt, chosen, rejected, mismatch = _split_implicit(chosen, rejected, line)
            issues.extend(mismatch)
        issues.extend(check_pair(prompt, {"chosen": chosen, "rejected": rejected}, line, _CHAT))
        if "tools" in record:
            issues.extend(check_tools_value(record["tools"], line, as_string=True))
        return issues

    def count_tokens(self, record: dict[str, Any], counter: TokenCounter) -> int:
        return max(
            _sequence_tokens(record.get("prompt"), record.get(k), record.get("tools"), counter)
            for k in ("chosen", "rejected")
        )


def _split_implicit(
    chosen: list[Any], rejected: list[Any], line: int
) -> tuple[list[Any], list[Any], list[Any], list[Issue]]:
    """Prompt and answers of an implicit-prompt pair, and ``prompt_mismatch`` if they differ."""

    def cut(conv: list[Any]) -> int:
        users = [i for i, m in enumerate(conv) if isinstance(m, dict) and m.get("role") == "user"]
        return users[-1] + 1 if users else 0

    a, b = cut(chosen), cut(rejected)
    issues = []
    if chosen[:a] != rejected[:b]:
        issues.append(
            _issue(
                line,
                "prompt_mismatch",
                "chosen and rejected open with different prompts (everything up to the last "
                "user turn must be the same)",
            )
        )
    return chosen[:a], chosen[a:], rejected[b:], issues


class TrlKtoPreset(Preset):
    """TRL ``KTOTrainer`` conversational unpaired preference rows.

    ``{"prompt": [...], "completion": [...], "label": true|false, "tools": "<json>"}``:
    ``prompt`` is the conversation up to the user's last turn, ``completion`` the answer after
    it, ``label`` whether that answer is desirable. Feedback examples give one row each;
    chosen/rejected pairs give two (see `kto_prepare`).
    """

    name: ClassVar[str] = "trl-kto"
    task: ClassVar[str] = "kto"
    description: ClassVar[str] = "TRL KTOTrainer: prompt / completion / label (pairs: 2 rows)"
    default_max_tokens: ClassVar[int | None] = 1024  # KTOConfig.max_length default
    messages_key: ClassVar[str | None] = None
    trainer_hint: ClassVar[str] = (
        'load_dataset("json", data_files={"train": "train.jsonl", "validation": '
        '"validation.jsonl"}) and pass it to KTOTrainer'
    )

    def prepare(self, example: Example) -> list[Example] | LeftOut:
        return kto_prepare(example)

    def build(self, example: Example, layout: Layout) -> Built:
        row = _require(kto_prepare(example))[0]
        if row is not example:  # a pair given directly: its chosen row
            return self.build(row, layout)
        messages, notes = chat_messages(example_turns(example), layout, weights=False)
        users = [i for i, m in enumerate(messages) if m["role"] == "user"]
        if not users:
            raise Unrepresentable("role_order", "a KTO row needs a user turn before the answer")
        cut = users[-1] + 1
        record: dict[str, Any] = {
            "prompt": messages[:cut],
            "completion": messages[cut:],
            "label": bool(example.desirable),
        }
        if layout.has_tools:
            record["tools"] = chat_tools(example)
        return Built(record, tuple(dict.fromkeys(notes)))

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = _extra_keys(record, ("prompt", "completion", "label", "tools"), line)
        issues.extend(check_label(record.get("label"), "label", line))
        issues.extend(
            check_pair(record.get("prompt"), {"completion": record.get("completion")}, line, _CHAT)
        )
        if "tools" in record:
            issues.extend(check_tools_value(record["tools"], line, as_string=True))
        return issues

    def count_tokens(self, record: dict[str, Any], counter: TokenCounter) -> int:
        return _sequence_tokens(
            record.get("prompt"), record.get("completion"), record.get("tools"), counter
        )


# ---- OpenAI ---------------------------------------------------------------------------------

_OPENAI_TOP = ("input", "preferred_output", "non_preferred_output")
_OPENAI_INPUT = ("messages", "tools", "parallel_tool_calls")


class OpenAIDpoPreset(Preset):
    """OpenAI preference fine-tuning (``method: dpo``) rows.

    ``{"input": {"messages": [...], "tools": [...], "parallel_tool_calls": bool},
    "preferred_output": [...], "non_preferred_output": [...]}``; messages as in the
    ``openai`` preset (without ``weight``), outputs hold assistant and tool messages only.
    OpenAI's guide says it trains on the last assistant message of one-turn examples.
    """

    name: ClassVar[str] = "openai-dpo"
    task: ClassVar[str] = "preference"
    description: ClassVar[str] = "OpenAI DPO: input / preferred_output / non_preferred_output"
    default_max_tokens: ClassVar[int | None] = 16_385
    messages_key: ClassVar[str | None] = None
    loose_schema_prefixes: ClassVar[tuple[str, ...]] = (
        "$.input.tools",
        "$.input.messages[]",
        "$.preferred_output[]",
        "$.non_preferred_output[]",
    )
    min_records: ClassVar[int] = 10
    trainer_hint: ClassVar[str] = (
        'Upload train.jsonl / validation.jsonl; create the job with method {"type": "dpo"}.'
    )

    def prepare(self, example: Example) -> list[Example] | LeftOut:
        return pair_prepare(example)

    def build(self, example: Example, layout: Layout) -> Built:
        chosen, rejected = _pair(example)
        prompt = openai_messages(example_turns(example, example.messages), layout, weights=False)
        record: dict[str, Any] = {
            "input": {"messages": prompt, **openai_row_options(example, layout)},
            "preferred_output": openai_messages(
                answer_turns(example, chosen), layout, weights=False
            ),
            "non_preferred_output": openai_messages(
                answer_turns(example, rejected), layout, weights=False
            ),
        }
        return Built(record)

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = _extra_keys(record, _OPENAI_TOP, line)
        inp = record.get("input")
        if not isinstance(inp, dict):
            issues.append(_issue(line, "missing_prompt", "input must be an object with messages"))
            inp = {}
        else:
            issues.extend(_extra_keys(inp, _OPENAI_INPUT, line))
        answers = {k: record.get(k) for k in ("preferred_output", "non_preferred_output")}
        issues.extend(check_pair(inp.get("messages"), answers, line, OPENAI_DIALECT))
        if "tools" in inp:
            issues.extend(check_tools_value(inp["tools"], line, as_string=False))
        if "parallel_tool_calls" in inp and not isinstance(inp["parallel_tool_calls"], bool):
            issues.append(_issue(line, "data_type", "parallel_tool_calls must be a boolean"))
        return issues

    def count_tokens(self, record: dict[str, Any], counter: TokenCounter) -> int:
        value = record.get("input")
        inp: dict[str, Any] = value if isinstance(value, dict) else {}
        extra = {k: v for k, v in inp.items() if k != "messages"}
        return max(
            _sequence_tokens(inp.get("messages"), record.get(k), extra, counter)
            for k in ("preferred_output", "non_preferred_output")
        )


# ---- LLaMA-Factory --------------------------------------------------------------------------


class LlamaFactoryRankingPreset(Preset):
    """LLaMA-Factory sharegpt ranking data for ``stage: dpo`` (and ``rm``), plus its registry.

    ``{"conversations": [...], "chosen": {"from": "gpt", "value": ...}, "rejected": {...},
    "tools": "<json>"}``: ``conversations`` ends on the human (or observation) turn; each answer
    is one ``gpt`` or ``function_call`` turn (an answer that calls a tool and then answers is
    several turns: unrepresentable). ``dataset_info.json`` marks the entries ``"ranking": true``
    with ``columns`` ``messages``/``chosen``/``rejected`` (+ ``tools``).
    """

    name: ClassVar[str] = "llama-factory-ranking"
    task: ClassVar[str] = "preference"
    description: ClassVar[str] = "LLaMA-Factory ranking (sharegpt + chosen/rejected, stage: dpo)"
    default_max_tokens: ClassVar[int | None] = 2048  # cutoff_len default
    messages_key: ClassVar[str | None] = None
    trainer_hint: ClassVar[str] = (
        "Copy the folder to dataset_dir; stage: dpo, dataset: <name>_train, "
        "eval_dataset: <name>_validation."
    )

    def prepare(self, example: Example) -> list[Example] | LeftOut:
        return pair_prepare(example)

    def build(self, example: Example, layout: Layout) -> Built:
        chosen, rejected = _pair(example)
        conv, notes = sharegpt_conversation(example_turns(example, example.messages))
        check_positions(conv, ends_on="prompt")
        record: dict[str, Any] = {"conversations": conv}
        for key, answer in (("chosen", chosen), ("rejected", rejected)):
            entries, more = sharegpt_conversation(answer_turns(example, answer))
            notes.extend(more)
            if len(entries) != 1:
                raise Unrepresentable(
                    "multi_turn_answer",
                    f"LLaMA-Factory ranking data holds one answer turn; the {key} answer has "
                    f"{len(entries)} (tool calls and their results)",
                )
            record[key] = entries[0]
        if layout.has_tools:
            record["tools"] = sharegpt_tools(example)
        return Built(record, tuple(dict.fromkeys(notes)))

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = _extra_keys(record, ("conversations", "chosen", "rejected", "tools"), line)
        conv = record.get("conversations")
        answers: dict[str, Any] = {}
        for key in ("chosen", "rejected"):
            value = record.get(key)
            if value is not None and not isinstance(value, dict):
                issues.append(_issue(line, "data_type", f"{key} must be one {{from, value}} turn"))
                value = None
            answers[key] = [value] if value else None
        issues.extend(check_pair(conv, answers, line, LF_DIALECT))
        if isinstance(conv, list):  # the position rule over the prompt and each answer
            seen = {(i.code, i.message) for i in issues}
            order = any(i.code == "role_order" for i in issues)  # said once is enough
            for answer in answers.values():
                for issue in check_sharegpt_positions(conv + (answer or []), line):
                    if (issue.code, issue.message) in seen or (
                        order and issue.code == "role_order"
                    ):
                        continue
                    seen.add((issue.code, issue.message))
                    issues.append(issue)
        if "tools" in record:
            issues.extend(check_tools_value(record["tools"], line, as_string=True))
        return issues

    def count_tokens(self, record: dict[str, Any], counter: TokenCounter) -> int:
        conv = record.get("conversations")
        return max(
            _sequence_tokens(conv, [record.get(k)], record.get("tools"), counter)
            for k in ("chosen", "rejected")
        )

    def extra_files(
        self,
        train_name: str,
        eval_name: str | None,
        dataset_name: str,
        *,
        layout: Layout | None = None,
    ) -> dict[str, str]:
        columns = {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"}
        if layout is not None and layout.has_tools:
            columns["tools"] = "tools"
        entry = {"formatting": "sharegpt", "ranking": True, "columns": columns}
        entry["tags"] = SHAREGPT_TAGS
        files = {"train": train_name, "validation": eval_name}
        return {"dataset_info.json": dataset_info(dataset_name, files, entry)}


class LlamaFactoryKtoPreset(LlamaFactorySharegptPreset):
    """LLaMA-Factory sharegpt rows with a ``kto_tag`` for ``stage: kto``, plus its registry.

    The ``llama-factory-sharegpt`` conversation (ending on the labelled answer) plus
    ``"kto_tag": true|false``; ``dataset_info.json`` maps ``columns.kto_tag``. Pairs give two
    rows, as in ``trl-kto`` (see `kto_prepare`).
    """

    name: ClassVar[str] = "llama-factory-kto"
    task: ClassVar[str] = "kto"
    description: ClassVar[str] = "LLaMA-Factory KTO (sharegpt + kto_tag, stage: kto)"
    trainer_hint: ClassVar[str] = (
        "Copy the folder to dataset_dir; stage: kto, dataset: <name>_train, "
        "eval_dataset: <name>_validation."
    )

    def prepare(self, example: Example) -> list[Example] | LeftOut:
        return kto_prepare(example)

    def build(self, example: Example, layout: Layout) -> Built:
        row = _require(kto_prepare(example))[0]
        if row is not example:  # a pair given directly: its chosen row
            return self.build(row, layout)
        built = super().build(example, layout)
        return Built({**built.record, "kto_tag": bool(example.desirable)}, built.warnings)

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = _extra_keys(record, ("conversations", "kto_tag", "tools"), line)
        issues.extend(check_label(record.get("kto_tag"), "kto_tag", line))
        return issues + super().check_record(record, line)

    def extra_files(
        self,
        train_name: str,
        eval_name: str | None,
        dataset_name: str,
        *,
        layout: Layout | None = None,
    ) -> dict[str, str]:
        columns = {"messages": "conversations", "kto_tag": "kto_tag"}
        if layout is not None and layout.has_tools:
            columns["tools"] = "tools"
        entry = {"formatting": "sharegpt", "columns": columns, "tags": SHAREGPT_TAGS}
        files = {"train": train_name, "validation": eval_name}
        return {"dataset_info.json": dataset_info(dataset_name, files, entry)}


__all__ = [
    "KTO_ROW_SEPARATOR",
    "LlamaFactoryKtoPreset",
    "LlamaFactoryRankingPreset",
    "OpenAIDpoPreset",
    "TrlDpoPreset",
    "TrlKtoPreset",
    "answer_turns",
    "check_label",
    "check_pair",
    "kto_prepare",
    "pair_prepare",
]
