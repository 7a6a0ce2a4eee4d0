"""Typed metadata filters and the metadata field index on 10,000 examples, against the old ways.

Old ways, timed in the same run: the string comparison `meta[key].as_string() == value` (right
for strings only) and listing fields from the first 500 examples. Run:
.venv/bin/python benchmarks/bench_metadata.py [--n 10000] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curation.formats import read_examples  # noqa: E402
from curation.store import ExampleFilter, Store  # noqa: E402
from curation.store import schema as s  # noqa: E402
from curation.store.metadata_index import rebuild_index  # noqa: E402

CATEGORIES = ["open_qa", "brainstorming", "classification", "summarization", "creative", "math"]


def make_file(n: int, folder: Path) -> Path:
    path = folder / f"meta_{n}.jsonl"
    with path.open("w") as fh:
        for i in range(n):
            record: dict[str, Any] = {
                "instruction": f"Question {i}: what is {i} plus {i}?",
                "output": f"{2 * i}.",
                "label": i % 3 == 0,
                "category": CATEGORIES[i % len(CATEGORIES)],
                "score": i % 5,
                "tags": ["math"] if i % 2 else ["math", "easy"],
            }
            if i >= n - 200:
                record["late_field"] = "only in the last rows"
            fh.write(json.dumps(record) + "\n")
    return path


def best_of(fn: Any, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--db", default=None, help="store URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = make_file(args.n, folder)
        store = Store(args.db or f"sqlite:///{folder / 'bench.db'}")
        project = f"bench{int(time.time())}"
        store.create_project(project, "bench")
        result = read_examples(path)
        import curation.store.examples as store_module

        # reference: the same import with the index update switched off; best of 3, alternating
        kept = store_module.add_to_index
        plain_s = import_s = float("inf")
        for k in range(3):
            for indexed in (False, True):
                name = f"{project}-{k}-{'index' if indexed else 'plain'}"
                store.create_project(name, "bench")
                store_module.add_to_index = kept if indexed else (lambda *a, **kw: None)  # type: ignore[assignment]
                started = time.perf_counter()
                store.add_import(name, result, "bench")
                took = time.perf_counter() - started
                if indexed:
                    import_s = min(import_s, took)
                else:
                    plain_s = min(plain_s, took)
        store_module.add_to_index = kept
        store.add_import(project, result, "bench")
        pid = store.project_id(project)

        def rebuild() -> None:
            with store.engine.begin() as conn:
                rebuild_index(conn, pid)

        def old_string_filter() -> int:
            c = s.examples.c
            with store.engine.connect() as conn:
                return int(
                    conn.scalar(
                        select(func.count()).where(
                            c.project_id == pid, c.meta["category"].as_string() == "math"
                        )
                    )
                    or 0
                )

        def count(**metadata: Any) -> int:
            return store.count_examples(project, ExampleFilter(metadata=metadata))

        def old_keys() -> set[str]:
            return {
                k for ex in store.list_examples(project, limit=500) for k in ex.example.metadata
            }

        rows = [
            ("reference: import without the index update (best of 3)", plain_s, ""),
            ("import with the index update (best of 3)", import_s, f"{import_s / plain_s:.2f}x"),
            ("rebuild the index from every example", best_of(rebuild), ""),
            (
                "reference: old string filter, category = 'math'",
                best_of(old_string_filter),
                str(old_string_filter()),
            ),
            (
                "typed filter, category = 'math'",
                best_of(lambda: count(category="math")),
                str(count(category="math")),
            ),
            (
                "typed filter, label = true",
                best_of(lambda: count(label=True)),
                str(count(label=True)),
            ),
            (
                "typed filter, tags contains 'easy'",
                best_of(lambda: count(tags="easy")),
                str(count(tags="easy")),
            ),
            (
                "reference: old field list from the first 500 rows",
                best_of(old_keys),
                f"{len(old_keys())} fields",
            ),
            (
                "field list from the index",
                best_of(lambda: store.metadata_fields(project)),
                f"{len(store.metadata_fields(project))} fields",
            ),
        ]
        backend = "SQLite" if store.is_sqlite else "PostgreSQL"
        print(f"{args.n:,} examples on {backend}")
        for name, seconds, note in rows:
            print(f"{name:55s} {seconds * 1000:9.1f} ms  {note}")
        store.dispose()


if __name__ == "__main__":
    main()
