"""Refusals ("I'm sorry, but I can't help with that") and AI boilerplate ("As an AI language model",
knowledge-cutoff excuses). A refusal that still answers is not a refusal, only boilerplate.

Both teach a fine-tuned model to decline or hedge where it should answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.quality.base import KEEP, CheckResult, ExampleCheck, Flag, Location
from curation.quality.settings import CheckSettings, require_int
from curation.quality.view import AnswerTurn, ExampleView, words_of

__all__ = ["Boilerplate", "Refusal", "RefusalSettings", "analyse_refusal"]

_I = re.IGNORECASE
_CANT = (
    r"(?:can ?not|can't|am (?:not able|unable)|'m (?:not able|unable)|won't|will not|"
    r"must decline to|(?:do not|don't) (?:have|possess) the (?:ability|capability|capacity|means) "
    r"to|am not (?:allowed|permitted|capable of)|'m not (?:allowed|permitted|capable of))"
)
_REFUSAL = re.compile(
    "|".join(
        [
            rf"\bI {_CANT} (?:help(?! but\b| it\b| (?:feeling|thinking|wondering|noticing)\b)|assist|provide|fulfil+|comply|do (?:that|this)|create|generate|"
            r"write|answer|engage|support|share|perform|complete|book|order|make|give|offer|"
            r"access|browse|process|handle|carry out|execute|send|check|translate|predict|"
            r"recommend|discuss|participate|condone|promote|produce|tell)",
            rf"\bI(?:'m| am) (?:sorry|afraid),? (?:but )?I {_CANT}\b",
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
            r"\bI (?:do not|don't) have the (?:ability|capability|capacity|means) to\b",
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
# Sentences that explain a refusal or close politely: they neither refuse nor answer.
_SUPPORT = re.compile(
    r"\bmy (?:current |primary )?(?:capabilities|functions?|abilities|purpose|role) "
    r"(?:are|is|allows?|only|currently|include)\b|\bI can only\b|\bI(?:'m| am) (?:only )?"
    r"(?:able|designed|programmed) to\b|\bfeel free to\b|\blet me know\b|\bis there anything "
    r"else\b|\bI(?:'d| would) (?:be happy|recommend|suggest)\b|\byou (?:may|might) want to\b|"
    r"\b(?:please |you can )?(?:consult|contact|visit|check|use|try)\b.{0,40}\b(?:website|app|"
    r"professional|service|platform|expert|doctor|lawyer|agent|source)s?\b|\bhowever,? I can\b",
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
        Words outside refusal, boilerplate and polite-closing sentences an answer needs to
        count as an answer. 25: a real answer after an apology ("I can't give medical advice,
        but rest and fluids ...") runs to a few sentences, while a refusal's explanation ("My
        current capabilities allow me to convert currency. Anything else?") stays under 20
        in the glaive tool-calling data.
    """

    min_answer_words: int = 25

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
    "have any ",
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
    spots = sorted({pos for h in hints for pos in _positions(lower, h)})
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
        hit = _REFUSAL.search(s) or _BOILERPLATE.search(s)
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


class Refusal(ExampleCheck):
    """Flags answers that decline or apologise without answering.

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
            if found.refusal is None or found.content_words >= self.settings.min_answer_words:
                continue
            m = found.refusal
            flag = self.flag(
                0.5 * found.content_words / need,
                f"The answer refuses ({m.group(0)!r}) and gives {found.content_words} words of "
                "answer besides.",
                kind="refusal",
                location=Location.at(turn.index, turn.text, m.start(), m.end()),
                data={"phrase": m.group(0), "content_words": found.content_words},
            )
            if best is None or flag.score < best.score:
                best = flag
        return KEEP if best is None else best


class Boilerplate(ExampleCheck):
    """Flags answers that carry AI boilerplate ("As an AI language model", "as of my last
    update") yet answer; a refusal is counted by `Refusal` instead. Answers to questions about
    the assistant itself ("Who are you?") may say what it is."""

    code = "boilerplate"
    title = "AI boilerplate"
    description = (
        "The answer hedges with 'As an AI language model', 'I don't have personal opinions' "
        "or a knowledge-cutoff excuse: the model would learn to hedge."
    )
    Settings = RefusalSettings
    settings: RefusalSettings

    def check(self, example: ExampleView) -> CheckResult:
        for turn in example.text_turns:
            found = _analysis(turn)
            m = found.boilerplate
            if m is None:
                continue
            if found.refusal is not None and found.content_words < self.settings.min_answer_words:
                continue  # a refusal: flagged by Refusal
            if _ABOUT_ITSELF.search(turn.prompt.replace("’", "'")):
                continue
            return self.flag(
                0.4,
                f"The answer says {m.group(0)!r}.",
                kind="ai_disclaimer",
                location=Location.at(turn.index, turn.text, m.start(), m.end()),
                data={"phrase": m.group(0)},
            )
        return KEEP
