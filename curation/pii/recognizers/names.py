"""Names of people: spaCy NER with its usual slips mended, and names found by their context.

`SpacyNerRecognizer` replaces presidio's SpacyRecognizer (entities split at line breaks,
possessives trimmed, people tagged ORG/LOC re-typed); `ContextNameRecognizer` finds names in
greetings, signatures, self-introductions, after titles and "name is", where NER often misses.
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from curation.pii.recognizers.base import first_and_last_names, make_result, stop_words

__all__ = ["NER_ENTITIES", "ContextNameRecognizer", "SpacyNerRecognizer", "looks_like_name"]

NER_ENTITIES = ("PERSON", "LOCATION", "DATE_TIME", "NRP", "ORGANIZATION")
NER_SCORE = 0.85
RETYPED_SCORE = 0.6

# Words that make a span an organisation, a place or a thing rather than a person.
_NOT_PERSON_WORDS = frozenset(
    """
    inc ltd llc plc corp corporation co company companies group holdings bank university
    college school academy institute foundation association society church hospital
    clinic museum library park street st road rd avenue ave boulevard blvd lane drive
    way place square airlines airport motors technologies technology systems software
    consulting partners agency department ministry council committee club team records
    press times news post journal magazine studio studios services service solutions
    labs lab house hotel restaurant cafe centre center city county state river mountain
    lake island islands republic kingdom united national international global federal
    royal ai api app day week month year monday tuesday wednesday thursday friday
    saturday sunday january february march april june july august september october
    november december
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

# Capitalised words that start sentences or address groups, never a name in these patterns.
_NOT_NAME = frozenset(
    """
    there all everyone everybody team folks guys friends friend sir madam maam ma'am
    mate world people you me again back so however also yes no well now okay ok sorry
    please thanks thank first finally honestly actually sure great unfortunately
    otherwise meanwhile therefore hello hi hey dear good morning afternoon evening best
    regards kind warm cheers sincerely yours love customer support admin administrator
    user assistant bot human gpt chatgpt claude apt suite unit floor flat building here
    just not going sending writing glad happy sure afraid sorry looking trying able
    interested new the a an this that these those my your our their his her its today
    tomorrow yesterday
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

# Words that open a sentence before a comma without naming anyone ("Anyway, can you...").
_DISCOURSE = frozenset(
    """
    anyway anyways besides still instead plus then next lastly overall alright fine cool
    perfect awesome wow oh ah hmm um uh yeah yep nope right look listen see wait indeed
    meanwhile therefore thus hence sadly luckily again also ok okay sure great nice true
    ps note btw fyi update edit question answer example summary context background task
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

_TOKEN = re.compile(r"[^\W\d_][\w'’.-]*")


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def looks_like_name(words: list[str], *, allow_lower: bool = False) -> bool:
    """Whether each word could be part of a person's name (shape, not a stop word, no cue)."""
    if not words or len(words) > 4:
        return False
    stops = stop_words()
    for w in words:
        bare = w.strip(".'’-")
        low = bare.lower()
        if len(bare) < 2 or not any(c.isalpha() for c in bare) or any(c.isdigit() for c in bare):
            return False
        if low in stops or low in _NOT_NAME or low in _NOT_PERSON_WORDS:
            return False
        if not allow_lower and not _is_cap(bare):
            return False
    return True


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding spaces and punctuation and a trailing possessive from a span."""
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    for suffix in ("'s", "’s"):
        if text[start:end].endswith(suffix):
            end -= 2
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return start, end


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a span at line breaks, tabs and bars (spaCy runs entities across lines)."""
    out = []
    pos = start
    for m in re.finditer(r"[\n\r\t|]+", text[start:end]):
        out.append((pos, start + m.start()))
        pos = start + m.end()
    out.append((pos, end))
    return [(s, e) for s, e in (_trim(text, s, e) for s, e in out) if e > s]


def _whole_name_line(text: str, start: int, end: int) -> tuple[int, int]:
    """A name alone on its line ("kristin crnić" above an address) is the whole line."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    s, e = _trim(text, line_start, line_end)
    if s <= start and end <= e and (s, e) != (start, end):
        line = text[s:e]
        words = _TOKEN.findall(line)
        if (
            2 <= len(words) <= 3
            and len(words) == len(line.split())
            and looks_like_name(words, allow_lower=line.islower())
        ):
            return s, e
    return start, end


_PARTICLE_TAIL = re.compile(
    r"(?:[ \t]+(?:van|von|de|der|den|del|della|di|da|du|dos|das|le|la|y|e|en|bin|al|ten|ter|zu)"
    r"(?:[ \t]+(?:van|von|de|der|den|la|le))?[ \t]+|-)(?P<part>[^\W\d_][\w'’]+)"
)


def _through_particles(text: str, end: int) -> int:
    """Extend a name over "van Es-Sanders", "de Brunel": particles and hyphenated parts."""
    while True:
        m = _PARTICLE_TAIL.match(text, end)
        if not m or not m.group("part")[:1].isupper():
            return end
        end = m.end()


def _name_evidence(words: list[str]) -> bool:
    first, last = first_and_last_names()
    return any(w in first for w in words[:1]) or any(w in last for w in words[1:] or words)


class SpacyNerRecognizer(LocalRecognizer):
    """spaCy's entities as findings, mended for the slips seen on chat and address text.

    - an entity that runs across a line break is split (a name line and a company line);
    - possessives and surrounding punctuation are trimmed ("Kristoffersen's" -> the name);
    - a span tagged ORG / LOC / DATE / NORP / FAC / PRODUCT / WORK_OF_ART whose words are all
      name-shaped (capitalised, no digits, no organisation or place cue word such as "Inc" or
      "Street") and whose first word is a known given name or last word a known family name is
      re-typed PERSON with score 0.6 (the sm model tags many foreign names ORG);
    - pure numbers tagged DATE_TIME (card numbers, postal codes) are dropped.
    """

    name: str

    def __init__(self, supported_entities: list[str] | None = None) -> None:
        super().__init__(
            supported_entities=supported_entities or list(NER_ENTITIES),
            supported_language="en",
            name="SpacyNerRecognizer",
        )

    def load(self) -> None:
        first_and_last_names()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if nlp_artifacts is None:
            return []
        wanted = set(entities)
        results: list[RecognizerResult] = []
        for ent, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=False):
            label = ent.label_
            for start, end in _pieces(text, ent.start_char, ent.end_char):
                span = text[start:end]
                words = _TOKEN.findall(span)
                if label == "PERSON":
                    start, end = _whole_name_line(text, start, end)
                    end = _through_particles(text, end)
                    span = text[start:end]
                    words = _TOKEN.findall(span)
                    if (
                        looks_like_name(words, allow_lower=span.islower())
                        or (len(words) > 1 and looks_like_name(words[-1:]))
                    ) and "PERSON" in wanted:
                        results.append(make_result("PERSON", start, end, score, self.name, "ner"))
                    continue
                if (
                    label
                    in {
                        "ORGANIZATION",
                        "LOCATION",
                        "DATE_TIME",
                        "NRP",
                        "FAC",
                        "PRODUCT",
                        "WORK_OF_ART",
                        "EVENT",
                    }  # fmt: skip
                    and len(words) == len(span.split())
                    and looks_like_name(words)
                    and _name_evidence(words)
                    and not (label == "LOCATION" and len(words) == 1)
                ):
                    if "PERSON" in wanted:
                        results.append(
                            make_result(
                                "PERSON",
                                start,
                                end,
                                RETYPED_SCORE,
                                self.name,
                                f"ner-retyped-{label.lower()}",
                            )  # fmt: skip
                        )
                    continue
                if label == "DATE_TIME" and re.fullmatch(r"[\d\s]+", span):
                    continue
                if label in wanted:
                    results.append(make_result(label, start, end, score, self.name, "ner"))
        return results


_NAME_WORD = r"[^\W\d_][\w'’-]*"
_NAME_RUN = rf"{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}}"
_GREETING = re.compile(
    rf"(?im)^[ \t>*_-]*(?:hi|hello|hey|dear|hiya|howdy|greetings|good (?:morning|afternoon|evening)"
    rf")[ \t,]+(?P<name>{_NAME_RUN})[ \t]*(?=[,!:.;\n]|$)"
)
_SIGN_OFF = (
    r"thanks|thank you|thx|many thanks|thanks again|best|best regards|best wishes|kind regards|"
    r"warm regards|warmly|regards|cheers|sincerely|yours(?: truly| sincerely| faithfully)?|"
    r"respectfully|love|all the best|talk soon|take care|with gratitude|greetings"
)
_SIGNATURE = re.compile(
    rf"(?im)^[ \t]*(?:{_SIGN_OFF})[ \t]*[,!.]?[ \t]*\r?\n[ \t]*(?:-{{1,2}}[ \t]*)?"
    rf"(?P<name>{_NAME_RUN})[ \t]*$"
)
_SIGNATURE_INLINE = re.compile(
    rf"(?im)\b(?:{_SIGN_OFF})[ \t]*,[ \t]*(?P<name>{_NAME_RUN})[ \t]*[.!]?[ \t]*$"
)
_DASH_SIGNATURE = re.compile(rf"(?m)^[ \t]*(?:--|—|–)[ \t]*(?P<name>{_NAME_RUN})[ \t]*$")
_VOCATIVE = re.compile(
    rf"(?m)(?:^|(?<=[.!?][ \t]))[ \t]*(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD})?),[ \t]+"
    r"(?=(?:can|could|would|will|please|i|you|do|did|are|is|have|thanks|thank|we|let|just|"
    r"hope|what|where|when|how|why|don't|i'm|it's)\b)",
)
_INTRO_STRONG = re.compile(
    rf"(?i)\b(?:my name is|my name's|name is|names are|i am called|i'm called|call me|"
    rf"(?:first|last|full|middle|maiden|given|family|user) ?name[:\s]+|name:|signed,?|"
    rf"goes by)[ \t]+(?P<name>{_NAME_RUN})"
)
# "Laurent Wagner": a known given name followed by a known family name, both capitalised.
_NAME_PAIR = re.compile(r"\b(?P<name>[^\W\d_][\w'’-]+[ \t]+[^\W\d_][\w'’-]+)\b")
_INTRO_WEAK = re.compile(
    rf"(?i)\b(?:i'm|i am|this is|it's|it is|from:|to:|cc:|contact|ask for|speak to|talk to)"
    rf"[ \t]+(?P<name>{_NAME_RUN})"
)
_TITLE = re.compile(
    rf"(?i)\b(?:mr|mrs|ms|miss|mx|dr|prof|sir|madam|mme|mlle|herr|frau|sr|sra|srta|sig|sig\.ra|"
    rf"signor|signora|pan|pani|señor|señora|don|doña|dhr|mevr|monsieur|madame)\.?[ \t]+"
    rf"(?P<name>{_NAME_RUN})"
)


class ContextNameRecognizer(LocalRecognizer):
    """Names found by the words around them, which NER misses on short chat turns.

    Rules (pattern names in findings): ``greeting`` ("Hi Anna,"), ``signature`` ("Thanks,\\nJohn",
    "-- John", "Cheers, John"), ``vocative`` ("Marisca, can I..."), ``introduction`` ("my name
    is", "call me", "last name: X"), ``title`` ("Ms. Kuyra"), ``introduction-weak`` ("I'm X",
    "this is X"), ``known-name-pair`` ("Laurent Wagner": known given + family name); the
    vocative and weak rules need a known name or a spaCy entity on the word.
    Only capitalised, name-shaped words count (lower case after "my name is" and titles).
    """

    name: str

    SCORES = {
        "greeting": 0.7,
        "signature": 0.7,
        "vocative": 0.55,
        "introduction": 0.8,
        "title": 0.8,
        "introduction-weak": 0.6,
        "known-name-pair": 0.5,
    }

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], supported_language="en",
                         name="ContextNameRecognizer")  # fmt: skip

    def load(self) -> None:
        first_and_last_names()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        named = _named_token_starts(nlp_artifacts)
        first, last = first_and_last_names()
        results: list[RecognizerResult] = []
        rules: list[tuple[str, re.Pattern[str], bool]] = [
            ("greeting", _GREETING, False),
            ("signature", _SIGNATURE, False),
            ("signature", _SIGNATURE_INLINE, False),
            ("signature", _DASH_SIGNATURE, False),
            ("vocative", _VOCATIVE, False),
            ("introduction", _INTRO_STRONG, True),
            ("title", _TITLE, True),
            ("introduction-weak", _INTRO_WEAK, False),
            ("known-name-pair", _NAME_PAIR, False),
        ]
        for rule, pattern, allow_lower in rules:
            for m in pattern.finditer(text):
                start, end = m.span("name")
                words, start, end = _leading_name_words(text, start, end, allow_lower)
                if not words:
                    continue
                end = _through_particles(text, end)
                if rule == "known-name-pair" and not (
                    len(words) == 2 and words[0] in first and words[1] in last
                ):
                    continue
                if rule == "vocative" and (
                    words[0].lower().endswith("ly") or words[0].lower() in _DISCOURSE
                ):
                    continue  # "Honestly, can I", "Anyway, could you": not someone addressed
                if rule == "introduction-weak" and not (
                    start in named or words[0] in first or words[-1] in last
                ):
                    continue
                results.append(
                    make_result("PERSON", start, end, self.SCORES[rule], self.name, rule)
                )
        return results


def _leading_name_words(
    text: str, start: int, end: int, allow_lower: bool
) -> tuple[list[str], int, int]:
    """The longest leading run of name-shaped words of ``text[start:end]`` and its span."""
    kept: list[str] = []
    kept_end = start
    first_lower = not _is_cap(text[start:end])
    for m in _TOKEN.finditer(text, start, end):
        word = m.group().rstrip(".")
        # A lower-case first word allows lower-case followers; a capitalised one does not.
        lower_ok = allow_lower and first_lower
        if not looks_like_name([word], allow_lower=lower_ok):
            break
        kept.append(word)
        kept_end = m.start() + len(word)
    if not kept:
        return [], start, start
    return kept, start, kept_end


def _named_token_starts(nlp_artifacts: NlpArtifacts | None) -> set[int]:
    if nlp_artifacts is None or nlp_artifacts.tokens is None:
        return set()
    # Without a tagger, "spaCy saw a named thing here" is NER: any entity, whatever its label.
    return {t.idx for ent in nlp_artifacts.entities for t in ent}
