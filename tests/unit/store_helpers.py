"""Helpers for the store's integrity tests: projects seeded through the real reader, real threads.

Threads report what happened as data (a value or the exception), so assertions run in the test.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.formats import read_examples
from curation.store import Store

N_WRITERS = 8


def write_alpaca(path: Path, n: int, *, tag: str = "") -> Path:
    """An Alpaca JSONL file of `n` distinct question/answer records."""
    rows = [
        {"instruction": f"Question {i}{tag}: what is {i} plus {i}?", "output": f"{2 * i}{tag}"}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def seed_project(
    store: Store, tmp_path: Path, n: int = 10, *, project: str = "p", author: str = "ada"
) -> list[str]:
    """Create `project` and import `n` examples from a real file; returns their ids in order."""
    store.ensure_project(project, author)
    safe = hashlib.sha1(project.encode("utf-8")).hexdigest()[:10]  # names may hold "/" or ".."
    path = write_alpaca(tmp_path / f"seed-{safe}-{n}.jsonl", n, tag=f" ({project})")
    summary = store.add_import(project, read_examples(path), author)
    assert summary.imported == n
    return [e.id for e in store.list_examples(project, limit=None)]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one call in a thread did: its value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def attempt(fn: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=fn())
    except Exception as exc:  # every exception is data for the test to judge
        return Outcome(error=exc)


def run_threads(n: int, work: Callable[[int], Any], *, timeout: float = 240.0) -> list[Any]:
    """Run `work(i)` in `n` real threads at once; returns each thread's return value."""
    results: list[Any] = [None] * n
    crashes: list[BaseException] = []

    def body(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:  # a crash in the harness itself, not in the store
            crashes.append(exc)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a writer thread hung"
    assert not crashes, crashes
    return results
