"""LLaMA-Factory alpaca and sharegpt records, each with its ``dataset_info.json`` entries.

The sharegpt shape follows `SharegptDatasetConverter`'s position rule (reference §1.4).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from curation.export.checks import ChatDialect, check_chat, check_strings, check_tools_value
from curation.export.conversation import (
    Layout,
    Turn,
    Unrepresentable,
    check_alternation,
    dumps_compact,
    example_turns,
    parse_tools,
    split_instruction,
)
from curation.export.issues import Issue
from curation.export.presets.base import Built, Preset
from curation.records import Example

SHAREGPT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}
_LF_ROLES = {
    "human": "user",
    "gpt": "assistant",
    "function_call": "call",
    "observation": "tool",
    "system": "system",
}


def _dataset_info(dataset_name: str, files: dict[str, str | None], entry: dict[str, Any]) -> str:
    info = {
        f"{dataset_name}_{split}": {"file_name": name, **entry}
        for split, name in files.items()
        if name is not None
    }
    return json.dumps(info, ensure_ascii=False, indent=2) + "\n"


def lf_dataset_name(dataset_name: str) -> str:
    """A registry-safe name: lowercase letters, digits and underscores."""
    out = "".join(ch if ch.isalnum() else "_" for ch in dataset_name.lower()).strip("_")
    return out or "curated"


class LlamaFactoryAlpacaPreset(Preset):
    """LLaMA-Factory alpaca: ``instruction``/``input``/``output`` (+ ``system``, ``history``).

    ``system`` is written on every row (``""`` when absent) once any example has a system
    prompt; ``history`` (earlier ``[user, assistant]`` pairs, trained on by LLaMA-Factory) on
    every row once any example is multi-turn. Tool calls cannot be carried.
    """

    name: ClassVar[str] = "llama-factory-alpaca"
    description: ClassVar[str] = "LLaMA-Factory alpaca (instruction/input/output/system/history)"
    default_max_tokens: ClassVar[int | None] = 2048  # cutoff_len default
    messages_key: ClassVar[str | None] = None
    trainer_hint: ClassVar[str] = (
        "Copy the folder to dataset_dir; dataset: <name>_train, eval_dataset: <name>_validation."
    )

    def build(self, example: Example, layout: Layout) -> Built:
        system, turns = check_alternation(example_turns(example))
        *earlier, last_user, last_answer = turns
        instruction, inp = split_instruction(example, last_user.content)
        record: dict[str, Any] = {
            "instruction": instruction,
            "input": inp,
            "output": last_answer.content,
        }
        if layout.has_system:
            record["system"] = system or ""
        if layout.multi_turn:
            record["history"] = [
                [earlier[i].content, earlier[i + 1].content] for i in range(0, len(earlier), 2)
            ]
        return Built(record)

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        issues = check_strings(
            record, ("instruction", "input", "output"), line, non_empty=("instruction", "output")
        )
        if "system" in record:
            issues.extend(check_strings(record, ("system",), line))
        history = record.get("history", [])
        if not isinstance(history, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) and s for s in p)
            for p in history
        ):
            issues.append(
                Issue(
                    line,
                    None,
                    "history_invalid",
                    "history must be a list of [prompt, response] string pairs",
                )
            )
        return issues

    def extra_files(
        self,
        train_name: str,
        eval_name: str | None,
        dataset_name: str,
        *,
        layout: Layout | None = None,
    ) -> dict[str, str]:
        columns = {"prompt": "instruction", "query": "input", "response": "output"}
        if layout is not None and layout.has_system:
            columns["system"] = "system"
        if layout is not None and layout.multi_turn:
            columns["history"] = "history"
        entry = {"formatting": "alpaca", "columns": columns}
        return {
            "dataset_info.json": _dataset_info(
                lf_dataset_name(dataset_name), {"train": train_name, "validation": eval_name}, entry
            )
        }


class LlamaFactorySharegptPreset(Preset):
    """LLaMA-Factory sharegpt: ``conversations`` of ``from``/``value`` + a ``tools`` string.

    Roles: system (first only), human, gpt, function_call (an assistant's tool calls, as
    ``{"name", "arguments": {...}}`` JSON, a list for parallel calls), observation (tool
    results; consecutive results are merged into one JSON list). After the optional system
    turn, even positions are human/observation and odd ones gpt/function_call, with an even
    count: the converter silently drops rows that break this, so such examples are reported
    as unrepresentable here instead. An assistant turn with both text and calls keeps only the
    calls (a ``lossy_conversion`` warning). ``tools`` is a JSON string of flat function schemas
    on every row (``""`` when none) once any example has tools.
    """

    name: ClassVar[str] = "llama-factory-sharegpt"
    description: ClassVar[str] = (
        "LLaMA-Factory sharegpt (from/value, function_call/observation, tools)"
    )
    default_max_tokens: ClassVar[int | None] = 2048
    messages_key: ClassVar[str | None] = "conversations"
    trainer_hint: ClassVar[str] = LlamaFactoryAlpacaPreset.trainer_hint

    def build(self, example: Example, layout: Layout) -> Built:
        conv, warnings = sharegpt_conversation(example_turns(example))
        check_positions(conv, ends_on="answer")
        record: dict[str, Any] = {"conversations": conv}
        if layout.has_tools:
            record["tools"] = sharegpt_tools(example)
        return Built(record, tuple(dict.fromkeys(warnings)))

    def check_record(self, record: dict[str, Any], line: int) -> list[Issue]:
        conv = record.get("conversations")
        issues = check_chat(conv, line, LF_DIALECT)
        issues.extend(check_sharegpt_positions(conv, line))
        if "tools" in record:
            issues.extend(check_tools_value(record["tools"], line, as_string=True))
        return issues

    def extra_files(
        self,
        train_name: str,
        eval_name: str | None,
        dataset_name: str,
        *,
        layout: Layout | None = None,
    ) -> dict[str, str]:
        columns = {"messages": "conversations"}
        if layout is not None and layout.has_tools:
            columns["tools"] = "tools"
        entry = {"formatting": "sharegpt", "columns": columns, "tags": SHAREGPT_TAGS}
        return {
            "dataset_info.json": _dataset_info(
                lf_dataset_name(dataset_name), {"train": train_name, "validation": eval_name}, entry
            )
        }


def _check_function_call(value: Any, line: int, pos: int) -> list[Issue]:
    try:
        calls = json.loads(value) if isinstance(value, str) else None
    except json.JSONDecodeError:
        calls = None
    items = calls if isinstance(calls, list) else [calls]
    if not items or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in items):
        return [
            Issue(
                line,
                None,
                "tool_call_invalid",
                f"turn {pos}: function_call value must be JSON {{'name', 'arguments'}}",
            )
        ]
    return []


LF_DIALECT = ChatDialect(
    role_key="from", content_key="value", roles=_LF_ROLES, allowed_keys=("from", "value")
)


def sharegpt_conversation(turns: list[Turn]) -> tuple[list[dict[str, str]], list[str]]:
    """Turns as LLaMA-Factory sharegpt entries, plus lossy-conversion notes.

    Tool calls become one ``function_call`` entry (a list for parallel calls), consecutive tool
    results one ``observation``; an assistant's text beside its calls is dropped (noted).

    Raises
    ------
    Unrepresentable
        For a system message after the first turn, or a role sharegpt has no tag for.
    """
    warnings: list[str] = []
    conv: list[dict[str, str]] = []
    results: list[str] = []  # consecutive tool results, merged into one observation

    def flush_results() -> None:
        if results:
            value = results[0] if len(results) == 1 else dumps_compact(results)
            conv.append({"from": "observation", "value": value})
            results.clear()

    for i, t in enumerate(turns):
        if t.role == "tool":
            results.append(t.content)
            continue
        flush_results()
        if t.role == "system":
            if i != 0:
                raise Unrepresentable("system_not_first", "a system message is only allowed first")
            conv.append({"from": "system", "value": t.content})
        elif t.role == "user":
            conv.append({"from": "human", "value": t.content})
        elif t.role == "assistant" and t.calls:
            if t.content.strip():
                warnings.append("assistant text beside a tool call was dropped")
            calls = [{"name": c.name, "arguments": c.arguments_object()} for c in t.calls]
            value = calls[0] if len(calls) == 1 else calls
            conv.append({"from": "function_call", "value": dumps_compact(value)})
        elif t.role == "assistant":
            conv.append({"from": "gpt", "value": t.content})
        else:
            raise Unrepresentable("unrecognized_role", f"role {t.role!r} has no sharegpt form")
    flush_results()
    return conv, warnings


def _body(conv: list[Any]) -> list[Any]:
    first = conv[0] if conv else None
    return conv[1:] if isinstance(first, dict) and first.get("from") == "system" else conv


def check_positions(conv: list[dict[str, str]], *, ends_on: str) -> None:
    """Require `SharegptDatasetConverter`'s position rule (reference §1.4).

    After the optional system turn, even positions are human/observation and odd ones
    gpt/function_call. ``ends_on="answer"`` (SFT, KTO) needs an even count, ending on an
    answer; ``ends_on="prompt"`` (ranking data, whose answers are separate columns) an odd one.
    The converter silently drops rows that break this, so they are unrepresentable here.

    Raises
    ------
    Unrepresentable
        With code ``role_order``.
    """
    body = _body(conv)
    for pos, m in enumerate(body):
        allowed = ("human", "observation") if pos % 2 == 0 else ("gpt", "function_call")
        if m["from"] not in allowed:
            raise Unrepresentable(
                "role_order",
                f"turn {pos} is {m['from']!r}; LLaMA-Factory needs {allowed} there "
                "(the converter would drop this row)",
            )
    if ends_on == "answer" and (not body or len(body) % 2):
        raise Unrepresentable(
            "role_order",
            "LLaMA-Factory needs an even number of turns "
            "after the system prompt, ending on gpt or function_call",
        )
    if ends_on == "prompt" and len(body) % 2 == 0:
        raise Unrepresentable(
            "role_order",
            "LLaMA-Factory ranking data needs an odd number of turns after the system prompt, "
            "ending on human or observation",
        )


def check_sharegpt_positions(conv: Any, line: int) -> list[Issue]:
    """The position rule on a record read back, plus the shape of ``function_call`` values."""
    issues: list[Issue] = []
    if not isinstance(conv, list) or not all(isinstance(m, dict) for m in conv):
        return issues
    for pos, m in enumerate(_body(conv)):
        allowed = ("human", "observation") if pos % 2 == 0 else ("gpt", "function_call")
        if m.get("from") not in allowed:
            issues.append(
                Issue(
                    line,
                    None,
                    "role_order",
                    f"turn {pos} is {m.get('from')!r}, expected one of {allowed}",
                )
            )
            break
        if m.get("from") == "function_call":
            issues.extend(_check_function_call(m.get("value"), line, pos))
    return issues


def sharegpt_tools(example: Example) -> str:
    """The example's flat function schemas as a JSON string (``""`` when none)."""
    tools = parse_tools(example.tools)
    return dumps_compact(tools) if tools else ""


def dataset_info(dataset_name: str, files: dict[str, str | None], entry: dict[str, Any]) -> str:
    """``dataset_info.json``: one entry per written split, named ``<dataset>_<split>``."""
    return _dataset_info(lf_dataset_name(dataset_name), files, entry)
