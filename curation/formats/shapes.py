"""One converter per instruction-data shape: a record dict in, canonical messages out.

Adding a shape is one function decorated with `register_shape`; detection and reading use it.
The preference and feedback shapes (pairs, rankings, ratings, KTO labels) are in `preference`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from curation.formats.columns import has_answer_column
from curation.formats.jsontext import RecordTrouble, parse_value
from curation.formats.storable import describe_path, find_problem
from curation.records import Candidate, Message


class RecordError(Exception):
    """One record cannot be converted; the reader reports it and moves on."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class Converted:
    """One example made from a record (a record may give several, e.g. self-instruct).

    Attributes
    ----------
    messages:
        The conversation; for preference data the prompt, ending on the user's turn.
    metadata:
        The record's fields that are not conversation text.
    suffix:
        Told apart from the record's other examples by this (``"<id>#<suffix>"``).
    error:
        Why this part of the record could not be converted (the rest still imports).
    candidates:
        Preference data: the answers to the prompt, ranked (rank 1 preferred).
    desirable:
        Feedback (KTO) data: whether the conversation's final answer is desirable.
    tools:
        Tool schemas held inside the record (OpenAI preference ``input.tools``); None uses the
        record's own ``tools`` field.
    ranked_by_scores:
        The candidates carry scores and no ranks yet: the reader ranks them with the ratings
        rule the caller chose (it needs the record's id to seed ``best-vs-random``).
    """

    messages: list[Message]
    metadata: dict[str, Any]
    suffix: str | None = None
    error: RecordError | None = None
    candidates: list[Candidate] = field(default_factory=list)
    desirable: bool | None = None
    tools: str | None = None
    ranked_by_scores: bool = False


Converter = Callable[[dict[str, Any]], list[Converted]]


@dataclass(frozen=True, slots=True)
class ShapeSpec:
    """A registered shape: how to recognise its records and how to convert them."""

    name: str
    required: tuple[str, ...]
    convert: Converter
    matches: Callable[[dict[str, Any]], bool]
    priority: int


SHAPE_REGISTRY: dict[str, ShapeSpec] = {}

ROLE_ALIASES: dict[str, str] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "function_call": "assistant",
    "tool": "tool",
    "observation": "tool",
    "function": "tool",
    "ipython": "tool",
}


def register_shape(
    name: str,
    *,
    required: tuple[str, ...],
    priority: int,
    matches: Callable[[dict[str, Any]], bool] | None = None,
) -> Callable[[Converter], Converter]:
    """Register a converter as the shape ``name``.

    Parameters
    ----------
    name:
        The shape's name, as users pass it in ``format=``.
    required:
        Keys a record must have; named in error messages.
    priority:
        Lower wins when a record fits several shapes.
    matches:
        Whether a record looks like this shape; default: it has every ``required`` key.
    """

    def decorator(func: Converter) -> Converter:
        def has_required(record: dict[str, Any]) -> bool:
            return all(key in record for key in required)

        SHAPE_REGISTRY[name] = ShapeSpec(name, required, func, matches or has_required, priority)
        return func

    return decorator


# ---------------------------------------------------------------- value helpers


def type_name(value: Any) -> str:
    """A user-facing name for a value's JSON type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object (dict)"
    return type(value).__name__


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that `json.dumps` accepts: numpy/pandas scalars, dates, NaN -> None.

    Loops rather than comprehensions, so each level of nesting costs one stack frame
    (records may nest up to ``MAX_DEPTH`` levels).
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[str(key)] = json_safe(item)
        return out
    if isinstance(value, list | tuple):
        items: list[Any] = []
        for item in value:
            items.append(json_safe(item))
        return items
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return json_safe(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return json_safe(tolist())
    isoformat = getattr(value, "isoformat", None)  # pandas Timestamp
    if callable(isoformat):
        return isoformat()
    return str(value)


def is_missing(value: Any) -> bool:
    """True for None and float NaN: values that leave their key out of metadata."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def metadata_from(record: dict[str, Any], exclude: frozenset[str] | set[str]) -> dict[str, Any]:
    """Every field of ``record`` not in ``exclude``, JSON-safe, with null and NaN left out."""
    return {
        key: json_safe(value)
        for key, value in record.items()
        if key not in exclude and not is_missing(value)
    }


def embedded_json(text: str, where: str) -> Any:
    """JSON held as text in a field (CSV cells, tool schemas), parsed and checked like a record.

    Parameters
    ----------
    text:
        The field's text.
    where:
        The field's name, for messages.

    Raises
    ------
    json.JSONDecodeError
        ``text`` is not JSON.
    RecordError
        It is, but holds what cannot be stored or shown exactly (too deep, NaN, a NUL, a lone
        surrogate escape...).
    """
    label = describe_path((where,))
    try:
        value, _ = parse_value(text, where=label)
    except RecordTrouble as exc:
        raise RecordError(exc.problem.reason, exc.problem.message) from None
    # The record's size was checked as text already: only what the text decodes to is new.
    problem = find_problem(value, max_bytes=sys.maxsize, path=(where,))
    if problem is not None:
        raise RecordError(problem.reason, problem.message)
    return value


def maybe_json(value: Any, where: str = "value") -> Any:
    """Parse a JSON list/object given as text (CSV cells), else return ``value`` unchanged.

    Raises
    ------
    RecordError
        The text is JSON that cannot be stored or shown exactly (see `embedded_json`).
    """
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return embedded_json(value, where)
        except json.JSONDecodeError:
            return value
    return value


def field_text(record: dict[str, Any], key: str) -> str:
    """The text of ``record[key]``; missing or null is ``""``, any other non-text is an error."""
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise RecordError("non-text content", f"{key!r} is {type_name(value)}, expected text")


def join_text(parts: list[str]) -> str:
    """Non-blank parts joined by a blank line (Alpaca's instruction + input)."""
    return "\n\n".join(part for part in parts if part.strip())


def normalise_tools(value: Any) -> str | None:
    """Row-level tool schemas as JSON text; a string must parse, a list is dumped."""
    if is_missing(value) or value == "":
        return None
    if isinstance(value, str):
        try:
            embedded_json(value, "tools")
        except json.JSONDecodeError as exc:
            raise RecordError("invalid tools", f"'tools' is not valid JSON: {exc.msg}") from exc
        return value
    if isinstance(value, list | dict):
        return json.dumps(json_safe(value), ensure_ascii=False)
    raise RecordError(
        "invalid tools", f"'tools' is {type_name(value)}, expected a list or JSON text"
    )


def require(record: dict[str, Any], *keys: str) -> None:
    """Raise a `RecordError` naming the keys ``record`` lacks."""
    missing = [key for key in keys if key not in record]
    if missing:
        have = ", ".join(record) or "none"
        raise RecordError(
            "missing keys", f"missing key(s) {', '.join(missing)} (record has: {have})"
        )


def parse_label(value: Any, key: str) -> bool:
    """A KTO label: a boolean, or the text ``true`` / ``false`` (CSV cells), any case.

    Raises
    ------
    RecordError
        For anything else (``1``, ``"yes"``, null...), naming the value.
    """
    value = json_safe(value)  # numpy booleans from Parquet
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, str):
        shown = repr(value[:50])
    elif value is None or isinstance(value, list | dict):
        shown = type_name(value)
    else:
        shown = f"{type_name(value)} {value!r}"
    raise RecordError("invalid label", f"{key!r} is {shown}, expected true or false")


def is_label(value: Any) -> bool:
    """True for a value `parse_label` reads (a KTO label)."""
    try:
        parse_label(value, "label")
    except RecordError:
        return False
    return True


# ---------------------------------------------------------------- chat lists


def content_text(value: Any, position: int) -> str:
    """A message's content as text: strings, None (-> ""), or lists of text parts."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, list) and all(
        isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
        for part in value
    ):
        return "\n\n".join(part["text"] for part in value)
    if isinstance(value, list):
        kinds = sorted({str(p.get("type")) if isinstance(p, dict) else type_name(p) for p in value})
        raise RecordError(
            "non-text content",
            f"content of message {position} is a list with {', '.join(kinds)} parts, "
            "expected text or text parts",
        )
    raise RecordError(
        "non-text content", f"content of message {position} is {type_name(value)}, expected text"
    )


def _tool_calls_from_value(value: Any, position: int) -> tuple[str, str | None]:
    """ShareGPT ``function_call`` value -> (tool_calls JSON text, called name if single)."""
    parsed = maybe_json(value, "function_call") if isinstance(value, str) else value
    calls = parsed if isinstance(parsed, list) else [parsed]
    out: list[dict[str, Any]] = []
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise RecordError(
                "invalid tool call",
                f"function_call in message {position} is not JSON with a 'name' "
                '(expected {"name": ..., "arguments": {...}})',
            )
        arguments = call.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = json.dumps(json_safe(arguments), ensure_ascii=False)
        out.append({"type": "function", "function": {"name": call["name"], "arguments": arguments}})
    single = out[0]["function"]["name"] if len(out) == 1 else None
    return json.dumps(out, ensure_ascii=False), single


def _openai_tool_calls(value: Any, position: int) -> str:
    """OpenAI assistant ``tool_calls`` (a list, or JSON text of one) -> JSON text."""
    parsed = maybe_json(value, "tool_calls")
    if not isinstance(parsed, list) or not all(isinstance(call, dict) for call in parsed):
        raise RecordError(
            "invalid tool call", f"tool_calls of message {position} is not a list of calls"
        )
    if isinstance(value, str):
        return value
    return json.dumps(json_safe(parsed), ensure_ascii=False)


def parse_chat(items: Any, *, what: str = "messages") -> list[Message]:
    """Convert a chat list in ShareGPT (from/value) or OpenAI (role/content) style.

    Parameters
    ----------
    items:
        The list (or JSON text of it, as CSV cells hold it).
    what:
        The field's name, for error messages.
    """
    items = maybe_json(items, what)
    if not isinstance(items, list):
        raise RecordError("invalid messages", f"{what!r} is {type_name(items)}, expected a list")
    messages: list[Message] = []
    last_called: str | None = None
    for position, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise RecordError(
                "invalid messages", f"message {position} is {type_name(item)}, expected an object"
            )
        raw_role = item.get("from") if item.get("from") is not None else item.get("role")
        role = ROLE_ALIASES.get(str(raw_role).lower()) if raw_role is not None else None
        if role is None:
            raise RecordError(
                "unknown role",
                f"message {position} has role {raw_role!r}; expected one of "
                f"{', '.join(ROLE_ALIASES)}",
            )
        value = item.get("value") if item.get("value") is not None else item.get("content")
        if str(raw_role).lower() == "function_call":
            tool_calls, last_called = _tool_calls_from_value(value, position)
            messages.append(Message("assistant", "", tool_calls=tool_calls))
            continue
        message = Message(role, content_text(value, position))
        if item.get("tool_calls") is not None:
            message.tool_calls = _openai_tool_calls(item["tool_calls"], position)
        elif isinstance(item.get("function_call"), dict):  # legacy OpenAI function calling
            message.tool_calls = _openai_tool_calls(
                [{"type": "function", "function": item["function_call"]}], position
            )
        if isinstance(item.get("name"), str):
            message.name = item["name"]
        elif role == "tool" and last_called is not None:
            message.name = last_called
        if item.get("tool_call_id") is not None:
            message.tool_call_id = str(item["tool_call_id"])
        weight = item.get("weight")
        if weight is not None and not is_missing(weight):
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or weight not in (0, 1)
            ):
                raise RecordError(
                    "invalid weight", f"weight of message {position} is {weight!r}, expected 0 or 1"
                )
            message.weight = int(weight)
        messages.append(message)
    return messages


def check_turns(messages: list[Message]) -> None:
    """Raise unless there is a non-empty user turn and no empty user or assistant turn.

    The conversation may end on the user's turn: it then still needs an answer. An assistant
    turn that only calls tools is not empty.
    """
    if not messages:
        raise RecordError("missing turn", "conversation is empty")
    if not any(m.role == "user" for m in messages):
        raise RecordError("missing turn", "no user turn")
    for i, m in enumerate(messages, 1):
        if m.role in ("user", "assistant") and not m.content.strip() and not m.tool_calls:
            where = "" if len(messages) <= 2 else f" (message {i})"
            raise RecordError("empty turn", f"{m.role} turn is empty{where}")


def is_empty_answer(message: Message) -> bool:
    """An assistant turn with neither text nor tool calls: an answer not written yet."""
    return message.role == "assistant" and not message.content.strip() and not message.tool_calls


def finish_turns(messages: list[Message]) -> list[Message]:
    """The conversation checked with `check_turns`, a final empty answer left out first.

    A record whose answer is empty or missing (Alpaca ``"output": ""``, a chat list ending on
    the user) imports as an example that still needs an answer rather than being skipped.
    """
    if len(messages) > 1 and is_empty_answer(messages[-1]):
        messages = messages[:-1]
    check_turns(messages)
    return messages


def _system_message(record: dict[str, Any], key: str = "system") -> list[Message]:
    text = field_text(record, key)
    return [Message("system", text)] if text.strip() else []


# ---------------------------------------------------------------- matchers


def _first_chat_item(value: Any) -> dict[str, Any] | None:
    try:
        value = maybe_json(value)
    except RecordError:  # detection only looks; conversion reports the problem
        return None
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return None


def _looks_openai(record: dict[str, Any]) -> bool:
    first = _first_chat_item(record.get("messages"))
    # a boolean ``label`` makes it feedback data (``openai-kto``)
    return (
        first is not None
        and "role" in first
        and "from" not in first
        and not is_label(record.get("label"))
    )


# Fields that make a record preference or feedback data (see `preference`): never a prompt set.
PREFERENCE_KEYS = frozenset(
    {"chosen", "rejected", "completions", "kto_tag", "preferred_output", "non_preferred_output"}
)


def is_answerless(record: dict[str, Any]) -> bool:
    """True when no field of the record holds an answer, by name: a set of prompts."""
    return not has_answer_column(list(record)) and not PREFERENCE_KEYS.intersection(record)


def _looks_sharegpt(record: dict[str, Any]) -> bool:
    if "conversations" in record:
        return True
    first = _first_chat_item(record.get("messages"))
    return first is not None and "from" in first


# ---------------------------------------------------------------- shapes

ALPACA_TEXT = frozenset({"instruction", "input", "output", "system", "history", "tools"})


def _looks_alpaca(record: dict[str, Any]) -> bool:
    # Without ``output`` only a set of prompts: a table with some other answer column is mapped.
    return "instruction" in record and ("output" in record or is_answerless(record))


def alpaca_prompt(record: dict[str, Any]) -> list[Message]:
    """Alpaca's ``system``, ``history`` pairs and ``instruction`` + ``input`` as the prompt."""
    require(record, "instruction")
    messages = _system_message(record)
    history = maybe_json(record.get("history"), "history")
    if history is not None and not is_missing(history):
        if not isinstance(history, list):
            raise RecordError(
                "invalid history", f"'history' is {type_name(history)}, expected a list"
            )
        for k, pair in enumerate(history, 1):
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise RecordError(
                    "invalid history", f"history item {k} is not a [question, answer] pair"
                )
            for role, text in zip(("user", "assistant"), pair, strict=True):
                if not isinstance(text, str):
                    raise RecordError(
                        "non-text content",
                        f"history item {k} holds {type_name(text)}, expected text",
                    )
                messages.append(Message(role, text))
    user = join_text([field_text(record, "instruction"), field_text(record, "input")])
    messages.append(Message("user", user))
    return messages


@register_shape("alpaca", required=("instruction", "output"), priority=50, matches=_looks_alpaca)
def convert_alpaca(record: dict[str, Any]) -> list[Converted]:
    """Alpaca: ``instruction`` + ``input`` -> user, ``output`` -> assistant; ``system``, ``history``.

    An empty or missing ``output`` leaves the example ending on the user: it needs an answer.
    """
    messages = alpaca_prompt(record)
    messages.append(Message("assistant", field_text(record, "output")))
    return [Converted(finish_turns(messages), metadata_from(record, ALPACA_TEXT))]


DOLLY_TEXT = frozenset({"instruction", "context", "response", "system", "tools"})


def _looks_dolly(record: dict[str, Any]) -> bool:
    if "instruction" not in record:
        return False
    return "response" in record or ("context" in record and is_answerless(record))


@register_shape("dolly", required=("instruction", "response"), priority=40, matches=_looks_dolly)
def convert_dolly(record: dict[str, Any]) -> list[Converted]:
    """Dolly: ``instruction`` + ``context`` -> user, ``response`` -> assistant; rest is metadata."""
    require(record, "instruction")
    messages = _system_message(record)
    user = join_text([field_text(record, "instruction"), field_text(record, "context")])
    messages += [Message("user", user), Message("assistant", field_text(record, "response"))]
    return [Converted(finish_turns(messages), metadata_from(record, DOLLY_TEXT))]


SELF_INSTRUCT_TEXT = frozenset({"instruction", "instances", "tools"})


@register_shape("self-instruct", required=("instruction", "instances"), priority=20)
def convert_self_instruct(record: dict[str, Any]) -> list[Converted]:
    """Self-Instruct: one example per instance (instruction + input -> user, output -> assistant)."""
    require(record, "instruction", "instances")
    instruction = field_text(record, "instruction")
    instances = maybe_json(record["instances"], "instances")
    if not isinstance(instances, list) or not instances:
        raise RecordError("missing turn", "'instances' is empty or not a list")
    metadata = metadata_from(record, SELF_INSTRUCT_TEXT)
    out: list[Converted] = []
    for k, instance in enumerate(instances):
        suffix = str(k) if len(instances) > 1 else None
        try:
            if not isinstance(instance, dict):
                raise RecordError(
                    "invalid instance", f"instance {k} is {type_name(instance)}, expected an object"
                )
            messages = finish_turns(
                [
                    Message("user", join_text([instruction, field_text(instance, "input")])),
                    Message("assistant", field_text(instance, "output")),
                ]
            )
        except RecordError as exc:
            if len(instances) > 1:
                exc.message = f"instance {k}: {exc.message}"
            out.append(Converted([], {}, suffix, exc))
            continue
        out.append(Converted(messages, dict(metadata), suffix))
    return out


PROMPT_COMPLETION_TEXT = frozenset({"prompt", "completion", "system", "tools"})


def prompt_completion_messages(record: dict[str, Any]) -> list[Message]:
    """``system`` + ``prompt`` + ``completion``: strings, or TRL's conversational lists."""
    require(record, "prompt", "completion")
    messages = _system_message(record)
    for key, role in (("prompt", "user"), ("completion", "assistant")):
        value = record[key]
        if isinstance(value, list):
            messages += parse_chat(value, what=key)
        else:
            messages.append(Message(role, field_text(record, key)))
    return finish_turns(messages)


def _looks_prompt_completion(record: dict[str, Any]) -> bool:
    # a boolean ``label`` makes it TRL's unpaired preference (``trl-kto``)
    return "prompt" in record and "completion" in record and not is_label(record.get("label"))


@register_shape(
    "prompt-completion",
    required=("prompt", "completion"),
    priority=30,
    matches=_looks_prompt_completion,
)
def convert_prompt_completion(record: dict[str, Any]) -> list[Converted]:
    """Prompt/completion: strings -> user/assistant, or TRL's conversational message lists."""
    messages = prompt_completion_messages(record)
    return [Converted(messages, metadata_from(record, PROMPT_COMPLETION_TEXT))]


PROMPT_ONLY_TEXT = frozenset({"prompt", "system", "tools"})
# Keys that make a record with a ``prompt`` something other than a bare prompt.
_NOT_PROMPT_ONLY = frozenset({"completion", "label", "messages", "conversations"})


def _looks_prompt_only(record: dict[str, Any]) -> bool:
    return (
        "prompt" in record and not _NOT_PROMPT_ONLY.intersection(record) and is_answerless(record)
    )


@register_shape("prompt-only", required=("prompt",), priority=35, matches=_looks_prompt_only)
def convert_prompt_only(record: dict[str, Any]) -> list[Converted]:
    """TRL prompt-only: ``prompt`` (text, or a list of messages); the example needs an answer."""
    require(record, "prompt")
    messages = _system_message(record)
    value = record["prompt"]
    if isinstance(value, list):
        messages += parse_chat(value, what="prompt")
    else:
        messages.append(Message("user", field_text(record, "prompt")))
    return [Converted(finish_turns(messages), metadata_from(record, PROMPT_ONLY_TEXT))]


MT_BENCH_TEXT = frozenset({"turns"})


def _looks_mt_bench(record: dict[str, Any]) -> bool:
    turns = record.get("turns")
    return (
        isinstance(turns, list)
        and bool(turns)
        and all(isinstance(t, str) for t in turns)
        and "messages" not in record
        and "conversations" not in record
    )


@register_shape("mt-bench", required=("turns",), priority=15, matches=_looks_mt_bench)
def convert_mt_bench(record: dict[str, Any]) -> list[Converted]:
    """MT-Bench questions: the first of ``turns`` is the prompt; the example needs an answer.

    Later turns are follow-ups to an answer that does not exist yet ("Rewrite your previous
    response..."), so they are not made user turns: they stay in the metadata as
    ``follow_up_turns`` (and in the raw record). ``reference`` (judge hints, often empty) is
    metadata too, not an answer.
    """
    require(record, "turns")
    turns = maybe_json(record["turns"], "turns")
    if not isinstance(turns, list) or not turns:
        raise RecordError("missing turn", "'turns' is empty or not a list")
    for k, turn in enumerate(turns, 1):
        if not isinstance(turn, str):
            raise RecordError(
                "non-text content", f"turn {k} of 'turns' is {type_name(turn)}, expected text"
            )
    metadata = metadata_from(record, MT_BENCH_TEXT)
    if len(turns) > 1:
        metadata["follow_up_turns"] = list(turns[1:])
    return [Converted(finish_turns([Message("user", turns[0])]), metadata)]


SHAREGPT_TEXT = frozenset({"conversations", "messages", "system", "tools"})


def sharegpt_messages(record: dict[str, Any]) -> list[Message]:
    """``conversations`` (or ``messages``) as messages, the ``system`` column put first."""
    key = "conversations" if "conversations" in record else "messages"
    require(record, key)
    turns = parse_chat(record[key], what=key)
    messages = _system_message(record) if not any(m.role == "system" for m in turns) else []
    return messages + turns


@register_shape("sharegpt", required=("conversations",), priority=10, matches=_looks_sharegpt)
def convert_sharegpt(record: dict[str, Any]) -> list[Converted]:
    """ShareGPT: ``conversations`` (or ``messages``) of from/value turns, optional ``system``."""
    messages = finish_turns(sharegpt_messages(record))
    return [Converted(messages, metadata_from(record, SHAREGPT_TEXT))]


OPENAI_TEXT = frozenset({"messages", "tools"})


@register_shape("openai", required=("messages",), priority=10, matches=_looks_openai)
def convert_openai(record: dict[str, Any]) -> list[Converted]:
    """OpenAI chat: ``messages`` of role/content, tool calls, weights; row-level ``tools``."""
    require(record, "messages")
    messages = finish_turns(parse_chat(record["messages"]))
    return [Converted(messages, metadata_from(record, OPENAI_TEXT))]
