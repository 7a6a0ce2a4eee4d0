"""The step-result codes of the audit's bars and groups, in one place: checks write them, the
page and the findings read them back (``label:category=open_qa``, ``mention:gender:female``).
"""

from __future__ import annotations

from curation.bias.base import make_code

__all__ = [
    "label_code",
    "language_code",
    "length_code",
    "mention_code",
    "mismatch_code",
    "offensive_code",
    "pronoun_code",
    "topic_code",
]


def label_code(field: str, value: str) -> str:
    return make_code("label", f"{field}={value}")


def length_code(side: str, bin_label: str) -> str:
    return make_code("length", side, bin_label)


def language_code(role: str, language: str) -> str:
    return make_code("language", role, language)


def mismatch_code(pair: str | None = None) -> str:
    """Every mismatched example (``language:mismatch``), or those of one pair (``en->es``)."""
    return "language:mismatch" if pair is None else make_code("language", "mismatch", pair)


def topic_code(topic: int) -> str:
    return make_code("topic", topic)


def mention_code(axis: str, group: str) -> str:
    return make_code("mention", axis, group)


def pronoun_code(family: str) -> str:
    return make_code("pronoun", family)


def offensive_code(category: str, where: str) -> str:
    return make_code("offensive", category, where)
