"""Writing scripts without spaces between words (Chinese, Japanese, Thai...) and how to cut them.

Pure Unicode ranges, no detector: a run of such characters becomes overlapping character bigrams.
"""

from __future__ import annotations

import re

__all__ = ["SPACELESS_SCRIPTS", "has_spaceless_script", "segment_spaceless", "spaceless_share"]

# Scripts whose writers put no space between words, with their code-point ranges. Korean
# Hangul is left out: it is written with spaces between words.
SPACELESS_SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "Han": (
        (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
        (0x3005, 0x3007),  # iteration mark, closing mark, ideographic zero
        (0x3021, 0x3029),  # Hangzhou numerals
        (0x3038, 0x303B),
        (0x3400, 0x4DBF),  # extension A
        (0x4E00, 0x9FFF),  # unified ideographs
        (0xF900, 0xFAFF),  # compatibility ideographs
        (0x20000, 0x3134F),  # extensions B-G and compatibility supplement
    ),
    "Hiragana": ((0x3040, 0x309F),),
    "Katakana": ((0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "Thai": ((0x0E00, 0x0E7F),),
    "Lao": ((0x0E80, 0x0EFF),),
    "Myanmar": ((0x1000, 0x109F),),
    "Khmer": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
}

_CLASS = "".join(
    f"{chr(lo)}-{chr(hi)}" for ranges in SPACELESS_SCRIPTS.values() for lo, hi in ranges
)
_RUN = re.compile(f"[{_CLASS}]+")
_ANY = re.compile(f"[{_CLASS}]")
_LETTER = re.compile(r"[^\W\d_]")


def has_spaceless_script(text: str) -> bool:
    """True when `text` holds at least one character of a script written without spaces."""
    return not text.isascii() and _ANY.search(text) is not None


def spaceless_share(text: str) -> float:
    """Share of the letters of `text` that belong to a script written without spaces (0 to 1)."""
    if text.isascii():
        return 0.0
    letters = len(_LETTER.findall(text))
    if not letters:
        return 0.0
    return min(1.0, sum(len(run) for run in _RUN.findall(text)) / letters)


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) < 2:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def segment_spaceless(text: str) -> str:
    """Cut each run of spaceless-script characters into space-separated overlapping bigrams.

    A Chinese "word" found by splitting on spaces is a whole clause, so one changed character
    makes it a different word and word shingles miss a one-character edit. Character bigrams
    (about one Chinese word each) keep such an edit local: in a 30-character clause it changes
    2 of 29 bigrams. Text in other scripts (Latin words, digits, Korean) is left as it is, so a
    mixed text keeps its ordinary words.

    Parameters
    ----------
    text:
        Any text, usually already normalised (`curation.dedup.normalise_for_dedup`).

    Returns
    -------
    str
        The text with every spaceless run replaced by its bigrams, whitespace collapsed; a run
        of one character stays one token. Texts without such characters come back unchanged.

    Examples
    --------
    >>> segment_spaceless("我爱北京 ok")
    '我爱 爱北 北京 ok'
    """
    if not has_spaceless_script(text):
        return text
    return " ".join(_RUN.sub(_bigrams, text).split())
