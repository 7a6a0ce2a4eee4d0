"""Second look at a near-duplicate candidate: do the words where two texts differ carry substance?

Word-set Jaccard cannot tell "Write a poem about cats" from "... about dogs" (one word of five)
nor a typo from a different name. This stage aligns the two word sequences
(`difflib.SequenceMatcher` on casefolded words) and weighs each span where they differ
(`weighed_spans` lists them with the rule that priced each):

- **spelling**: a word replaced by a spelling variant of it weighs nothing: one letter changed,
  added, dropped, or two neighbours swapped ("recieve"/"receive", "form"/"from") in words of 4+
  letters, or character similarity ``>= spelling_similarity`` ("colour"/"color", words split or
  joined); "5" / "five" are the same number. Case, punctuation and whitespace never reach this
  stage (they do not change the words);
- **function word**: a function word ("a", "of", "about", "you", ... `FUNCTION_WORDS`)
  replaced by anything, or replacing one, weighs nothing: that retouches the sentence, it does
  not ask for something else;
- **negation**, **number**, **name**: a negation ("not", "no", "never", "without", ...) that
  appears, disappears or replaces a word, a number replaced by another number, a capitalised
  name (a capitalised word not opening a sentence) replaced by another name weighs
  ``strong_weight``: a flipped negation, another number or another name changes what is asked;
- **noun phrase**: a content word (of any kind) replaced by another right after a word that
  opens a noun phrase (`SLOT_OPENERS`: "a", "the", "my", "of", "about", ...) weighs 1: that is
  what the text is about ("a poem about *cats*" / "about *dogs*", "about a dragon" / "about
  Smaug");
- **frame**: any other content word replaced (a verb, an adverb, a word after a verb) weighs
  ``frame_weight`` (0.5), and so does, outside a noun phrase, a word of another kind in its
  place (a number or name replaced by a common word, or the reverse: not another number or
  name, a garbled copy) or a number added or dropped (a detail of the same request);
- a plain word added or dropped weighs nothing (an adjective added is a copy edit far more
  often than a different request); when a span of words is replaced by a span of another
  length, its shorter side's content words count as replaced, the rest as added or dropped.

The pair is refused (kept apart) when the total weight reaches ``max_share`` of the longer
text's words, and that text has at most ``max_words`` words. With the defaults of
`NearDedupConfig` (share 0.06, strong weight 4, frame weight 0.5, 20 words): a different
number, name or negation in a text of up to 20 words, a different noun-phrase word in one of up
to 16 words, and a different verb or other frame word in one of up to 8 words make a different
text; a longer text is a document, where a few changed words are a copy edit, and is left to
the Jaccard rule. Measured on `benchmarks/bench_dedup.py` (README_dedup.md).

Texts holding a script written without spaces are passed through unchanged (their "words" are
whole clauses, so this word-level weighing does not apply to them).
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import NamedTuple

from curation.text.script import has_spaceless_script

__all__ = [
    "FUNCTION_WORDS",
    "NEGATIONS",
    "SLOT_OPENERS",
    "WeighedSpan",
    "difference_weight",
    "substantive_difference",
    "tokens",
    "weighed_spans",
]

# A number keeps its unit or ordinal suffix ("20th", "1990s", "10k"): one token, one number.
_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*[^\W_]*|\w+(?:'\w+)?", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
NEGATIONS = frozenset(
    {
        "not",
        "no",
        "never",
        "nor",
        "none",
        "nothing",
        "nobody",
        "without",
        "cannot",
        "neither",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "won't",
        "can't",
        "couldn't",
        "shouldn't",
        "wouldn't",
        "haven't",
        "hasn't",
        "hadn't",
        "mustn't",
    }
)


# English function words: replacing one of them (by anything but a negation) changes no request,
# it is a corruption or a copy edit of the sentence ("a poem about cats" / "a poem for cats").
_FUNCTION_WORDS = """a an the this that these those it its of in on at by for from to with about as into
    onto over under than then there here and or but if so because while when where which who
    whom whose what how why is are was were be been being am do does did have has had having
    will would shall should can could may might must i me my we us our you your he him his she
    her they them their all any some each every more most other such only own same too very
    just also up down out off again once both few many much either whether yet via per among
    between through across within along around behind below above beneath beside toward towards
    upon during before after against near until"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())

# Words that open a noun phrase: the content word right after one is what a text is about
# ("a poem about *cats*", "the capital of *France*", "summarise *my* report"). Not "that",
# more often a conjunction ("said that ...") than a determiner.
_SLOT_OPENERS = """a an the this these those my your his her its our their of about"""
SLOT_OPENERS = frozenset(_SLOT_OPENERS.split())
# Spelled-out numbers: "5" and "five" are the same number.
_NUMBER_WORDS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
NUMBER_WORDS = {w: str(i) for i, w in enumerate(_NUMBER_WORDS.split())}

NUMBER, NAME, NEGATION, PLAIN = "number", "name", "negation", ""


class WeighedSpan(NamedTuple):
    """One place where two texts differ: its words on each side, weight and the rule used."""

    left: str
    right: str
    weight: float
    rule: str


def tokens(text: str) -> tuple[list[str], list[str]]:
    """Casefolded words of `text` and the kind of each: `NUMBER`, `NAME`, `NEGATION` or `PLAIN`.

    A number is a token starting with a digit. A name is a word starting with an upper-case
    letter followed by a lower-case one (so an all-caps word, often a case edit, is not one)
    that does not open the text or a sentence.
    """
    words: list[str] = []
    kinds: list[str] = []
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        low = raw.casefold().replace("\u2019", "'")
        if raw[0].isdigit():
            kind = NUMBER
        elif low in NEGATIONS:
            kind = NEGATION
        elif (
            len(raw) > 1
            and raw[0].isupper()
            and raw[1].islower()
            and m.start() > 0
            and not _SENTENCE_END.search(text[max(0, m.start() - 3) : m.start()])
        ):
            kind = NAME
        else:
            kind = PLAIN
        words.append(low)
        kinds.append(kind)
    return words, kinds


def _one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of `a` and `b` is at most 1 (one letter changed, added,
    dropped, or two neighbours swapped)."""
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (
            a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]
        )
    short, longer = (a, b) if len(a) < len(b) else (b, a)
    return short[i:] == longer[i + 1 :]


def _similar(a: str, b: str, bound: float) -> bool:
    """Are `a` and `b` the same word spelled differently?"""
    if a == b:
        return True
    if any(ch.isdigit() for ch in a + b) or a in NUMBER_WORDS or b in NUMBER_WORDS:
        # "5" / "five" are one number; 1990 / 1991 are close in characters and different years
        return NUMBER_WORDS.get(a, a) == NUMBER_WORDS.get(b, b)
    if len(a) >= 4 and len(b) >= 4 and _one_edit(a, b):
        return True
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= bound


def _content(words: list[str]) -> int:
    return sum(w not in FUNCTION_WORDS for w in words)


def _in_slot(words: list[str], at: int) -> bool:
    """Does the word at `at` follow a word that opens a noun phrase?"""
    return at > 0 and words[at - 1] in SLOT_OPENERS


def _word_weight(
    x: str, y: str, kx: str, ky: str, slot: bool, strong: float, frame: float
) -> tuple[float, str]:
    """Weight and rule of word `x` (kind `kx`) replaced by `y` (kind `ky`), not a variant."""
    if NEGATION in (kx, ky):
        return (0.0, "negation for negation") if kx == ky else (strong, "negation")
    if kx == ky and kx in (NUMBER, NAME):
        return strong, kx  # another number, another name
    if x in FUNCTION_WORDS or y in FUNCTION_WORDS:
        return 0.0, "function word"
    if slot:
        return 1.0, "noun phrase"
    return frame, ("frame" if kx == ky else "kinds differ")


def _span_weight(
    left: list[str],
    right: list[str],
    kl: list[str],
    kr: list[str],
    slot: bool,
    strong: float,
    frame: float,
) -> tuple[float, str]:
    """Weight and rule of a span of words replaced by a span of another length.

    Its shorter side's content words count as replaced, the rest as added or dropped (which
    weigh nothing but a negation); a number or name on both sides that differs weighs `strong`.
    """
    mismatch = False
    for kind in (NEGATION, NUMBER, NAME):
        mine = sorted(w for w, k in zip(left, kl, strict=True) if k == kind)
        theirs = sorted(w for w, k in zip(right, kr, strict=True) if k == kind)
        if mine != theirs and (kind == NEGATION or (mine and theirs)):
            return strong, kind
        mismatch = mismatch or bool(mine) != bool(theirs)
    replaced = min(_content(left), _content(right))
    if not replaced:
        return 0.0, "function word"
    if slot:
        return replaced * 1.0, "noun phrase"
    return replaced * frame, ("kinds differ" if mismatch else "frame")


def weighed_spans(
    a: str,
    b: str,
    *,
    spelling_similarity: float = 0.75,
    strong_weight: int = 4,
    frame_weight: float = 0.5,
) -> list[WeighedSpan]:
    """Every place where the words of `a` and `b` differ, with its weight and rule.

    See the module docstring for the rules.
    """
    return _weigh(tokens(a), tokens(b), spelling_similarity, float(strong_weight), frame_weight)


def _weigh(
    ta: tuple[list[str], list[str]],
    tb: tuple[list[str], list[str]],
    spelling_similarity: float,
    strong: float,
    frame_weight: float,
) -> list[WeighedSpan]:
    (wa, ka), (wb, kb) = ta, tb
    out: list[WeighedSpan] = []
    matcher = SequenceMatcher(None, wa, wb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        left, right = wa[i1:i2], wb[j1:j2]
        kl, kr = ka[i1:i2], kb[j1:j2]
        if op in ("delete", "insert"):
            kinds = kl + kr
            if NEGATION in kinds:
                weight, rule = strong * kinds.count(NEGATION), "negation added or dropped"
            elif NUMBER in kinds:
                weight, rule = frame_weight * kinds.count(NUMBER), "number added or dropped"
            else:
                weight, rule = 0.0, "word added or dropped"
            out.append(WeighedSpan(" ".join(left), " ".join(right), weight, rule))
        elif _similar("".join(left), "".join(right), spelling_similarity):
            out.append(WeighedSpan(" ".join(left), " ".join(right), 0.0, "spelling"))
        elif len(left) == len(right):
            for k, (x, y) in enumerate(zip(left, right, strict=True)):
                if _similar(x, y, spelling_similarity):
                    weight, rule = 0.0, "spelling"
                else:
                    slot = _in_slot(wa, i1 + k) or _in_slot(wb, j1 + k)
                    weight, rule = _word_weight(x, y, kl[k], kr[k], slot, strong, frame_weight)
                out.append(WeighedSpan(x, y, weight, rule))
        else:
            slot = _in_slot(wa, i1) or _in_slot(wb, j1)
            weight, rule = _span_weight(left, right, kl, kr, slot, strong, frame_weight)
            out.append(WeighedSpan(" ".join(left), " ".join(right), weight, rule))
    return out


def difference_weight(
    a: str,
    b: str,
    *,
    spelling_similarity: float = 0.75,
    strong_weight: int = 4,
    frame_weight: float = 0.5,
) -> tuple[float, int]:
    """``(weight, words)``: the substance of where `a` and `b` differ, and the longer's words."""
    ta, tb = tokens(a), tokens(b)
    spans = _weigh(ta, tb, spelling_similarity, float(strong_weight), frame_weight)
    return sum(s.weight for s in spans), max(len(ta[0]), len(tb[0]))


def substantive_difference(
    a: str,
    b: str,
    *,
    max_share: float = 0.06,
    spelling_similarity: float = 0.75,
    strong_weight: int = 4,
    frame_weight: float = 0.5,
    max_words: int = 20,
) -> bool:
    """True when `a` and `b` differ where it matters: weight >= ``max_share`` x their words.

    Texts whose longer side has more than `max_words` words are never refused.
    """
    if a == b or has_spaceless_script(a) or has_spaceless_script(b):
        return False
    if max(a.count(" "), b.count(" ")) > 4 * max_words:
        return False  # clearly long: skip the alignment
    weight, words = difference_weight(
        a,
        b,
        spelling_similarity=spelling_similarity,
        strong_weight=strong_weight,
        frame_weight=frame_weight,
    )
    if words > max_words:
        return False
    return weight > 0 and weight >= max_share * max(words, 1) - 1e-9
