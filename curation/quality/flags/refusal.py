"""Refusals ("I'm sorry, but I can't help with that") and AI boilerplate ("As an AI language model",
knowledge-cutoff excuses). A refusal that still answers is not a refusal, only boilerplate.

Both teach a fine-tuned model to decline or hedge where it should answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Flag, Location, QualityCheck
from curation.quality.settings import CheckSettings, require_int
from curation.quality.view import AnswerTurn, ExampleView, words_of

if TYPE_CHECKING:
    from curation.quality.config import QualityConfig

__all__ = ["Boilerplate", "Refusal", "RefusalSettings", "analyse_refusal"]

_I = re.IGNORECASE
# An adverb may sit between the subject and the refusal: "I currently don't have ...".
_ADV = r"(?:(?:currently|presently|really|simply|just|still|unfortunately|truly),? )?"
_CANT = (
    rf"{_ADV}(?:can ?not|can't|am (?:not able|unable)|'m (?:not able|unable)|won't|will not|"
    r"must decline to|(?:do not|don't) (?:have|possess) the (?:ability|capability|capacity|means|"
    r"functionality) to|am not (?:allowed|permitted|capable of)|'m not (?:allowed|permitted|"
    r"capable of))"
)
_REFUSAL = re.compile(
    "|".join(
        [
            rf"\bI {_CANT} (?:help(?! but\b| it\b| (?:feeling|thinking|wondering|noticing)\b)|assist|provide|fulfil+|comply|do (?:that|this)|create|generate|"
            r"write|answer|engage|support|share|perform|complete|book|order|make|give|offer|"
            r"access|browse|process|handle|carry out|execute|send|check|translate|predict|"
            r"recommend|discuss|participate|condone|promote|produce|tell)",
            rf"\bI(?:'m| am) (?:sorry|afraid),? (?:but )?I {_CANT}\b",
            rf"\bI(?:'m| am) {_ADV}(?:not able|unable) to\b",
            r"\bI(?:'m| am) (?:sorry|afraid),? (?:but )?(?:I|that|this|it) (?:is|are|'s|am|'m) "
            r"(?:not|beyond|outside)\b",
            r"\bI (?:must|have to) (?:respectfully )?(?:decline|refuse)\b",
            r"\b(?:it is|it's|it would be) (?:not appropriate|inappropriate|not ethical|unethical) "
            r"(?:for me )?to\b",
            r"\b(?:sorry|I apologi[sz]e),? (?:but )?(?:I|that|this) (?:can ?not|can't|(?:am|'m) "
            r"(?:not able|unable)|(?:do not|don't) have (?:the|any|that|access|enough|real-time|"
            r"information|specific))",
            r"\bI(?:'m| am) (?:not able|unable) to (?:help|assist|provide|fulfil+|comply|answer|"
            r"perform|do|complete|book|order|access|browse|process)\b",
            r"\bI (?:do not|don't) have the (?:ability|capability|capacity|means|functionality) "
            r"to\b",
            r"\bI (?:do not|don't) have (?:a|the|any) (?:function|functionality|tool)"
            r"(?: provided)? (?:for|to)\b",
            r"\bit(?: is|'s) not possible for me to\b",
            r"\bI(?:'m| am) not capable of\b",
            r"\b(?:this|that) (?:request|task) is (?:beyond|outside) (?:my|the scope)",
            r"\bI (?:can ?not|can't) (?:and will not|in good conscience)\b",
        ]
    ),
    _I,
)
_BOILERPLATE = re.compile(
    "|".join(
        [
            r"\bas an? (?:AI|artificial intelligence)(?: language model| model| assistant| "
            r"chatbot| system| program)?\b",
            r"\bas a (?:large |text-based |virtual )?(?:language model|AI model|chatbot|"
            r"virtual assistant|machine learning model)\b",
            r"\bI(?:'m| am) (?:just |only |merely |simply )?an? (?:AI|artificial intelligence|"
            r"(?:large )?language model|text-based AI|virtual assistant|machine learning model|"
            r"computer program|chatbot)\b",
            r"\bI (?:do not|don't) have (?:personal |any |my own )?(?:opinions|feelings|emotions|"
            r"beliefs|preferences|experiences|consciousness|a physical (?:body|form))\b",
            r"\b(?:my )?knowledge cut-?off\b",
            r"\bas of my (?:last |latest )?(?:knowledge |training )?(?:update|training|cutoff|"
            r"cut-off)\b",
            r"\b(?:based on|according to) my training data\b",
            r"\bmy training (?:data )?(?:only )?(?:goes|extends|runs) (?:up )?(?:to|until)\b",
            r"\bI (?:do not|don't|cannot|can't) (?:browse|access|search) the (?:internet|web)\b",
            r"\bI (?:do not|don't) have (?:access to )?(?:real-time|current|up-to-date|live) "
            r"(?:information|data|news|updates|events)\b",
        ]
    ),
    _I,
)
# Which boilerplate phrases excuse a lack of current knowledge (the rest disclaim being an AI).
_CUTOFF = re.compile(
    r"cut-?off|as of my|training|browse|access|search the|real-time|current|up-to-date|live",
    _I,
)
# Sentences that explain a refusal, point elsewhere, offer something else or close politely:
# they neither refuse nor answer.
_SUPPORT = re.compile(
    "|".join(
        [
            r"\bmy (?:current |primary |only )?(?:capabilities|functions?|functionality|"
            r"abilities|purpose|role) (?:are|is|allows?|only|currently|include)\b",
            r"\bI can only\b",
            r"\bI(?:'m| am) (?:only )?(?:able|designed|programmed) to\b",
            r"\bfeel free to\b|\blet me know\b|\bis there anything else\b",
            r"\bI(?:'d| would)? ?(?:be happy to|recommend|suggest)\b",
            r"\byou (?:may|might|will) (?:want|need) to\b",
            r"\b(?:please |you can )?(?:consult|contact|visit|check|use|try|refer to|search)\b"
            r".{0,60}\b(?:website|app|professional|service|platform|expert|doctor|lawyer|"
            r"agent|source|internet|web|tool|software)s?\b",
            r"\bthere are (?:many|several|various|plenty of) (?:online )?(?:tools|resources|"
            r"websites|apps|services|options)\b",
            r"\bhowever,? I can\b",
            r"\bI can (?:certainly |also |still )?(?:help|assist|provide|offer|give you)\b",
            r"\b(?:could|can|would) you (?:please )?(?:provide|give|tell|share|clarify|specify)\b",
        ]
    ),
    _I,
)
# After a disclaimer, these say the sentence goes on disclaiming ("... and do not have
# personal preferences"), not answering.
_DISCLAIMS = re.compile(
    r"\b(?:do not|don't|does not|doesn't|cannot|can't|can not|unable|not able|not capable|"
    r"no (?:personal|real-time|access)|not possess|without)\b",
    _I,
)
# After a refusal phrase, these start what is still an answer ("..., but generally ...").
_PIVOT = re.compile(
    r"\b(?:but|however|that said|instead|nevertheless|although)\b,?\s+(?!I\b|I'm\b|I am\b|"
    r"you\b|feel\b|if you\b|please\b|my\b)",
    _I,
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
# Questions about the assistant itself ("Who are you?", "Are you GPT-4?", "Who trained you?"):
# its answer may rightly say it is a language model.
_ABOUT_ITSELF = re.compile(
    r"\b(?:who|what) (?:are|were) you\b|\b(?:who|what) you are\b|\bare you\b|\babout (?:you|yourself)\b|"
    r"\bwho (?:\w+ )?(?:made|created|built|developed|trained|taught|programmed|owns|designed) "
    r"you\b|\byour (?:name|creator|developer|maker|purpose|model|identity|origin)\b|"
    r"\bintroduce yourself\b|\byourself\b|\bdo you\b|\bcan you (?:think|feel|see|hear|"
    r"remember|browse|access|learn)\b|"
    r"\bwhat (?:is|'s) your\b|\bcan I call you\b",
    _I,
)


@dataclass(frozen=True, slots=True)
class RefusalSettings(CheckSettings):
    """When a refusal still answers.

    Attributes
    ----------
    min_answer_words:
        Words outside refusal, boilerplate, pointer, offer and polite-closing sentences an
        answer needs to count as an answer. 15: the shortest real answer after a disclaimer
        in the Alpaca data runs 20 words ("However, according to historical weather data,
        London's average temperature in March typically falls around 8-10°C"), while what
        the glaive refusals add besides explanations and offers is under 10.
    """

    min_answer_words: int = 15

    def __post_init__(self) -> None:
        require_int(type(self).__name__, "min_answer_words", self.min_answer_words, low=0)


@dataclass(frozen=True, slots=True)
class RefusalAnalysis:
    """What an answer holds: the first refusal and boilerplate phrases (with offsets) and
    the words it has outside refusal, boilerplate and polite-closing sentences (counted only
    when it holds either phrase; 0 otherwise)."""

    refusal: re.Match[str] | None
    boilerplate: re.Match[str] | None
    content_words: int


# Every refusal and boilerplate pattern holds one of these (lower-case): a substring test
# skips the regular expressions for the nine answers in ten that hold none.
_REFUSAL_HINTS = (
    "sorry",
    "apologi",
    "can't",
    "cannot",
    "can not",
    "unable",
    "won't",
    "will not",
    "decline",
    "refuse",
    "not able",
    "appropriate",
    "ethical",
    "is beyond",
    "is outside",
    "have the ability",
    "have the capability",
    "have the capacity",
    "have the means",
    "possess the",
    "not possible for me",
    "not capable",
    "not allowed",
    "not permitted",
)
_BOILERPLATE_HINTS = (
    "as an ai",
    "as an artificial",
    "as a language",
    "as a large",
    "as a text",
    "as a virtual",
    "as a chatbot",
    "as a machine",
    "as a ai",
    " an ai",
    "language model",
    "virtual assistant",
    "chatbot",
    "computer program",
    "have personal",
    "have opinions",
    "have feelings",
    "have emotions",
    "have beliefs",
    "have preferences",
    "have experiences",
    "have any personal",
    "have any opinion",
    "have any feeling",
    "have any emotion",
    "have my own",
    "have a physical",
    "have consciousness",
    "cut-off",
    "cutoff",
    "as of my",
    "training data",
    "my training",
    "browse",
    "access the",
    "search the",
    "have real-time",
    "have current",
    "have up-to-date",
    "have live",
    "have access to real",
    "have access to cur",
    "have access to up",
    "have access to live",
)


# Every phrase reaches at most this far before and after its hint.
_REACH = 120


def _first(
    pattern: re.Pattern[str], hints: tuple[str, ...], text: str, lower: str
) -> re.Match[str] | None:
    """The first match of `pattern` in `text`, looked for only around the hints found in
    `lower`: substring search is C-fast, a long alternation at every position is not."""
    present = [h for h in hints if h in lower]
    if not present:
        return None
    spots = sorted({pos for h in present for pos in _positions(lower, h)})
    searched = 0
    for pos in spots:
        start = max(searched, pos - _REACH)
        end = min(len(text), pos + _REACH)
        if start >= end:
            continue
        m = pattern.search(text, start, end)
        if m is not None:
            return m
        searched = max(searched, pos - _REACH // 2)
    return None


def _positions(lower: str, hint: str) -> list[int]:
    out: list[int] = []
    pos = lower.find(hint)
    while pos >= 0 and len(out) < 20:
        out.append(pos)
        pos = lower.find(hint, pos + 1)
    return out


def analyse_refusal(text: str) -> RefusalAnalysis:
    """Find refusal and boilerplate phrases in `text` and count the words that still answer."""
    norm = text.replace("’", "'")
    lower = norm.lower()
    refusal = _first(_REFUSAL, _REFUSAL_HINTS, norm, lower)
    boilerplate = _first(_BOILERPLATE, _BOILERPLATE_HINTS, norm, lower)
    if refusal is None and boilerplate is None:
        return RefusalAnalysis(None, None, 0)
    content = 0
    for sentence in _SENTENCE.finditer(norm):
        s = sentence.group(0)
        hit = _REFUSAL.search(s)
        if hit is None:
            disclaimer = _BOILERPLATE.search(s)
            if disclaimer is not None and not _DISCLAIMS.search(s, disclaimer.end()):
                # "As of my last update, Canada had 38 million people": the rest answers.
                content += len(words_of(s[disclaimer.end() :]))
                continue
            hit = disclaimer
        if hit is not None:
            pivot = _PIVOT.search(s, hit.end())
            if pivot is not None:
                content += len(words_of(s[pivot.end() :]))
            continue
        if _SUPPORT.search(s):
            continue
        content += len(words_of(s))
    return RefusalAnalysis(refusal, boilerplate, content)


def _analysis(turn: AnswerTurn) -> RefusalAnalysis:
    found = turn.memo.get("refusal")
    if found is None:
        found = turn.memo["refusal"] = analyse_refusal(turn.text)
    return found


def _is_refusal(found: RefusalAnalysis, settings: RefusalSettings) -> bool:
    """A refusal phrase, or AI boilerplate, with too little answer besides."""
    hit = found.refusal is not None or found.boilerplate is not None
    return hit and found.content_words < settings.min_answer_words


class Refusal(ExampleCheck):
    """Flags answers that decline, apologise or disclaim without answering: a refusal phrase
    ("I can't help with that"), or AI boilerplate ("As an AI, I don't have personal
    preferences") with fewer than ``min_answer_words`` words of answer besides.

    The score grows with the words that still answer (0 = nothing but the refusal).
    """

    code = "refusal"
    title = "Refusal"
    description = (
        "The answer declines or apologises instead of answering ('I'm sorry, but I can't...'). "
        "Keep it only if declining is the behaviour you want to teach."
    )
    Settings = RefusalSettings
    settings: RefusalSettings

    def check(self, example: ExampleView) -> CheckResult:
        best: Flag | None = None
        need = max(1, self.settings.min_answer_words)
        for turn in example.text_turns:
            found = _analysis(turn)
            if not _is_refusal(found, self.settings):
                continue
            m = found.refusal or found.boilerplate
            assert m is not None
            if found.refusal is None and _ABOUT_ITSELF.search(turn.prompt.replace("’", "'")):
                continue  # "Are you human?" "No, I am an AI." answers the question
            kind = "refusal" if found.refusal is not None else "disclaimer_only"
            flag = self.flag(
                0.5 * found.content_words / need,
                f"The answer declines ({m.group(0)!r}) with {found.content_words} words of "
                "answer besides.",
                kind=kind,
                location=Location.at(turn.index, turn.text, m.start(), m.end()),
                data={"phrase": m.group(0), "content_words": found.content_words},
            )
            if best is None or flag.score < best.score:
                best = flag
        return KEEP if best is None else best


class Boilerplate(ExampleCheck):
    """Flags answers that carry AI boilerplate ("As an AI language model", "as of my last
    update") yet answer; one that does not answer is a `Refusal`. Answers to questions about
    the assistant itself ("Who are you?") may say what it is."""

    code = "boilerplate"
    title = "AI boilerplate"
    description = (
        "The answer hedges with 'As an AI language model', 'I don't have personal opinions' "
        "or a knowledge-cutoff excuse: the model would learn to hedge."
    )
    Settings = RefusalSettings
    settings: RefusalSettings

    @classmethod
    def from_config(cls, config: QualityConfig) -> QualityCheck:
        # One line between refusing and answering: the refusal check's, unless set here.
        return cls(config.settings.get(cls.code) or config.settings_for(Refusal.code))

    def check(self, example: ExampleView) -> CheckResult:
        for turn in example.text_turns:
            found = _analysis(turn)
            m = found.boilerplate
            if m is None or _is_refusal(found, self.settings):
                continue
            if _ABOUT_ITSELF.search(turn.prompt.replace("’", "'")):
                continue
            kind = "knowledge_cutoff" if _CUTOFF.search(m.group(0)) else "ai_disclaimer"
            return self.flag(
                0.4,
                f"The answer says {m.group(0)!r}.",
                kind=kind,
                location=Location.at(turn.index, turn.text, m.start(), m.end()),
                data={"phrase": m.group(0)},
            )
        return KEEP
