"""Benchmark: split and export 5,000 examples with every preset, against plain JSONL writers.

Run: .venv/bin/python benchmarks/bench_export.py [--n 5000] [--presets openai,alpaca]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from curation.export import (
    ExportOptions,
    export_dataset,
    leakage_check,
    plan_export,
    preset_names,
    split_examples,
    write_plan,
    write_split,
)
from curation.records import Example, Message

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "llamafactory"
    / "alpaca_en_demo.json"
)
VARIANTS = (
    "",
    " Please answer briefly.",
    " Explain step by step.",
    " Give an example.",
    " Be concise.",
)


def build_examples(n: int, seed: int = 0) -> list[Example]:
    """The Alpaca demo repeated with variations (suffixes, a category) until ``n`` examples."""
    rows = json.loads(DATA.read_text(encoding="utf-8"))
    rng = random.Random(seed)
    out: list[Example] = []
    for k in range(n):
        row = rows[k % len(rows)]
        variant = VARIANTS[(k // len(rows)) % len(VARIANTS)]
        user = row["instruction"] + variant + (f"\n\n{row['input']}" if row["input"] else "")
        out.append(
            Example(
                id=f"bench-{k:06d}",
                messages=[Message("user", user), Message("assistant", row["output"])],
                metadata={"category": rng.choice(["qa", "writing", "coding", "math"])},
                source=f"variant{(k // len(rows)) % len(VARIANTS)}",
                raw={
                    "instruction": row["instruction"] + variant,
                    "input": row["input"],
                    "output": row["output"],
                },
            )
        )
    return out


def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--presets", default=",".join(preset_names()))
    args = parser.parse_args()
    examples = build_examples(args.n)
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        t_split_plain, (train, eval_) = timed(
            lambda: split_examples(examples, 0.1, seed=1, group_by_duplicates=False)
        )
        t_split_near, near = timed(lambda: split_examples(examples, 0.1, seed=1))
        t_strat, _ = timed(
            lambda: split_examples(
                examples, 0.1, seed=1, stratify_by="category", group_by_duplicates=False
            )
        )
        print(f"examples: {len(examples)}  train {len(train)}  eval {len(eval_)}")
        print(f"split (prompt groups only)            {t_split_plain:7.3f} s")
        t_leak, leak = timed(lambda: leakage_check(train, eval_))
        near_leak = leakage_check(*near)  # type: ignore[misc]
        print(f"split (+ near-duplicate clusters)     {t_split_near:7.3f} s")
        print(
            f"leakage_check (prompt-group split)    {t_leak:7.3f} s  pairs >= 0.8: "
            f"{len(leak.pairs)}; with near-duplicate groups: {len(near_leak.pairs)}"
        )  # type: ignore[attr-defined]
        print(f"split (stratified, prompt groups)     {t_strat:7.3f} s")

        # Presets export the split the product makes: near-duplicate clusters kept whole.
        train, eval_ = near  # type: ignore[misc]
        # References: the same canonical messages written without any checks.
        records = [{"messages": [m.to_dict() for m in e.messages]} for e in train]

        def plain_json() -> None:
            with (work / "plain.jsonl").open("w", encoding="utf-8") as fh:
                for r in records:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")

        t_json, _ = timed(plain_json)
        t_pandas, _ = timed(
            lambda: pd.DataFrame(records).to_json(
                work / "pandas.jsonl", orient="records", lines=True, force_ascii=False
            )
        )
        print(f"reference json.dumps loop (train)     {t_json:7.3f} s")
        print(f"reference pandas to_json(lines=True)  {t_pandas:7.3f} s")
        print()
        print(
            f"{'preset':24s} {'write_split':>11s} {'export_dataset':>15s} {'end to end':>11s} "
            f"{'plan+write':>11s} {'x json.dumps':>12s}  leakage pairs / warnings"
        )
        for name in args.presets.split(","):
            t_write, _ = timed(
                lambda name=name: write_split(
                    train,
                    work / name / "train.jsonl",
                    name,
                    layout_examples=examples,
                )
            )
            t_export, result = timed(
                lambda name=name: export_dataset(
                    train,
                    eval_,
                    work / f"{name}-export",
                    name,
                    seed=1,
                    parameters={"eval_fraction": 0.1},
                    curation_stats={},
                )
            )
            # What the product runs (and the readiness dry run): leave out what the preset
            # cannot carry, split near-duplicate-aware, write and validate.
            t_plan, _ = timed(
                lambda name=name: write_plan(
                    plan_export(examples, ExportOptions(name, seed=1, skip_unrepresentable=True)),
                    work / f"{name}-plan",
                    parameters={},
                    curation_stats={},
                )
            )
            warnings = result.validation.codes(level="warnings")  # type: ignore[attr-defined]
            pairs = len(result.leakage.pairs)  # type: ignore[attr-defined]
            print(
                f"{name:24s} {t_write:10.3f}s {t_export:14.3f}s {t_split_near + t_export:10.3f}s "
                f"{t_plan:10.3f}s {t_write / t_json:11.1f}x  "
                f"{pairs} / {warnings}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
