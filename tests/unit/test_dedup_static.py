"""Unit tests of the static embedding model: the lookup on a hand-made table, the model derived
from the packaged MiniLM (when the semantic extra is installed), and batching that changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.dedup import SemanticDedupConfig, cluster_duplicates
from curation.dedup.semantic import (
    DEFAULT_STATIC_THRESHOLD,
    embed_with_cache,
    resolve_encoder,
    sentence_transformers_available,
)

needs_model = pytest.mark.skipif(
    not sentence_transformers_available(),
    reason="optional extra not installed: pip install 'curation[semantic]'",
)


def _tiny_model(folder: Path) -> np.ndarray:
    """A static model folder over the words a, b, c (rows chosen by hand)."""
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "a": 1, "b": 2, "c": 3}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    table = np.array([[0, 0, 0], [1, 0, 0], [0, 3, 0], [0, 0, 5]], dtype=np.float32)
    np.save(folder / "embeddings.npy", table)
    (folder / "static_config.json").write_text(json.dumps({"source_name": "tiny"}))
    return table


def test_static_lookup_is_the_mean_of_token_rows(tmp_path: Path, monkeypatch) -> None:
    from curation.dedup import static

    table = _tiny_model(tmp_path / "tiny")
    encoder = static.StaticEncoder(tmp_path / "tiny")
    assert encoder.backend_name == "static:tiny"
    texts = ["a b", "", "c c a", "b " * 1000 + "a", "zzz"]
    got = encoder.encode(texts)
    assert got.dtype == np.float32 and got.shape == (5, 3)
    assert np.allclose(got[0], (table[1] + table[2]) / 2)
    assert np.allclose(got[1], 0)  # empty text: zero row, never matches anything
    assert np.allclose(got[2], (2 * table[3] + table[1]) / 3)
    # every token counts, also past the source model's 256-token limit
    assert np.allclose(got[3], (1000 * table[2] + table[1]) / 1001)
    assert np.allclose(got[4], 0)  # unknown words carry no vector
    # chunked encoding gives the same rows as one call
    monkeypatch.setattr(static, "_ENCODE_CHUNK", 2)
    assert np.array_equal(encoder.encode(texts), got)


def test_static_folder_names_follow_source_files(tmp_path: Path, monkeypatch) -> None:
    from curation.dedup.static import static_model_dir

    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "model.safetensors").write_bytes(b"x" * 10)
    first = static_model_dir("../My model", str(src))
    assert first.parent == tmp_path / "home" / "models"
    assert "/" not in first.name and first.name.startswith("static-")
    assert static_model_dir("../My model", str(src)) == first
    (src / "model.safetensors").write_bytes(b"x" * 11)  # another model, another folder
    assert static_model_dir("../My model", str(src)) != first


@pytest.fixture(scope="module")
def static_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CURATION_HOME whose static model is derived once (about a minute) and kept in pytest's
    cache, so later runs load it in a fraction of a second."""
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    if cache is None:
        return tmp_path_factory.mktemp("curation-static-home")
    return Path(cache.mkdir("curation-static-home"))


@needs_model
def test_static_model_finds_planted_copies_keeps_unrelated_apart(
    static_home: Path, monkeypatch
) -> None:  # pragma: no cover - optional
    monkeypatch.setenv("CURATION_HOME", str(static_home))
    texts = [
        "Give three tips for staying healthy.",
        "Describe the process of photosynthesis in simple terms.",
        "Write a short poem about the moon rising over a quiet harbour town.",
        "Please give three tips for staying healthy.",
        "Explain how to reverse a linked list in Python.",
        "describe the process of photosynthesis in simple words",
        "What is the capital of France?",
        "Translate the sentence 'I like apples' into Spanish.",
        "Give three tips for staying wealthy.",  # one word apart, another request (0.89)
        "What is the capital of Peru?",
    ]
    result = cluster_duplicates(texts, "semantic", config=SemanticDedupConfig(backend="static"))
    assert result.backend == "static:all-MiniLM-L6-v2"
    assert result.threshold == DEFAULT_STATIC_THRESHOLD
    assert result.groups() == [[0, 3], [1, 5]]


@needs_model
def test_batching_and_order_do_not_change_vectors(static_home: Path, monkeypatch) -> None:
    """Length-sorted batches of any size give the vectors of one text at a time."""
    monkeypatch.setenv("CURATION_HOME", str(static_home))
    texts = [
        "How can I reset my password?",
        "The recipe needs two eggs and some flour, then bake it for forty minutes at 180 C. " * 6,
        "Hi",
        "What is the way to reset my password?",
        "List five animals that live in the Arctic and say how each stays warm.",
    ]
    for backend in ("sentence-transformers", "static"):
        encoder, name = resolve_encoder(SemanticDedupConfig(backend=backend))
        assert encoder is not None
        one_by_one = np.concatenate(
            [embed_with_cache([t], encoder, name, batch_size=1) for t in texts]
        )
        for batch in (2, 64):
            batched = embed_with_cache(texts, encoder, name, batch_size=batch)
            assert np.allclose(batched, one_by_one, atol=2e-5), (backend, batch)
