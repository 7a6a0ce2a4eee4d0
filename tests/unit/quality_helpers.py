"""Builders shared by the quality tests: hand-made examples and a one-check runner.

Each builder makes a canonical `Example`, so the checks see what an import would give them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from curation.quality import KEEP, ExampleView, Flag, QualityConfig, registry
from curation.quality.settings import CheckSettings
from curation.records import Example, Message

_ids = itertools.count()


def ex(
    prompt: str | None,
    answer: str | None,
    *,
    system: str | None = None,
    tools: str | None = None,
    tool_calls: str | None = None,
    metadata: dict[str, Any] | None = None,
    ident: str | None = None,
) -> Example:
    """A one-turn example (``None`` leaves the turn out)."""
    messages: list[Message] = []
    if system is not None:
        messages.append(Message("system", system))
    if prompt is not None:
        messages.append(Message("user", prompt))
    if answer is not None or tool_calls is not None:
        messages.append(Message("assistant", answer or "", tool_calls=tool_calls))
    return Example(
        ident or f"ex-{next(_ids)}", messages, metadata=dict(metadata or {}), tools=tools
    )


def chat(*turns: tuple[str, str], ident: str | None = None) -> Example:
    """A conversation from ``(role, content)`` pairs."""
    return Example(ident or f"chat-{next(_ids)}", [Message(r, c) for r, c in turns])


def check(code: str, example: Example, settings: CheckSettings | None = None) -> Flag | None:
    """Run the registered check `code` on one example; the flag, or None for KEEP."""
    config = QualityConfig(settings={code: settings} if settings is not None else {})
    result = registry.get(code).from_config(config).check(ExampleView(example))  # type: ignore[attr-defined]
    if result is KEEP:
        return None
    assert isinstance(result, Flag)
    assert result.code == code
    return result


# A small project's worth of chat examples with known flags: q1 answers "N/A" (empty_answer,
# and too_short: three colours asked), q2 and q4 refuse; q0 and q3 are fine.
KNOWN_BAD = [
    (
        "How do I boil an egg?",
        "Put it in boiling water for nine minutes, then cool it in cold water.",
    ),
    ("Name three primary colours.", "N/A"),
    ("Tell me how to bake bread.", "I'm sorry, but I can't help with that."),
    ("What is the capital of Peru?", "The capital of Peru is Lima."),
    ("Write a haiku about autumn.", "As an AI language model, I cannot write poems."),
]


def write_known_bad(path: Path) -> Path:
    """`KNOWN_BAD` as an OpenAI chat JSONL file with ids q0..q4."""
    with path.open("w", encoding="utf-8") as fh:
        for i, (user, answer) in enumerate(KNOWN_BAD):
            messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            fh.write(json.dumps({"id": f"q{i}", "messages": messages}) + "\n")
    return path
