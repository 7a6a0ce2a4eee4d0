"""Benchmarks of curation.dedup: pairwise quality on labelled sets and speed against datasketch.

Run ``python benchmarks/bench_dedup.py --sizes 10000 100000`` (or ``--quick``); prints markdown.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_data import (  # noqa: E402
    STRENGTHS,
    ConversationNegatives,
    HardNegativeSet,
    build_conversation_near_set,
    build_hard_negative_conversations,
    build_hard_negative_set,
    build_mrpc_set,
    build_near_set,
    build_shared_premise_set,
    pairwise_scores,
)

from curation.dedup import (  # noqa: E402
    NearDedupConfig,
    SemanticDedupConfig,
    cluster_conversations,
    cluster_duplicates,
)
from curation.dedup.components import clusters_from_pairs  # noqa: E402
from curation.dedup.minhash import overlap, shingle_sets  # noqa: E402
from curation.dedup.near import near_duplicate_pairs  # noqa: E402
from curation.dedup.normalise import normalise_all  # noqa: E402
from curation.dedup.results import StageRecorder  # noqa: E402


def shingle_strings(text: str, shingle: str, n: int) -> set[str]:
    """The same shingles our pipeline hashes, as strings (for datasketch)."""
    units: list[str] | str = text.split() if shingle == "word" else text
    if len(units) == 0:
        return set()
    joiner = " " if shingle == "word" else ""
    if len(units) < n:
        return {joiner.join(units)}
    return {joiner.join(units[i : i + n]) for i in range(len(units) - n + 1)}


def datasketch_clusters(texts: list[str], cfg: NearDedupConfig) -> tuple[list[list[int]], float]:
    """datasketch MinHash.bulk + MinHashLSH with our normalisation, shingles, num_perm, threshold."""
    from datasketch import MinHash, MinHashLSH

    start = time.perf_counter()
    sets = [shingle_strings(t, cfg.shingle, cfg.ngram) for t in normalise_all(texts)]
    encoded = [[s.encode("utf-8") for s in sh] for sh in sets]
    minhashes = MinHash.bulk(encoded, num_perm=cfg.num_perm, seed=cfg.seed)
    lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
    with lsh.insertion_session() as session:
        for i, m in enumerate(minhashes):
            if sets[i]:
                session.insert(i, m)
    pairs = []
    for i, m in enumerate(minhashes):
        if sets[i]:
            pairs.extend((i, j) for j in lsh.query(m) if j > i)
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    groups = [c.members for c in clusters_from_pairs(len(texts), arr, np.ones(len(arr)))]
    return groups, time.perf_counter() - start


def timed(
    texts: list[str], method: str, config: object = None
) -> tuple[list[list[int]], float, str]:
    start = time.perf_counter()
    result = cluster_duplicates(texts, method, config=config)  # type: ignore[arg-type]
    return result.groups(), time.perf_counter() - start, result.backend


def fmt(scores: dict[str, float]) -> str:
    return f"{scores['precision']:.4f} | {scores['recall']:.4f} | {scores['f1']:.4f}"


def recall_by_kind(groups: list[list[int]], data: object) -> str:
    """Recall of original-copy pairs per perturbation kind."""
    label = {}
    for c, members in enumerate(groups):
        for m in members:
            label[m] = c
    orig = {
        g: i for i, (g, k) in enumerate(zip(data.group, data.kind, strict=True)) if k == "original"
    }  # type: ignore[attr-defined]
    parts = []
    for kind in ("format", *STRENGTHS):
        idx = [i for i, k in enumerate(data.kind) if k == kind]  # type: ignore[attr-defined]
        hit = sum(1 for i in idx if i in label and label.get(orig[data.group[i]]) == label[i])  # type: ignore[attr-defined]
        parts.append(f"{kind} {hit / max(len(idx), 1):.3f}")
    return ", ".join(parts)


def quality(size: int, cfg: NearDedupConfig, mrpc_pairs: int | None, semantic_backend: str) -> None:
    data = build_near_set(size)
    near_truth, exact_truth = data.near_truth(), data.exact_truth()
    n = len(data.texts)
    print(
        f"\n### Quality: perturbed-copy set, {n} texts ({data.stats}), "
        f"{len(near_truth)} near pairs, {len(exact_truth)} exact pairs\n"
    )
    print("| method | backend | truth | precision | recall | F1 | seconds |")
    print("|---|---|---|---|---|---|---|")
    groups, secs, backend = timed(data.texts, "exact")
    print(
        f"| exact | {backend} | exact pairs | {fmt(pairwise_scores(groups, exact_truth, n))} | {secs:.2f} |"
    )
    print(
        f"| exact | {backend} | near pairs | {fmt(pairwise_scores(groups, near_truth, n))} | {secs:.2f} |"
    )
    groups, secs, backend = timed(data.texts, "near", cfg)
    print(
        f"| near (ours) | {backend} | near pairs | {fmt(pairwise_scores(groups, near_truth, n))} | {secs:.2f} |"
    )
    ours_kinds = recall_by_kind(groups, data)
    plain = NearDedupConfig(**{**cfg.to_dict(), "short_text_margin": 0})  # type: ignore[arg-type]
    plain_groups, plain_secs, _ = timed(data.texts, "near", plain)
    print(
        f"| near (ours, margin 0 = plain Jaccard) | {backend} | near pairs | "
        f"{fmt(pairwise_scores(plain_groups, near_truth, n))} | {plain_secs:.2f} |"
    )
    ds_groups, ds_secs = datasketch_clusters(data.texts, cfg)
    print(
        f"| near (datasketch) | MinHashLSH | near pairs | {fmt(pairwise_scores(ds_groups, near_truth, n))} | {ds_secs:.2f} |"
    )
    groups, secs, backend = timed(
        data.texts, "semantic", SemanticDedupConfig(backend=semantic_backend)
    )
    print(
        f"| semantic | {backend} | near pairs | {fmt(pairwise_scores(groups, near_truth, n))} | {secs:.2f} |"
    )
    print(f"\nRecall of original-copy links by kind, near (ours): {ours_kinds}")
    print(f"Recall of original-copy links by kind, datasketch: {recall_by_kind(ds_groups, data)}")

    texts, labelled = build_mrpc_set(mrpc_pairs)
    pos = {(a, b) for a, b, q in labelled if q == 1}
    neg = {(a, b) for a, b, q in labelled if q == 0}
    print(
        f"\n### Quality: MRPC paraphrase pairs ({len(texts)} sentences, {len(pos)} positive, "
        f"{len(neg)} negative pairs; scored on labelled pairs only)\n"
    )
    print("| method | backend | threshold | precision | recall | F1 | seconds |")
    print("|---|---|---|---|---|---|---|")
    for method, config in (
        ("exact", None),
        ("near", cfg),
        ("semantic", SemanticDedupConfig(backend=semantic_backend)),
    ):
        start = time.perf_counter()
        result = cluster_duplicates(texts, method, config=config)  # type: ignore[arg-type]
        secs = time.perf_counter() - start
        label = np.full(len(texts), -1)
        for c, members in enumerate(result.groups()):
            label[members] = c
        same = {(a, b) for a, b in pos | neg if label[a] >= 0 and label[a] == label[b]}
        tp, fp = len(same & pos), len(same & neg)
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / len(pos)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(
            f"| {method} | {result.backend} | {result.threshold} | {p:.4f} | {r:.4f} | {f1:.4f} | {secs:.2f} |"
        )


def false_positive_rates(
    groups: list[list[int]], hard: HardNegativeSet | ConversationNegatives
) -> dict[str, float]:
    """Share of each family's labelled negative pairs that ended in one cluster."""
    n = len(hard.texts) if isinstance(hard, HardNegativeSet) else len(hard.conversations)
    label = np.full(n, -1, dtype=np.int64)
    for c, members in enumerate(groups):
        label[members] = c
    rates = {}
    for family, pairs in hard.pairs.items():
        arr = np.array(pairs, dtype=np.int64)
        same = (label[arr[:, 0]] >= 0) & (label[arr[:, 0]] == label[arr[:, 1]])
        rates[family] = float(same.mean())
    every = np.concatenate([np.array(p, dtype=np.int64) for p in hard.pairs.values()])
    rates["all"] = float(
        ((label[every[:, 0]] >= 0) & (label[every[:, 0]] == label[every[:, 1]])).mean()
    )
    return rates


SHINGLE_CHOICES: list[tuple[str, str, int | tuple[int, ...]]] = [
    ("word 1", "word", 1),
    ("word 2", "word", 2),
    ("word 1+2", "word", (1, 2)),
    ("char 4", "char", 4),
    ("char 5", "char", 5),
]


def _rule_scores(
    texts: list[str], shingle: str, ngram: int | tuple[int, ...], floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verified pairs at Jaccard >= floor with their intersection and union sizes."""
    cfg = NearDedupConfig(shingle=shingle, ngram=ngram, threshold=floor, short_text_margin=0)
    pairs, _ = near_duplicate_pairs(texts, cfg, StageRecorder(None))
    inter, union = overlap(shingle_sets(normalise_all(texts), shingle, ngram), pairs)
    return pairs, inter, union


def hard_negatives(size: int, thresholds: list[float], margins: list[int]) -> None:
    """Perturbed-copy F1 next to hard-negative false positives, per shingle / threshold / margin."""
    data = build_near_set(size)
    truth, n = data.near_truth(), len(data.texts)
    hard = build_hard_negative_set()
    counts = ", ".join(f"{k} {len(v)}" for k, v in hard.pairs.items())
    print(
        f"\n### Hard negatives vs perturbed copies ({n} perturbed-set texts; "
        f"{len(hard.texts)} hard-negative texts, pairs: {counts})\n"
    )
    print(
        "A pair counts when its sets are identical or |A ∩ B| / (|A ∪ B| + margin) >= threshold. "
        "FP = share of labelled hard-negative pairs put in one cluster (lower is better).\n"
    )
    families = list(hard.pairs)
    print(
        "| shingles | threshold | margin | perturbed P | perturbed R | perturbed F1 | FP all | "
        + " | ".join(f"FP {f}" for f in families)
        + " |"
    )
    print("|---" * (7 + len(families)) + "|")
    floor = min(thresholds)
    for name, shingle, ngram in SHINGLE_CHOICES:
        p_pairs, p_inter, p_union = _rule_scores(data.texts, shingle, ngram, floor)
        h_pairs, h_inter, h_union = _rule_scores(hard.texts, shingle, ngram, floor)
        for threshold in thresholds:
            for margin in margins:
                row = []
                for pairs, inter, union, size_n in (
                    (p_pairs, p_inter, p_union, n),
                    (h_pairs, h_inter, h_union, len(hard.texts)),
                ):
                    keep = (inter == union) | (inter >= threshold * (union + margin) - 1e-9)
                    kept = pairs[keep]
                    row.append(
                        [c.members for c in clusters_from_pairs(size_n, kept, np.ones(len(kept)))]
                    )
                sc = pairwise_scores(row[0], truth, n)
                fp = false_positive_rates(row[1], hard)
                print(
                    f"| {name} | {threshold} | {margin} | {sc['precision']:.4f} | "
                    f"{sc['recall']:.4f} | {sc['f1']:.4f} | {fp['all']:.4f} | "
                    + " | ".join(f"{fp[f]:.4f}" for f in families)
                    + " |",
                    flush=True,
                )


def diff_check(size: int, seeds: list[int], refused: int) -> None:
    """Near defaults with and without the substantive-difference check, both sets, timed.

    One row pair per seed of the generated sets (seed 0 is the one of every other table);
    `refused` > 0 then prints that many true pairs (seed 0) the check keeps apart, with the
    rule that weighed each differing span (`textdiff.weighed_spans`).
    """
    from dataclasses import replace

    families: list[str] = []
    for seed in seeds:
        data = build_near_set(size, seed=seed)
        truth, n = data.near_truth(), len(data.texts)
        hard = build_hard_negative_set(seed=seed)
        if not families:
            families = list(hard.pairs)
            print(
                f"\n### Near defaults, substantive-difference check off / on ({n} perturbed-set "
                f"texts, {len(hard.texts)} hard-negative texts; seconds = best of 3, perturbed + "
                "hard)\n"
            )
            print(
                "| seed | diff_check | perturbed P | perturbed R | perturbed F1 | FP all | "
                + " | ".join(f"FP {f}" for f in families)
                + " | seconds |"
            )
            print("|---" * (7 + len(families)) + "|")
        for on in (False, True):
            cfg = replace(NearDedupConfig(), diff_check=on)
            best, groups = float("inf"), ([], [])
            for _ in range(3):
                start = time.perf_counter()
                out = []
                for texts in (data.texts, hard.texts):
                    pairs, sims = near_duplicate_pairs(texts, cfg, StageRecorder(None))
                    out.append([c.members for c in clusters_from_pairs(len(texts), pairs, sims)])
                best = min(best, time.perf_counter() - start)
                groups = (out[0], out[1])
            sc = pairwise_scores(groups[0], truth, n)
            fp = false_positive_rates(groups[1], hard)
            print(
                f"| {seed} | {'on' if on else 'off'} | {sc['precision']:.4f} | "
                f"{sc['recall']:.4f} | {sc['f1']:.4f} | {fp['all']:.4f} | "
                + " | ".join(f"{fp[f]:.4f}" for f in families)
                + f" | {best:.2f} |",
                flush=True,
            )
    if refused > 0:
        refused_true_pairs(size, refused)


def refused_true_pairs(size: int, show: int) -> None:
    """True pairs of the perturbed set (seed 0) that pass Jaccard but not the difference check."""
    import random
    from collections import Counter
    from dataclasses import replace

    from curation.dedup.textdiff import substantive_difference, weighed_spans

    data = build_near_set(size)
    cfg = replace(NearDedupConfig(), diff_check=False)
    pairs, _ = near_duplicate_pairs(data.texts, cfg, StageRecorder(None))
    kept_apart = [
        (i, j)
        for i, j in pairs.tolist()
        if data.group[i] == data.group[j] and substantive_difference(data.texts[i], data.texts[j])
    ]
    rules: Counter[str] = Counter()
    for i, j in kept_apart:
        rules.update(s.rule for s in weighed_spans(data.texts[i], data.texts[j]) if s.weight)
    print(
        f"\nTrue pairs kept apart by the check: {len(kept_apart)} of "
        f"{sum(data.group[i] == data.group[j] for i, j in pairs.tolist())} that pass Jaccard; "
        f"weighing rules: {dict(rules.most_common())}\n"
    )
    for i, j in random.Random(0).sample(kept_apart, min(show, len(kept_apart))):
        spans = [
            f"{s.left!r} -> {s.right!r}: {s.rule} {s.weight:g}"
            for s in weighed_spans(data.texts[i], data.texts[j])
            if s.weight
        ]
        print(f"- {data.texts[i][:90]!r} ({len(data.texts[i].split())} words): {'; '.join(spans)}")


def best_of(repeats: int, run):  # type: ignore[no-untyped-def]
    """Run `run()` `repeats` times; keep the fastest (the machine is shared)."""
    results = [run() for _ in range(repeats)]
    return min(results, key=lambda r: r[1])


def speed(sizes: list[int], cfg: NearDedupConfig, repeats: int) -> None:
    print(
        f"\n### Speed (end to end, one process; near: {cfg.shingle} {cfg.ngram}-grams, "
        f"num_perm={cfg.num_perm}, threshold={cfg.threshold}, "
        f"short_text_margin={cfg.short_text_margin})\n"
    )
    print("Best of --repeats runs for sizes <= 20,000, one run above; wall-clock seconds.\n")
    print(
        "| texts | exact s | near (ours) s | near datasketch s | speed-up | ours F1 | datasketch F1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        data = build_near_set(size, seed=1)
        truth = data.near_truth()
        n = len(data.texts)
        reps = repeats if size <= 20_000 else 1
        texts = data.texts
        _, exact_secs, _ = best_of(reps, lambda t=texts: timed(t, "exact"))
        groups, near_secs, _ = best_of(reps, lambda t=texts: timed(t, "near", cfg))
        ours = pairwise_scores(groups, truth, n)["f1"]
        ds_groups, ds_secs = best_of(reps, lambda t=texts: datasketch_clusters(t, cfg))
        theirs = pairwise_scores(ds_groups, truth, n)["f1"]
        print(
            f"| {n} | {exact_secs:.2f} | {near_secs:.2f} | {ds_secs:.2f} | "
            f"{ds_secs / near_secs:.1f}x | {ours:.4f} | {theirs:.4f} |",
            flush=True,
        )


def _modes(method: str, config: object = None) -> list[tuple[str, object]]:
    """The two ways of comparing a conversation: one joined text, or each role apart."""

    def joined(convs, texts):  # type: ignore[no-untyped-def]
        return cluster_duplicates(texts, method, config=config)  # type: ignore[arg-type]

    def per_role(convs, texts):  # type: ignore[no-untyped-def]
        return cluster_conversations(convs, method, config=config)  # type: ignore[arg-type]

    return [("whole text (before)", joined), ("each role apart (now)", per_role)]


def conversations(size: int, semantic_backend: str) -> None:
    """Perturbed copies, hard negatives and shared premises as conversations, both ways."""
    data = build_conversation_near_set(size)
    truth, texts, n = data.near_truth(), data.texts(), len(data.conversations)
    print(
        f"\n### Conversations: perturbed copies ({n} conversations, {data.stats}; "
        f"{len(truth)} true pairs), edits spread over all parts\n"
    )
    print("| method | compared as | precision | recall | F1 | seconds |")
    print("|---|---|---|---|---|---|")
    semantic = SemanticDedupConfig(backend=semantic_backend)
    for method, config in (("near", None), ("semantic", semantic)):
        for name, run in _modes(method, config):
            start = time.perf_counter()
            result = run(data.conversations, texts)
            secs = time.perf_counter() - start
            sc = pairwise_scores(result.groups(), truth, n)
            print(f"| {method} ({result.backend}) | {name} | {fmt(sc)} | {secs:.2f} |", flush=True)

    for title, negatives in (
        ("hard negatives as conversations", build_hard_negative_conversations()),
        ("shared premises (nothing should cluster)", build_shared_premise_set()),
    ):
        families = list(negatives.pairs)
        counts = ", ".join(f"{k} {len(v)}" for k, v in negatives.pairs.items())
        print(
            f"\n### Conversations: {title} ({len(negatives.conversations)} conversations; "
            f"pairs: {counts})\n"
        )
        print(
            "FP = share of labelled pairs put in one cluster; 'same prompt' = share listed as "
            "same prompt, different answers (shown apart, never removed by a policy).\n"
        )
        print(
            "| method | compared as | FP all | "
            + " | ".join(f"FP {f}" for f in families)
            + " | same prompt |"
        )
        print("|---" * (4 + len(families)) + "|")
        texts = negatives.texts()
        for method, config in (("exact", None), ("near", None), ("semantic", semantic)):
            for name, run in _modes(method, config):
                result = run(negatives.conversations, texts)
                fp = false_positive_rates(result.groups(), negatives)
                listed = false_positive_rates([c.members for c in result.same_prompt], negatives)
                print(
                    f"| {method} | {name} | {fp['all']:.4f} | "
                    + " | ".join(f"{fp[f]:.4f}" for f in families)
                    + f" | {listed['all']:.4f} |",
                    flush=True,
                )


def _one_character_edit(text: str, rng: object, chinese: bool) -> str:
    import random

    assert isinstance(rng, random.Random)
    from curation.text import has_spaceless_script

    positions = [
        i
        for i, ch in enumerate(text)
        if (has_spaceless_script(ch) if chinese else ch.isalpha() and ch.isascii())
    ]
    pos = rng.choice(positions)
    pool = sorted({c for c in text if has_spaceless_script(c)}) if chinese else list("etaoinshrdlu")
    return text[:pos] + rng.choice([c for c in pool if c != text[pos]]) + text[pos + 1 :]


def planted_edits() -> None:
    """One-character edits planted in real Chinese and English texts of similar length."""
    import json
    import random

    root = Path(__file__).resolve().parents[1]
    chinese = [
        line.strip()
        for line in (root / "tests" / "unit" / "data" / "chinese_sentences.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip() and not line.startswith("#")
    ]
    alpaca = json.loads(
        (root.parent / "shared" / "data" / "llamafactory" / "alpaca_en_demo.json").read_text()
    )
    english = [r["instruction"] for r in alpaca if 8 <= len(r["instruction"].split()) <= 20][:30]
    print(
        "\n### Planted one-character edits: real Chinese vs English texts (each text two "
        "consecutive sentences, so neighbours share one and must not cluster)\n"
    )
    print("| language | texts | mean chars | shingles | edits found | wrong pairs |")
    print("|---|---|---|---|---|---|")
    for language, sentences in (("Chinese", chinese), ("English", english)):
        originals = [sentences[k] + " " + sentences[k + 1] for k in range(len(sentences) - 1)]
        if language == "Chinese":
            originals = [sentences[k] + sentences[k + 1] for k in range(len(sentences) - 1)]
        rng = random.Random(7)
        copies = [_one_character_edit(t, rng, language == "Chinese") for t in originals]
        n = len(originals)
        planted = {(i, i + n) for i in range(n)}
        mean = sum(map(len, originals)) / n
        for label, segment in (
            ("words split on spaces (before)", False),
            ("+ CJK/Thai bigrams (now)", True),
        ):
            groups = cluster_duplicates(
                originals + copies, "near", segment_spaceless=segment
            ).groups()
            found = {(a, b) for g in groups for a in g for b in g if a < b}
            print(
                f"| {language} | {n} | {mean:.0f} | {label} | {len(found & planted)} of {n} | "
                f"{len(found - planted)} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--quality-size", type=int, default=10_000)
    parser.add_argument("--mrpc-pairs", type=int, default=None, help="default: all 4076 rows")
    parser.add_argument("--quick", action="store_true", help="2,000 texts, 500 MRPC pairs")
    parser.add_argument("--shingle", default="word")
    parser.add_argument("--ngram", type=int, default=None)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--skip-diff", action="store_true", help="skip the diff_check off / on comparison"
    )
    parser.add_argument(
        "--diff-seeds",
        type=int,
        nargs="*",
        default=[0],
        help="seeds of the perturbed and hard-negative sets for the diff_check table",
    )
    parser.add_argument(
        "--show-refused",
        type=int,
        default=0,
        help="print this many true pairs the diff_check keeps apart, with the rule of each span",
    )
    parser.add_argument("--skip-hard", action="store_true", help="skip the hard-negative grid")
    parser.add_argument(
        "--skip-conversations", action="store_true", help="skip the per-role conversation sets"
    )
    parser.add_argument("--skip-planted", action="store_true", help="skip Chinese vs English edits")
    parser.add_argument(
        "--semantic-backend", default="tfidf", choices=["auto", "sentence-transformers", "tfidf"]
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of N for sizes <= 20,000")
    args = parser.parse_args()
    base = NearDedupConfig()
    cfg = NearDedupConfig(
        num_perm=args.num_perm,
        shingle=args.shingle,
        ngram=args.ngram or (base.ngram if args.shingle == "word" else 5),
        threshold=args.threshold or base.threshold,
    )
    if args.quick:
        args.sizes, args.quality_size, args.mrpc_pairs = [2_000], 2_000, 500
    # Warm-up: character tables, LSH parameters and imports are built once per process
    # (normalise_all is shared by both near implementations).
    cluster_duplicates(["warm up text", "warm up tëxt"], "near", config=cfg)
    if not args.skip_conversations:
        conversations(args.quality_size, args.semantic_backend)
    if not args.skip_planted:
        planted_edits()
    if not args.skip_quality:
        quality(args.quality_size, cfg, args.mrpc_pairs, args.semantic_backend)
    if not args.skip_diff:
        diff_check(args.quality_size, args.diff_seeds, args.show_refused)
    if not args.skip_hard:
        hard_negatives(args.quality_size, [0.6, 0.7, 0.8], [0, 2, 3, 4])
    if not args.skip_speed:
        speed(args.sizes, cfg, args.repeats)


if __name__ == "__main__":
    main()
