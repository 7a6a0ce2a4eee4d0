"""The public entry points: `find_duplicate_clusters`, `cluster_duplicates`, `texts_for`.

They pick the method's pipeline, validate options, and return clusters in one canonical order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

import numpy as np

from curation.dedup.components import clusters_from_pairs
from curation.dedup.exact import BACKEND as EXACT_BACKEND
from curation.dedup.exact import exact_duplicate_groups
from curation.dedup.near import BACKEND as NEAR_BACKEND
from curation.dedup.near import NearDedupConfig, near_duplicate_pairs
from curation.dedup.normalise import normalise_all
from curation.dedup.results import Cluster, DedupResult, ProgressFn, StageRecorder
from curation.dedup.semantic import (
    DEFAULT_SEMANTIC_THRESHOLD,
    DEFAULT_TFIDF_THRESHOLD,
    TFIDF_BACKEND,
    SemanticDedupConfig,
    embed_with_cache,
    neighbour_pairs,
    resolve_encoder,
    tfidf_vectors,
)
from curation.dedup.semantic import sentence_transformers_available as available
from curation.records import TEXT_FIELDS, Example

__all__ = ["METHODS", "cluster_duplicates", "find_duplicate_clusters", "texts_for"]

METHODS: tuple[str, ...] = ("exact", "near", "semantic")
DedupConfig = NearDedupConfig | SemanticDedupConfig


def texts_for(examples: Iterable[Example], fields: str = "all") -> list[str]:
    """The text of each example that dedup compares.

    Parameters
    ----------
    examples:
        Canonical examples.
    fields:
        ``"all"`` (whole conversation), ``"user"`` (user turns) or ``"assistant"``
        (assistant turns), as in `curation.records.example_text`.
    """
    if fields not in TEXT_FIELDS:
        raise ValueError(f"fields must be one of {TEXT_FIELDS}, not {fields!r}")
    return [ex.text(fields) for ex in examples]


def _check_threshold(threshold: float | None) -> float | None:
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ValueError(f"threshold must be a number in (0, 1] or None, not {threshold!r}")
    if not 0.0 < float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in (0, 1] or None, not {threshold!r}")
    return float(threshold)


def config_from_options(method: str, options: dict[str, Any]) -> DedupConfig | None:
    """Build the method's config from keyword options, rejecting unknown names."""
    if method == "exact":
        if options:
            raise ValueError(f"method 'exact' takes no options, got {sorted(options)}")
        return None
    cls: type[NearDedupConfig] | type[SemanticDedupConfig] = (
        NearDedupConfig if method == "near" else SemanticDedupConfig
    )
    allowed = {f.name for f in fields(cls)} - {"threshold"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for method {method!r}; allowed: {sorted(allowed)}"
        )
    return cls(**options)


def cluster_duplicates(
    texts: list[str],
    method: str,
    threshold: float | None = None,
    *,
    progress: ProgressFn | None = None,
    config: DedupConfig | None = None,
    **options: Any,
) -> DedupResult:
    """Find groups of duplicate texts, with pair scores, backend and per-stage stats.

    Parameters
    ----------
    texts:
        The texts to compare (see `texts_for`).
    method:
        ``"exact"`` (equal after NFKC, case-folding, punctuation and whitespace removal),
        ``"near"`` (MinHash LSH over word shingles, verified by exact Jaccard >= threshold,
        with a margin that makes short texts need a closer match) or
        ``"semantic"`` (cosine of sentence embeddings, or of the TF-IDF fallback).
    threshold:
        Similarity at or above which two texts are duplicates; None takes the method's
        default (near 0.7 Jaccard; semantic 0.9 cosine with a model, 0.8 with the fallback).
        Ignored by exact.
    progress:
        Optional ``progress(stage, done, total)`` called per stage.
    config:
        `NearDedupConfig` for near or `SemanticDedupConfig` for semantic; `threshold`, when
        given, overrides the config's.
    **options:
        Instead of `config`: the config's fields as keywords (see `find_duplicate_clusters`).

    Returns
    -------
    DedupResult
        Clusters (largest first, members ascending) of size >= 2, each with its linking pairs.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    threshold = _check_threshold(threshold)
    if options:
        if config is not None:
            raise ValueError(
                f"give either config or options, not both (options: {sorted(options)})"
            )
        config = config_from_options(method, options)
    texts = list(texts)
    if not all(isinstance(t, str) for t in texts):
        bad = next(t for t in texts if not isinstance(t, str))
        raise ValueError(f"texts must all be str, found {type(bad).__name__}: {bad!r:.60}")
    recorder = StageRecorder(progress)
    n = len(texts)

    if method == "exact":
        groups = exact_duplicate_groups(texts, recorder)
        recorder.start("cluster", len(groups))
        clusters = [Cluster(members=g, pairs=[(g[0], m, 1.0) for m in g[1:]]) for g in groups]
        clusters.sort(key=lambda c: (-len(c.members), c.members[0]))
        recorder.counts["clusters"] = len(clusters)
        recorder.finish(len(groups))
        return DedupResult(clusters, "exact", None, EXACT_BACKEND, recorder.stats())

    if method == "near":
        near = config if isinstance(config, NearDedupConfig) else None
        if config is not None and near is None:
            raise ValueError(f"method 'near' needs a NearDedupConfig, not {type(config).__name__}")
        near = near or NearDedupConfig()
        if threshold is not None:
            near = NearDedupConfig(**{**near.to_dict(), "threshold": threshold})  # type: ignore[arg-type]
        pairs, sims = near_duplicate_pairs(texts, near, recorder)
        backend, used = NEAR_BACKEND, float(near.threshold)
    else:
        sem = config if isinstance(config, SemanticDedupConfig) else None
        if config is not None and sem is None:
            raise ValueError(
                f"method 'semantic' needs a SemanticDedupConfig, not {type(config).__name__}"
            )
        sem = sem or SemanticDedupConfig()
        pairs, sims, backend, used = _semantic_pairs(texts, sem, threshold, recorder)

    recorder.start("cluster", len(pairs))
    clusters = clusters_from_pairs(n, pairs, sims)
    recorder.counts["clusters"] = len(clusters)
    recorder.counts["clustered_texts"] = sum(len(c.members) for c in clusters)
    recorder.finish(len(pairs))
    return DedupResult(clusters, method, used, backend, recorder.stats())


def _semantic_pairs(
    texts: list[str],
    config: SemanticDedupConfig,
    threshold: float | None,
    recorder: StageRecorder,
) -> tuple[np.ndarray, np.ndarray, str, float]:
    n = len(texts)
    recorder.counts["texts"] = n
    if n < 2 and config.encoder is None:
        # Nothing to compare: do not load a model just to return no pairs.
        tfidf = config.backend == "tfidf" or (
            config.backend == "auto" and config.model_path is None and not available()
        )
        backend = TFIDF_BACKEND if tfidf else "sentence-transformers"
        used = threshold or (DEFAULT_TFIDF_THRESHOLD if tfidf else DEFAULT_SEMANTIC_THRESHOLD)
        return np.empty((0, 2), dtype=np.int64), np.empty(0), backend, used
    encoder, backend = resolve_encoder(config)
    recorder.params.update({"backend": backend, "block_size": config.block_size})
    recorder.start("embed", n)
    vectors: Any
    if encoder is None:
        vectors = tfidf_vectors(normalise_all(texts)) if n else np.zeros((0, 1), dtype=np.float32)
        used = DEFAULT_TFIDF_THRESHOLD if threshold is None else threshold
    else:
        vectors = embed_with_cache(
            texts,
            encoder,
            backend,
            cache=config.cache,
            batch_size=config.batch_size,
            report=recorder.report,
        )
        used = DEFAULT_SEMANTIC_THRESHOLD if threshold is None else threshold
    recorder.finish(n)
    recorder.start("neighbours", n)
    pairs, sims = neighbour_pairs(
        vectors, used, block_size=config.block_size, report=recorder.report
    )
    recorder.counts["similar_pairs"] = len(pairs)
    recorder.finish(n)
    return pairs, sims, backend, used


def find_duplicate_clusters(
    texts: list[str],
    method: str = "exact",
    threshold: float | None = None,
    *,
    progress: ProgressFn | None = None,
    **options: Any,
) -> list[list[int]]:
    """Groups of indices of duplicate texts (size >= 2), largest first, members ascending.

    Parameters
    ----------
    texts:
        The texts to compare.
    method:
        ``"exact"``, ``"near"`` or ``"semantic"`` (see `cluster_duplicates`).
    threshold:
        Similarity threshold; None takes the method's default.
    progress:
        Optional ``progress(stage, done, total)``.
    **options:
        Near: any `NearDedupConfig` field (``num_perm``, ``shingle``, ``ngram``, ``bands``,
        ``rows``, ``seed``, ``verify``, ``short_text_margin``...). Semantic: ``backend`` ("auto", "sentence-transformers",
        "tfidf"), ``model_path``, ``encoder``, ``cache``, ``batch_size``, ``block_size``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    return cluster_duplicates(texts, method, threshold, progress=progress, **options).groups()
