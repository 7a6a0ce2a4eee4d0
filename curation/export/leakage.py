"""Train/eval leakage: the most similar cross-split pairs by exact Jaccard over word 5-grams.

Candidates come from one sparse matrix product, so every pair sharing a shingle is scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.errors import ExportError
from curation.records import Example, normalize_text

DEFAULT_LEAKAGE_THRESHOLD = 0.8
SHINGLE_SIZE = 5


@dataclass(frozen=True, slots=True)
class LeakagePair:
    """One train/eval pair and its shingle Jaccard similarity."""

    train_id: str
    eval_id: str
    similarity: float


@dataclass(slots=True)
class LeakageReport:
    """Cross-split similarity found by `leakage_check`.

    Attributes
    ----------
    threshold:
        Pairs at or above this similarity are listed in ``pairs``.
    max_similarity:
        The highest train/eval similarity (0.0 when no pair shares a shingle).
    max_pair:
        The pair reaching it, or None.
    pairs:
        Every pair at or above ``threshold``, most similar first.
    n_train, n_eval:
        Split sizes checked.
    method:
        How similarity was measured.
    """

    threshold: float
    max_similarity: float = 0.0
    max_pair: LeakagePair | None = None
    pairs: list[LeakagePair] = field(default_factory=list)
    n_train: int = 0
    n_eval: int = 0
    method: str = (
        f"exact Jaccard of normalised word {SHINGLE_SIZE}-gram sets "
        "(user + assistant text; the prompt of a preference pair)"
    )

    @property
    def ok(self) -> bool:
        """True when no pair reaches the threshold."""
        return not self.pairs

    def summary(self) -> dict[str, Any]:
        """JSON-able summary for the manifest and card (at most 20 pairs listed)."""
        return {
            "method": self.method,
            "threshold": self.threshold,
            "max_similarity": self.max_similarity,
            "max_pair": None
            if self.max_pair is None
            else [self.max_pair.train_id, self.max_pair.eval_id],
            "pairs_over_threshold": len(self.pairs),
            "pairs": [[p.train_id, p.eval_id, p.similarity] for p in self.pairs[:20]],
        }


def similarity_text(example: Example) -> str:
    """The text compared for duplicates and leakage: user and assistant turns (with tool calls).

    System prompts are left out: one shared system prompt would make every example look alike.
    A preference example compares its prompt only: its answers are what the pair contrasts,
    and a prompt seen in training with other answers still leaks into eval.
    """
    if example.candidates:
        return example.prompt
    return "\n\n".join(t for t in (example.prompt, example.response) if t)


def leakage_check(
    train: Sequence[Example],
    eval: Sequence[Example],
    *,
    threshold: float | None = None,
) -> LeakageReport:
    """Find the most similar train/eval pairs.

    Each example's user and assistant text (`similarity_text`; a preference pair's prompt) is
    normalised (NFKC,
    case-folded, whitespace collapsed) and cut into word 5-gram shingles by the near-dedup
    shingling (`curation.dedup.minhash.shingle_sets`: hashes stable across runs). A sparse product of the two binary
    shingle matrices gives the shared-shingle count of every pair that shares any, from which
    the exact Jaccard similarity follows. No sampling, so the maximum is exact.

    Parameters
    ----------
    train, eval:
        The two splits.
    threshold:
        Report every pair at or above this Jaccard similarity (default 0.8, the usual
        near-duplicate level for 5-gram MinHash).

    Returns
    -------
    LeakageReport
        The highest similarity with its pair, and every pair over the threshold (ids).
    """
    limit = DEFAULT_LEAKAGE_THRESHOLD if threshold is None else threshold
    if not isinstance(limit, int | float) or not 0 < limit <= 1:
        raise ExportError(f"leakage threshold {threshold!r} must be a number in (0, 1]")
    report = LeakageReport(threshold=float(limit), n_train=len(train), n_eval=len(eval))
    if not train or not eval:
        return report
    import numpy as np

    from curation.dedup.minhash import shingle_sets

    # the dedup shingling: deterministic 64-bit hashes of word n-grams (a text shorter than n
    # is one shingle of all its words), on the export's own normalisation
    texts = [normalize_text(similarity_text(ex)) for ex in (*train, *eval)]
    sets = shingle_sets(texts, "word", SHINGLE_SIZE, segment=False)
    m = sets.matrix()
    n_train = len(train)
    a, b = m[:n_train], m[n_train:]
    a_sizes, b_sizes = sets.sizes[:n_train], sets.sizes[n_train:]
    inter = (a @ b.T).tocoo()
    if inter.nnz == 0:
        return report
    union = a_sizes[inter.row] + b_sizes[inter.col] - inter.data
    sim = inter.data / np.maximum(union, 1)
    best = int(np.argmax(sim))
    report.max_similarity = round(float(sim[best]), 4)
    report.max_pair = LeakagePair(
        train[int(inter.row[best])].id, eval[int(inter.col[best])].id, report.max_similarity
    )
    hits = np.nonzero(sim >= limit - 1e-12)[0]
    pairs = [
        LeakagePair(
            train[int(inter.row[k])].id, eval[int(inter.col[k])].id, round(float(sim[k]), 4)
        )
        for k in hits
    ]
    pairs.sort(key=lambda p: (-p.similarity, p.train_id, p.eval_id))
    report.pairs = pairs
    if pairs:
        report.max_pair = pairs[0]
    return report
