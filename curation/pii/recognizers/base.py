"""Shared pieces of the product's recognizers: result building, name lexicons, context checks.

Each recognizer is a presidio `LocalRecognizer`; these helpers keep their result metadata
(recognizer name, pattern) uniform so a finding can say which rule made it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

from presidio_analyzer import RecognizerResult

__all__ = [
    "first_and_last_names",
    "has_context",
    "make_result",
    "stop_words",
]


def make_result(
    entity_type: str, start: int, end: int, score: float, recognizer: str, pattern: str
) -> RecognizerResult:
    """A presidio result that remembers which recognizer and rule made it."""
    return RecognizerResult(
        entity_type=entity_type,
        start=start,
        end=end,
        score=min(1.0, max(0.0, score)),
        recognition_metadata={
            # presidio adds the recognizer's identifier; results are matched to it by that.
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer,
            "pattern": pattern,
        },
    )


def has_context(text: str, start: int, end: int, words: re.Pattern[str], *, before: int = 48,
                after: int = 24) -> bool:  # fmt: skip
    """Whether a context word occurs shortly before (or after) ``text[start:end]``."""
    return bool(words.search(text, max(0, start - before), start)) or bool(
        words.search(text, end, min(len(text), end + after))
    )


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """spaCy's English stop words, lower-cased."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w.lower() for w in STOP_WORDS)


@lru_cache(maxsize=1)
def first_and_last_names() -> tuple[frozenset[str], frozenset[str]]:
    """Given names and family names of every Faker locale (offline, installed with Faker).

    Used only as supporting evidence (to re-type an NER span such as "Tiffany Gábor" tagged
    ORG, or to accept a capitalised word after "I'm"), never to find names on their own.
    English stop words are left out ("Can", "Will" appear in some locales' lists).
    """
    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        try:
            provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in dir(provider):
            if not attr.startswith(
                ("first_name", "last_name", "first_romanized", "last_romanized")
            ):
                continue
            values = getattr(provider, attr, None)
            if isinstance(values, list | tuple | dict | set | frozenset):
                target = first if attr.startswith("first") else last
                target.update(v for v in values if isinstance(v, str) and len(v) > 1)
    stops = stop_words()
    return (
        frozenset(n for n in first if n.lower() not in stops),
        frozenset(n for n in last if n.lower() not in stops),
    )
