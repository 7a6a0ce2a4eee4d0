"""Write latency and throughput of the store's guarded writes, beside plain UPDATEs, same run.

1 and 8 concurrent writers (threads), edits and status changes, on SQLite and PostgreSQL.
Run: .venv/bin/python benchmarks/bench_writes.py [--writes 100] [--repeat 2] [--postgres URL]

What is compared (each writer works on its own examples, as annotators on different rows do):

- guarded: `Store.edit_messages(..., expected_revision=...)` and `Store.set_status(...)`: the
  write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``SELECT ... FOR UPDATE``), the reads
  under it (project, example, before-state), the compare-and-set, the revision and the event.
- reference: the same rows written with plain statements on a plain SQLAlchemy engine in the
  driver's default transaction mode: INSERT the revision, UPDATE the example, INSERT the event
  (edits); UPDATE the example, INSERT the event (status). No read, no lock, no check: what
  the writes cost without the guards (and what let stale writes win before).

Before each edit both implementations read the example, as the Browse page does (untimed).
Latency is per call (perf_counter around the write only); throughput is accepted writes per
second of wall time with every writer running, reads included. Writers are threads of one
process, as Streamlit's sessions are. Samples of the repeats are pooled, and the
implementations alternate (reference, guarded, reference, ...) so machine load hits both.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, event, insert, text, update

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curation.formats import read_examples  # noqa: E402
from curation.records import Message, example_text, messages_hash  # noqa: E402
from curation.store import Store  # noqa: E402
from curation.store import schema as s  # noqa: E402
from curation.store.db import json_dumps, sqlite_pragmas  # noqa: E402
from tests.unit.store_helpers import write_alpaca  # noqa: E402

PROJECT = "bench"
STATUS_CYCLE = ("rejected", "active")


@dataclass
class Run:
    """Latencies (seconds) of accepted writes, wall time and errors of one timed run."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class Target:
    """One database prepared for the benchmark: the store, a plain engine, the examples."""

    name: str
    store: Store
    plain: Engine
    examples: list[tuple[int, str]]  # (pk, example id), in import order
    revision: dict[int, int] = field(default_factory=dict)  # reference's own revision count


def _plain_engine(url: str) -> Engine:
    engine = create_engine(url, json_serializer=json_dumps)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)  # same pragmas, default transactions
    return engine


def _prepare(name: str, url: str, n_examples: int, folder: Path) -> Target:
    store = Store(url)
    store.create_project(PROJECT, "bench")
    path = write_alpaca(folder / f"{name}.jsonl", n_examples, tag=f" {name}")
    store.add_import(PROJECT, read_examples(path), "bench")
    rows = store.list_examples(PROJECT, limit=None)
    target = Target(name, store, _plain_engine(url), [(r.pk, r.id) for r in rows])
    for pk, ex_id in target.examples:  # one edit each, so both paths start past revision 0
        store.edit_messages(PROJECT, ex_id, _messages("warm-up"), "bench", "warm-up")
        target.revision[pk] = 1
    return target


def _sync_revisions(t: Target) -> None:
    with t.plain.connect() as conn:
        t.revision.update(conn.execute(text("SELECT pk, revision FROM examples")).all())


def _messages(tag: str) -> list[Message]:
    return [Message("user", f"Question edited ({tag})"), Message("assistant", f"Answer {tag}")]


# ---- the writes -------------------------------------------------------------------------------


def guarded_edit(t: Target, pk: int, ex_id: str, i: int) -> None:
    revision = t.store.get_example(PROJECT, ex_id).revision  # what the page read; not timed
    start = time.perf_counter()
    t.store.edit_messages(
        PROJECT, ex_id, _messages(f"g{i}"), "bench", "edit", expected_revision=revision
    )
    _LAT.value = time.perf_counter() - start


def reference_edit(t: Target, pk: int, ex_id: str, i: int) -> None:
    t.store.get_example(PROJECT, ex_id)  # the same untimed page read, so both load the CPU alike
    msgs = _messages(f"r{i}")
    dicts = [m.to_dict() for m in msgs]
    new_rev = t.revision[pk] + 1  # this writer owns the example: no need to read it
    now = datetime.now(UTC)
    start = time.perf_counter()
    with t.plain.begin() as conn:
        conn.execute(
            insert(s.revisions).values(
                example_pk=pk,
                revision=new_rev,
                messages=dicts,
                tools=None,
                author="bench",
                reason="edit",
                created_at=now,
            )
        )
        conn.execute(
            update(s.examples)
            .where(s.examples.c.pk == pk)
            .values(
                messages=dicts,
                revision=new_rev,
                content_hash=messages_hash(msgs, None),
                search_text=example_text(msgs, "all").casefold(),
                answer_chars=len(example_text(msgs, "assistant")),
                updated_at=now,
            )
        )
        _plain_event(conn, t, "edit", {"changes": [{"pk": pk, "to": new_rev}]}, now)
    _LAT.value = time.perf_counter() - start
    t.revision[pk] = new_rev


def guarded_status(t: Target, pk: int, ex_id: str, i: int) -> None:
    start = time.perf_counter()
    t.store.set_status(PROJECT, [ex_id], STATUS_CYCLE[i % 2], "bench", f"status {i}")
    _LAT.value = time.perf_counter() - start


def reference_status(t: Target, pk: int, ex_id: str, i: int) -> None:
    now = datetime.now(UTC)
    start = time.perf_counter()
    with t.plain.begin() as conn:
        conn.execute(
            update(s.examples)
            .where(s.examples.c.pk == pk)
            .values(status=STATUS_CYCLE[i % 2], status_reason=f"status {i}", updated_at=now)
        )
        _plain_event(conn, t, "status", {"changes": [{"pk": pk}]}, now)
    _LAT.value = time.perf_counter() - start


def _plain_event(conn: Any, t: Target, kind: str, payload: dict[str, Any], now: datetime) -> None:
    conn.execute(
        insert(s.events).values(
            project_id=_PID[t.name],
            kind=kind,
            author="bench",
            created_at=now,
            summary=kind,
            payload=payload,
        )
    )


_LAT = threading.local()
_PID: dict[str, int] = {}
Write = Callable[[Target, int, str, int], None]


def timed_run(t: Target, write: Write, writers: int, per_writer: int) -> Run:
    """`writers` threads, each making `per_writer` writes to its own slice of the examples."""
    run = Run()
    lock = threading.Lock()
    share = len(t.examples) // writers
    start = threading.Barrier(writers + 1)

    def body(w: int) -> None:
        mine = t.examples[w * share : (w + 1) * share]
        start.wait()
        for i in range(per_writer):
            pk, ex_id = mine[i % len(mine)]
            try:
                write(t, pk, ex_id, i)
            except Exception as exc:  # counted, shown in the table
                with lock:
                    run.errors.append(type(exc).__name__)
                continue
            with lock:
                run.latencies.append(_LAT.value)

    threads = [threading.Thread(target=body, args=(w,)) for w in range(writers)]
    for th in threads:
        th.start()
    start.wait()
    began = time.perf_counter()
    for th in threads:
        th.join()
    run.wall = time.perf_counter() - began
    return run


# ---- databases ----------------------------------------------------------------------------------


def _postgres(admin_url: str) -> tuple[str, Callable[[], None]]:
    from sqlalchemy.engine import make_url

    name = f"curation_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=100, help="writes per writer per run")
    parser.add_argument("--repeat", type=int, default=2, help="runs per implementation")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CURATION_TEST_POSTGRES_URL"),
        help="server URL to create a scratch database on (default CURATION_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()

    writes: dict[str, tuple[Write, Write]] = {
        "edit": (reference_edit, guarded_edit),
        "status": (reference_status, guarded_status),
    }
    rows: list[tuple[str, ...]] = []
    cleanups: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        urls = {"SQLite": f"sqlite:///{folder / 'bench.db'}"}
        if args.postgres:
            urls["PostgreSQL"], drop = _postgres(args.postgres)
            cleanups.append(drop)
        else:
            print("PostgreSQL skipped: pass --postgres URL or set CURATION_TEST_POSTGRES_URL")
        try:
            for db_name, url in urls.items():
                target = _prepare(db_name, url, 8 * 25, folder)
                _PID[db_name] = target.store.project_id(PROJECT)
                for op, (reference, guarded) in writes.items():
                    for n in args.writers:
                        pooled: dict[str, list[Run]] = {"reference": [], "guarded": []}
                        for _ in range(args.repeat):
                            for label, fn in (("reference", reference), ("guarded", guarded)):
                                _sync_revisions(target)  # the guarded runs moved them on
                                pooled[label].append(timed_run(target, fn, n, args.writes))
                        base = None
                        for label, runs in pooled.items():
                            row, p50 = _row(db_name, op, n, label, runs, base)
                            base = base or p50
                            rows.append(row)
                target.store.dispose()
                target.plain.dispose()
        finally:
            for cleanup in cleanups:
                cleanup()

    header = ("database", "write", "writers", "implementation", "p50 ms", "p95 ms")
    header += ("writes/s", "errors", "p50 vs reference")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _row(
    db: str, op: str, writers: int, label: str, runs: list[Run], base: float | None
) -> tuple[tuple[str, ...], float]:
    lat = np.array([x for r in runs for x in r.latencies]) * 1000
    p50, p95 = (float(np.percentile(lat, q)) for q in (50, 95)) if len(lat) else (0.0, 0.0)
    rate = float(np.median([len(r.latencies) / r.wall for r in runs]))
    errors = sum(len(r.errors) for r in runs)
    ratio = "1.00x" if base is None else f"{p50 / base:.2f}x"
    return (
        (
            db,
            op,
            str(writers),
            label,
            f"{p50:.2f}",
            f"{p95:.2f}",
            f"{rate:.0f}",
            str(errors),
            ratio,
        ),
        p50,
    )


if __name__ == "__main__":
    main()
