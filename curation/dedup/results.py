"""Result types shared by every dedup method: clusters, contamination hits, stage stats.

All are plain dataclasses with `to_dict` / `from_dict`, so the store and pages can save them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from curation.progress import ProgressFn, report

__all__ = ["Cluster", "ContaminationHit", "DedupResult", "ProgressFn", "StageRecorder"]


@dataclass(slots=True)
class Cluster:
    """One group of duplicates.

    Attributes
    ----------
    members:
        Indices into the input texts, ascending, at least two.
    pairs:
        ``(i, j, similarity)`` with ``i < j`` for the member pairs that were compared and kept
        (exact: 1.0; near: Jaccard; semantic: cosine). Together they connect all members.
    """

    members: list[int]
    pairs: list[tuple[int, int, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"members": list(self.members), "pairs": [list(p) for p in self.pairs]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cluster:
        return cls(
            members=[int(m) for m in data["members"]],
            pairs=[(int(i), int(j), float(s)) for i, j, s in data.get("pairs", [])],
        )


@dataclass(slots=True)
class DedupResult:
    """What `cluster_duplicates` found, with enough context to show and save it.

    Attributes
    ----------
    clusters:
        Largest first, then by first member.
    method:
        ``"exact"``, ``"near"`` or ``"semantic"``.
    threshold:
        The similarity threshold used (None for exact).
    backend:
        What computed the similarities, e.g. ``"minhash-numpy"`` or ``"tfidf-char-fallback"``.
    stats:
        ``{"counts": {name: int}, "seconds": {stage: float}, "params": {...}}``.
    same_prompt:
        "Same prompt, different answers": groups of conversations whose prompts (system and
        user parts) are duplicates but whose answers are not all duplicates of each other.
        A different finding from a duplicate, never removed by a keep policy; found only when
        prompts and answers were compared apart (`cluster_conversations`).
    """

    clusters: list[Cluster]
    method: str
    threshold: float | None
    backend: str
    stats: dict[str, Any] = field(default_factory=dict)
    same_prompt: list[Cluster] = field(default_factory=list)

    def groups(self) -> list[list[int]]:
        """The clusters as plain index lists (what `find_duplicate_clusters` returns)."""
        return [list(c.members) for c in self.clusters]

    def to_dict(self) -> dict[str, Any]:
        return {
            "clusters": [c.to_dict() for c in self.clusters],
            "method": self.method,
            "threshold": self.threshold,
            "backend": self.backend,
            "stats": self.stats,
            "same_prompt": [c.to_dict() for c in self.same_prompt],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DedupResult:
        threshold = data.get("threshold")
        return cls(
            clusters=[Cluster.from_dict(c) for c in data["clusters"]],
            method=str(data["method"]),
            threshold=None if threshold is None else float(threshold),
            backend=str(data["backend"]),
            stats=dict(data.get("stats") or {}),
            same_prompt=[Cluster.from_dict(c) for c in data.get("same_prompt") or []],
        )


@dataclass(slots=True)
class ContaminationHit:
    """An example that duplicates a reference item (for instance an eval benchmark's prompt).

    Attributes
    ----------
    index:
        Index into the checked texts.
    reference_index:
        Index into the reference texts.
    similarity:
        1.0 for exact, Jaccard for near.
    method:
        ``"exact"`` or ``"near"``.
    """

    index: int
    reference_index: int
    similarity: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "reference_index": self.reference_index,
            "similarity": self.similarity,
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContaminationHit:
        return cls(
            index=int(data["index"]),
            reference_index=int(data["reference_index"]),
            similarity=float(data["similarity"]),
            method=str(data["method"]),
        )


class StageRecorder:
    """Times stages, keeps counts and reports a `ProgressUpdate` per stage to the caller's `progress`.

    Each stage is reported at its start (``done=0``), in between and at its end (``done=total``).
    """

    def __init__(self, progress: ProgressFn | None = None, *, prefix: str = "") -> None:
        self._progress = progress
        self._prefix = prefix  # shown before each stage name in progress reports
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.params: dict[str, Any] = {}
        self._stage: str | None = None
        self._started = 0.0

    def start(self, stage: str, total: int) -> None:
        """Begin `stage` (ending the previous one) and report ``(stage, 0, total)``."""
        self.end()
        self._stage = stage
        self._started = time.perf_counter()
        self.report(0, total)

    def report(self, done: int, total: int) -> None:
        """Report progress within the current stage."""
        if self._stage is not None:
            report(self._progress, self._prefix + self._stage, int(done), int(total))

    def finish(self, total: int) -> None:
        """Report the current stage complete and stop its clock."""
        self.report(total, total)
        self.end()

    def end(self) -> None:
        if self._stage is not None:
            elapsed = time.perf_counter() - self._started
            self.seconds[self._stage] = self.seconds.get(self._stage, 0.0) + elapsed
            self._stage = None

    def stats(self) -> dict[str, Any]:
        """The serialisable stats dict (counts, seconds per stage, params)."""
        self.end()
        return {
            "counts": dict(self.counts),
            "seconds": {k: round(v, 6) for k, v in self.seconds.items()},
            "params": dict(self.params),
        }
