"""Benchmark of curation.labeling.find_label_issues against cleanlab's own recipe, same process.

Uniform label noise (10 % and 20 %, several seeds) injected into real labelled sets from
shared/data; precision / recall / F1 of the flagged set, AUROC of the quality score, and the
time for 5,000 examples. Run ``python benchmarks/bench_label_issues.py`` (``--quick``: 2 seeds).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_data import DATA_DIR, load_source_texts  # noqa: E402

from curation.labeling.issues import LabelIssueConfig, rank_label_quality  # noqa: E402

LabelledSet = tuple[list[str], list[str]]


def _jsonl(rel: str) -> list[dict]:
    lines = (DATA_DIR / rel).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _json(rel: str) -> list[dict]:
    return json.loads((DATA_DIR / rel).read_text(encoding="utf-8"))


def dbpedia() -> LabelledSet:
    """200 DBpedia abstracts, 14 categories (8-21 each)."""
    rows = _jsonl("openai-cookbook/dbpedia_samples.jsonl")
    return [r["text"] for r in rows], [r["category"] for r in rows]


def ag_news() -> LabelledSet:
    """200 T0 ag_news prompts; the completion is the label (Business / Science and technology)."""
    rows = _jsonl("t0-prompt-completion/ag_news_classify.jsonl")
    return [r["prompt"] for r in rows], [r["completion"].replace("<|endoftext|>", "") for r in rows]


def dolly() -> LabelledSet:
    """100 Dolly records (instruction, context, response), 6 task categories (2-39 each)."""
    rows = _json("dolly/random_selection_20_top_100.json")
    texts = [
        "\n\n".join(p for p in (r["instruction"], r["context"], r["response"]) if p) for r in rows
    ]
    return texts, [r["category"] for r in rows]


def glaive_tools() -> LabelledSet:
    """Development set: the first user turn of glaive tool-call conversations offering one tool,
    labelled by the tool's verb (calculate, generate, search, get, create, ...)."""
    texts, labels = [], []
    for r in _json("llamafactory/glaive_toolcall_en_demo.json"):
        tools = json.loads(r["tools"]) if r["tools"] else []
        if len(tools) == 1:
            texts.append(r["conversations"][0]["value"])
            labels.append(tools[0]["name"].split("_")[0])
    return texts, labels


def sources(n: int, seed: int = 0) -> LabelledSet:
    """Development and speed set: texts of every shared dataset labelled by the folder they come
    from (8 sources), shuffled, first `n`."""
    rows = load_source_texts()
    random.Random(seed).shuffle(rows)
    rows = rows[:n]
    return [t for _, t in rows], [s.split("/")[0] for s, _ in rows]


SETS: dict[str, tuple[Callable[[], LabelledSet], str]] = {
    "dbpedia": (dbpedia, "evaluation"),
    "ag_news": (ag_news, "evaluation"),
    "dolly": (dolly, "evaluation"),
    "glaive-tools": (glaive_tools, "development"),
    "sources-1000": (lambda: sources(1000), "development"),
}


def inject_noise(labels: list[str], rate: float, seed: int) -> tuple[list[str], set[int]]:
    """Uniform noise: `rate` of the labels, chosen at random, get another class at random."""
    rng = random.Random(seed)
    classes = sorted(set(labels))
    flipped = set(rng.sample(range(len(labels)), round(rate * len(labels))))
    noisy = list(labels)
    for i in sorted(flipped):
        noisy[i] = rng.choice([c for c in classes if c != labels[i]])
    return noisy, flipped


def reference_recipe(texts: list[str], labels: list[str]) -> tuple[set[int], np.ndarray]:
    """cleanlab's recipe: TF-IDF + logistic regression, 5-fold cross_val_predict,
    `cleanlab.filter.find_label_issues` (defaults); quality = cleanlab's label quality score."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    classes = sorted(set(labels))
    y = np.asarray([classes.index(lab) for lab in labels])
    x = TfidfVectorizer().fit_transform(texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probs = cross_val_predict(
            LogisticRegression(max_iter=1000), x, y, cv=5, method="predict_proba"
        )
        flagged = find_label_issues(y, probs)
    return {int(i) for i in np.flatnonzero(flagged)}, get_label_quality_scores(y, probs)


def ours(config: LabelIssueConfig) -> Callable[[list[str], list[str]], tuple[set[int], np.ndarray]]:
    def run(texts: list[str], labels: list[str]) -> tuple[set[int], np.ndarray]:
        result = rank_label_quality(texts, labels, config=config)
        # An unchecked example (rare class) counts as not suspicious.
        quality = np.asarray([1.0 if q is None else q for q in result.quality_scores])
        return {issue.index for issue in result.issues}, quality

    return run


def scores(flagged: set[int], quality: np.ndarray, truth: set[int], n: int) -> np.ndarray:
    from sklearn.metrics import roc_auc_score

    tp = len(flagged & truth)
    precision = tp / len(flagged) if flagged else 0.0
    recall = tp / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    is_error = np.zeros(n, dtype=bool)
    is_error[list(truth)] = True
    return np.array([precision, recall, f1, roc_auc_score(is_error, -quality)])


def quality_table(seeds: int, embeddings: bool) -> None:
    methods: dict[str, Callable] = {"cleanlab recipe (reference)": reference_recipe}
    methods["ours, tfidf"] = ours(LabelIssueConfig(features="tfidf"))
    if embeddings:
        cache: dict[str, np.ndarray] = {}  # each set's texts are encoded once for all seeds
        methods["ours, tfidf+embeddings"] = ours(
            LabelIssueConfig(features="tfidf+embeddings", cache=cache)
        )
    print(f"### Quality: uniform label noise, mean of {seeds} seeds\n")
    print("| set | role | noise | method | precision | recall | F1 | AUROC | seconds / run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (load, role) in SETS.items():
        texts, labels = load()
        for rate in (0.1, 0.2):
            for method, run in methods.items():
                rows, spent = [], 0.0
                for seed in range(seeds):
                    noisy, truth = inject_noise(labels, rate, seed)
                    start = time.perf_counter()
                    flagged, quality = run(texts, noisy)
                    spent += time.perf_counter() - start
                    rows.append(scores(flagged, quality, truth, len(texts)))
                p, r, f1, auc = np.mean(rows, axis=0)
                print(
                    f"| {name} ({len(texts)}, {len(set(labels))} classes) | {role} | "
                    f"{rate:.0%} | {method} | {p:.3f} | {r:.3f} | {f1:.3f} | {auc:.3f} | "
                    f"{spent / seeds:.1f} |",
                    flush=True,
                )


def speed_table(n: int) -> None:
    texts, labels = sources(n, seed=1)
    noisy, truth = inject_noise(labels, 0.1, 0)
    print(f"\n### Speed: {n} examples (sources set, 10 % noise), one run each\n")
    print("| method | wall s | CPU s | F1 | AUROC |")
    print("|---|---|---|---|---|")
    for method, run in (
        ("cleanlab recipe (reference)", reference_recipe),
        ("ours, defaults (tfidf above 1,000 examples)", ours(LabelIssueConfig())),
    ):
        wall, cpu = time.perf_counter(), time.process_time()
        flagged, quality = run(texts, noisy)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        _, _, f1, auc = scores(flagged, quality, truth, len(texts))
        print(f"| {method} | {wall:.1f} | {cpu:.1f} | {f1:.3f} | {auc:.3f} |", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 seeds")
    parser.add_argument("--speed-size", type=int, default=5000)
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--only", choices=["quality", "speed"])
    args = parser.parse_args()
    from curation.dedup.semantic import sentence_transformers_available

    if args.only != "speed":
        embeddings = sentence_transformers_available() and not args.no_embeddings
        quality_table(2 if args.quick else args.seeds, embeddings)
    if args.only != "quality":
        speed_table(args.speed_size)


if __name__ == "__main__":
    main()
