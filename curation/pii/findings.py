"""What a scan finds: `Finding` (positions, type, score, recognizer; never the raw value).

Findings are frozen, plain and serialisable, so the store can persist them and the cache can
key them by the sha256 of the text they were found in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

__all__ = ["Finding", "text_sha256"]


def text_sha256(text: str) -> str:
    """Hex sha256 of the UTF-8 text: the key findings, caches and replacements refer to."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of personal data found in a text.

    A finding carries positions and how it was found, never the characters it covers: the text
    stays in the store, the finding can go into reports, events and job records as it is.

    Attributes
    ----------
    start, end:
        Character offsets into the scanned text (``text[start:end]`` is the span).
    entity_type:
        What kind of data it is, e.g. ``"PERSON"``, ``"EMAIL_ADDRESS"``, ``"STREET_ADDRESS"``.
    score:
        Confidence in [0, 1] (presidio's scale: 0.85 for NER, 1.0 for checksum-valid numbers).
    recognizer:
        Name of the recognizer that found it (``"SpacyNerRecognizer"``, ``"SecretRecognizer"``...).
    text_sha256:
        sha256 of the whole scanned text: a finding applies to that exact text only.
    pattern:
        The pattern or rule that matched (e.g. ``"github-token"``, ``"greeting"``), when known.
    """

    start: int
    end: int
    entity_type: str
    score: float
    recognizer: str
    text_sha256: str
    pattern: str | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.start < self.end):
            raise ValueError(
                f"a finding needs 0 <= start < end, not start={self.start!r}, end={self.end!r}"
            )
        if not 0.0 <= float(self.score) <= 1.0:
            raise ValueError(f"score must be in [0, 1], not {self.score!r}")
        if not self.entity_type:
            raise ValueError("entity_type must be a non-empty string")

    @property
    def id(self) -> str:
        """Stable id of this finding: the same span of the same text always gets the same id."""
        key = f"{self.text_sha256}:{self.start}:{self.end}:{self.entity_type}"
        return hashlib.sha256(key.encode()).hexdigest()[:20]

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (no raw text), what the store and the cache keep."""
        out: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "entity_type": self.entity_type,
            "score": round(float(self.score), 4),
            "recognizer": self.recognizer,
            "text_sha256": self.text_sha256,
        }
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            start=int(data["start"]),
            end=int(data["end"]),
            entity_type=str(data["entity_type"]),
            score=float(data["score"]),
            recognizer=str(data["recognizer"]),
            text_sha256=str(data["text_sha256"]),
            pattern=None if data.get("pattern") is None else str(data["pattern"]),
        )
