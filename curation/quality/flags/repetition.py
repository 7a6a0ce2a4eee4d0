"""Repetition: the same line over and over, a phrase looping back to back ("Eat a banana!Eat a
banana!..."), or a few characters repeated for a long run ("000000...").

Repeated lines are measured as Gopher's repetition filter does (datatrove's `GopherRepetitionFilter`).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Flag, Location
from curation.quality.settings import CheckSettings, require_fraction, require_int
from curation.quality.view import AnswerTurn, ExampleView
from curation.text import has_spaceless_script, segment_spaceless

__all__ = ["Loop", "Repetition", "RepetitionSettings", "duplicate_line_share", "find_loop"]


@dataclass(frozen=True, slots=True)
class RepetitionSettings(CheckSettings):
    """When repetition is a loop rather than style.

    Attributes
    ----------
    line_share:
        Share of an answer's lines that repeat an earlier line. 0.3 is Gopher's
        ``dup_line_frac``; a numbered list or a table never repeats whole lines.
    min_repeated_lines:
        Repeated lines needed besides the share: 3, so a poem's refrain said twice is no loop.
    min_line_chars:
        Lines shorter than this are not compared (blank lines, "}", "---", "Yes").
    min_copies:
        A loop is a stretch of words said this many times back to back: 3. Twice is often
        emphasis or a quotation; lists that repeat a phrase per item ("checks if the value
        of ...") put other words between the copies, so they never form a stretch.
    min_loop_words:
        Words the looping stretch must cover: 15, so "very, very, very" is no loop.
    max_period:
        Longest repeated unit looked for, in words: 60 (a long sentence).
    min_char_loop:
        Characters a run of one short unit ("0000...", "hahaha...", a unit of up to 10
        characters without spaces) must cover: 100, far beyond any hex literal or divider.
    """

    line_share: float = 0.3
    min_repeated_lines: int = 3
    min_line_chars: int = 12
    min_copies: int = 3
    min_loop_words: int = 15
    max_period: int = 60
    min_char_loop: int = 100

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_fraction(name, "line_share", self.line_share)
        require_int(name, "min_repeated_lines", self.min_repeated_lines, low=1)
        require_int(name, "min_line_chars", self.min_line_chars, low=1)
        require_int(name, "min_copies", self.min_copies, low=2)
        require_int(name, "min_loop_words", self.min_loop_words, low=2)
        require_int(name, "max_period", self.max_period, low=1)
        require_int(name, "min_char_loop", self.min_char_loop, low=10)


_MARKERS = re.compile(r"^[ \t]*(?:\d{1,3}[.)]|[-*+•>#]+)[ \t]*", re.MULTILINE)
_CHAR_LOOP = re.compile(r"(\S{1,10}?)\1{9,}")
_LONG_TOKEN = re.compile(r"\S{100,}")
_ALNUM = re.compile(r"[^\W_]")


def duplicate_line_share(text: str, *, min_chars: int = 12) -> tuple[int, int, int | None]:
    """``(repeated, compared, offset)``: lines of `text` (at least `min_chars` long, list
    markers and case ignored) that repeat an earlier one, lines compared, and the offset of
    the first repeat."""
    lines = text.split("\n")
    keys = [" ".join(line.split()) for line in _MARKERS.sub("", text).casefold().split("\n")]
    compared_keys = [k for k in keys if len(k) >= min_chars]
    if len(set(compared_keys)) == len(compared_keys):
        return 0, len(compared_keys), None  # no line repeats: the common case, in C
    seen: set[str] = set()
    repeated = 0
    first: int | None = None
    offset = 0
    for line, key in zip(lines, keys, strict=True):
        if len(key) >= min_chars:
            if key in seen:
                repeated += 1
                if first is None:
                    first = offset
            else:
                seen.add(key)
        offset += len(line) + 1
    return repeated, len(compared_keys), first


@dataclass(frozen=True, slots=True)
class Loop:
    """A stretch of words that repeats one unit back to back.

    ``start`` is the index of its first word, ``period`` the unit's length in words,
    ``length`` the stretch's length in words (``length // period`` copies and a part)."""

    start: int
    period: int
    length: int

    @property
    def copies(self) -> int:
        return self.length // self.period


_GRAM = 5  # candidate periods come from repeated word 5-grams


def _grams(words: list[str]) -> Iterator[tuple[str, ...]]:
    """The word 5-grams of `words`, without copying the list five times."""
    return zip(*(islice(words, i, None) for i in range(_GRAM)), strict=False)


def find_loop(
    words: list[str], *, max_period: int = 60, min_copies: int = 3, min_words: int = 15
) -> Loop | None:
    """The longest back-to-back repetition in `words` (compared as given: lower-case them
    first to ignore case), or None.

    Candidate periods are the distances between repeats of the same word 5-gram, so a text
    whose 5-grams repeat too little is done after one count, and a text with some tries only
    the distances they show. Loops shorter than ``min_words`` words (or than their unit plus
    five words) are not looked for.
    """
    n = len(words)
    if n < min_copies:
        return None
    lowered = words
    if n <= _GRAM or len(set(_grams(lowered))) == n - _GRAM + 1:
        return None  # no 5-gram repeats at all: nine texts in ten, decided by one set
    grams = list(_grams(lowered))
    # A loop of L words with a unit of p repeats its first 5-gram (L - 5) // p + 1 times:
    # `min_copies` times once L >= (min_copies - 1) * 4 + 5 (p < 5) or L >= min_copies * p.
    needed = min_copies if min_words >= (min_copies - 1) * (_GRAM - 1) + _GRAM else 2
    if Counter(grams).most_common(1)[0][1] < needed:
        return None
    last: dict[tuple[str, ...], int] = {}
    periods: Counter[int] = Counter()
    for i, g in enumerate(grams):
        j = last.get(g)
        if j is not None and i - j <= max_period:
            periods[i - j] += 1
        last[g] = i
    best: Loop | None = None
    for p, hits in periods.items():
        # c copies of a p-word unit repeat a 5-gram at distance p about (c - 1) * p - 4 times.
        if hits < (min_copies - 1) * p - (_GRAM - 1):
            continue
        run = 0
        for i in range(n - p):
            if lowered[i] == lowered[i + p]:
                run += 1
                if run + p >= min_copies * p and (best is None or run + p > best.length):
                    best = Loop(i - run + 1, p, run + p)
            else:
                run = 0
    return best


# Punctuation to spaces, so "banana!Eat" is two words; one C call instead of a regex.
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "“”‘’«»…–—¿¡"})


def _tokens(turn: AnswerTurn) -> list[str]:
    """The answer's prose words, lower-cased (code repeats lines by nature); text in scripts
    written without spaces as character bigrams."""
    prose = turn.prose.lower()
    if has_spaceless_script(prose):
        prose = segment_spaceless(prose)
    return prose.translate(_PUNCTUATION).split()


class Repetition(ExampleCheck):
    """Flags answers that repeat whole lines, loop on a phrase, or repeat a few characters
    for a long run (score: the share of the answer outside the repetition)."""

    code = "repetition"
    title = "Repetition loop"
    description = (
        "The answer repeats the same lines or loops on a phrase, as a model stuck in a "
        "generation loop does."
    )
    Settings = RepetitionSettings
    settings: RepetitionSettings

    def check(self, example: ExampleView) -> CheckResult:
        found: Flag | None = None
        for turn in example.text_turns:
            flag = self._turn(turn, self.settings)
            if flag is not None and (found is None or flag.score < found.score):
                found = flag
        return KEEP if found is None else found

    def _turn(self, turn: AnswerTurn, s: RepetitionSettings) -> Flag | None:
        if "\n" in turn.prose:
            repeated, compared, first = duplicate_line_share(turn.prose, min_chars=s.min_line_chars)
            if (
                repeated >= s.min_repeated_lines
                and compared
                and repeated / compared >= s.line_share
                and first is not None
            ):
                share = repeated / compared
                return self.flag(
                    1.0 - share,
                    f"{repeated} of {compared} lines repeat an earlier line.",
                    kind="repeated_lines",
                    location=Location.at(turn.index, turn.text, first),
                    data={"repeated_lines": repeated, "lines": compared},
                )
        tokens = _tokens(turn)
        loop = find_loop(
            tokens, max_period=s.max_period, min_copies=s.min_copies, min_words=s.min_loop_words
        )
        if loop is not None and loop.length >= s.min_loop_words:
            unit = " ".join(tokens[loop.start : loop.start + loop.period])
            share = loop.length / len(tokens)
            return self.flag(
                1.0 - share,
                f"The answer says {unit[:60]!r} {loop.copies} times in a row "
                f"({share:.0%} of its words).",
                kind="ngram_loop",
                location=_word_location(turn, tokens, loop.start),
                data={"unit": unit[:80], "copies": loop.copies, "share": round(share, 3)},
            )
        # A run of a short unit without spaces is one long token: look only inside those.
        long_token = max(map(len, tokens), default=0) >= s.min_char_loop
        for token in _LONG_TOKEN.finditer(turn.prose) if long_token else ():
            for m in _CHAR_LOOP.finditer(turn.prose, token.start(), token.end()):
                # A unit with a letter or digit: "-----" and "=====" are dividers.
                if m.end() - m.start() >= s.min_char_loop and _ALNUM.search(m.group(1)):
                    share = (m.end() - m.start()) / len(turn.text)
                    return self.flag(
                        1.0 - share,
                        f"The answer repeats {m.group(1)!r} for {m.end() - m.start()} characters.",
                        kind="char_loop",
                        location=Location.at(turn.index, turn.text, m.start(), m.end()),
                        data={"unit": m.group(1), "chars": m.end() - m.start()},
                    )
        return None


def _word_location(turn: AnswerTurn, tokens: list[str], start: int) -> Location:
    """Where word `start` of the answer is, found by searching the words up to it in order."""
    text = turn.text.lower()
    offset = 0
    for k, word in enumerate(tokens[: start + 1]):
        found = text.find(word.lower(), offset)
        if found < 0:
            break
        if k == start:
            return Location.at(turn.index, turn.text, found)
        offset = found + len(word)
    return Location(turn.index)
