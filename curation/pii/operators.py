"""Scrubbing: apply accepted findings to a text with one operator per entity type.

Operators: typed placeholder, numbered placeholder (consistent per value across a dataset),
mask, keyed hash (HMAC) and Faker surrogates. The record of what was replaced holds types,
positions and keyed hashes only, never the replaced values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from curation.errors import PiiConfigError
from curation.pii.config import OPERATORS
from curation.pii.findings import Finding, text_sha256
from curation.pii.surrogates import make_surrogate

__all__ = [
    "OPERATORS",
    "ReplacementMap",
    "Replacement",
    "ScrubConfig",
    "ScrubResult",
    "Scrubber",
    "keyed_hash",
    "new_project_secret",
    "normalise_value",
    "placeholder_spans",
]

MIN_SECRET_BYTES = 16
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*?(?:_\d+)?>")


def new_project_secret() -> str:
    """A fresh 256-bit secret (hex) for a project's keyed hashes."""
    return secrets.token_hex(32)


def _secret_bytes(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if len(key) < MIN_SECRET_BYTES:
        raise PiiConfigError(
            f"the project secret must have at least {MIN_SECRET_BYTES} bytes, not {len(key)}: "
            "make one with curation.pii.new_project_secret()"
        )
    return key


def normalise_value(entity_type: str, value: str) -> str:
    """The form two writings of one value share ("(555) 123-4567" = "555 123 4567")."""
    value = unicodedata.normalize("NFKC", value)
    if entity_type in {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_BANK_NUMBER",
                       "US_ITIN", "US_PASSPORT", "US_DRIVER_LICENSE", "UK_NHS"}:  # fmt: skip
        return "".join(c for c in value if c.isalnum()).upper()
    value = " ".join(value.split()).casefold()
    if entity_type in {"PERSON", "LOCATION", "STREET_ADDRESS", "ORGANIZATION"}:
        value = value.strip(" .,;:'\"()")
    return value


def keyed_hash(secret: str | bytes, entity_type: str, value: str) -> str:
    """HMAC-SHA256 of the normalised value under the project secret (hex).

    Without the secret nobody can test guesses (every SSN, a names list) against it.
    """
    message = f"{entity_type}\x1f{normalise_value(entity_type, value)}".encode()
    return hmac.new(_secret_bytes(secret), message, hashlib.sha256).hexdigest()


def _json_inert(value: str) -> str:
    """`value` without what a JSON string must escape: line breaks, quotes, backslashes."""
    value = re.sub(r"\s*[\r\n]+\s*", ", ", value)
    return "".join(" " if c < " " else c for c in value if c not in '"\\')


def placeholder_spans(text: str) -> list[tuple[int, int]]:
    """Where the scrubber's placeholders (``<PERSON>``, ``<EMAIL_ADDRESS_2>``) are in `text`."""
    return [m.span() for m in _PLACEHOLDER.finditer(text)]


@dataclass(frozen=True, slots=True)
class ScrubConfig:
    """How findings are replaced.

    Attributes
    ----------
    operator:
        Default operator, one of `OPERATORS`:
        ``placeholder`` -> ``<PERSON>``; ``numbered`` -> ``<PERSON_1>``, the same number for
        the same value everywhere the `ReplacementMap` is used; ``mask`` -> ``*****``;
        ``hash`` -> ``<PERSON:3f9a...>`` (keyed HMAC, `hash_length` hex digits); ``fake`` ->
        a Faker surrogate of the same kind, the same for the same value.
    per_entity:
        ``{entity_type: operator}`` overrides (e.g. mask cards, fake names).
    mask_char:
        Character the mask writes.
    keep_last:
        Mask leaves this many last characters (0 = mask all; 4 keeps a card's last digits,
        which then stay in the text by choice).
    hash_length:
        Hex digits of the keyed hash shown in the text (8-64).
    """

    operator: str = "placeholder"
    per_entity: tuple[tuple[str, str], ...] = ()
    mask_char: str = "*"
    keep_last: int = 0
    hash_length: int = 12

    def __post_init__(self) -> None:
        per = self.per_entity
        if isinstance(per, dict):
            object.__setattr__(self, "per_entity", tuple(sorted(per.items())))
        for name in [self.operator, *(op for _, op in self.per_entity)]:
            if name not in OPERATORS:
                raise PiiConfigError(f"unknown operator {name!r}; choose from {list(OPERATORS)}")
        if not isinstance(self.mask_char, str) or len(self.mask_char) != 1:
            raise PiiConfigError(f"mask_char must be one character, not {self.mask_char!r}")
        if (
            isinstance(self.keep_last, bool)
            or not isinstance(self.keep_last, int)
            or self.keep_last < 0
        ):
            raise PiiConfigError(f"keep_last must be an integer >= 0, not {self.keep_last!r}")
        if not isinstance(self.hash_length, int) or not 8 <= self.hash_length <= 64:
            raise PiiConfigError(
                f"hash_length must be an integer in [8, 64], not {self.hash_length!r}"
            )

    def operator_for(self, entity_type: str) -> str:
        return dict(self.per_entity).get(entity_type, self.operator)


@dataclass
class ReplacementMap:
    """Which number or surrogate each value got, keyed by its keyed hash (no raw values).

    Keep one per project and pass it to every `Scrubber` so ``<PERSON_1>`` is the same person
    in every example and every turn; `to_dict` / `from_dict` persist it.
    """

    numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    surrogates: dict[str, dict[str, str]] = field(default_factory=dict)

    def number(self, entity_type: str, value_hash: str) -> int:
        table = self.numbers.setdefault(entity_type, {})
        if value_hash not in table:
            table[value_hash] = len(table) + 1
        return table[value_hash]

    def surrogate(self, entity_type: str, value_hash: str, original: str) -> str:
        table = self.surrogates.setdefault(entity_type, {})
        if value_hash in table:
            return table[value_hash]
        used = set(table.values())
        base = int(value_hash[:16], 16)
        for attempt in range(50):
            candidate = make_surrogate(entity_type, original, base + attempt)
            same = normalise_value(entity_type, candidate) == normalise_value(entity_type, original)
            if candidate not in used and not same:
                break
        table[value_hash] = candidate
        return candidate

    def to_dict(self) -> dict[str, Any]:
        return {"numbers": self.numbers, "surrogates": self.surrogates}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplacementMap:
        return cls(
            numbers={
                t: {h: int(n) for h, n in v.items()} for t, v in data.get("numbers", {}).items()
            },
            surrogates={t: dict(v) for t, v in data.get("surrogates", {}).items()},
        )


@dataclass(frozen=True, slots=True)
class Replacement:
    """One replaced span, as the store records it: no raw value.

    Attributes
    ----------
    start, end:
        The span in the original text.
    new_start, new_end:
        Where its replacement is in the scrubbed text.
    entity_type, operator:
        What was replaced and how.
    value_hash:
        Keyed hash of the replaced value (the same value gives the same hash in a project).
    finding_ids:
        The findings this replacement applied (overlapping findings become one replacement).
    """

    start: int
    end: int
    new_start: int
    new_end: int
    entity_type: str
    operator: str
    value_hash: str
    finding_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "new_start": self.new_start,
            "new_end": self.new_end,
            "entity_type": self.entity_type,
            "operator": self.operator,
            "value_hash": self.value_hash,
            "finding_ids": list(self.finding_ids),
        }


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """A scrubbed text and the record of its replacements.

    `text` is the new text (what a revision stores); `record()` is what may go into events,
    reports and job records: hashes, types and positions only.
    """

    text: str
    replacements: tuple[Replacement, ...]
    original_sha256: str

    def record(self) -> dict[str, Any]:
        return {
            "original_sha256": self.original_sha256,
            "scrubbed_sha256": text_sha256(self.text),
            "replacements": [r.to_dict() for r in self.replacements],
        }


def _regions(findings: Sequence[Finding]) -> list[tuple[int, int, str, list[Finding]]]:
    """Overlapping findings merged into one region, typed by the strongest (then longest)."""
    regions: list[tuple[int, int, str, list[Finding]]] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if regions and f.start < regions[-1][1]:
            s, e, _, members = regions[-1]
            members.append(f)
            best = max(members, key=lambda m: (m.score, m.length))
            regions[-1] = (s, max(e, f.end), best.entity_type, members)
        else:
            regions.append((f.start, f.end, f.entity_type, [f]))
    return regions


class Scrubber:
    """Applies findings to texts with the configured operators.

    Parameters
    ----------
    secret:
        The project's secret (>= 16 bytes) for keyed hashes, numbering and surrogates.
    config:
        Operators per entity type.
    mapping:
        The project's `ReplacementMap`; a new one when None (keep `scrubber.mapping`).
    """

    def __init__(
        self,
        secret: str | bytes,
        *,
        config: ScrubConfig | None = None,
        mapping: ReplacementMap | None = None,
    ) -> None:
        self._secret = _secret_bytes(secret)
        self.config = config or ScrubConfig()
        self.mapping = mapping if mapping is not None else ReplacementMap()
        self._engine = AnonymizerEngine()

    def _replacement(self, entity_type: str, value: str, value_hash: str) -> str:
        op = self.config.operator_for(entity_type)
        if op == "placeholder":
            return f"<{entity_type}>"
        if op == "numbered":
            return f"<{entity_type}_{self.mapping.number(entity_type, value_hash)}>"
        if op == "hash":
            return f"<{entity_type}:{value_hash[: self.config.hash_length]}>"
        if op == "fake":
            return self.mapping.surrogate(entity_type, value_hash, value)
        keep = min(self.config.keep_last, max(0, len(value) - 1))
        return self.config.mask_char * (len(value) - keep) + value[len(value) - keep :]

    def apply(
        self, text: str, findings: Sequence[Finding], *, json_string: bool = False
    ) -> ScrubResult:
        """Replace every finding's span in `text`.

        Parameters
        ----------
        text, findings:
            The text and its accepted findings (made on this exact text).
        json_string:
            `text` is JSON (tool calls, whose arguments are JSON inside JSON): replacements are
            written without characters JSON would have to escape (a surrogate address's line
            break becomes ", "), so the text stays valid JSON at any nesting depth.

        Raises
        ------
        PiiConfigError
            A finding was made on another text (its ``text_sha256`` differs) or lies outside it.
        """
        digest = text_sha256(text)
        for f in findings:
            if f.text_sha256 != digest:
                raise PiiConfigError(
                    f"finding {f.id} was made on another version of this text; scan it again"
                )
            if f.end > len(text):
                raise PiiConfigError(f"finding {f.id} ends at {f.end}, past the text's {len(text)}")
        regions = _regions(findings)
        if not regions:
            return ScrubResult(text=text, replacements=(), original_sha256=digest)
        hashes = [keyed_hash(self._secret, t, text[s:e]) for s, e, t, _ in regions]
        values = {}
        analyzer_results = []
        operators = {}
        for i, ((s, e, t, _), h) in enumerate(zip(regions, hashes, strict=True)):
            # One pseudo entity type per region, so presidio applies exactly our value.
            key = f"R{i}"
            values[key] = self._replacement(t, text[s:e], h)
            if json_string:
                values[key] = _json_inert(values[key])
            analyzer_results.append(RecognizerResult(entity_type=key, start=s, end=e, score=1.0))
            operators[key] = OperatorConfig("replace", {"new_value": values[key]})
        result = self._engine.anonymize(
            text=text,
            analyzer_results=analyzer_results,
            operators=operators,
            merge_entities_with_spaces=False,
        )
        items = sorted(result.items, key=lambda it: it.start)
        replacements = []
        for (s, e, t, members), h, item in zip(regions, hashes, items, strict=True):
            replacements.append(
                Replacement(
                    start=s,
                    end=e,
                    new_start=item.start,
                    new_end=item.end,
                    entity_type=t,
                    operator=self.config.operator_for(t),
                    value_hash=h,
                    finding_ids=tuple(m.id for m in members),
                )
            )
        return ScrubResult(
            text=result.text, replacements=tuple(replacements), original_sha256=digest
        )

    def apply_many(
        self, texts: Sequence[str], findings: Sequence[Sequence[Finding]]
    ) -> list[ScrubResult]:
        """`apply` over many texts, in order (numbering follows first appearance)."""
        if len(texts) != len(findings):
            raise PiiConfigError(
                f"{len(texts)} texts but {len(findings)} finding lists: give one list per text"
            )
        return [self.apply(t, fs) for t, fs in zip(texts, findings, strict=True)]
