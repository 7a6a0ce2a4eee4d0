"""Preference and feedback shapes: chosen/rejected pairs, ratings per completion, KTO labels.

One record stays one example: its prompt in `messages`, its answers as ranked `Candidate`s.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from typing import Any

from curation.errors import InputError
from curation.formats.shapes import (
    ALPACA_TEXT,
    PROMPT_COMPLETION_TEXT,
    SHAREGPT_TEXT,
    Converted,
    RecordError,
    alpaca_prompt,
    check_turns,
    embedded_json,
    field_text,
    is_label,
    is_missing,
    json_safe,
    maybe_json,
    metadata_from,
    normalise_tools,
    parse_chat,
    parse_label,
    prompt_completion_messages,
    register_shape,
    require,
    sharegpt_messages,
    type_name,
)
from curation.records import Candidate, Message

# ---------------------------------------------------------------- the ratings rule

RATINGS_RULES: tuple[str, ...] = ("best-vs-worst", "best-vs-random", "best-vs-second")
DEFAULT_RATINGS_RULE = "best-vs-worst"


@dataclass(frozen=True, slots=True)
class RatingsRule:
    """How completions rated one by one (UltraFeedback) become a ranked pair.

    Every completion stays a candidate with its score; the rule only decides the ranks.

    Attributes
    ----------
    rule:
        ``best-vs-worst`` (default): the highest score is rank 1, the lowest rank 2, the others
        unranked; the widest gap, so the clearest preference a rater gave.
        ``best-vs-second``: the two highest scores; a harder pair, closer in quality, and more
        often a tie under a margin.
        ``best-vs-random``: the best against one of the others picked at random, seeded by the
        record's id so a re-import gives the same pairs; the rejected side then spans every
        quality level, as HuggingFaceH4/ultrafeedback_binarized was made (the best
        ``overall_score`` against one of the other three at random).
        Among equal scores the completion that comes first in the record wins (for best and
        for worst).
    min_margin:
        A pair whose score gap is below this (or zero) is kept as a tie: both rank 1, never
        dropped, so curation can look at it. 0 (default) ties only equal scores. A larger
        margin keeps fewer, clearer pairs: on a 1-10 score such as UltraFeedback's
        ``overall_score`` a margin of 1.0 ties every pair that is less than one point apart.
    """

    rule: str = DEFAULT_RATINGS_RULE
    min_margin: float = 0.0

    def __post_init__(self) -> None:
        if self.rule not in RATINGS_RULES:
            raise InputError(
                f"Unknown ratings rule {self.rule!r}; use one of {', '.join(RATINGS_RULES)}."
            )
        margin = self.min_margin
        if (
            isinstance(margin, bool)
            or not isinstance(margin, int | float)
            or not math.isfinite(margin)
            or margin < 0
        ):
            raise InputError(f"min_margin must be a number >= 0, not {margin!r}.")
        object.__setattr__(self, "min_margin", float(margin))

    def rank(self, candidates: list[Candidate], seed: str) -> None:
        """Set the ranks of ``candidates`` from their scores (in place).

        Candidates without a score stay unranked. A lone scored candidate is rank 1.

        Parameters
        ----------
        candidates:
            The record's completions, in the record's order.
        seed:
            The record's id: what ``best-vs-random`` draws with.
        """
        for candidate in candidates:
            candidate.rank = None
        scored = [(i, c) for i, c in enumerate(candidates) if c.score is not None]
        if not scored:
            return
        by_score = sorted(scored, key=lambda item: (-(item[1].score or 0.0), item[0]))
        best = by_score[0][1]
        best.rank = 1
        others = by_score[1:]
        if not others:
            return
        if self.rule == "best-vs-second":
            other = others[0][1]
        elif self.rule == "best-vs-worst":
            low = min(c.score or 0.0 for _, c in others)
            other = next(c for _, c in scored if c is not best and c.score == low)
        else:
            other = random.Random(seed).choice([c for _, c in others])
        gap = (best.score or 0.0) - (other.score or 0.0)
        other.rank = 1 if gap == 0 or gap < self.min_margin else 2


# ---------------------------------------------------------------- values


def parse_score(value: Any, where: str) -> float | None:
    """A rating as a float: numbers, or numeric text (CSV); None when missing.

    Raises
    ------
    RecordError
        For a value that is not a finite number.
    """
    value = json_safe(value)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = math.nan
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        number = math.nan
    if not math.isfinite(number):
        raise RecordError("invalid score", f"{where} is {value!r}, expected a number")
    return number


def _chat_like(value: Any) -> Any:
    """JSON text of a message or message list (CSV cells) parsed; any other text kept as text.

    An answer that is itself JSON (``{"ok": true}``) stays the answer's text.
    """
    if not (isinstance(value, str) and value.lstrip()[:1] in ("[", "{")):
        return value
    try:
        parsed = embedded_json(value, "value")
    except json.JSONDecodeError:
        return value
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if isinstance(first, dict) and ("role" in first or "from" in first):
        return parsed
    return value


def answer_messages(value: Any, key: str) -> list[Message]:
    """A candidate as given: text (one assistant turn), a message object, or a message list."""
    value = _chat_like(value)
    if isinstance(value, str):
        return [Message("assistant", value)]
    if isinstance(value, dict):
        return parse_chat([value], what=key)
    if isinstance(value, list):
        return parse_chat(value, what=key)
    raise RecordError(
        "invalid candidate",
        f"{key!r} is {type_name(value)}, expected text or a list of messages",
    )


def check_candidate(messages: list[Message], key: str) -> None:
    """Raise unless ``messages`` is an answer: assistant (and tool) turns ending on the assistant.

    Raises
    ------
    RecordError
        ``empty candidate`` for no text at all; ``invalid candidate`` for a user or system turn
        inside it, or an answer ending on a tool result.
    """
    if not messages or all(not m.content.strip() and not m.tool_calls for m in messages):
        raise RecordError("empty candidate", f"{key!r} is empty")
    for i, m in enumerate(messages, 1):
        if m.role not in ("assistant", "tool"):
            raise RecordError(
                "invalid candidate",
                f"{key!r} holds a {m.role} turn (message {i}); a candidate is the answer only "
                "(assistant and tool turns)",
            )
        if m.role == "assistant" and not m.content.strip() and not m.tool_calls:
            raise RecordError("empty candidate", f"{key!r} has an empty assistant turn ({i})")
    if messages[-1].role != "assistant":
        raise RecordError(
            "invalid candidate", f"{key!r} ends on a tool turn, not on the assistant's answer"
        )


def check_prompt(messages: list[Message]) -> None:
    """Raise unless ``messages`` is a prompt: `check_turns`, and not ending on the assistant."""
    check_turns(messages)
    if messages[-1].role == "assistant":
        raise RecordError(
            "invalid prompt",
            "the prompt ends on an assistant turn; the answers belong in the candidates",
        )


def _pair(
    prompt: list[Message],
    chosen: list[Message],
    rejected: list[Message],
    keys: tuple[str, str] = ("chosen", "rejected"),
    scores: tuple[float | None, float | None] = (None, None),
) -> list[Candidate]:
    check_prompt(prompt)
    check_candidate(chosen, keys[0])
    check_candidate(rejected, keys[1])
    return [
        Candidate(chosen, rank=1, score=scores[0]),
        Candidate(rejected, rank=2, score=scores[1]),
    ]


# ---------------------------------------------------------------- implicit prompts

_HH_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):[ \t]?")


def looks_hh(text: str) -> bool:
    """Anthropic HH-RLHF raw text: ``"\\n\\nHuman: ... \\n\\nAssistant: ..."``."""
    return text.lstrip("\n").startswith("Human:") and "\n\nAssistant:" in text


def parse_hh(text: str) -> list[Message]:
    """HH-RLHF text as turns: each ``Human:`` a user turn, each ``Assistant:`` an assistant turn."""
    marks = list(_HH_TURN.finditer(text.lstrip("\n")))
    body = text.lstrip("\n")
    messages: list[Message] = []
    for k, mark in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(body)
        role = "user" if mark.group(1) == "Human" else "assistant"
        messages.append(Message(role, body[mark.end() : end].strip()))
    return messages


def split_shared_prompt(
    chosen: list[Message], rejected: list[Message]
) -> tuple[list[Message], list[Message], list[Message]]:
    """Whole conversations sharing their start -> (prompt, chosen answer, rejected answer).

    The prompt is the longest shared start that ends on a turn other than the assistant's;
    what follows in each conversation is its answer (TRL's implicit prompt).

    Raises
    ------
    RecordError
        ``missing prompt`` when they share no prompt; ``invalid candidate`` when they part
        before their final answers (at a user turn).
    """
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    cut = shared
    while cut and chosen[cut - 1].role == "assistant":
        cut -= 1
    prompt = chosen[:cut]
    if not any(m.role == "user" for m in prompt):
        raise RecordError("missing prompt", "chosen and rejected share no prompt")
    for key, conversation in (("chosen", chosen), ("rejected", rejected)):
        later = next(
            (i for i in range(cut, len(conversation)) if conversation[i].role == "user"), None
        )
        if later is not None:
            raise RecordError(
                "invalid candidate",
                f"chosen and rejected differ before their final answers ({key!r} goes on to a "
                f"user turn at message {later + 1}); only the last answer may differ",
            )
    return prompt, chosen[cut:], rejected[cut:]


def split_shared_text(chosen: str, rejected: str) -> tuple[str, str, str]:
    """Two texts sharing their start -> (prompt, chosen answer, rejected answer).

    The prompt is the shared start up to its last blank before the texts part, so it never ends
    inside a word (TRL's ``extract_prompt`` cuts at the first differing character); the blank
    goes with the answers, as TRL's completions carry their leading space.

    Raises
    ------
    RecordError
        When the texts are the same (no answer can be told from the prompt) or share no
        prompt.
    """
    if chosen == rejected:
        raise RecordError(
            "missing prompt",
            "chosen and rejected are the same text, so no prompt can be told from the answers",
        )
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    cut = shared
    while cut and not chosen[cut - 1].isspace():  # back to the start of the word they part in
        cut -= 1
    while cut and chosen[cut - 1].isspace():  # the blank goes with the answers
        cut -= 1
    prompt = chosen[:cut]
    if not prompt.strip():
        raise RecordError("missing prompt", "chosen and rejected share no prompt")
    return prompt, chosen[cut:], rejected[cut:]


# ---------------------------------------------------------------- matchers


def _has_pair(record: dict[str, Any]) -> bool:
    return "chosen" in record and "rejected" in record


def _is_object(value: Any) -> bool:
    try:
        return isinstance(maybe_json(value), dict)
    except RecordError:
        return False


def _looks_llama_factory_ranking(record: dict[str, Any]) -> bool:
    if not _has_pair(record):
        return False
    return (
        "instruction" in record
        or "conversations" in record
        or (_is_object(record["chosen"]) and _is_object(record["rejected"]))
    )


def _looks_trl_preference(record: dict[str, Any]) -> bool:
    return _has_pair(record) and not _looks_llama_factory_ranking(record)


def _looks_openai_preference(record: dict[str, Any]) -> bool:
    return all(k in record for k in ("input", "preferred_output", "non_preferred_output"))


def _looks_ultrafeedback(record: dict[str, Any]) -> bool:
    if "instruction" not in record or "completions" not in record:
        return False
    try:
        return isinstance(maybe_json(record["completions"]), list)
    except RecordError:
        return False


def _looks_trl_kto(record: dict[str, Any]) -> bool:
    return "prompt" in record and "completion" in record and is_label(record.get("label"))


def _looks_llama_factory_kto(record: dict[str, Any]) -> bool:
    return "kto_tag" in record and any(
        k in record for k in ("conversations", "messages", "instruction")
    )


def _looks_openai_kto(record: dict[str, Any]) -> bool:
    if "label" not in record or "kto_tag" in record or not is_label(record["label"]):
        return False
    try:
        items = maybe_json(record.get("messages"))
    except RecordError:
        return False
    return (
        isinstance(items, list)
        and bool(items)
        and isinstance(items[0], dict)
        and "role" in items[0]
    )


# ---------------------------------------------------------------- pair shapes

RANKING_TEXT = ALPACA_TEXT | SHAREGPT_TEXT | {"chosen", "rejected"}


@register_shape(
    "llama-factory-ranking",
    required=("chosen", "rejected"),
    priority=5,
    matches=_looks_llama_factory_ranking,
)
def convert_llama_factory_ranking(record: dict[str, Any]) -> list[Converted]:
    """LLaMA-Factory ``ranking: true`` data, ShareGPT or Alpaca style.

    ShareGPT: ``conversations`` ending on the human turn, ``chosen`` and ``rejected`` as message
    objects (``{"from": "gpt", "value": ...}``), optional ``system`` and ``tools``. Alpaca:
    ``instruction`` + ``input`` (+ ``system``, ``history``) and ``chosen`` / ``rejected`` texts.
    """
    require(record, "chosen", "rejected")
    if "conversations" in record or "messages" in record:
        prompt = sharegpt_messages(record)
    else:
        prompt = alpaca_prompt(record)
    chosen = answer_messages(record["chosen"], "chosen")
    rejected = answer_messages(record["rejected"], "rejected")
    candidates = _pair(prompt, chosen, rejected)
    return [Converted(prompt, metadata_from(record, RANKING_TEXT), candidates=candidates)]


TRL_PREFERENCE_TEXT = frozenset(
    {
        "prompt",
        "chosen",
        "rejected",
        "system",
        "tools",
        "messages",
        "score_chosen",
        "score_rejected",
    }
)


def _prompt_messages(record: dict[str, Any]) -> list[Message]:
    value = _chat_like(record["prompt"])
    system = field_text(record, "system")
    head = [Message("system", system)] if system.strip() else []
    if isinstance(value, list):
        turns = parse_chat(value, what="prompt")
        return (head if not any(m.role == "system" for m in turns) else []) + turns
    return [*head, Message("user", field_text(record, "prompt"))]


def _implicit_pair(
    record: dict[str, Any],
) -> tuple[list[Message], list[Message], list[Message]]:
    chosen, rejected = _chat_like(record["chosen"]), _chat_like(record["rejected"])
    if isinstance(chosen, str) and isinstance(rejected, str):
        if looks_hh(chosen) and looks_hh(rejected):
            return split_shared_prompt(parse_hh(chosen), parse_hh(rejected))
        prompt, chosen_text, rejected_text = split_shared_text(chosen, rejected)
        return (
            [Message("user", prompt)],
            [Message("assistant", chosen_text)],
            [Message("assistant", rejected_text)],
        )
    if isinstance(chosen, list) and isinstance(rejected, list):
        return split_shared_prompt(
            parse_chat(chosen, what="chosen"), parse_chat(rejected, what="rejected")
        )
    for key, value in (("chosen", chosen), ("rejected", rejected)):
        if not isinstance(value, str | list):
            raise RecordError(
                "invalid candidate",
                f"{key!r} is {type_name(value)}, expected text or a list of messages",
            )
    raise RecordError(
        "invalid candidate",
        "one of chosen and rejected is text and the other a list of messages; give both alike",
    )


@register_shape(
    "trl-preference", required=("chosen", "rejected"), priority=6, matches=_looks_trl_preference
)
def convert_trl_preference(record: dict[str, Any]) -> list[Converted]:
    """TRL preference: ``prompt`` / ``chosen`` / ``rejected``, plain text or message lists.

    Without ``prompt`` (implicit prompt, Anthropic HH style) ``chosen`` and ``rejected`` are
    whole conversations, or HH's ``"\\n\\nHuman: ...\\n\\nAssistant: ..."`` texts: their shared
    start is the prompt and what differs at the end the answers. ``score_chosen`` /
    ``score_rejected`` (binarised UltraFeedback) become the candidates' scores.
    """
    require(record, "chosen", "rejected")
    scores = (
        parse_score(record.get("score_chosen"), "'score_chosen'"),
        parse_score(record.get("score_rejected"), "'score_rejected'"),
    )
    if is_missing(record.get("prompt")):
        prompt, chosen, rejected = _implicit_pair(record)
    else:
        prompt = _prompt_messages(record)
        chosen = answer_messages(record["chosen"], "chosen")
        rejected = answer_messages(record["rejected"], "rejected")
        whole = chosen and rejected and chosen[0].role != "assistant"
        if whole and rejected[0].role != "assistant":
            # Whole conversations beside a prompt (HuggingFaceH4/ultrafeedback_binarized):
            # the conversations' shared start is the prompt they answer.
            prompt, chosen, rejected = split_shared_prompt(chosen, rejected)
    candidates = _pair(prompt, chosen, rejected, scores=scores)
    metadata = metadata_from(record, TRL_PREFERENCE_TEXT)
    return [Converted(prompt, metadata, candidates=candidates)]


OPENAI_PREFERENCE_TEXT = frozenset({"input", "preferred_output", "non_preferred_output"})


@register_shape(
    "openai-preference",
    required=("input", "preferred_output", "non_preferred_output"),
    priority=5,
    matches=_looks_openai_preference,
)
def convert_openai_preference(record: dict[str, Any]) -> list[Converted]:
    """OpenAI preference fine-tuning (DPO): ``input`` {``messages``, ``tools``...} and the
    ``preferred_output`` / ``non_preferred_output`` assistant message lists."""
    require(record, "input", "preferred_output", "non_preferred_output")
    given = maybe_json(record["input"], "input")
    if not isinstance(given, dict) or "messages" not in given:
        raise RecordError(
            "invalid prompt",
            f"'input' is {type_name(given)}, expected an object with 'messages'",
        )
    prompt = parse_chat(given["messages"], what="input.messages")
    tools = normalise_tools(given.get("tools")) if given.get("tools") else None  # "tools": []
    preferred = answer_messages(record["preferred_output"], "preferred_output")
    other = answer_messages(record["non_preferred_output"], "non_preferred_output")
    candidates = _pair(prompt, preferred, other, ("preferred_output", "non_preferred_output"))
    metadata = metadata_from(record, OPENAI_PREFERENCE_TEXT)
    metadata.update(metadata_from(given, {"messages", "tools"}))
    return [Converted(prompt, metadata, candidates=candidates, tools=tools)]


# ---------------------------------------------------------------- ratings

ULTRAFEEDBACK_TEXT = ALPACA_TEXT | {"completions"}
SCORE_KEYS = ("overall_score", "fine-grained_score", "score")


@register_shape(
    "ultrafeedback",
    required=("instruction", "completions"),
    priority=5,
    matches=_looks_ultrafeedback,
)
def convert_ultrafeedback(record: dict[str, Any]) -> list[Converted]:
    """UltraFeedback: ``instruction`` and ``completions`` rated one by one.

    Every completion is a candidate: its ``response`` the answer, its ``model`` the name, its
    score the first of ``overall_score``, ``fine-grained_score``, ``score`` it has (none:
    unranked). The ranks come later, from the `RatingsRule` the import was given.
    """
    require(record, "instruction", "completions")
    prompt = alpaca_prompt(record)
    check_prompt(prompt)
    completions = maybe_json(record["completions"], "completions")
    if not isinstance(completions, list) or not completions:
        raise RecordError("missing candidates", "'completions' is empty or not a list")
    candidates: list[Candidate] = []
    for k, completion in enumerate(completions, 1):
        where = f"completion {k}"
        if not isinstance(completion, dict):
            raise RecordError(
                "invalid candidate", f"{where} is {type_name(completion)}, expected an object"
            )
        response = completion.get("response")
        if not isinstance(response, str):
            raise RecordError(
                "invalid candidate",
                f"{where} has a 'response' of {type_name(response)}, expected text",
            )
        if not response.strip():
            raise RecordError("empty candidate", f"{where} has an empty response")
        key = next((s for s in SCORE_KEYS if not is_missing(completion.get(s))), None)
        score = parse_score(completion.get(key), f"{where}'s {key!r}") if key else None
        model = completion.get("model")
        name = model if isinstance(model, str) and model.strip() else None
        candidates.append(Candidate([Message("assistant", response)], score=score, name=name))
    metadata = metadata_from(record, ULTRAFEEDBACK_TEXT)
    return [Converted(prompt, metadata, candidates=candidates, ranked_by_scores=True)]


# ---------------------------------------------------------------- KTO


def _answered(messages: list[Message], key: str) -> list[Message]:
    if messages[-1].role != "assistant":
        raise RecordError(
            "empty turn", f"the answer is empty or missing, and {key!r} needs an answer to rate"
        )
    return messages


@register_shape(
    "trl-kto", required=("prompt", "completion", "label"), priority=25, matches=_looks_trl_kto
)
def convert_trl_kto(record: dict[str, Any]) -> list[Converted]:
    """TRL unpaired preference (KTO): ``prompt`` / ``completion`` and a boolean ``label``."""
    require(record, "prompt", "completion", "label")
    desirable = parse_label(record["label"], "label")
    messages = _answered(prompt_completion_messages(record), "label")
    metadata = metadata_from(record, PROMPT_COMPLETION_TEXT | {"label"})
    return [Converted(messages, metadata, desirable=desirable)]


@register_shape(
    "llama-factory-kto",
    required=("conversations", "kto_tag"),
    priority=5,
    matches=_looks_llama_factory_kto,
)
def convert_llama_factory_kto(record: dict[str, Any]) -> list[Converted]:
    """LLaMA-Factory KTO: ShareGPT ``conversations`` (or ``messages``), or Alpaca
    ``instruction`` / ``input`` / ``output``, with a boolean ``kto_tag``."""
    require(record, "kto_tag")
    desirable = parse_label(record["kto_tag"], "kto_tag")
    if "conversations" in record or "messages" in record:
        messages = sharegpt_messages(record)
    else:
        messages = alpaca_prompt(record)
        messages.append(Message("assistant", field_text(record, "output")))
    check_turns(messages)
    messages = _answered(messages, "kto_tag")
    metadata = metadata_from(record, ALPACA_TEXT | SHAREGPT_TEXT | {"kto_tag"})
    return [Converted(messages, metadata, desirable=desirable)]


@register_shape("openai-kto", required=("messages", "label"), priority=8, matches=_looks_openai_kto)
def convert_openai_kto(record: dict[str, Any]) -> list[Converted]:
    """OpenAI-style ``messages`` with a boolean ``label`` on the final answer (KTO)."""
    require(record, "messages", "label")
    desirable = parse_label(record["label"], "label")
    messages = parse_chat(record["messages"])
    check_turns(messages)
    messages = _answered(messages, "label")
    metadata = metadata_from(record, {"messages", "tools", "label"})
    return [Converted(messages, metadata, desirable=desirable)]


# The shapes whose records carry candidates or a KTO label; a record of one of them is read as
# such even in a file detected as a plain shape (see `curation.formats.reader`).
PAIR_SHAPES: tuple[str, ...] = (
    "llama-factory-ranking",
    "trl-preference",
    "openai-preference",
    "ultrafeedback",
    "trl-kto",
    "llama-factory-kto",
    "openai-kto",
)
