"""Benchmark: every quality flag on 5,000 examples, against references in the same run; and the
flag counts on every real dataset in ``../shared/data`` (``--real-data``, ``--dump`` for hand checks).

Run: .venv/bin/python benchmarks/bench_quality.py [--n 5000] [--repeat 3] [--real-data] [--dump DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.formats import read_examples
from curation.quality import (
    Expectation,
    QualityConfig,
    QualityReport,
    StructureExpectations,
    run_quality,
)
from curation.quality.flags.language import LanguageMismatch
from curation.quality.view import ExampleView
from curation.records import Example, Message
from curation.text import detect_language

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATASETS = [
    "dolly/random_selection_20_top_100.json",
    "fastchat/dummy_conversation.json",
    "llamafactory/alpaca_en_demo.json",
    "llamafactory/glaive_toolcall_en_demo.json",
    "llamafactory/identity.json",
    "openai-cookbook/drone_training.jsonl",
    "openai-cookbook/toy_chat_fine_tuning.jsonl",
    "self-instruct/seed_tasks.jsonl",
    "t0-prompt-completion/ag_news_classify.jsonl",
]
ORDER_SCHEMA = {
    "type": "object",
    "properties": {"item": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}},
    "required": ["item", "quantity"],
}


def real_examples() -> dict[str, list[Example]]:
    return {
        name: read_examples(DATA / name).examples for name in DATASETS if (DATA / name).exists()
    }


def json_examples(n: int) -> list[Example]:
    """Structured-output examples (category "order"): a third valid, a third in a fence, the
    rest broken in turn by a trailing comma, a schema violation or prose."""
    out = []
    for k in range(n):
        good = json.dumps({"item": f"widget {k}", "quantity": k % 5 + 1})
        answer = [
            good,
            f"Here you go:\n```json\n{good}\n```",
            good[:-1] + ",}",
            json.dumps({"item": "widget", "quantity": 0}),
            "Sure, one widget please.",
        ][k % 5]
        out.append(
            Example(
                f"json-{k:05d}",
                [
                    Message("user", f"Order {k % 5 + 1} of widget {k} as JSON."),
                    Message("assistant", answer),
                ],
                metadata={"task": "order"},
            )
        )
    return out


def build(n: int) -> list[Example]:
    """``n`` examples: the real datasets cycled (fresh ids) plus 10 % structured answers."""
    pool = [e for examples in real_examples().values() for e in examples]
    n_json = n // 10
    out = []
    for k in range(n - n_json):
        e = copy.copy(pool[k % len(pool)])
        e.id = f"bench-{k:06d}"
        out.append(e)
    return out + json_examples(n_json)


CONFIG = QualityConfig(
    expectations=StructureExpectations(
        field="task", by_value={"order": Expectation("json", schema=ORDER_SCHEMA)}
    )
)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of `repeat` runs, and the last value."""
    best_wall = best_cpu = float("inf")
    value = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        value = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, value


def rows_key(report: QualityReport) -> list[tuple[str, str | None, float | None]]:
    return sorted((r.example_id, r.code, r.score) for r in report.rows)


def language_reference(examples: list[Example]) -> tuple[int, int]:
    """The detector on every prompt and answer (no English fast path, 2,000 characters each,
    as a per-text `langdetect` loop does): mismatches found, texts detected."""
    check = LanguageMismatch()
    s = check.settings
    found = detected = 0
    for e in examples:
        view = ExampleView(e)
        if not view.prompt or not view.answer:
            continue
        a, b = detect_language(view.prompt), detect_language(view.answer)
        detected += 2
        if min(a[1], b[1]) >= s.min_confidence and a[0] != b[0]:
            found += 1
    return found, detected


def bench(n: int, repeat: int) -> None:
    examples = build(n)
    start = time.perf_counter()
    detect_language("Load the language model once.")
    run_quality(examples[:50], CONFIG)  # and the normaliser's character tables
    cold = time.perf_counter() - start
    wall, cpu, report = timed(lambda: run_quality(examples, CONFIG), repeat)
    print(f"{n} examples ({n // 10} with a declared JSON Schema), best of {repeat}")
    print(f"  one-time start (language model, tables): {cold:.2f} s")
    print(f"  run_quality, every flag:                 {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"  {report.summary.message}")
    seconds = report.info["seconds"]
    print("  per flag (s, last run): " + ", ".join(f"{c} {t:.2f}" for c, t in seconds.items()))

    def one_pass_per_flag() -> list[tuple[str, str | None, float | None]]:
        rows = []
        for code in CONFIG.codes():
            cfg = QualityConfig(flags=(code,), expectations=CONFIG.expectations)
            rows += rows_key(run_quality(examples, cfg))
        return sorted(rows)

    ref_wall, ref_cpu, ref_rows = timed(one_pass_per_flag, repeat)
    same = ref_rows == rows_key(report)
    print(
        f"  reference: one pass per flag, no shared view: {ref_wall:.2f} s wall, {ref_cpu:.2f} s "
        f"CPU ({ref_cpu / cpu:.2f}x our CPU time); same rows: {same}"
    )
    lang_config = QualityConfig(flags=("language_mismatch",))
    flag_wall, flag_cpu, flag_report = timed(lambda: run_quality(examples, lang_config), repeat)
    lang_wall, lang_cpu, (lang_found, detected) = timed(lambda: language_reference(examples), 1)
    ours = len(flag_report.rows)
    print(
        f"  reference: detector on every prompt and answer ({detected} texts): {lang_cpu:.2f} s "
        f"CPU against {flag_cpu:.2f} s for the language flag alone ({lang_cpu / flag_cpu:.1f}x); "
        f"mismatches {lang_found} (no translation or length rules) against {ours}"
    )


def real_data(dump: Path | None) -> None:
    codes = QualityConfig().codes()
    totals: Counter[str] = Counter()
    print("dataset | examples | " + " | ".join(codes))
    for name, examples in real_examples().items():
        report = run_quality(examples)
        counts = report.summary.counts
        totals.update(counts)
        print(f"{name} | {len(examples)} | " + " | ".join(str(counts[c]) for c in codes))
        if dump is not None:
            by_id = {e.id: e for e in examples}
            for row in report.rows:
                path = dump / f"{row.code}.txt"
                e = by_id[row.example_id]
                with path.open("a", encoding="utf-8") as out:
                    out.write(
                        f"=== {name} {row.example_id} [{row.kind}] score={row.score}\n{row.reason}\n"
                        f"PROMPT: {e.prompt[:800]!r}\nANSWER: {e.response[:800]!r}\n"
                        f"END: {e.response[-300:]!r}\n\n"
                    )
    print("total | " + " | ".join(str(totals[c]) for c in codes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--real-data", action="store_true", help="counts per flag per dataset")
    parser.add_argument("--dump", type=Path, help="write flagged examples per flag here")
    args = parser.parse_args()
    if args.real_data or args.dump:
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            for old in args.dump.glob("*.txt"):
                old.unlink()
        real_data(args.dump)
        return
    bench(args.n, args.repeat)


if __name__ == "__main__":
    main()
