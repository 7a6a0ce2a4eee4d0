"""Prompt and answer in different languages (an English question answered in Spanish).

Detection is `curation.text.detect_language` (offline py3langid); plain English is recognised first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Location
from curation.quality.lexicon import word_set
from curation.quality.settings import CheckSettings, require_fraction, require_int
from curation.quality.view import ExampleView, prose_of
from curation.text import detect_language

__all__ = ["LanguageMismatch", "LanguageMismatchSettings", "looks_english", "text_language"]

# The most frequent English words. Measured here: 91 % of the 4,126 ASCII prompts and answers
# of five words or more in the real datasets have at least 25 % of their words in this set;
# French, German, Spanish, Italian, Dutch and Indonesian sentences have 0-5 %, Portuguese 15 %
# ("no" and "a" are shared). A share of 0.25 tells English apart without the model.
_ENGLISH = word_set(
    "the be to of and a in that have i it for not on with he as you do at this but his by "
    "from they we say her she or an will my one all would there their what so up out if about "
    "who get which go me when make can like time no just him know take people into year your "
    "good some could them see other than then now look only come its over think also back "
    "after use two how our work first well way even new want because any these give day most "
    "us is are was were has had been does did here more should may each such"
)
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")  # on lower-cased text
_LETTER = re.compile(r"[^\W\d_]")
_NON_ASCII_LETTER = re.compile(r"(?![\x00-\x7f])[^\W\d_]")
_NOISE = re.compile(r"https?://\S+|\S+@\S+|[\w./\\-]+\.(?:py|js|json|html|csv|txt|md)\b")
# Pairs the detector confuses on short texts, and close varieties: not a mismatch.
_SAME = [
    {"no", "nb", "nn", "da"},
    {"hr", "sr", "bs"},
    {"cs", "sk"},
    {"id", "ms"},
    {"es", "gl"},
    {"pt", "gl"},
    {"ca", "es"},
]
# A prompt that names a language, or asks for a translation, may rightly get another one.
_LANGUAGE_TASK = re.compile(
    r"translat|\blanguage|\b(?:english|french|german|spanish|italian|portuguese|dutch|"
    r"russian|chinese|mandarin|cantonese|japanese|korean|arabic|hindi|bengali|urdu|turkish|"
    r"polish|swedish|norwegian|danish|finnish|greek|hebrew|thai|vietnamese|indonesian|malay|"
    r"czech|slovak|hungarian|romanian|bulgarian|ukrainian|serbian|croatian|persian|farsi|"
    r"swahili|tagalog|filipino|latin|esperanto|catalan|basque|welsh|irish|tamil|telugu|"
    r"marathi|punjabi|gujarati|kannada|malayalam|sinhala|nepali|amharic|yoruba|zulu|"
    r"afrikaans|icelandic|estonian|latvian|lithuanian|slovenian|albanian|armenian|georgian)\b|"
    r"\b(?:en|in) (?:español|français|deutsch|italiano|português)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class LanguageMismatchSettings(CheckSettings):
    """When two texts count as being in different languages.

    Attributes
    ----------
    min_letters:
        Letters each side needs (code, URLs and numbers left out) before its language is
        judged: 20, as py3langid's confidence on shorter texts is a guess ("Hi there" is
        English at 0.1).
    min_confidence:
        Confidence both detections need. 0.9: on the real English datasets here the detector
        gave below 0.9 to 4 % of answers, and those were mostly code, names or lists.
    max_chars:
        Characters of each side given to the detector. 300: its time grows with the length
        (about 0.8 ms for 200 characters, 3.3 ms for 2,000 on a loaded 2-core machine) and a
        few sentences decide the language.
    english_share:
        Share of words among the ~130 commonest English words from which an ASCII text is
        English without asking the model (see `looks_english`): 0.25 (measured above).
    """

    min_letters: int = 20
    min_confidence: float = 0.9
    max_chars: int = 300
    english_share: float = 0.25

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_int(name, "min_letters", self.min_letters, low=1)
        require_fraction(name, "min_confidence", self.min_confidence)
        require_int(name, "max_chars", self.max_chars, low=20)
        require_fraction(name, "english_share", self.english_share)


def looks_english(text: str, *, share: float = 0.25, min_words: int = 5) -> bool:
    """True when `text` has no letter outside ASCII and its commonest-English-word share
    reaches `share` (typographic quotes, dashes and symbols do not count against it).

    A fast path only: False means "ask the detector", never "not English".
    """
    if not text.isascii() and _NON_ASCII_LETTER.search(text):
        return False
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < min_words:
        return False
    return sum(map(_ENGLISH.__contains__, tokens)) / len(tokens) >= share


def _prose(text: str, settings: LanguageMismatchSettings) -> str:
    """The start of `text` without code, URLs and file names, whitespace collapsed."""
    prose = _NOISE.sub(" ", prose_of(text[: settings.max_chars * 4]))
    return " ".join(prose.split())[: settings.max_chars]


def _language(prose: str, settings: LanguageMismatchSettings) -> tuple[str, float]:
    if looks_english(prose, share=settings.english_share):
        return "en", 1.0
    return detect_language(prose)


def text_language(
    text: str, settings: LanguageMismatchSettings | None = None
) -> tuple[str, float] | None:
    """``(code, confidence)`` of the prose of `text`, or None when it has too few letters.

    Code blocks, inline code, URLs and file names are left out first.
    """
    settings = settings or LanguageMismatchSettings()
    prose = _prose(text, settings)
    if len(_LETTER.findall(prose)) < settings.min_letters:
        return None
    return _language(prose, settings)


def _same(a: str, b: str) -> bool:
    return a == b or any(a in group and b in group for group in _SAME)


class LanguageMismatch(ExampleCheck):
    """Flags examples whose answers are in another language than their prompts.

    Prompts that ask for a translation or name a language are left alone. The score is one
    minus the weaker of the two confidences.
    """

    code = "language_mismatch"
    title = "Language mismatch"
    description = (
        "The prompt is in one language and the answer in another, without the prompt asking "
        "for it: the model would learn to switch languages."
    )
    Settings = LanguageMismatchSettings
    settings: LanguageMismatchSettings

    def check(self, example: ExampleView) -> CheckResult:
        s = self.settings
        prompt, answer = example.prompt, example.answer
        if not prompt or not answer:
            return KEEP
        # Both sides plain English: nothing to detect (most datasets, and the fast path).
        if looks_english(prompt[: s.max_chars], share=s.english_share) and looks_english(
            answer[: s.max_chars], share=s.english_share
        ):
            return KEEP
        # Count letters on both sides before detecting either: a short side ends the check.
        sides = [_prose(prompt, s), _prose(answer, s)]
        if any(len(_LETTER.findall(side)) < s.min_letters for side in sides):
            return KEEP
        if _LANGUAGE_TASK.search(prompt) or _LANGUAGE_TASK.search(example.system):
            return KEEP
        asked = _language(sides[0], s)
        if asked[1] < s.min_confidence:
            return KEEP
        got = _language(sides[1], s)
        if got[1] < s.min_confidence or _same(asked[0], got[0]):
            return KEEP
        turn = example.text_turns[0] if example.text_turns else None
        return self.flag(
            1.0 - min(asked[1], got[1]),
            f"The prompt is in {asked[0]!r} and the answer in {got[0]!r}.",
            kind=f"{asked[0]}->{got[0]}",
            location=Location(turn.index) if turn else None,
            data={
                "prompt_language": asked[0],
                "answer_language": got[0],
                "prompt_confidence": round(asked[1], 3),
                "answer_confidence": round(got[1], 3),
            },
        )
