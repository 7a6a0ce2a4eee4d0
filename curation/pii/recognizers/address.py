"""Street addresses, in the forms people write them in many countries, with their extra lines.

A street core (house number + street name + street type, a European "-straat 12", "rue X", or
a street-shaped line followed by a unit or postal code) is extended over the unit, city,
region, postal code and country that follow on the same line or the next short lines.
"""

from __future__ import annotations

import re

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from curation.pii.recognizers.base import make_result, stop_words

__all__ = ["PostalCodeRecognizer", "StreetAddressRecognizer"]

# Street types written after the street name (English and continental words, abbreviations).
_SUFFIX_TYPES = (
    "street|st|road|rd|avenue|ave|av|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|square|sq|"
    "terrace|ter|way|parkway|pkwy|highway|hwy|circle|cir|crescent|cres|close|row|alley|trail|trl|"
    "grove|gardens|gdns|mews|walk|wharf|quay|hill|heights|plaza|path|pike|loop|crossing|xing|"
    "expressway|freeway|broadway|alley|annex|arcade|bayou|beach|bend|bluff|bottom|branch|bridge|"
    "brook|burg|bypass|camp|canyon|cape|causeway|cliff|common|corner|course|cove|creek|crest|"
    "curve|dale|divide|estate|extension|falls|ferry|field|flat|ford|forest|forge|fork|fort|"
    "garden|gateway|glen|green|harbor|harbour|haven|hollow|inlet|island|junction|knoll|landing|"
    "light|lock|lodge|mall|manor|meadow|mill|mission|motorway|mount|neck|orchard|oval|"
    "overpass|pass|passage|pine|plain|point|port|prairie|radial|ramp|ranch|rapid|rest|ridge|"
    "run|shoal|shore|skyway|spring|spur|station|stravenue|stream|summit|trace|track|tunnel|"
    "turnpike|valley|viaduct|village|ville|vista|well|straße|strasse|str|gasse|weg|platz|allee|damm|ufer|chaussee|"
    "straat|laan|gracht|plein|kade|dijk|steeg|singel|vej|gade|gata|gatan|vägen|väg|veien|gate|"
    "katu|utca|út|útja|körút|tér|ulica|ul|ulice|třída|náměstí|nám|cesta|gürtel|rkp|sokak|caddesi"
)
# Street types written before the name ("rue Descartes", "Calle Mayor 5", "Πλατεία Μαβίλη 170").
_PREFIX_TYPES = (
    "rue|avenue|av|avda|boulevard|bd|chemin|allée|impasse|quai|calle|avenida|carrera|camino|"
    "paseo|via|viale|piazza|corso|largo|vicolo|rua|travessa|praça|alameda|estrada|ulica|ul|"
    "aleja|al|plac|pl|os|odos|οδός|πλατεία|λεωφόρος|улица|ул|проспект|переулок|place|route|"
    "plaza|acceso|pasadizo|pasaje|rambla|travesía|senda|vía|ronda|glorieta|callejón|cuesta|"
    "contrada|strada|borgo|piazzale"
)
# Prefix words that are also everyday words ("via email", "in the first place"): need a number.
_AMBIGUOUS_PREFIX = frozenset(
    {"via", "place", "route", "plaza", "av", "al", "ul", "bd", "pl", "os", "ronda", "cuesta"}
)
# Street words glued to the name ("Nassaustraat", "Ziegelgasse", "aðalgata").
_GLUED = (
    r"(?:straße|strasse|straat|gasse|weg|platz|allee|damm|ufer|laan|gracht|plein|kade|dijk|"
    r"steeg|singel|vej|gade|gata|gatan|vägen|veien|katu|utca|ulica|gate)"
)

_W = r"[^\W\d_][\w'’.-]*"  # a word of letters (any script), may carry ' . -
_NUM = r"(?<![\d.])\d{1,5}[a-zA-Z]?(?:[/-]\d{1,4})?(?![.\d]\d)"
_NUMS = rf"(?:{_NUM}[ \t]+){{0,2}}"

_CORE_SUFFIX = re.compile(
    rf"(?i)\b{_NUMS}{_NUM}[ \t]+(?:{_W}[ \t]+){{1,4}}(?:{_SUFFIX_TYPES})s?\b\.?(?:[ \t]+{_NUM}\b)?"
)
_CORE_PREFIX = re.compile(
    rf"(?i)(?:\b{_NUMS}{_NUM}[ \t,]+)?\b(?P<type>{_PREFIX_TYPES})\.?[ \t]+{_W}(?:[ \t]+{_W}){{0,4}}"
    rf"(?:[ \t,]+(?P<num>{_NUM})\b)?"
)
_CORE_GLUED = re.compile(
    rf"(?i)(?:\b{_NUMS}{_NUM}[ \t]+)?(?:\b{_W}[ \t]+){{0,3}}(?:\b[^\W\d_]+{_GLUED}|\b(?:{_SUFFIX_TYPES}))"
    rf"\.?[ \t]+{_NUM}\b\.?"
)
_CORE_CONTEXT = re.compile(
    rf"(?:{_NUMS}{_NUM}[ \t]+)?{_W}(?:[ \t]+{_W}){{0,3}}[ \t]+{_NUM}\b\.?"
    rf"|{_NUMS}{_NUM}[ \t]+{_W}(?:[ \t]+{_W}){{0,3}}"
)
# What may stand between a context phrase and the address ("address is", "lives at", "to").
_FILLER = re.compile(
    r"(?i)(?:[ \t]*(?::|,|-|\bis\b|\bare\b|\bwas\b|\bwith\b|\bto\b|\bat\b|\bon\b|\bin\b|"
    r"\bit\b|\bhere\b|\bthey\b|\bhis\b|\bher\b|\bmy\b|\bour\b|\bthe\b|\bnow\b)[ \t]*)*\s*"
)
_STREET_LINE = re.compile(
    rf"^[ \t]*(?:{_NUM}[ \t]+){{0,3}}{_W}(?:[ \t]+{_W}){{0,4}}[ \t]+{_NUM}\.?[ \t]*$"
    rf"|^[ \t]*(?:{_NUM}[ \t]+){{1,3}}{_W}(?:[ \t]+{_W}){{0,4}}[ \t]*$"
)
_CONTEXT = re.compile(
    r"(?i)\b(?:address(?:es)?|addr|lives?|lived|living|located|locate|reside[sd]?|residence|"
    r"return(?:ed)? to|ship(?:ped|ping)? to|send (?:it |them )?to|deliver(?:ed|y)? to|mail(?:ed|ing)? "
    r"to|moved? to|based at|visit (?:us|me) at|billing|shipping|postal|home|office at|find us at)"
    r"\b"
)
_UNIT = re.compile(
    r"(?i)[ \t]*[,.]?[ \t]*\b(?:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|bldg|building|"
    r"no|nr|box|po box|p\.o\. box|studio|piso|puerta|étage|app|appt|whg)\b\.?[ \t]*#?[ \t]*"
    r"\w{1,6}\b|[ \t]*,?[ \t]*#[ \t]*\d{1,5}\b"
)
_POSTAL = (
    r"\d{4,6}(?:-\d{3,4})?|\d{2}-\d{3}|\d{3}[ \t]\d{2}|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|"
    r"[A-Z]\d[A-Z][ \t]?\d[A-Z]\d|\d{4}[ \t]?[A-Z]{2}"
)
_POSTAL_RE = re.compile(rf"^(?:{_POSTAL})$")
_CONNECTORS = frozenset(
    """
    and of de la le les el du des del da di do dos das van von der den y e am an im sur
    upon on the nad pod na nach bei sous lès
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_MAX_EXTRA_LINES = 5
# A line starting with one of these is a letter's sign-off or greeting, not an address line.
_NOT_ADDRESS_LINE_START = frozenset(
    """
    thanks thank regards best cheers sincerely yours hi hello dear kind warm love please
    sent from
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


def _token_ok(token: str, allow_lower: bool) -> bool:
    bare = token.strip("(),.;")
    if not bare:
        return token in {",", "(", ")"}
    if _POSTAL_RE.match(bare) or re.fullmatch(r"\d{1,6}", bare):
        return True
    if bare.lower() == "nan":  # an empty field written out by a spreadsheet
        return True
    if not any(c.isalpha() for c in bare):
        return False
    if bare.isupper() and len(bare) >= 2:
        return True  # region and postal codes ("AM", "OR", "JN") even where a word is a stop word
    if bare.lower() in stop_words():
        return False
    if bare.endswith(":") or ":" in bare:
        return False
    return bare[:1].isupper() or bare.isupper() or allow_lower


def _extend_on_line(text: str, pos: int, line_end: int, allow_lower: bool) -> int:
    """Absorb a unit, then city / region / postal code / country tokens on the same line."""
    m = _UNIT.match(text, pos, line_end)
    if m:
        pos = m.end()
    end = pos
    for m in re.finditer(r"[ \t]*,?[ \t]*(\S+)", text[pos:line_end]):
        token = m.group(1)
        bare = token.strip("(),.;")
        if bare in _CONNECTORS and not token.endswith((",", ".")):
            continue
        if token.endswith(":") or not _token_ok(token.rstrip("?!"), allow_lower):
            break
        end = pos + m.start(1) + len(token.rstrip(",.;?!"))
        if token.endswith(("?", "!")):
            break
        if token.endswith(".") and not re.fullmatch(r"\w{1,3}\.", token):
            break  # a full stop after a word ends the sentence
    return end


def _line_is_address_part(line: str, allow_lower: bool) -> int:
    """How many characters of a following line belong to the address (0 = none)."""
    stripped = line.strip()
    if not stripped:
        return 0
    first_word = stripped.split()[0].strip(",.!?").lower()
    if stripped.endswith(("!", "?")) or first_word in _NOT_ADDRESS_LINE_START:
        return 0
    if ":" in stripped.split()[0] or re.match(
        r"(?i)\W*(?:tel|phone|mobile|cell|fax|email|e-mail|web)\b", stripped
    ):
        return 0
    lead = len(line) - len(line.lstrip(" \t?*>-•·"))
    body = line[lead:]
    unit = _UNIT.match(body)
    if unit and unit.start() == 0 and unit.end() == len(body.rstrip()):
        return lead + unit.end()
    end = 0
    count = 0
    before_connector = 0
    letters = False
    for m in re.finditer(r"[ \t]*,?[ \t]*(\S+)", body):
        token = m.group(1)
        bare = token.strip("(),.;")
        if bare in _CONNECTORS and count:
            before_connector = before_connector or end
            continue
        if not _token_ok(token, allow_lower):
            break
        count += 1
        letters = letters or any(c.isalpha() for c in bare)
        end = m.start(1) + len(token.rstrip(",.;"))
        if count > 6:
            return lead + before_connector if before_connector else 0
    if not count or (not letters and not (count == 1 and _POSTAL_RE.match(body[:end].strip(" ,")))):
        return 0
    return lead + end


class StreetAddressRecognizer(LocalRecognizer):
    """Street addresses with their unit, city, region, postal code and country.

    Cores (pattern names in findings): ``number-street-type`` ("1755 Nelson Mandela Drive"),
    ``street-type-first`` ("48 rue Descartes"), ``glued-street`` ("Nassaustraat 123"),
    ``address-context`` (any "Words 12" right after "address", "lives at", "return to"...),
    ``street-line`` (a "12 Word Word" / "Word Word 12" line followed by a unit or postal code
    line). Each is extended over the rest of its line and up to five following short lines of
    city, region, postal code, country (or a spreadsheet's "nan"), skipping one blank line.
    Score 0.6, 0.75 with an address context word in the 48 characters before.
    """

    name: str

    BASE_SCORE = 0.6
    CONTEXT_SCORE = 0.75

    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], supported_language="en",
                         name="StreetAddressRecognizer")  # fmt: skip

    def load(self) -> None:
        stop_words()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "STREET_ADDRESS" not in entities or not any(c.isdigit() for c in text):
            return []
        cores: list[tuple[int, int, str]] = []
        for m in _CORE_SUFFIX.finditer(text):
            if _street_words_ok(m.group(), require_cap=False):
                cores.append((m.start(), m.end(), "number-street-type"))
        for m in _CORE_PREFIX.finditer(text):
            kind = m.group("type").lower()
            has_number = m.group("num") is not None or re.match(r"\s*\d", m.group()) is not None
            if kind in _AMBIGUOUS_PREFIX and not has_number:
                continue
            after = _PARTICLES_AHEAD.sub("", text[m.end("type") :].lstrip(" \t."), count=1)
            if not text.islower() and not after[:1].isupper():
                continue  # "via email", "place an order": a street name is capitalised
            if not has_number and not (
                _has_context(text, m.start()) or _postal_follows(text, m.end())
            ):
                continue
            cores.append((m.start(), m.end(), "street-type-first"))
        for m in _CORE_GLUED.finditer(text):
            cores.append((_drop_prose_words(text, m.start(), m.end()), m.end(), "glued-street"))
        for c in _CONTEXT.finditer(text):
            filler = _FILLER.match(text, c.end())
            pos = filler.end() if filler else c.end()
            found = _CORE_CONTEXT.match(text, pos)
            if found and _street_words_ok(found.group(), require_cap=not text.islower()):
                cores.append((found.start(), found.end(), "address-context"))
        cores.extend(_street_lines(text))
        results = []
        for start, end, rule in _merge(cores):
            start, end = _trim_span(text, start, end)
            if end <= start:
                continue
            end = _extend(
                text, end, allow_lower=text[start:end].islower() or rule != "address-context"
            )
            score = self.CONTEXT_SCORE if _has_context(text, start) else self.BASE_SCORE
            results.append(make_result("STREET_ADDRESS", start, end, score, self.name, rule))
        return _merge_results(results)


def _drop_prose_words(text: str, start: int, end: int) -> int:
    """Move `start` past leading words that are prose, not street name ("lives on", "the")."""
    stops = stop_words()
    words = list(re.finditer(r"\S+", text[start:end]))
    keep_from = 0
    for i, w in enumerate(words[:-2]):
        token = w.group()
        if token.lower() in stops or (token[:1].islower() and not text[start:end].islower()):
            keep_from = i + 1
    return start + words[keep_from].start() if words else start


_PARTICLES_AHEAD = re.compile(r"^(?:(?:de|du|des|la|le|del|della|di|do|da|dos|das|van|von)[ \t]+)+")


def _postal_follows(text: str, end: int) -> bool:
    """Whether a postal code stands on the rest of the line or the next two lines."""
    window = "\n".join(text[end:].split("\n")[:3])
    return bool(re.search(rf"(?<![\w-])(?:{_POSTAL})(?![\w-])", window))


def _street_words_ok(core: str, *, require_cap: bool) -> bool:
    words = re.findall(r"\b[^\W\d_][\w'’-]*", core)
    if not words:
        return False
    stops = stop_words()
    # "10 of the best way" is prose: street names have few stop words.
    if sum(w.lower() in stops for w in words) > max(0, len(words) // 3):
        return False
    return not require_cap or all(w[:1].isupper() for w in words)


def _has_context(text: str, start: int, window: int = 48) -> bool:
    return bool(_CONTEXT.search(text, max(0, start - window), start))


def _street_lines(text: str) -> list[tuple[int, int, str]]:
    out = []
    lines = list(re.finditer(r"[^\n]+", text))  # the non-empty lines
    for i, m in enumerate(lines):
        line = m.group()
        body_start = len(line) - len(line.lstrip(" \t?*>-•·"))
        unit = _UNIT.match(line[body_start:])
        if (
            unit
            and unit.start() == 0
            and line[body_start:].strip()
            and not line[body_start + unit.end() :].strip()
        ):
            # "Flat 3" / "Studio 29" on its own line, then street and postal code lines.
            ahead = [ln.group() for ln in lines[i + 1 : i + 4] if ln.group().strip()]
            if any(re.search(rf"(?<![\w-])(?:{_POSTAL})(?![\w-])", f) for f in ahead[:3]):
                out.append((m.start() + body_start, m.end(), "unit-line"))
            continue
        if not _STREET_LINE.match(line[body_start:]) or not _street_words_ok(
            line, require_cap=True
        ):
            continue
        following = [ln.group() for ln in lines[i + 1 : i + 4] if ln.group().strip()]
        if any(_UNIT.match(f.strip()) or re.search(rf"(?<![\w-])(?:{_POSTAL})(?![\w-])", f)
               for f in following[:3]):  # fmt: skip
            out.append((m.start() + body_start, m.end(), "street-line"))
    return out


def _trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t,.;":
        start += 1
    while end > start and text[end - 1] in " \t,;":
        end -= 1
    return start, end


def _merge(cores: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    cores.sort(key=lambda c: (c[0], -c[1]))
    merged: list[tuple[int, int, str]] = []
    for start, end, rule in cores:
        if merged and start <= merged[-1][1]:
            s, e, r = merged[-1]
            merged[-1] = (s, max(e, end), r)
        else:
            merged.append((start, end, rule))
    return merged


def _extend(text: str, end: int, *, allow_lower: bool) -> int:
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    end = _extend_on_line(text, end, line_end, allow_lower)
    if end < line_end and text[end:line_end].strip(" \t,.;"):
        return end  # the line goes on with something else: the address ended here
    pos = line_end
    blank = 0
    for _ in range(_MAX_EXTRA_LINES + 1):
        if pos >= len(text):
            break
        nxt = text.find("\n", pos + 1)
        nxt = len(text) if nxt < 0 else nxt
        line = text[pos + 1 : nxt]
        if not line.strip():
            blank += 1
            if blank > 1:
                break
            pos = nxt
            continue
        taken = _line_is_address_part(line, allow_lower)
        if not taken:
            break
        end = pos + 1 + taken
        if taken < len(line.rstrip()):
            break
        pos = nxt
    return end


def _merge_results(results: list[RecognizerResult]) -> list[RecognizerResult]:
    results.sort(key=lambda r: (r.start, -r.end))
    out: list[RecognizerResult] = []
    for r in results:
        if out and r.start <= out[-1].end:
            last = out[-1]
            last.end = max(last.end, r.end)
            last.score = max(last.score, r.score)
        else:
            out.append(r)
    return out


_POSTAL_CONTEXT = re.compile(
    r"(?i)\b(?:zip|zip ?code|postal ?code|post ?code|postcode|plz|cep)\b[ \t:#.-]*$"
)


class PostalCodeRecognizer(LocalRecognizer):
    """A postal code right after "ZIP:", "postal code", "postcode": part of an address."""

    name: str

    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], supported_language="en",
                         name="PostalCodeRecognizer")  # fmt: skip

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "STREET_ADDRESS" not in entities:
            return []
        out = []
        for m in re.finditer(rf"(?<![\w-])(?:{_POSTAL})(?![\w-])", text):
            if _POSTAL_CONTEXT.search(text, max(0, m.start() - 20), m.start()):
                out.append(make_result("STREET_ADDRESS", m.start(), m.end(), 0.6, self.name,
                                       "postal-code-context"))  # fmt: skip
        return out
