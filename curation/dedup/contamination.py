"""Contamination check: which examples duplicate a reference set (an eval benchmark's prompts).

Reuses the exact digests and the near-duplicate LSH pipeline with reference texts appended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curation.dedup.exact import text_digests
from curation.dedup.near import DEFAULT_NEAR_THRESHOLD, NearDedupConfig, near_duplicate_pairs
from curation.dedup.normalise import normalise_all
from curation.dedup.results import ContaminationHit, StageRecorder
from curation.errors import InputError
from curation.formats.reference import ReferenceItem, ReferenceSet
from curation.progress import ProgressFn
from curation.records import TEXT_FIELDS, Example

__all__ = [
    "CONTAMINATION_METHODS",
    "ContaminationMatch",
    "example_segments",
    "find_contamination",
    "find_example_contamination",
]

CONTAMINATION_METHODS: tuple[str, ...] = ("exact", "near")


def find_contamination(
    texts: list[str],
    reference_texts: list[str],
    method: str = "exact",
    threshold: float | None = None,
    *,
    progress: ProgressFn | None = None,
    config: NearDedupConfig | None = None,
) -> list[ContaminationHit]:
    """Flag texts that are exact or near duplicates of any reference text.

    Parameters
    ----------
    texts:
        The examples' texts (see `texts_for`).
    reference_texts:
        Texts that must not leak into training data, e.g. an eval set's prompts.
    method:
        ``"exact"`` (equal after normalisation) or ``"near"`` (shingle Jaccard >= threshold).
    threshold:
        Jaccard threshold for near; default the near default (0.7). Ignored by exact.
    progress:
        Optional `curation.progress.ProgressFn`, sent a `ProgressUpdate` per stage step.
    config:
        Full near settings; `threshold`, when given, overrides its threshold.

    Returns
    -------
    list[ContaminationHit]
        One hit per (text, reference) pair, sorted by text index, then highest similarity,
        then reference index.
    """
    if method not in CONTAMINATION_METHODS:
        raise ValueError(f"method must be one of {CONTAMINATION_METHODS}, not {method!r}")
    recorder = StageRecorder(progress)
    hits: list[ContaminationHit] = []
    if not texts or not reference_texts:
        return hits
    if method == "exact":
        recorder.start("normalise", len(texts) + len(reference_texts))
        ref_digests = text_digests(normalise_all(reference_texts))
        digests = text_digests(normalise_all(texts))
        recorder.finish(len(texts) + len(reference_texts))
        recorder.start("match", len(texts))
        where: dict[bytes, list[int]] = {}
        for r, d in enumerate(ref_digests):
            where.setdefault(d, []).append(r)
        for i, d in enumerate(digests):
            hits.extend(ContaminationHit(i, r, 1.0, "exact") for r in where.get(d, []))
        recorder.finish(len(texts))
        return hits
    base = config or NearDedupConfig()
    if threshold is not None:
        base = NearDedupConfig(**{**base.to_dict(), "threshold": float(threshold)})  # type: ignore[arg-type]
    elif config is None:
        base = NearDedupConfig(threshold=DEFAULT_NEAR_THRESHOLD)
    split = len(texts)
    pairs, sims = near_duplicate_pairs(
        list(texts) + list(reference_texts), base, recorder, split_at=split
    )
    hits = [
        ContaminationHit(int(i), int(j) - split, float(s), "near")
        for (i, j), s in zip(pairs.tolist(), sims.tolist(), strict=True)
    ]
    hits.sort(key=lambda h: (h.index, -h.similarity, h.reference_index))
    return hits


@dataclass(frozen=True, slots=True)
class ContaminationMatch:
    """An example that duplicates a reference item, with both texts for a side-by-side view.

    Attributes
    ----------
    example_id:
        The example's id.
    example_text:
        The example's text in the compared fields (user turns by default).
    reference_text:
        The reference item it matches best.
    similarity:
        1.0 for exact, Jaccard for near.
    method:
        ``"exact"`` or ``"near"``.
    reference_index:
        0-based index of the item in the reference set.
    reference_location:
        Where the item is in the reference file (``"line 1, turn 1"``), when known.
    reference_id:
        The benchmark's own id of the item's record (MT-Bench ``question_id``...), when known.
    example_turn:
        1-based position of the example's message that matched on its own, or None when the
        example's whole text matched.
    n_reference_matches:
        How many reference items the example matches (the best one is shown).
    """

    example_id: str
    example_text: str
    reference_text: str
    similarity: float
    method: str
    reference_index: int
    reference_location: str | None = None
    reference_id: str | None = None
    example_turn: int | None = None
    n_reference_matches: int = 1

    def to_dict(self) -> dict[str, Any]:
        """The contract outside tools read: ``example_id``, ``example_text``,
        ``reference_text``, ``similarity``, plus the other attributes."""
        return {
            "example_id": self.example_id,
            "example_text": self.example_text,
            "reference_text": self.reference_text,
            "similarity": round(self.similarity, 4),
            "method": self.method,
            "reference_index": self.reference_index,
            "reference_location": self.reference_location,
            "reference_id": self.reference_id,
            "example_turn": self.example_turn,
            "n_reference_matches": self.n_reference_matches,
        }


def example_segments(example: Example, fields: str = "user") -> list[tuple[int | None, str]]:
    """The texts of one example that are compared with the reference items.

    The whole text in `fields` (as dedup compares it), and, when the example has several
    turns of those roles, each turn on its own: a training conversation that copies a
    benchmark's first question and adds its own follow-up is still found.

    Returns
    -------
    list of (turn, text)
        ``turn`` is the message's 1-based position, None for the whole text.
    """
    if fields not in TEXT_FIELDS:
        raise ValueError(f"fields must be one of {TEXT_FIELDS}, not {fields!r}")
    roles = {"user": ("user",), "assistant": ("assistant",)}.get(fields)
    turns: list[tuple[int | None, str]] = [
        (k, m.content)
        for k, m in enumerate(example.messages, 1)
        if m.content.strip() and (roles is None or m.role in roles)
    ]
    whole: list[tuple[int | None, str]] = [(None, example.text(fields))]
    return whole + turns if len(turns) > 1 else whole


def find_example_contamination(
    examples: Sequence[Example],
    reference: ReferenceSet | Sequence[str],
    *,
    method: str = "near",
    threshold: float | None = None,
    fields: str = "user",
    progress: ProgressFn | None = None,
) -> list[ContaminationMatch]:
    """Examples that are exact or near duplicates of a reference item, most similar first.

    Parameters
    ----------
    examples:
        The examples to check.
    reference:
        A `ReferenceSet` (from `curation.formats.read_reference`) or plain texts.
    method:
        ``"exact"`` or ``"near"``.
    threshold:
        Jaccard threshold for near (default 0.7); ignored by exact.
    fields:
        Which turns of each example are compared: ``"user"`` (default: the prompts, what a
        benchmark's questions leak into), ``"all"`` or ``"assistant"``. See `example_segments`.
    progress:
        Optional `curation.progress.ProgressFn`, sent a `ProgressUpdate` per stage step.

    Returns
    -------
    list[ContaminationMatch]
        One per contaminated example, with its best-matching reference item.

    Raises
    ------
    InputError
        The reference set is empty: a check against nothing would be a false all-clear.
    """
    items = (
        list(reference.items)
        if isinstance(reference, ReferenceSet)
        else [ReferenceItem(str(t), f"item {k}") for k, t in enumerate(reference, 1)]
    )
    items = [i for i in items if i.text.strip()]
    if not items:
        raise InputError(
            "The reference set holds no text, so nothing can be checked against it: give the "
            "benchmark's prompts (one per line, or records with a question/prompt field)."
        )
    owners: list[tuple[int, int | None]] = []
    segments: list[str] = []
    for e, example in enumerate(examples):
        for turn, text in example_segments(example, fields):
            owners.append((e, turn))
            segments.append(text)
    hits = find_contamination(
        segments, [i.text for i in items], method, threshold, progress=progress
    )
    best: dict[int, tuple[ContaminationHit, int | None]] = {}
    matched: dict[int, set[int]] = {}
    for hit in hits:  # sorted by segment, then highest similarity
        e, turn = owners[hit.index]
        matched.setdefault(e, set()).add(hit.reference_index)
        current = best.get(e)
        if current is None or hit.similarity > current[0].similarity:
            best[e] = (hit, turn)
    out = []
    for e, (hit, turn) in best.items():
        item = items[hit.reference_index]
        out.append(
            ContaminationMatch(
                example_id=examples[e].id,
                example_text=examples[e].text(fields),
                reference_text=item.text,
                similarity=float(hit.similarity),
                method=hit.method,
                reference_index=hit.reference_index,
                reference_location=item.location,
                reference_id=item.ref_id,
                example_turn=turn,
                n_reference_matches=len(matched[e]),
            )
        )
    out.sort(key=lambda m: (-m.similarity, m.example_id))
    return out
