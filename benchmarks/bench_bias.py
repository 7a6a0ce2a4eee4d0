"""Benchmark: the whole bias audit of 5,000 examples (every check, then the project path as a
background job: read, audit, save), against simple reference implementations in the same run;
and the findings on every real dataset in ``../shared/data`` (``--real-data``).

Run: .venv/bin/python benchmarks/bench_bias.py [--n 5000] [--repeat 3] [--real-data]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from curation.bias import AuditConfig, run_audit
from curation.bias.data_set import AuditData, subjects_from
from curation.bias.stats import disparity
from curation.bias.terms import demographic_terms, group_matcher, words
from curation.formats import read_examples
from curation.formats.mapping import ColumnMapping
from curation.records import Example, Message

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATASETS: dict[str, ColumnMapping | None] = {
    "dolly/random_selection_20_top_100.json": None,
    "fastchat/dummy_conversation.json": None,
    "llamafactory/alpaca_en_demo.json": None,
    "llamafactory/glaive_toolcall_en_demo.json": None,
    "llamafactory/identity.json": None,
    "openai-cookbook/dbpedia_samples.jsonl": ColumnMapping(
        user=["text"], assistant="category", metadata=["category"]
    ),
    "openai-cookbook/drone_training.jsonl": None,
    "self-instruct/seed_tasks.jsonl": None,
    "t0-prompt-completion/ag_news_classify.jsonl": None,
}


def real_examples() -> dict[str, list[Example]]:
    return {
        name: read_examples(DATA / name, mapping=mapping).examples
        for name, mapping in DATASETS.items()
        if (DATA / name).exists()
    }


def workload(n: int, seed: int = 0) -> list[tuple[Example, str]]:
    """`n` examples: the real datasets cycled, every copy's text made distinct (so no cache
    helps), a category on each, and one in ten rejected (so the outcome check has a verdict)."""
    base = [e for examples in real_examples().values() for e in examples]
    rng = random.Random(seed)
    out = []
    for k in range(n):
        e = base[k % len(base)]
        copy = k // len(base)
        tag = f" (v{copy})" if copy else ""
        messages = [
            Message(m.role, (m.content + tag) if m.content else m.content, m.tool_calls)
            for m in e.messages
        ]
        metadata = dict(e.metadata)
        metadata.setdefault("category", f"source{k % 5}")
        out.append(
            (
                Example(f"b{k}", messages, metadata=metadata),
                "rejected" if rng.random() < 0.1 else "active",
            )
        )
    return out


def best(fn: Any, repeat: int) -> tuple[float, float, Any]:
    """(best wall, its CPU, the last result) of `repeat` runs."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    i = walls.index(min(walls))
    return walls[i], cpus[i], result


# ---- references ---------------------------------------------------------------------------


def reference_mentions(texts: list[str]) -> list[Counter[tuple[str, str]]]:
    """One regular expression per term, searched in each text: the obvious implementation."""
    terms = demographic_terms()
    patterns = []
    for g in terms.groups:
        for term in g.terms:
            seq = words(term)
            if seq:
                patterns.append(
                    ((g.axis, g.key), re.compile(r"\b" + r"\W+".join(map(re.escape, seq)) + r"\b"))
                )
    out = []
    for text in texts:
        low = text.casefold()
        found: Counter[tuple[str, str]] = Counter()
        for key, pattern in patterns:
            hits = len(pattern.findall(low))
            if hits:
                found[key] += hits
        out.append(found)
    return out


def reference_rates(
    pairs: list[tuple[Example, str]], mentions: list[Counter[Any]]
) -> dict[str, tuple[int, int]]:
    """Rejection rate per gender group by plain counting over the pairs."""
    rates: dict[str, list[int]] = {}
    for (_, status), found in zip(pairs, mentions, strict=True):
        for axis, group in found:
            if axis == "gender":
                k_n = rates.setdefault(group, [0, 0])
                k_n[0] += status == "rejected"
                k_n[1] += 1
    return {g: (k, n) for g, (k, n) in rates.items()}


# ---- the project path ---------------------------------------------------------------------


def project_job(pairs: list[tuple[Example, str]]) -> dict[str, float]:
    """Import into a fresh SQLite store, then run the audit as a background job (the worker's
    path: read the examples, audit, save the run and its rows); wall times."""
    from curation.formats.results import ImportResult
    from curation.jobs import Worker, submit
    from curation.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.create_project("bench", "bench")
        path = Path(tmp) / "bench.jsonl"
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "id": e.id,
                        "messages": [m.to_dict() for m in e.messages],
                        "category": e.metadata.get("category"),
                    }
                )
                + "\n"
                for e, _ in pairs
            ),
            encoding="utf-8",
        )
        result: ImportResult = read_examples(path)
        store.add_import("bench", result, "bench")
        rejected = [e.id for e, s in pairs if s == "rejected"]
        store.set_status("bench", rejected, "rejected", "bench", "benchmark")
        submit(store, "bench", "bias_audit", {}, author="bench")
        start = time.perf_counter()
        job = Worker(store, progress_every=0.5).run_once()
        wall = time.perf_counter() - start
        assert job is not None and job.state == "done", job
        rows = store.step_result_total("bench", "bias_audit")
        store.dispose()
    return {"job": wall, "rows_examples": float(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--real-data", action="store_true")
    args = parser.parse_args()

    if args.real_data:
        for name, examples in real_examples().items():
            if not examples:
                continue
            report = run_audit(examples)
            c = report.summary.counts
            print(
                f"\n## {name}: {len(examples)} examples; critical {c['critical']}, warning {c['warning']}, info {c['info']}"
            )
            for f in report.findings:
                if f.severity != "info" or f.check in ("outcome_disparity", "language"):
                    print(f"- [{f.severity}] {f.check}: {f.message}")
        return

    start = time.perf_counter()
    from curation.text.language import _identifier

    _identifier()
    import sklearn.cluster  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401

    warm = time.perf_counter() - start
    pairs = workload(args.n)
    config = AuditConfig()
    wall, cpu, report = best(lambda: run_audit(pairs, config), args.repeat)
    print(
        f"{args.n} examples ({sum(s == 'active' for _, s in pairs)} active); best of {args.repeat}"
    )
    print(f"one-time start (language model, scikit-learn): {warm:.2f} s")
    print(f"run_audit, every check: wall {wall:.2f} s, CPU {cpu:.2f} s")
    for code, seconds in report.info["check_seconds"].items():
        print(f"  {code:<20} {seconds:.2f} s")
    c = report.summary.counts
    print(
        f"  findings: critical {c['critical']}, warning {c['warning']}, info {c['info']}; rows {len(report.rows)}"
    )

    # mentions: the shared matcher against one regex per term, same texts, same counts
    data = AuditData(subjects_from(pairs, config), config)
    texts = [f"{s.prompt}\n{s.answer}" for s in data.subjects]
    matcher = group_matcher(demographic_terms())
    sample = texts[:1000]  # the reference takes ~7 ms a text
    fast_wall, _, fast = best(lambda: [matcher.count(words(t)) for t in sample], args.repeat)
    ref_wall, _, ref = best(lambda: reference_mentions(sample), 1)
    same = sum(a == b for a, b in zip(fast, ref, strict=True))
    print(
        f"mentions of {len(sample)} texts, TermMatcher: {fast_wall:.3f} s; reference (one regex "
        f"per term): {ref_wall:.2f} s ({ref_wall / max(fast_wall, 1e-9):.0f}x); same counts on "
        f"{same} of {len(sample)}"
    )
    # rates per group: the outcome check's counting against plain counting (all texts)
    every = [matcher.count(words(t)) for t in texts]
    rates = reference_rates(pairs, every)
    outcome = report.check("outcome_disparity")
    ours = {
        r["group"]: (r["k"], r["n"])
        for r in (outcome.info["rates"] if outcome else [])
        if r["field"] == "status"
        and r["value"] == "rejected"
        and r["axis"] == "gender"
        and r["group"] != "none"
    }
    print(
        f"gender rejection counts equal to plain counting: {ours == rates} {sorted(ours.items())}"
    )
    found = disparity(rates, min_n=20)
    if found is not None:
        print(
            f"  ratio {found.ratio:.2f} [{found.ratio_low:.2f}, {found.ratio_high:.2f}] ({found.low.group} vs {found.high.group})"
        )

    from curation.bias.report import render_html

    w = time.perf_counter()
    page = render_html(report)
    first = time.perf_counter() - w
    w = time.perf_counter()
    render_html(report)
    again = time.perf_counter() - w
    print(
        f"HTML report, {page.count('<svg')} charts as SVG: {first:.2f} s (first, vl-convert "
        f"starting), {again:.2f} s after; {len(page) / 1e6:.1f} MB"
    )

    timings = project_job(pairs)
    print(
        f"project path as a background job (read, audit, save {int(timings['rows_examples'])} examples' rows): {timings['job']:.2f} s"
    )
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
