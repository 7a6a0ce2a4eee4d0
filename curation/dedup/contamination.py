"""Contamination check: which examples duplicate a reference set (an eval benchmark's prompts).

Reuses the exact digests and the near-duplicate LSH pipeline with reference texts appended.
"""

from __future__ import annotations

from curation.dedup.exact import text_digests
from curation.dedup.near import DEFAULT_NEAR_THRESHOLD, NearDedupConfig, near_duplicate_pairs
from curation.dedup.normalise import normalise_all
from curation.dedup.results import ContaminationHit, ProgressFn, StageRecorder

__all__ = ["CONTAMINATION_METHODS", "find_contamination"]

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
        Optional ``progress(stage, done, total)``.
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
