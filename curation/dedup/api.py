"""The public entry points: `find_duplicate_clusters`, `cluster_duplicates` (plain texts) and
`cluster_conversations` (prompt and answer compared apart); `texts_for`, `role_texts_for`.

They pick the method's pipeline, validate options, and return clusters in one canonical order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from curation.dedup.components import clusters_from_pairs
from curation.dedup.exact import BACKEND as EXACT_BACKEND
from curation.dedup.exact import exact_duplicate_groups
from curation.dedup.near import BACKEND as NEAR_BACKEND
from curation.dedup.near import NearDedupConfig, near_duplicate_part_pairs
from curation.dedup.normalise import normalise_all
from curation.dedup.results import Cluster, DedupResult, StageRecorder
from curation.dedup.semantic import (
    TFIDF_BACKEND,
    SemanticDedupConfig,
    default_threshold_for,
    embed_with_cache,
    neighbour_pairs,
    part_neighbour_pairs,
    resolve_encoder,
    tfidf_vectors,
)
from curation.dedup.semantic import sentence_transformers_available as available
from curation.progress import ProgressFn
from curation.records import ROLES, TEXT_FIELDS, Example, Message

__all__ = [
    "ANSWER_PARTS",
    "METHODS",
    "PROMPT_PARTS",
    "cluster_conversations",
    "cluster_duplicates",
    "find_duplicate_clusters",
    "role_texts_for",
    "texts_for",
]

METHODS: tuple[str, ...] = ("exact", "near", "semantic")
DedupConfig = NearDedupConfig | SemanticDedupConfig
# What the model is given, and what it is taught to produce: a conversation whose prompt
# parts are duplicates but whose answer parts are not is "same prompt, different answers".
PROMPT_PARTS: tuple[str, ...] = ("system", "user")
ANSWER_PARTS: tuple[str, ...] = ("assistant", "tool")


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


def role_texts_for(examples: Iterable[Example], fields: str = "all") -> list[dict[str, str]]:
    """Each example's text per role, the parts `cluster_conversations` compares apart.

    Parameters
    ----------
    examples:
        Canonical examples.
    fields:
        ``"all"``: one part per role present (``system``, ``user``, ``assistant`` with its tool
        calls, ``tool`` results), turns of one role joined one per paragraph in order;
        ``"user"`` or ``"assistant"``: that one part only.

    Returns
    -------
    list[dict[str, str]]
        One ``{role: text}`` per example; a role the example lacks is absent.
    """
    if fields not in TEXT_FIELDS:
        raise ValueError(f"fields must be one of {TEXT_FIELDS}, not {fields!r}")
    out: list[dict[str, str]] = []
    for ex in examples:
        if fields != "all":
            out.append({fields: ex.text(fields)})
            continue
        pieces: dict[str, list[str]] = {}
        for m in _turns_compared(ex):
            bucket = pieces.setdefault(m.role, [])
            if m.content:
                bucket.append(m.content)
            if m.tool_calls:
                bucket.append(m.tool_calls)
        out.append({role: "\n\n".join(p) for role, p in pieces.items() if p})
    return out


def _turns_compared(ex: Example) -> list[Message]:
    """The turns dedup compares: a pair's prompt, then its answers, the preferred first.

    Two pairs on one prompt with the same answers are duplicates; with different answers they
    are a "same prompt" group (the prompt is the unit of preference data).
    """
    if not ex.candidates:
        return ex.messages
    ranked = sorted(ex.candidates, key=lambda c: (c.rank is None, c.rank or 0))
    return [*ex.messages, *(m for c in ranked for m in c.messages)]


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


def _check_texts(texts: Sequence[object], what: str) -> None:
    for t in texts:
        if not isinstance(t, str):
            raise ValueError(f"{what} must all be str, found {type(t).__name__}: {t!r:.60}")


def _resolve_config(
    method: str, threshold: float | None, config: DedupConfig | None, options: dict[str, Any]
) -> tuple[float | None, DedupConfig | None]:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    threshold = _check_threshold(threshold)
    if options:
        if config is not None:
            raise ValueError(
                f"give either config or options, not both (options: {sorted(options)})"
            )
        config = config_from_options(method, options)
    if method == "near":
        if config is not None and not isinstance(config, NearDedupConfig):
            raise ValueError(f"method 'near' needs a NearDedupConfig, not {type(config).__name__}")
        near = config or NearDedupConfig()
        if threshold is not None:
            near = dataclasses.replace(near, threshold=threshold)
        return threshold, near
    if method == "semantic":
        if config is not None and not isinstance(config, SemanticDedupConfig):
            raise ValueError(
                f"method 'semantic' needs a SemanticDedupConfig, not {type(config).__name__}"
            )
        return threshold, config or SemanticDedupConfig()
    return threshold, config


def _clusters_of_parts(
    parts: list[list[str]],
    method: str,
    threshold: float | None,
    config: DedupConfig | None,
    recorder: StageRecorder,
) -> DedupResult:
    """Run one method over documents made of parts; every part must match (one part: texts)."""
    n = len(parts[0])
    if method == "exact":
        if len(parts) == 1:
            groups = exact_duplicate_groups(parts[0], recorder)
        else:
            # Normalised text holds no control characters, so this joins parts unambiguously:
            # "A B" + "C" never equals "A" + "B C".
            recorder.counts["parts"] = len(parts)
            normalised = [normalise_all(p) for p in parts]
            joined = ["\x1f".join(row) for row in zip(*normalised, strict=True)]
            groups = exact_duplicate_groups(joined, recorder, normalised=True)
        recorder.start("cluster", len(groups))
        clusters = [Cluster(members=g, pairs=[(g[0], m, 1.0) for m in g[1:]]) for g in groups]
        clusters.sort(key=lambda c: (-len(c.members), c.members[0]))
        recorder.counts["clusters"] = len(clusters)
        recorder.finish(len(groups))
        return DedupResult(clusters, "exact", None, EXACT_BACKEND, recorder.stats())

    if method == "near":
        assert isinstance(config, NearDedupConfig)
        pairs, sims = near_duplicate_part_pairs(parts, config, recorder)
        backend, used = NEAR_BACKEND, float(config.threshold)
    else:
        assert isinstance(config, SemanticDedupConfig)
        pairs, sims, backend, used = _semantic_pairs(parts, config, threshold, recorder)

    recorder.start("cluster", len(pairs))
    clusters = clusters_from_pairs(n, pairs, sims)
    recorder.counts["clusters"] = len(clusters)
    recorder.counts["clustered_texts"] = sum(len(c.members) for c in clusters)
    recorder.finish(len(pairs))
    return DedupResult(clusters, method, used, backend, recorder.stats())


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

    Each text is compared as one string. For conversations, `cluster_conversations` compares
    the prompt and the answer apart, so a long shared prompt cannot hide a different answer.

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
        Optional `curation.progress.ProgressFn`; gets one `ProgressUpdate` per stage step.
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
    threshold, config = _resolve_config(method, threshold, config, options)
    texts = list(texts)
    _check_texts(texts, "texts")
    return _clusters_of_parts([texts], method, threshold, config, StageRecorder(progress))


def _part_names(conversations: Sequence[Mapping[str, str]]) -> list[str]:
    seen: dict[str, None] = {}
    for conv in conversations:
        if not isinstance(conv, Mapping):
            raise ValueError(
                f"each conversation must be a mapping of part name to text, not "
                f"{type(conv).__name__}: {conv!r:.60}"
            )
        for key, value in conv.items():
            if not isinstance(value, str):
                raise ValueError(
                    f"part {key!r} must be str, found {type(value).__name__}: {value!r:.60}"
                )
            seen.setdefault(str(key), None)
    ordered = [r for r in ROLES if r in seen]
    return ordered + sorted(k for k in seen if k not in ROLES)


def _same_prompt_groups(
    duplicates: list[Cluster], prompt_clusters: list[Cluster], n: int
) -> list[Cluster]:
    """Prompt clusters whose members are not all in one duplicate cluster."""
    label = list(range(n))
    for k, c in enumerate(duplicates):
        for m in c.members:
            label[m] = n + k
    return [c for c in prompt_clusters if len({label[m] for m in c.members}) >= 2]


def cluster_conversations(
    conversations: Sequence[Mapping[str, str]],
    method: str = "near",
    threshold: float | None = None,
    *,
    progress: ProgressFn | None = None,
    config: DedupConfig | None = None,
    same_prompt: bool = True,
    **options: Any,
) -> DedupResult:
    """Duplicate conversations: every part (system, user, assistant, tool) must match on its own.

    Two examples are duplicates when their prompts *and* their answers are duplicates by the
    method: the conversation as a whole must pass the threshold and each part (compared on
    its own) must come within ``part_slack`` of it, rather than one concatenated string in
    which a long shared prompt hides a different answer (an SNLI premise with two hypotheses
    and labels, a Dolly context with two questions). Exact compares every part for equality.
    A part both lack counts as equal; a part one of them lacks, as different. With one part
    this is `cluster_duplicates`.

    Parameters
    ----------
    conversations:
        One mapping ``{part name: text}`` per conversation (see `role_texts_for`).
    method, threshold, progress, config, **options:
        As in `cluster_duplicates`; the threshold applies to every part.
    same_prompt:
        Also find "same prompt, different answers" (`DedupResult.same_prompt`): groups whose
        system and user parts are duplicates while their answers are not. Needs both prompt
        and answer parts; this is a second, cheaper pass over the prompt parts only.

    Returns
    -------
    DedupResult
        Clusters as in `cluster_duplicates`, each pair scored by its lowest part similarity;
        ``stats["params"]["parts"]`` names the parts compared.
    """
    threshold, config = _resolve_config(method, threshold, config, options)
    conversations = list(conversations)
    names = _part_names(conversations)
    if not names:
        names = ["all"]
    parts = [[conv.get(name, "") for conv in conversations] for name in names]
    if isinstance(config, SemanticDedupConfig) and config.cache is None and len(names) > 1:
        # One embedding cache for both passes, so prompts are encoded once.
        config = dataclasses.replace(config, cache={})
    recorder = StageRecorder(progress)
    result = _clusters_of_parts(parts, method, threshold, config, recorder)
    result.stats["params"]["part_names"] = names
    prompt_names = [k for k, name in enumerate(names) if name in PROMPT_PARTS]
    if same_prompt and prompt_names and len(prompt_names) < len(names):
        sub = StageRecorder(progress, prefix="same prompt: ")
        prompt_result = _clusters_of_parts(
            [parts[k] for k in prompt_names], method, threshold, config, sub
        )
        result.same_prompt = _same_prompt_groups(
            result.clusters, prompt_result.clusters, len(conversations)
        )
        result.stats["same_prompt"] = sub.stats()
        result.stats["counts"]["same_prompt_groups"] = len(result.same_prompt)
    return result


def _semantic_pairs(
    parts: list[list[str]],
    config: SemanticDedupConfig,
    threshold: float | None,
    recorder: StageRecorder,
) -> tuple[np.ndarray, np.ndarray, str, float]:
    n = len(parts[0])
    recorder.counts["texts"] = n
    if n < 2 and config.encoder is None:
        # Nothing to compare: do not load a model just to return no pairs.
        tfidf = config.backend == "tfidf" or (
            config.backend == "auto" and config.model_path is None and not available()
        )
        backend = TFIDF_BACKEND if tfidf else "sentence-transformers"
        if config.backend == "static":
            backend = "static:"
        used = threshold or default_threshold_for(backend)
        return np.empty((0, 2), dtype=np.int64), np.empty(0), backend, used
    encoder, backend = resolve_encoder(config)
    recorder.params.update(
        {"backend": backend, "block_size": config.block_size, "parts": len(parts)}
    )
    used = default_threshold_for(backend) if threshold is None else threshold
    total = n * len(parts)
    recorder.start("embed", total)
    normalised = [normalise_all(p) for p in parts]
    blocks: list[Any] = []
    if encoder is None:
        for norm in normalised:
            blocks.append(tfidf_vectors(norm) if n else np.zeros((0, 1), dtype=np.float32))
    elif len(parts) == 1:
        blocks.append(
            embed_with_cache(
                parts[0],
                encoder,
                backend,
                cache=config.cache,
                batch_size=config.batch_size,
                report=recorder.report,
            )
        )
    else:
        # Every part's written texts go through one call, so batching and the cache span parts.
        written = [(p, i) for p, norm in enumerate(normalised) for i in range(n) if norm[i]]
        vectors = embed_with_cache(
            [parts[p][i] for p, i in written],
            encoder,
            backend,
            cache=config.cache,
            batch_size=config.batch_size,
            report=recorder.report,
        )
        dim = vectors.shape[1] if len(written) else 1
        for _ in parts:
            blocks.append(np.zeros((n, dim), dtype=np.float32))
        for k, (p, i) in enumerate(written):
            blocks[p][i] = vectors[k]
    recorder.finish(total)
    recorder.start("neighbours", n)
    if len(parts) == 1:
        pairs, sims = neighbour_pairs(
            blocks[0], used, block_size=config.block_size, report=recorder.report
        )
    else:
        empty = [np.array([not t for t in norm], dtype=bool) for norm in normalised]
        pairs, sims = part_neighbour_pairs(
            blocks,
            empty,
            used,
            part_slack=config.part_slack,
            block_size=config.block_size,
            report=recorder.report,
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
        Optional `curation.progress.ProgressFn`, sent a `ProgressUpdate` per stage step.
    **options:
        Near: any `NearDedupConfig` field (``num_perm``, ``shingle``, ``ngram``, ``bands``,
        ``rows``, ``seed``, ``verify``, ``short_text_margin``...). Semantic: ``backend`` ("auto", "sentence-transformers",
        "tfidf"), ``model_path``, ``encoder``, ``cache``, ``batch_size``, ``block_size``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    return cluster_duplicates(texts, method, threshold, progress=progress, **options).groups()
