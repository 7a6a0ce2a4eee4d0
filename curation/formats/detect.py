"""Shape detection: which registered shape the first records of a file fit best.

Looks at several records, not one, so a file whose first row is odd is still recognised.
"""

from __future__ import annotations

from typing import Any

from curation.formats.shapes import SHAPE_REGISTRY

SAMPLE_SIZE = 20
MIN_CONFIDENCE = 0.5


def detect_format(records: list[dict[str, Any]]) -> tuple[str, float]:
    """Pick the shape most of the first records fit.

    Parameters
    ----------
    records:
        Records as dicts; only the first ``SAMPLE_SIZE`` dicts are looked at.

    Returns
    -------
    (shape, confidence):
        A name from ``SHAPES`` and the share of sampled records that fit it. When no shape
        fits at least half of them the answer is ``"mapped"`` with the share that fit none.
    """
    sample = [r for r in records[: SAMPLE_SIZE * 5] if isinstance(r, dict)][:SAMPLE_SIZE]
    if not sample:
        return "mapped", 0.0
    best, best_score = "mapped", 0.0
    for spec in sorted(SHAPE_REGISTRY.values(), key=lambda s: s.priority):
        score = sum(1 for r in sample if spec.matches(r)) / len(sample)
        if score > best_score:
            best, best_score = spec.name, score
    if best_score < MIN_CONFIDENCE:
        unmatched = sum(1 for r in sample if not any(s.matches(r) for s in SHAPE_REGISTRY.values()))
        return "mapped", unmatched / len(sample)
    return best, best_score
