"""Near-duplicate search: the MinHash LSH pipeline with its one config dataclass.

normalise -> shingles -> signatures -> buckets -> candidate pairs -> verify (exact Jaccard, per part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from curation.dedup.minhash import (
    SHINGLE_KINDS,
    band_keys,
    candidate_pairs,
    estimated_jaccard,
    identical_set_groups,
    merge_part_sets,
    optimal_bands_rows,
    overlap,
    shingle_sets,
    signatures,
)
from curation.dedup.normalise import normalise_all
from curation.dedup.results import StageRecorder
from curation.dedup.textdiff import substantive_difference

__all__ = [
    "DEFAULT_NEAR_THRESHOLD",
    "NearDedupConfig",
    "near_duplicate_pairs",
    "near_duplicate_part_pairs",
]

DEFAULT_NEAR_THRESHOLD = 0.7
DEFAULT_SHORT_TEXT_MARGIN = 2
BACKEND = "minhash-numpy"


@dataclass(frozen=True, slots=True)
class NearDedupConfig:
    """Every knob of near-duplicate search.

    Attributes
    ----------
    num_perm:
        MinHash hash functions available; LSH uses ``bands * rows`` of them.
    shingle:
        ``"word"`` or ``"char"`` n-grams of the normalised text.
    ngram:
        n of the n-grams, or a tuple of several n pooled into one set (texts shorter than n
        give one shingle of all they have).
    threshold:
        Jaccard similarity of shingle sets at or above which two texts are near duplicates.
    bands, rows:
        LSH banding; both None picks the pair minimising false positives + negatives at the
        threshold (`optimal_bands_rows`). Give both or neither.
    seed:
        Seeds the hash functions, so results are reproducible.
    verify:
        Keep a candidate only if its exact Jaccard reaches the threshold (else the MinHash
        estimate is used, which is faster but noisier).
    bucket_window:
        In a bucket with more members, each is compared only with its next ``bucket_window``.
    false_positive_weight, false_negative_weight:
        Weights of the band/row search. Verification removes false positives for the price
        of one sparse dot product each, while a false negative is lost for good, so the
        default (0.1 / 0.9) picks 20 bands x 6 rows at 0.7: a pair exactly at the threshold
        becomes a candidate with probability 0.92 (0.44 with datasketch's 0.5 / 0.5).
    short_text_margin:
        Texts whose shingle sets differ at all must reach
        ``|A & B| / (|A | B| + short_text_margin) >= threshold``: the margin barely moves long
        texts but makes one swapped word in a short prompt a different prompt. 0 = plain Jaccard.
        With several parts (prompt and answer compared apart) it applies to their union.
    segment_spaceless:
        Word shingles only: cut runs of scripts written without spaces (Chinese, Japanese,
        Thai...) into overlapping character bigrams, per text. Chinese split on spaces gives
        whole clauses as "words": of 29 real two-sentence Chinese texts with one character
        changed, 3 were found without this and 29 with it (English: 29 and 29; see
        `benchmarks/README_dedup.md`).
    part_slack:
        With several parts, each part must also reach Jaccard ``threshold - part_slack`` on
        its own (parts both lack pass). The union rule alone lets a long shared prompt hide a
        different answer; each part at the full threshold loses copies whose few edits fell in
        a short part (10,000 perturbed conversations: F1 0.969 against 0.998 with the slack of
        0.2), while shared-premise pairs with different answers stay apart either way.
    diff_check:
        After Jaccard verification, align each part's two word sequences and refuse the pair
        when the words where they differ carry substance (`curation.dedup.textdiff`, whose
        `weighed_spans` says which rule priced each span): a negation that appears or
        disappears, a number replaced by another number or a capitalised name by another name
        weighs ``diff_strong_weight``; a content word replaced right after a word opening a
        noun phrase ("a", "the", "my", "of", "about"...) weighs 1; any other replaced content
        word (a verb, an adverb), a word of another kind in its place (a number or name for a
        common word) or a number added or dropped weighs ``diff_frame_weight``; typos (one
        letter changed, added, dropped or two swapped), spelling variants (character similarity
        >= ``diff_spelling_similarity``), function words, added or dropped plain words, case,
        punctuation and whitespace weigh 0. The pair is refused when the weight reaches
        ``diff_max_share`` of the longer text's words and that text has at most
        ``diff_max_words`` words (longer texts are documents, where a few changed words are a
        copy edit). So "Write a poem about cats" / "... about dogs" are different prompts,
        while a typo, or a garbled word in a sentence of 10+ words, stays a copy. 10,000
        perturbed copies and 3,449 hard-negative pairs: F1 0.995 and 11.4 % wrongly clustered
        without, F1 0.991 and 0.96 % with (`benchmarks/README_dedup.md`). Cross checks
        against a reference (contamination) skip it: a benchmark item with one word changed
        is still leaked. Not applied to texts in scripts written without spaces.
    diff_frame_weight:
        Weight of a replaced content word outside a noun phrase (see `diff_check`), in [0, 1].
    """

    num_perm: int = 128
    shingle: str = "word"
    ngram: int | tuple[int, ...] = 1
    threshold: float = DEFAULT_NEAR_THRESHOLD
    bands: int | None = None
    rows: int | None = None
    seed: int = 1
    verify: bool = True
    bucket_window: int = 64
    false_positive_weight: float = 0.1
    false_negative_weight: float = 0.9
    short_text_margin: int = DEFAULT_SHORT_TEXT_MARGIN
    segment_spaceless: bool = True
    part_slack: float = 0.2
    diff_check: bool = True
    diff_max_share: float = 0.06
    diff_strong_weight: int = 4
    diff_frame_weight: float = 0.5
    diff_spelling_similarity: float = 0.75
    diff_max_words: int = 20

    def __post_init__(self) -> None:
        if self.shingle not in SHINGLE_KINDS:
            raise ValueError(f"shingle must be one of {SHINGLE_KINDS}, not {self.shingle!r}")
        sizes = (self.ngram,) if isinstance(self.ngram, int) else self.ngram
        if (
            not isinstance(sizes, tuple)
            or not sizes
            or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in sizes)
        ):
            raise ValueError(
                f"ngram must be an integer >= 1 or a tuple of them, not {self.ngram!r}"
            )
        if not isinstance(self.num_perm, int) or self.num_perm < 1:
            raise ValueError(f"num_perm must be an integer >= 1, not {self.num_perm!r}")
        if not 0.0 < float(self.threshold) <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold!r}")
        if (self.bands is None) != (self.rows is None):
            raise ValueError(
                f"give both bands and rows or neither, not bands={self.bands!r}, rows={self.rows!r}"
            )
        if (
            self.bands is not None
            and self.rows is not None
            and (self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm)
        ):
            raise ValueError(
                f"bands={self.bands!r} x rows={self.rows!r} must be >= 1 each and use at "
                f"most num_perm={self.num_perm} hash functions"
            )
        if (
            isinstance(self.short_text_margin, bool)
            or not isinstance(self.short_text_margin, int)
            or self.short_text_margin < 0
        ):
            raise ValueError(
                f"short_text_margin must be an integer >= 0, not {self.short_text_margin!r}"
            )
        if isinstance(self.part_slack, bool) or not 0.0 <= float(self.part_slack) < 1.0:
            raise ValueError(f"part_slack must be in [0, 1), not {self.part_slack!r}")
        if isinstance(self.diff_max_share, bool) or not 0.0 < float(self.diff_max_share) <= 1.0:
            raise ValueError(f"diff_max_share must be in (0, 1], not {self.diff_max_share!r}")
        if (
            isinstance(self.diff_strong_weight, bool)
            or not isinstance(self.diff_strong_weight, int)
            or self.diff_strong_weight < 0
        ):
            raise ValueError(
                f"diff_strong_weight must be an integer >= 0, not {self.diff_strong_weight!r}"
            )
        if (
            isinstance(self.diff_max_words, bool)
            or not isinstance(self.diff_max_words, int)
            or self.diff_max_words < 1
        ):
            raise ValueError(f"diff_max_words must be an integer >= 1, not {self.diff_max_words!r}")
        if (
            isinstance(self.diff_frame_weight, bool)
            or not 0.0 <= float(self.diff_frame_weight) <= 1.0
        ):
            raise ValueError(f"diff_frame_weight must be in [0, 1], not {self.diff_frame_weight!r}")
        if not 0.0 < float(self.diff_spelling_similarity) <= 1.0:
            raise ValueError(
                f"diff_spelling_similarity must be in (0, 1], not {self.diff_spelling_similarity!r}"
            )
        if self.bucket_window < 1:
            raise ValueError(f"bucket_window must be >= 1, not {self.bucket_window!r}")

    def lsh_params(self) -> tuple[int, int]:
        """``(bands, rows)``: the given ones, or the optimum for threshold and num_perm."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        return optimal_bands_rows(
            float(self.threshold),
            self.num_perm,
            self.false_positive_weight,
            self.false_negative_weight,
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def near_duplicate_pairs(
    texts: list[str],
    config: NearDedupConfig,
    recorder: StageRecorder,
    *,
    split_at: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Verified near-duplicate pairs of `texts`.

    Parameters
    ----------
    texts:
        The texts.
    config:
        Shingles, hashing, banding and verification settings.
    recorder:
        Receives per-stage progress, timings and counts.
    split_at:
        When given, only pairs ``(i, j)`` with ``i < split_at <= j`` are returned (used to
        compare checked texts against reference texts appended after them).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``(pairs, similarities)``: int64 ``(P, 2)`` with ``i < j`` and their Jaccard (or the
        MinHash estimate when ``config.verify`` is False).
    """
    return near_duplicate_part_pairs([texts], config, recorder, split_at=split_at)


def near_duplicate_part_pairs(
    parts: list[list[str]],
    config: NearDedupConfig,
    recorder: StageRecorder,
    *,
    split_at: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of documents that are near duplicates as a whole and in every part.

    Each document is several texts (its system prompt, user turns and assistant turns, say).
    A pair counts when the union of its part-tagged shingle sets (`merge_part_sets`) passes
    the threshold and margin rule, and each part on its own reaches Jaccard
    ``threshold - config.part_slack``, so a long shared prompt can no longer hide a different
    answer. Both parts empty counts as equal, one empty and one not as different. Candidates
    come from one LSH pass over the merged sets; every part is then verified by exact Jaccard.

    Parameters
    ----------
    parts:
        ``parts[p][d]`` is part ``p`` of document ``d``; every part lists all documents.
    config, recorder, split_at:
        As in `near_duplicate_pairs`. ``config.verify=False`` (MinHash estimate instead of
        exact Jaccard) applies to one part only; several parts are always verified exactly.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        ``(pairs, similarities)``: int64 ``(P, 2)`` with ``i < j`` and the Jaccard of their
        merged sets.
    """
    if not parts:
        raise ValueError("parts is empty: give at least one list of texts")
    n = len(parts[0])
    if any(len(p) != n for p in parts):
        raise ValueError(
            f"every part must list the same {n} documents, got {[len(p) for p in parts]}"
        )
    single = len(parts) == 1
    bands, rows = config.lsh_params()
    recorder.params.update(config.to_dict())
    recorder.params.update({"bands": bands, "rows": rows, "parts": len(parts)})
    recorder.counts["texts"] = n

    recorder.start("normalise", n * len(parts))
    normalised = [normalise_all(p) for p in parts]
    recorder.finish(n * len(parts))

    recorder.start("shingles", n)
    part_sets = [
        shingle_sets(norm, config.shingle, config.ngram, segment=config.segment_spaceless)
        for norm in normalised
    ]
    sets = merge_part_sets(part_sets)
    sizes = sets.sizes
    recorder.counts["shingles"] = int(sizes.sum())
    recorder.counts["texts_without_shingles"] = int((sizes == 0).sum())
    if config.shingle == "word" and config.segment_spaceless:
        from curation.text.script import has_spaceless_script

        recorder.counts["spaceless_script_texts"] = sum(
            1 for i in range(n) if any(has_spaceless_script(p[i]) for p in normalised)
        )
    # Documents with identical shingle sets are Jaccard 1.0: link them directly and send only
    # one of each group through LSH, so mass duplicates cannot flood the buckets. A cross check
    # groups each side apart, so a representative always stands for its own side. Tagged
    # parts make identical merged sets mean identical parts.
    sides = None if split_at is None else (np.arange(n) >= split_at).astype(np.uint64)
    rep = identical_set_groups(sets, sides)
    recorder.finish(n)

    def cross(i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if split_at is None:
            return np.ones(len(i), dtype=bool)
        return (i < split_at) & (j >= split_at)

    others = np.flatnonzero(rep != np.arange(n))
    ident = np.stack([rep[others], others], axis=1) if len(others) else np.empty((0, 2), np.int64)
    active = np.flatnonzero((rep == np.arange(n)) & (sizes > 0))
    recorder.counts["identical_set_links"] = len(ident)

    # Only representatives get signatures; LSH works in their local numbering.
    recorder.start("signatures", len(active))
    sig = np.empty((bands * rows, 0), dtype=np.uint64)
    if len(active) >= 2 or (len(active) and split_at is not None):
        sig = signatures(sets.subset(active), bands * rows, config.seed, report=recorder.report)
    recorder.finish(len(active))

    recorder.start("buckets", bands)
    local = np.empty((0, 2), dtype=np.int64)
    if sig.shape[1]:
        keys = band_keys(sig, bands, rows)
        local = candidate_pairs(
            keys,
            window=config.bucket_window,
            keep=None if split_at is None else lambda i, j: cross(active[i], active[j]),
        )
    pairs = active[local]
    recorder.counts["candidate_pairs"] = len(pairs)
    recorder.finish(bands)

    recorder.start("verify", len(pairs))
    threshold, margin = float(config.threshold), config.short_text_margin
    if single and not config.verify:
        sims = estimated_jaccard(sig, local)
        size_sum = sizes[pairs[:, 0]] + sizes[pairs[:, 1]] if len(pairs) else np.zeros(0)
        union_f = size_sum / (1.0 + sims)
        keep = (sims >= 1.0) | (sims * union_f >= threshold * (union_f + margin) - 1e-9)
    else:
        inter, union = overlap(sets, pairs)
        union_f = union.astype(np.float64)
        sims = np.divide(inter, union_f, out=np.zeros(len(pairs)), where=union > 0)
        keep = (sims >= 1.0) | (inter >= threshold * (union_f + margin) - 1e-9)
        floor = threshold - float(config.part_slack)
        for part in part_sets if not single else []:
            p_inter, p_union = overlap(part, pairs[keep])
            part_sims = np.divide(p_inter, p_union, out=np.ones(len(p_inter)), where=p_union > 0)
            keep[keep] = part_sims >= floor - 1e-9
    pairs, sims = pairs[keep], sims[keep]
    if config.diff_check and split_at is None and len(pairs):
        differ = np.array(
            [
                any(
                    substantive_difference(
                        part[i],
                        part[j],
                        max_share=float(config.diff_max_share),
                        spelling_similarity=float(config.diff_spelling_similarity),
                        strong_weight=config.diff_strong_weight,
                        frame_weight=float(config.diff_frame_weight),
                        max_words=config.diff_max_words,
                    )
                    for part in parts
                )
                for i, j in pairs.tolist()
            ],
            dtype=bool,
        )
        recorder.counts["refused_by_diff"] = int(differ.sum())
        pairs, sims = pairs[~differ], sims[~differ]
    recorder.counts["verified_pairs"] = len(pairs)
    recorder.finish(recorder.counts["candidate_pairs"])

    if split_at is None:
        pairs = np.concatenate([pairs, ident])
        sims = np.concatenate([sims, np.ones(len(ident))])
    elif len(ident):
        pairs, sims = _expand_identical(pairs, sims, ident, rep, cross)
    return pairs, sims


def _expand_identical(
    pairs: np.ndarray,
    sims: np.ndarray,
    ident: np.ndarray,
    rep: np.ndarray,
    cross: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Cross checks: identical-set links, plus each verified pair copied to both groups' members."""
    n = len(rep)
    order = np.argsort(rep, kind="stable")
    starts = np.searchsorted(rep[order], np.arange(n), side="left")
    ends = np.searchsorted(rep[order], np.arange(n), side="right")
    all_pairs = [pairs, ident]
    all_sims = [sims, np.ones(len(ident))]
    for (i, j), s in zip(pairs.tolist(), sims.tolist(), strict=True):
        gi = order[starts[i] : ends[i]]
        gj = order[starts[j] : ends[j]]
        if len(gi) == 1 and len(gj) == 1:
            continue
        a, b = np.repeat(gi, len(gj)), np.tile(gj, len(gi))
        all_pairs.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
        all_sims.append(np.full(len(a), s))
    merged = np.concatenate(all_pairs)
    merged_sims = np.concatenate(all_sims)
    mask = cross(merged[:, 0], merged[:, 1])
    merged, merged_sims = merged[mask], merged_sims[mask]
    _, first = np.unique(merged[:, 0] * n + merged[:, 1], return_index=True)
    return merged[first], merged_sims[first]
