"""Word lists and small parsers several quality checks share: counts in words, list items, sentences.

English only, like the phrasings the checks look for; other languages simply match nothing.
"""

from __future__ import annotations

import re

__all__ = [
    "NUMBER",
    "word_set",
    "count_items",
    "count_sentences",
    "list_items",
    "parse_count",
]


def word_set(words: str) -> frozenset[str]:
    """The space-separated words of `words` as a set (for word lists written as one string)."""
    return frozenset(words.split())


_UNITS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000}

# A count written in digits (1,000 too) or in words up to the thousands ("five hundred",
# "twenty-five", "a hundred"); a bare "a" is not a count.
_UNIT_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety)"
)
_WORD_NUMBER = rf"(?:(?:an?[\s-]+)?(?:hundred|thousand)|{_UNIT_WORDS}(?:[\s-]+(?:{_UNIT_WORDS}|hundred|thousand))*)"
NUMBER = (
    r"(?:(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|a)(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine|hundred|"
    r"thousand|and))*)"
)
NUMBER = rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+|{_WORD_NUMBER})"
"""A regular expression (no groups) for a count in digits or English words."""
_NUMBER_RE = re.compile(NUMBER)


def parse_count(text: str) -> int | None:
    """The value of a count matched by `NUMBER` ("12", "1,000", "five hundred"), else None."""
    text = text.strip().lower()
    if _NUMBER_RE.fullmatch(text) is None:
        return None
    digits = text.replace(",", "")
    if digits.isdigit():
        return int(digits)
    total = current = 0
    seen = False
    for word in re.split(r"[\s-]+", text):
        if word in _UNITS:
            current += _UNITS[word]
            seen = True
        elif word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] == 1000:
                total, current = total + current, 0
            seen = True
        else:
            return None
    return total + current if seen else None


# A list item line: "1.", "1)", "(1)", "a)", "-", "*", "+", "•", "–" then a space and text.
_ITEM_LINE = re.compile(
    r"^[ \t]*(?:(?:\d{1,3}|[a-zA-Z])[.)]|\(\d{1,3}\)|[-*+•–])[ \t]+\S", re.MULTILINE
)
_NUMBERED_LINE = re.compile(r"^[ \t]*(\d{1,3})[.)][ \t]+(\S.*)?$", re.MULTILINE)
_MARKER = re.compile(r"^[ \t]*(?:(?:\d{1,3}|[a-zA-Z])[.)]|\(\d{1,3}\)|[-*+•–])[ \t]+", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?。！？]+(?=[\s\"'”’)\]]|$)")
_SEPARATORS = re.compile(r"\s*(?:[,;]|\band\b|\bor\b|\n)\s*", re.IGNORECASE)


def list_items(text: str) -> int:
    """Lines of `text` that start like a list item (numbered, lettered or bulleted)."""
    return len(_ITEM_LINE.findall(text))


def numbered_items(text: str) -> list[tuple[int, str]]:
    """``(number, rest of the line)`` of every numbered line ("3. text"), in order."""
    return [(int(m.group(1)), (m.group(2) or "").strip()) for m in _NUMBERED_LINE.finditer(text)]


def count_sentences(text: str) -> int:
    """Sentences of `text`: runs of terminal punctuation, plus a last one left unpunctuated."""
    stripped = _MARKER.sub("", text).strip()
    if not stripped:
        return 0
    ends = len(_SENTENCE_END.findall(stripped))
    tail = _SENTENCE_END.split(stripped)[-1]
    return ends + (1 if re.search(r"\w", tail) else 0)


def count_items(text: str) -> int:
    """How many things `text` lists, counted generously: the most of its list lines, its
    non-empty lines, its sentences, and its comma / semicolon / "and" separated parts
    ("Red, green and blue" is three)."""
    stripped = text.strip()
    if not stripped:
        return 0
    lines = sum(1 for line in stripped.splitlines() if re.search(r"\w", line))
    parts = sum(1 for p in _SEPARATORS.split(stripped) if re.search(r"\w", p))
    return max(list_items(stripped), lines, count_sentences(stripped), parts)
