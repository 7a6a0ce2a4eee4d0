"""The findings cache: plain findings keyed by sha256 of the text and the config hash.

A re-scan looks every text up first and scans only what changed; `to_dict` / `from_dict` give
the JSON shape the store persists (no raw text: keys are hashes, values are findings).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from curation.pii.findings import Finding

__all__ = ["FindingCache"]


class FindingCache:
    """Findings per (text sha256, config hash). Safe to share between configurations."""

    def __init__(self, entries: dict[str, list[Finding]] | None = None) -> None:
        self._entries: dict[str, list[Finding]] = dict(entries or {})
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(text_hash: str, config_hash: str) -> str:
        return f"{config_hash}:{text_hash}"

    def get(self, text_hash: str, config_hash: str) -> list[Finding] | None:
        found = self._entries.get(self.key(text_hash, config_hash))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return list(found)

    def put(self, text_hash: str, config_hash: str, findings: Iterable[Finding]) -> None:
        self._entries[self.key(text_hash, config_hash)] = list(findings)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """JSON-able: ``{"<config hash>:<text sha256>": [finding dicts]}``."""
        return {k: [f.to_dict() for f in v] for k, v in self._entries.items()}

    @classmethod
    def from_dict(cls, data: dict[str, list[dict[str, Any]]]) -> FindingCache:
        return cls({k: [Finding.from_dict(f) for f in v] for k, v in data.items()})
