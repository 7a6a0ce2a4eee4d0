"""Answers far shorter than the prompt asks for: "write a 500-word essay" answered in one line.
The ask is read from the prompt's wording: a count of words, items, sentences or paragraphs,
or a genre.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Location
from curation.quality.lexicon import NUMBER, count_items, count_sentences, parse_count
from curation.quality.settings import CheckSettings, require_fraction, require_int
from curation.quality.view import AnswerTurn, ExampleView, prose_of

__all__ = ["Ask", "TooShort", "TooShortSettings", "read_ask"]


@dataclass(frozen=True, slots=True)
class TooShortSettings(CheckSettings):
    """When an answer counts as far shorter than asked.

    Attributes
    ----------
    count_share:
        An explicit count ("500 words", "list 10 tips", "in 4 paragraphs") is missed when the
        answer has less than this share of it. 0.4: models asked for 500 words typically write
        300-450 (60-90 %), so below 40 % is not a loose reading of the ask but a different
        answer; a list of 10 asked for gets flagged at 3 items, not at 5.
    genre_words:
        Words expected of a written piece ("write an essay / article / story / speech /
        report / letter"). 150: the length of a short essay or blog post.
    open_share:
        A genre ask is missed below this share of its expected words: 0.25 flags an "essay"
        of under 38 words, i.e. a one-liner or two, while leaving every short-but-real piece
        alone. (Asks for "detail" are not read: a detailed budget is rightly a short table.)
    min_count:
        Smallest explicit item / sentence / paragraph count that is checked: with 2, "give two
        examples" can only be missed by an answer with one, which is often a fair reading.
    """

    count_share: float = 0.4
    genre_words: int = 150
    open_share: float = 0.25
    min_count: int = 3

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_fraction(name, "count_share", self.count_share)
        require_fraction(name, "open_share", self.open_share)
        require_int(name, "genre_words", self.genre_words, low=1)
        require_int(name, "min_count", self.min_count, low=1)


@dataclass(frozen=True, slots=True)
class Ask:
    """What a prompt asks for: ``unit`` is ``words``, ``items``, ``sentences``,
    ``paragraphs`` or ``genre`` (counted in words); ``phrase`` is the wording."""

    unit: str
    amount: int
    phrase: str
    start: int


_I = re.IGNORECASE
# Wording that makes a count a ceiling, not a floor: "in under 50 words", "at most 3".
_CEILING_BEFORE = re.compile(
    r"(?:under|below|less than|fewer than|at most|no more than|not more than|maximum(?: of)?|"
    r"max\.?|up to|within|limit(?:ed)? to|not exceed(?:ing)?|no longer than|shorter than)\s*$",
    _I,
)
_CEILING_AFTER = re.compile(r"^\s*(?:or (?:less|fewer)|max(?:imum)?\b|at most|or under)", _I)
_SHORT_WORDS = re.compile(
    r"\b(?:short|brief(?:ly)?|concise(?:ly)?|succinct(?:ly)?|one[- ]sentence|two[- ]sentence|"
    r"one[- ]line|one[- ]paragraph|single[- ](?:sentence|paragraph)|tweet|haiku|limerick|"
    r"slogan|tagline|title|headline|caption|sum(?:marise|marize)|summary|tl;?dr|few words|"
    r"a sentence|one word|in a word)\b",
    _I,
)
_WORDS_ASK = re.compile(rf"\b({NUMBER})[\s-]*(?:words?\b|-word\b)", _I)
_UNIT_ASK = re.compile(rf"\b({NUMBER})[\s-]+(sentences?|paragraphs?)\b", _I)
# Asks are imperatives: at the start of the prompt or of a sentence or line, after an
# optional "please" / "can you" ("Name 5 ...", "Can you list three ..."). A count inside a
# passage the prompt quotes ("... I can create a blog entry ...") is no ask.
_LEAD = r"(?:^|[.!?:;\n]\s*|\b(?:please|now|also|then|and)\s+|\b(?:can|could|would|will) you\s+)"
_LIST_VERBS = (
    r"(?:list|name|give|provide|suggest|generate|create|write|brainstorm|come up with|identify|"
    r"mention|enumerate|offer|share|recommend|propose|outline|compose|produce|think of|"
    r"tell me|what are)"
)
_ITEMS_ASK = re.compile(
    rf"{_LEAD}(?:please\s+)?{_LIST_VERBS}\s+(?:me\s+|us\s+)?(?:a\s+list\s+of\s+)?(?:at\s+least\s+|"
    rf"exactly\s+|the\s+)?(?:top\s+)?({NUMBER})\s+(?!words?\b|sentences?\b|paragraphs?\b|"
    rf"lines?\b|characters?\b|letters?\b|digits?\b|times?\b|%|percent\b)([a-z][\w-]*)",
    _I,
)
# Written pieces of a known length. "Script" is left out: it is as often code as a play.
_GENRE_ASK = re.compile(
    rf"{_LEAD}(?:please\s+)?(?:write|compose|draft|create|generate|produce|craft)\s+(?:me\s+|us\s+)?"
    r"(?:an?|the|one|your)\s+(?:[\w'-]+\s+){0,3}?"
    r"(essay|article|blog post|story|speech|report|research paper|cover letter|"
    r"letter|op-ed|editorial|narrative|chapter|press release)\b",
    _I,
)
# Substrings each kind of ask needs (lower-case): cheap tests before the expressions.
_COUNT_HINT = re.compile(
    r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|forty|fifty|hundred|thousand)\b"
)
_GENRE_HINTS = (
    "essay",
    "article",
    "blog",
    "story",
    "speech",
    "report",
    "paper",
    "letter",
    "op-ed",
    "editorial",
    "narrative",
    "chapter",
    "release",
)


def _is_ceiling(prompt: str, m: re.Match[str]) -> bool:
    before = prompt[max(0, m.start() - 30) : m.start()]
    return bool(_CEILING_BEFORE.search(before) or _CEILING_AFTER.match(prompt[m.end() :]))


def read_ask(prompt: str, settings: TooShortSettings | None = None) -> Ask | None:
    """The length a prompt asks for, or None when it asks for none (or only a ceiling).

    An explicit count wins over a genre or a request for detail; a count phrased as a limit
    ("in under 50 words", "no more than 3 sentences") is no ask; a genre or detail ask beside
    "short", "brief", "summary"... is none either.
    """
    settings = settings or TooShortSettings()
    lower = prompt.lower()
    counted = _COUNT_HINT.search(lower) is not None
    genre = any(h in lower for h in _GENRE_HINTS)
    if not counted and not genre:
        return None
    prompt = prose_of(prompt)
    if not counted:
        return _genre_ask(prompt, settings)
    for m in _WORDS_ASK.finditer(prompt):
        n = parse_count(m.group(1))
        if n and n > 1 and not _is_ceiling(prompt, m):
            return Ask("words", n, m.group(0), m.start())
    for m in _ITEMS_ASK.finditer(prompt):
        n = parse_count(m.group(1))
        if n and n >= settings.min_count and not _is_ceiling(prompt, m):
            return Ask("items", n, m.group(0), m.start())
    for m in _UNIT_ASK.finditer(prompt):
        n = parse_count(m.group(1))
        unit = "paragraphs" if m.group(2).lower().startswith("paragraph") else "sentences"
        if n and n >= settings.min_count and not _is_ceiling(prompt, m):
            return Ask(unit, n, m.group(0), m.start())
    return _genre_ask(prompt, settings) if genre else None


def _genre_ask(prompt: str, settings: TooShortSettings) -> Ask | None:
    if _SHORT_WORDS.search(prompt):
        return None
    genre = _GENRE_ASK.search(prompt)
    if genre:
        return Ask("genre", settings.genre_words, genre.group(0), genre.start())
    return None


def _paragraphs(text: str) -> int:
    return sum(1 for p in re.split(r"\n\s*\n", text.strip()) if re.search(r"\w", p))


def measure(turn: AnswerTurn, unit: str) -> int:
    """The answer's size in the ask's unit (items and sentences counted generously)."""
    if unit == "items":
        return count_items(turn.text)
    if unit == "sentences":
        return count_sentences(turn.text)
    if unit == "paragraphs":
        return _paragraphs(turn.text)
    return len(turn.words)


class TooShort(ExampleCheck):
    """Flags answers that fall far short of a length the prompt asks for.

    The score is the share of the ask the answer delivers (0.1 = a tenth of it).
    """

    code = "too_short"
    title = "Shorter than asked"
    description = (
        "The prompt asks for a length (500 words, a list of 10, an essay) and the answer "
        "delivers a small part of it: the model would learn to ignore length asks."
    )
    Settings = TooShortSettings
    settings: TooShortSettings

    def check(self, example: ExampleView) -> CheckResult:
        worst: tuple[float, AnswerTurn, Ask, int, str] | None = None
        for turn in example.text_turns:
            ask = read_ask(turn.prompt, self.settings)
            if ask is None:
                continue
            unit = "words" if ask.unit == "genre" else ask.unit
            limit = self.settings.open_share if ask.unit == "genre" else self.settings.count_share
            got = measure(turn, unit)
            share = got / ask.amount
            if share < limit and (worst is None or share < worst[0]):
                worst = (share, turn, ask, got, unit)
        if worst is None:
            return KEEP
        share, turn, ask, got, unit = worst
        phrase = ask.phrase.strip(" \t\n.!?:;")
        expected = f"about {ask.amount} words" if ask.unit == "genre" else f"{ask.amount} {unit}"
        return self.flag(
            share,
            f"The prompt asks {phrase!r} ({expected}); the answer has {got} {unit}.",
            kind=ask.unit,
            location=Location(turn.index),
            data={"asked": ask.amount, "got": got, "unit": unit, "phrase": phrase[:80]},
        )
