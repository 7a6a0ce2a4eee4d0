"""Numbers about preference pairs and KTO labels that decide whether they train what they should.

Length bias and near-identical answers for pairs; the desirable/undesirable balance for KTO.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curation.records import Example, example_text

# A pair set "prefers length" when the chosen answer is longer in more than this share of
# pairs, or when chosen answers are on average this many times as long as rejected ones.
# DPO picks the bias up (Singhal et al. 2023, "A Long Way to Go: Investigating Length
# Correlations in RLHF"; Park et al. 2024, "Disentangling Length from Quality in Direct
# Preference Optimization"); the two thresholds are this product's choice, not theirs.
LONGER_SHARE_WARN = 0.75
LENGTH_RATIO_WARN = 1.5
# Chosen and rejected answers that are near duplicates of each other carry little preference
# signal (the loss pushes apart two almost equal sequences). Warn above this share of pairs.
NEAR_IDENTICAL_SHARE_WARN = 0.10
# TRL's KTO guide ("Imbalanced data"): keep (desirable_weight x desirables) to
# (undesirable_weight x undesirables) between 1:1 and 4:3; both weights default to 1.
KTO_BALANCE_LOW = 1.0
KTO_BALANCE_HIGH = 4 / 3


def answer_text(messages: Sequence[Any]) -> str:
    """The assistant text of an answer (its tool calls included): what length is measured on."""
    return example_text(list(messages), "assistant")


@dataclass(frozen=True, slots=True)
class PairStats:
    """Length and similarity of the chosen and rejected answers of a set of pairs.

    Attributes
    ----------
    n_pairs:
        Pairs measured (examples with a chosen and a rejected answer).
    mean_chosen_chars, mean_rejected_chars:
        Mean characters of the answers' assistant text.
    length_ratio:
        ``mean_chosen_chars / mean_rejected_chars`` (None without rejected text).
    share_chosen_longer:
        Share of pairs whose chosen answer has more characters than its rejected one.
    n_near_identical:
        Pairs whose two answers are near duplicates (`near_identical`).
    threshold:
        The near-duplicate similarity used (the near-dedup default).
    """

    n_pairs: int = 0
    mean_chosen_chars: float = 0.0
    mean_rejected_chars: float = 0.0
    length_ratio: float | None = None
    share_chosen_longer: float = 0.0
    n_near_identical: int = 0
    threshold: float = 0.0

    @property
    def near_identical_share(self) -> float:
        return self.n_near_identical / self.n_pairs if self.n_pairs else 0.0

    @property
    def length_biased(self) -> bool:
        """True when chosen answers are longer often or by much (see the thresholds above)."""
        ratio = self.length_ratio or 0.0
        return self.share_chosen_longer > LONGER_SHARE_WARN or ratio > LENGTH_RATIO_WARN

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.n_pairs,
            "mean_chosen_chars": round(self.mean_chosen_chars, 1),
            "mean_rejected_chars": round(self.mean_rejected_chars, 1),
            "length_ratio": None if self.length_ratio is None else round(self.length_ratio, 3),
            "share_chosen_longer": round(self.share_chosen_longer, 4),
            "near_identical_pairs": self.n_near_identical,
            "near_identical_share": round(self.near_identical_share, 4),
            "near_identical_threshold": self.threshold,
        }


def near_identical(pairs: Sequence[tuple[str, str]], threshold: float | None = None) -> list[bool]:
    """Whether each (chosen, rejected) text pair is a near duplicate, by the near-dedup rule.

    The texts go through near dedup's normalisation and shingling (`NearDedupConfig`
    defaults: word shingles, Jaccard threshold 0.7, the short-text margin, spaceless scripts
    segmented); a pair is near identical when its shingle sets are equal, or when
    ``|A & B| / (|A | B| + margin)`` reaches the threshold. Exact Jaccard per pair, no
    sampling and no LSH: every pair is one comparison.
    """
    import numpy as np

    from curation.dedup.minhash import overlap, shingle_sets
    from curation.dedup.near import NearDedupConfig
    from curation.dedup.normalise import normalise_all

    if not pairs:
        return []
    config = NearDedupConfig() if threshold is None else NearDedupConfig(threshold=threshold)
    texts = normalise_all([t for p in pairs for t in p])
    sets = shingle_sets(texts, config.shingle, config.ngram, segment=config.segment_spaceless)
    index = np.arange(2 * len(pairs), dtype=np.int64).reshape(-1, 2)
    inter, union = overlap(sets, index)
    out = []
    for i, u in zip(inter.tolist(), union.tolist(), strict=True):
        if i == u:  # equal sets (both empty included)
            out.append(True)
        else:
            out.append(i / (u + config.short_text_margin) >= config.threshold)
    return out


def pair_stats(examples: Sequence[Example], *, threshold: float | None = None) -> PairStats:
    """`PairStats` of the examples that have a chosen and a rejected answer (others ignored)."""
    from curation.dedup.near import DEFAULT_NEAR_THRESHOLD

    texts: list[tuple[str, str]] = []
    for ex in examples:
        chosen, rejected = ex.chosen, ex.rejected
        if chosen is not None and rejected is not None:
            texts.append((answer_text(chosen.messages), answer_text(rejected.messages)))
    limit = DEFAULT_NEAR_THRESHOLD if threshold is None else threshold
    if not texts:
        return PairStats(threshold=limit)
    n = len(texts)
    chosen_chars = sum(len(c) for c, _ in texts) / n
    rejected_chars = sum(len(r) for _, r in texts) / n
    return PairStats(
        n_pairs=n,
        mean_chosen_chars=chosen_chars,
        mean_rejected_chars=rejected_chars,
        length_ratio=chosen_chars / rejected_chars if rejected_chars else None,
        share_chosen_longer=sum(len(c) > len(r) for c, r in texts) / n,
        n_near_identical=sum(near_identical(texts, threshold)),
        threshold=limit,
    )


@dataclass(frozen=True, slots=True)
class LabelBalance:
    """Desirable and undesirable answers of a KTO export, against TRL's guidance.

    Attributes
    ----------
    desirable, undesirable:
        Rows labelled each way.
    """

    desirable: int = 0
    undesirable: int = 0

    @property
    def ratio(self) -> float | None:
        """``desirable / undesirable`` (None without undesirable rows)."""
        return self.desirable / self.undesirable if self.undesirable else None

    @property
    def balanced(self) -> bool:
        """True when the ratio is within [1, 4/3] with both KTO weights at their default 1."""
        ratio = self.ratio
        return ratio is not None and KTO_BALANCE_LOW <= ratio <= KTO_BALANCE_HIGH + 1e-9

    def suggestion(self) -> str:
        """The KTOConfig weights that bring the weighted ratio into [1, 4/3], in words."""
        d, u = self.desirable, self.undesirable
        if not d or not u:
            return "KTO needs both desirable and undesirable answers"
        if self.balanced:
            return "within TRL's 1:1 to 4:3 with the default weights"
        if d < u:  # upweight the desirable answers: desirable_weight * d / u in [1, 4/3]
            return (
                f"set desirable_weight between {u / d:.2f} and {KTO_BALANCE_HIGH * u / d:.2f} "
                "(undesirable_weight 1) to reach TRL's 1:1 to 4:3"
            )
        return (
            f"set undesirable_weight between {d / (KTO_BALANCE_HIGH * u):.2f} and {d / u:.2f} "
            "(desirable_weight 1) to reach TRL's 1:1 to 4:3"
        )

    def to_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "desirable": self.desirable,
            "undesirable": self.undesirable,
            "ratio": None if ratio is None else round(ratio, 3),
        }


def label_balance(examples: Sequence[Example]) -> LabelBalance:
    """Count the KTO labels of the examples (those without a label are ignored)."""
    return LabelBalance(
        desirable=sum(ex.desirable is True for ex in examples),
        undesirable=sum(ex.desirable is False for ex in examples),
    )
