"""Semantic dedup: the packaged MiniLM against faster paths on the same real texts, one run.

Run ``.venv/bin/python benchmarks/bench_semantic_speed.py``; prints markdown tables: cold load
time (fresh processes), encode time, agreement with MiniLM, and precision / recall on labelled sets.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ["HF_HUB_OFFLINE"] = "1"

from dedup_data import (  # noqa: E402
    build_hard_negative_set,
    build_mrpc_set,
    build_near_set,
    load_source_texts,
)

from curation.dedup.semantic import (  # noqa: E402
    DEFAULT_SEMANTIC_THRESHOLD,
    SemanticDedupConfig,
    embed_with_cache,
    neighbour_pairs,
    resolve_encoder,
)

LOAD_SNIPPET = """
import time
start = time.perf_counter()
from curation.dedup.semantic import SemanticDedupConfig, resolve_encoder
encoder, name = resolve_encoder(SemanticDedupConfig(backend={backend!r}))
encoder.encode(["warm up"])
print(time.perf_counter() - start)
"""


def real_texts(limit: int, seed: int = 0) -> list[str]:
    """Distinct real texts of every file in shared/data, shuffled (seeded), the first `limit`."""
    seen: set[str] = set()
    texts = []
    for _source, text in load_source_texts():
        if text.strip() and text not in seen:
            seen.add(text)
            texts.append(text)
    random.Random(seed).shuffle(texts)
    return texts[:limit]


def cold_load_seconds(backend: str) -> float:
    """Import, load and first encode in a fresh interpreter (what a new process pays)."""
    out = subprocess.run(
        [sys.executable, "-c", LOAD_SNIPPET.format(backend=backend)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def encode(encoder: Any, texts: list[str], batch: int) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = embed_with_cache(texts, encoder, "bench", batch_size=batch)
    return vectors, time.perf_counter() - start


def pair_set(vectors: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    pairs, _ = neighbour_pairs(vectors, threshold)
    return set(map(tuple, pairs.tolist()))


def prf(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def pair_cosines(vectors: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    idx = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return np.einsum("ij,ij->i", vectors[idx[:, 0]], vectors[idx[:, 1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=4000, help="real texts timed")
    parser.add_argument("--batch", type=int, default=64, help="batch size of the current path")
    parser.add_argument("--near-size", type=int, default=2000, help="perturbed-copy set size")
    parser.add_argument("--mrpc-pairs", type=int, default=1500, help="MRPC labelled pairs")
    parser.add_argument(
        "--static-thresholds", default="0.8,0.85,0.875,0.9,0.925,0.95", help="grid for static"
    )
    parser.add_argument("--skip-hard", action="store_true", help="skip the hard-negative set")
    args = parser.parse_args()
    import torch

    load_before = os.getloadavg()[0]
    texts = real_texts(args.texts)
    mean_chars = sum(map(len, texts)) / len(texts)
    minilm, minilm_name = resolve_encoder(SemanticDedupConfig(backend="sentence-transformers"))
    static, static_name = resolve_encoder(SemanticDedupConfig(backend="static"))
    assert minilm is not None and static is not None
    build_s = getattr(static, "config", {}).get("build_seconds")
    loads = {name: cold_load_seconds(b) for name, b in (("minilm", "sentence-transformers"),)}
    loads["static"] = cold_load_seconds("static")
    minilm.encode(["warm up"])
    default_len = minilm.max_seq_length  # type: ignore[attr-defined]

    def minilm_short(t: list[str]) -> tuple[np.ndarray, float]:
        minilm.max_seq_length = 128  # type: ignore[attr-defined]
        try:
            return encode(minilm, t, args.batch)
        finally:
            minilm.max_seq_length = default_len  # type: ignore[attr-defined]

    paths: list[tuple[str, Any, str]] = [
        (
            f"**current**: {minilm_name}, longest first, batches of {args.batch}, "
            f"max_seq_length {default_len}, torch threads {torch.get_num_threads()}",
            lambda t: encode(minilm, t, args.batch),
            "minilm",
        ),
        ("same, batches of 256", lambda t: encode(minilm, t, 256), "minilm"),
        ("same, max_seq_length 128", minilm_short, "minilm"),
        (
            f"static: {static_name} (derived offline from MiniLM)",
            lambda t: encode(static, t, 1024),
            "static",
        ),
    ]
    results = [(label, *run(texts), kind) for label, run, kind in paths]
    reference = results[0][1]
    ref_pairs = pair_set(reference, DEFAULT_SEMANTIC_THRESHOLD)

    print(
        f"\n### Speed ({len(texts)} distinct real texts of shared/data, mean {mean_chars:.0f} "
        f"characters; {os.cpu_count()} shared cores, load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after the timed paths; one process, one run each)\n"
    )
    print(
        f"Cold load (fresh process: import, load, first encode): MiniLM {loads['minilm']:.1f} s, "
        f"static {loads['static']:.2f} s"
        + (f" (deriving the static model once: {build_s:.0f} s, cached)" if build_s else "")
    )
    print()
    print(
        "| path | encode s | ms / text | speed-up | min cosine to current | "
        f"current's pairs >= {DEFAULT_SEMANTIC_THRESHOLD} kept |"
    )
    print("|---|---|---|---|---|---|")
    base = results[0][2]
    for label, vectors, secs, kind in results:
        if kind == "minilm":
            agree = f"{float(np.min(np.sum(vectors * reference, axis=1))):.4f}"
            kept = len(pair_set(vectors, DEFAULT_SEMANTIC_THRESHOLD) & ref_pairs)
            kept_s = f"{kept} of {len(ref_pairs)}"
        else:
            agree, kept_s = "(other space)", "see below"
        print(
            f"| {label} | {secs:.1f} | {secs / len(texts) * 1000:.2f} | {base / secs:.1f}x | "
            f"{agree} | {kept_s} |",
            flush=True,
        )

    grid = [float(x) for x in args.static_thresholds.split(",")]
    static_vectors = results[-1][1]
    print(
        f"\nStatic vs MiniLM's own pairs on the same texts (MiniLM at {DEFAULT_SEMANTIC_THRESHOLD}: "
        f"{len(ref_pairs)} pairs, taken as truth):\n"
    )
    print(
        "| static threshold | pairs | precision | recall | F1 | MiniLM cosine of the pairs "
        "static adds: median, 10th percentile |"
    )
    print("|---|---|---|---|---|---|")
    for t in grid:
        got = pair_set(static_vectors, t)
        p, r, f = prf(got, ref_pairs)
        added = pair_cosines(reference, sorted(got - ref_pairs))
        spread = f"{np.median(added):.3f}, {np.percentile(added, 10):.3f}" if len(added) else "-"
        print(f"| {t} | {len(got)} | {p:.3f} | {r:.3f} | {f:.3f} | {spread} |", flush=True)

    # Labelled sets: each model's vectors, pairs scored at each threshold.
    near = build_near_set(args.near_size)
    near_truth = near.near_truth()
    mrpc_texts, mrpc_pairs = build_mrpc_set(args.mrpc_pairs)
    hard = None if args.skip_hard else build_hard_negative_set()
    models = [("MiniLM (current)", minilm, [DEFAULT_SEMANTIC_THRESHOLD]), ("static", static, grid)]
    print(
        f"\n### Quality on labelled sets (pairs scored one by one: cosine >= threshold)\n\n"
        f"Perturbed copies: {len(near.texts)} texts, {len(near_truth)} true pairs (every pair "
        f"inside the set is scored). MRPC: {len(mrpc_pairs)} labelled pairs "
        f"({sum(q for *_, q in mrpc_pairs)} paraphrases). "
        + ("" if hard is None else f"Hard negatives: {sum(map(len, hard.pairs.values()))} pairs.")
        + "\n"
    )
    print(
        "| model | threshold | encode s (all sets) | perturbed P | perturbed R | perturbed F1 "
        "| MRPC P | MRPC R | MRPC F1 | hard-negative FP |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, encoder, thresholds in models:
        start = time.perf_counter()
        near_v = embed_with_cache(near.texts, encoder, "q", batch_size=args.batch)
        mrpc_v = embed_with_cache(mrpc_texts, encoder, "q", batch_size=args.batch)
        hard_v = None if hard is None else embed_with_cache(hard.texts, encoder, "q")
        secs = time.perf_counter() - start
        mrpc_cos = pair_cosines(mrpc_v, [(i, j) for i, j, _ in mrpc_pairs])
        mrpc_label = np.array([q for *_, q in mrpc_pairs], dtype=bool)
        hard_cos = (
            None
            if hard is None or hard_v is None
            else pair_cosines(hard_v, [p for fam in hard.pairs.values() for p in fam])
        )
        for t in thresholds:
            p, r, f = prf(pair_set(near_v, t), near_truth)
            pred = mrpc_cos >= t
            tp = int(np.sum(pred & mrpc_label))
            mp = tp / max(int(pred.sum()), 1)
            mr = tp / max(int(mrpc_label.sum()), 1)
            mf = 2 * mp * mr / (mp + mr) if mp + mr else 0.0
            fp = "-" if hard_cos is None else f"{float(np.mean(hard_cos >= t)):.4f}"
            print(
                f"| {name} | {t} | {secs:.1f} | {p:.4f} | {r:.4f} | {f:.4f} | {mp:.3f} | "
                f"{mr:.3f} | {mf:.3f} | {fp} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
