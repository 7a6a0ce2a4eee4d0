"""Static sentence embeddings derived offline from an installed sentence-transformers model.

Every vocabulary token is encoded once by the source model (the model2vec recipe: mean-pooled
output, PCA, Zipf/SIF weights); a text is then the mean of its tokens' rows: tokenizer + numpy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "STATIC_RECIPE",
    "StaticEncoder",
    "distill_static_model",
    "load_or_distill",
    "static_model_dir",
    "static_models_home",
]

# Bump when the recipe changes, so cached models built by an older recipe are rebuilt.
PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
STATIC_RECIPE: dict[str, int | float | str] = {
    "version": 1,
    "pooling": "mean",
    "pca_dims": PCA_DIMS,
    "sif_coefficient": SIF_COEFFICIENT,
}
_SKIP_TOKEN = re.compile(r"^\[unused\d+\]$")
_ENCODE_CHUNK = 2048


def static_models_home() -> Path:
    """Folder of derived models: ``$CURATION_HOME/models`` (default ``./.curation/models``)."""
    return Path(os.environ.get("CURATION_HOME", ".curation")) / "models"


def _fingerprint(source_path: str) -> str:
    """Names the source model's files by name and size plus the recipe: a reinstalled copy of
    the same model reuses the cache, another model or recipe gets a folder of its own."""
    digest = hashlib.sha256(json.dumps(STATIC_RECIPE, sort_keys=True).encode())
    for root, _dirs, files in sorted(os.walk(source_path)):
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, source_path)
            digest.update(f"{rel}:{os.path.getsize(path)};".encode())
    return digest.hexdigest()[:12]


def static_model_dir(source_name: str, source_path: str) -> Path:
    """Where the static model derived from `source_path` is cached."""
    from curation.paths import safe_file_stem

    stem = safe_file_stem(source_name, max_bytes=60, fallback="model")
    return static_models_home() / f"static-{stem}-{_fingerprint(source_path)}"


class StaticEncoder:
    """A static embedding model: one vector per token, a text is the mean of its tokens.

    Has the sentence-transformers style ``encode`` that `embed_with_cache` calls; loading it
    imports neither torch nor sentence-transformers.

    Parameters
    ----------
    folder:
        A folder written by `distill_static_model` (``embeddings.npy``, ``tokenizer.json``,
        ``static_config.json``).
    """

    def __init__(self, folder: str | Path) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.folder = folder
        self.config: dict[str, Any] = json.loads((folder / "static_config.json").read_text())
        self.embeddings = np.load(folder / "embeddings.npy").astype(np.float32)
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The whole text counts: a difference after the source model's 256-token limit must
        # still separate two texts, and a static lookup costs nothing per extra token.
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.backend_name = f"static:{self.config['source_name']}"

    def encode(self, sentences: list[str], **_: Any) -> np.ndarray:
        """Mean token vector of each text, ``(len(sentences), dim)`` float32 (not normalised;
        a text without any known token gives a zero row)."""
        dim = self.embeddings.shape[1]
        out = np.zeros((len(sentences), dim), dtype=np.float32)
        for lo in range(0, len(sentences), _ENCODE_CHUNK):
            chunk = list(sentences[lo : lo + _ENCODE_CHUNK])
            encoded = self.tokenizer.encode_batch(chunk, add_special_tokens=False)
            lengths = np.array([len(e.ids) for e in encoded], dtype=np.int64)
            if not lengths.any():
                continue
            ids = np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in encoded])
            rows = self.embeddings[ids]
            written = np.nonzero(lengths)[0]
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[written]
            sums = np.add.reduceat(rows, starts, axis=0)
            out[lo + written] = sums / lengths[written, None].astype(np.float32)
        return out


def _token_ids(tokenizer: Any) -> tuple[np.ndarray, int, int]:
    """Vocabulary ids worth a vector (not ``[unused..]``, not special), and CLS / SEP ids."""
    vocab: dict[str, int] = tokenizer.get_vocab()
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    keep = sorted(i for tok, i in vocab.items() if i not in special and not _SKIP_TOKEN.match(tok))
    cls_id = tokenizer.cls_token_id
    sep_id = tokenizer.sep_token_id
    if cls_id is None or sep_id is None:
        raise ValueError("the source tokenizer has no CLS / SEP tokens: not a BERT-style model")
    return np.array(keep, dtype=np.int64), int(cls_id), int(sep_id)


def _pca(x: np.ndarray, dims: int) -> np.ndarray:
    """Centred principal components of `x` (rows), the first `dims`, signs fixed."""
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / max(len(x) - 1, 1)
    _vals, vecs = np.linalg.eigh(cov)
    components = vecs[:, ::-1][:, : min(dims, x.shape[1])]
    scores = centred @ components
    # eigh's sign is arbitrary: fix it so a rebuild gives the same vectors
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(scores.shape[1])])
    return scores * np.where(signs == 0, 1.0, signs)


def distill_static_model(
    source_path: str,
    out_dir: str | Path,
    *,
    source_name: str | None = None,
    batch_size: int = 512,
    report: Callable[[int, int], None] | None = None,
) -> StaticEncoder:
    """Encode every vocabulary token of a local sentence-transformers model once; save the
    static model to `out_dir` (built in a temporary folder, then moved into place).

    Each token ``t`` is fed as ``[CLS] t [SEP]`` to the source transformer, its output mean-
    pooled over the three positions (as the model pools a sentence), the table reduced to
    `PCA_DIMS` principal components (centring removes the direction every
    token shares, which would pull all texts together), and each row weighted by
    ``sif / (sif + p(token))`` with ``p`` Zipf's law over the vocabulary order (frequent
    tokens weigh less). Needs torch and sentence-transformers; about a minute on 2 cores
    for the 30k-token MiniLM vocabulary.

    Parameters
    ----------
    source_path:
        Local sentence-transformers model folder (loaded with ``HF_HUB_OFFLINE=1``).
    out_dir:
        Folder to create (replaced if it exists).
    source_name:
        Shown in the backend name; default the folder name.
    batch_size:
        Tokens per forward pass.
    report:
        Optional ``report(done_tokens, total_tokens)``.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    model: Any = SentenceTransformer(str(source_path), device="cpu")
    transformer = model[0]
    tokenizer = transformer.tokenizer
    ids, cls_id, sep_id = _token_ids(tokenizer)
    vocab_size = int(max(tokenizer.get_vocab().values())) + 1
    auto_model = transformer.auto_model.eval()
    pooled = np.zeros((len(ids), int(auto_model.config.hidden_size)), dtype=np.float32)
    with torch.inference_mode():
        for lo in range(0, len(ids), batch_size):
            batch = torch.from_numpy(ids[lo : lo + batch_size]).unsqueeze(1)
            n = batch.shape[0]
            input_ids = torch.cat(
                [torch.full((n, 1), cls_id), batch, torch.full((n, 1), sep_id)], dim=1
            )
            hidden = auto_model(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            pooled[lo : lo + n] = hidden.mean(dim=1).float().numpy()
            if report is not None:
                report(min(lo + n, len(ids)), len(ids))
    reduced = _pca(pooled.astype(np.float64), int(PCA_DIMS))
    sif = float(SIF_COEFFICIENT)
    inv_rank = 1.0 / np.arange(2, vocab_size + 2)
    proba = inv_rank / inv_rank.sum()
    weights = sif / (sif + proba[ids])
    table = np.zeros((vocab_size, reduced.shape[1]), dtype=np.float32)
    table[ids] = (reduced * weights[:, None]).astype(np.float32)

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".static-", dir=out_dir.parent))
    try:
        np.save(tmp / "embeddings.npy", table)
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        config = {
            **STATIC_RECIPE,
            "source_name": source_name or os.path.basename(os.path.normpath(str(source_path))),
            "tokens": len(ids),
            "dim": int(table.shape[1]),
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        (tmp / "static_config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return StaticEncoder(out_dir)


def load_or_distill(
    source_name: str,
    source_path: str,
    *,
    report: Callable[[int, int], None] | None = None,
) -> StaticEncoder:
    """The cached static model of `source_path`, derived first when missing (once per model
    and recipe; later loads read two files, well under a second)."""
    folder = static_model_dir(source_name, source_path)
    if (folder / "static_config.json").is_file():
        return StaticEncoder(folder)
    return distill_static_model(source_path, folder, source_name=source_name, report=report)
