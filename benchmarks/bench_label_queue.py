"""How long "next example" takes on the Label page with 5,000 examples in the project.

Two measurements, printed (no pass/fail):

- **core**: what one step of the annotation panel does in the store, timed call by call: save
  the annotation (`annotate`), hand out the next example (`claim_next`, under the project
  lock, with the assignment rule over every example's annotators and holds), read what the
  panel shows (`annotation_view`) and the progress line (`queue_progress`). Three other
  annotators have labelled 2,000 examples before, two annotators per example are needed.
- **browser** (unless ``--no-browser``): `streamlit run app.py` on that store, Chromium via
  Playwright; the time from pressing the Accept key (``a``) to the next example's heading
  showing, i.e. save + next + the fragment's rerun + rendering, as an annotator sees it.
- **job** (with ``--job``): the ``label_issues`` background job on 5,000 real texts (every
  shared dataset, labelled by the folder it comes from, 10 % uniform noise, adopted as
  imported labels) run by a worker as the app runs it: wall time, the stages it reported,
  and the flagged set's F1 against the flips.

Run: ``.venv/bin/python benchmarks/bench_label_queue.py [--examples 5000] [--steps 40]
[--postgres URL] [--no-browser] [--job]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from curation.formats import read_examples  # noqa: E402
from curation.labeling import LabelSchema, SingleChoiceField, TextField, VerdictField  # noqa: E402
from curation.labeling import project as lp  # noqa: E402
from curation.store import Store  # noqa: E402
from curation.store import labels as repo  # noqa: E402

PROJECT = "bench"
SCHEMA = LabelSchema(
    fields=(
        VerdictField(),
        SingleChoiceField("topic", ("sports", "science", "arts", "business")),
        TextField(),
    ),
    annotators_per_example=2,
    guidelines="# Guidelines\nAccept answers that are **correct** and complete.",
)
TOPICS = SCHEMA.field("topic").options  # type: ignore[attr-defined]


def build(url: str, n: int, tmp: Path) -> Store:
    """A project of `n` examples, the schema, and three annotators' labels on 2,000 of them."""
    path = tmp / "rows.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = {
                "id": f"ex{i:05d}",
                "instruction": f"Question {i}: explain why {i} is {'even' if i % 2 else 'odd'}.",
                "output": f"Because {i} divided by two leaves {i % 2}. " * 3,
                "topic": TOPICS[i % len(TOPICS)],
            }
            fh.write(json.dumps(row) + "\n")
    store = Store(url)
    store.create_project(PROJECT, "owner")
    store.add_import(PROJECT, read_examples(path), "owner")
    lp.save_schema(store, PROJECT, SCHEMA, "owner")
    lp.adopt_metadata(store, PROJECT, "topic", "owner")
    ids = [ex.id for ex in store.iter_examples(PROJECT)]
    labelled = min(2000, n // 2)
    for k, who in enumerate(("ann1", "ann2", "ann3")):
        share = ids[k * labelled // 3 : k * labelled // 3 + labelled]
        repo.bulk_label(store, PROJECT, share, "verdict", "accept", who)
    return store


def _stats(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms"


def core(store: Store, steps: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {
        k: [] for k in ("annotate", "claim_next", "annotation_view", "queue_progress", "step")
    }

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = fn()
        times[name].append(time.perf_counter() - start)
        return out

    who = "bench"
    current = repo.claim_next(store, PROJECT, who)
    for i in range(steps):
        assert current is not None
        begin = time.perf_counter()
        view = timed(
            "annotation_view", lambda c=current: lp.annotation_view(store, PROJECT, c, who)
        )
        timed("queue_progress", lambda: repo.queue_progress(store, PROJECT))
        values = {"verdict": "accept" if i % 3 else "reject", "topic": TOPICS[i % len(TOPICS)]}
        timed(
            "annotate",
            lambda c=current, v=values, seen=view.my_version: repo.annotate(
                store, PROJECT, c, v, who, expected=seen
            ),
        )
        current = timed("claim_next", lambda: repo.claim_next(store, PROJECT, who))
        times["step"].append(time.perf_counter() - begin)
    return times


def browser(home: Path, steps: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, LAUNCH_ARGS, serve
    from tests.e2e.helpers import fill, wait_idle

    samples: list[float] = []
    with serve("app.py", home) as url, sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_label("Annotator name", exact=True).wait_for()
        wait_idle(page)
        fill(page, "Annotator name", "browser")
        page.get_by_role("link", name="Label", exact=True).click()
        wait_idle(page)
        heading = page.locator("h3").filter(has_text="Example ")
        heading.first.wait_for()
        for _ in range(steps + 2):
            before = heading.first.inner_text()
            page.get_by_role("heading", name="Label", exact=True).click()
            start = time.perf_counter()
            page.keyboard.press("a")
            page.wait_for_function(
                "(before) => { const h = [...document.querySelectorAll('h3')]"
                ".find(e => e.innerText.startsWith('Example ')); "
                "return h && h.innerText !== before; }",
                arg=before,
            )
            samples.append(time.perf_counter() - start)
            wait_idle(page)
        b.close()
    return samples[2:]  # the first two warm caches


def job(tmp: Path, n: int) -> None:
    from bench_label_issues import inject_noise, sources

    from curation.jobs import Worker, submit

    texts, truth = sources(n)
    noisy, flipped = inject_noise(truth, 0.10, seed=0)
    path = tmp / "sources.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, (text, label) in enumerate(zip(texts, noisy, strict=True)):
            row = {"id": f"s{i:05d}", "instruction": text, "output": ".", "source_label": label}
            fh.write(json.dumps(row) + "\n")
    store = Store(f"sqlite:///{tmp / 'job.db'}")
    store.create_project(PROJECT, "owner")
    store.add_import(PROJECT, read_examples(path), "owner")
    lp.adopt_metadata(store, PROJECT, "source_label", "owner", field="source")
    stages: list[tuple[float, str]] = []
    submit(store, PROJECT, "label_issues", {"field": "source"}, author="owner")
    worker = Worker(store, progress_every=0)
    original = worker.jobs.report_progress

    def watch(job_id: int, update: Any) -> bool:
        if not stages or stages[-1][1] != update.stage:
            stages.append((time.perf_counter(), update.stage))
        return bool(original(job_id, update))

    worker.jobs.report_progress = watch  # type: ignore[method-assign]
    start = time.perf_counter()
    done = worker.run_once()
    wall = time.perf_counter() - start
    assert done is not None and done.state == "done", done and done.error
    ids = [ex.id for ex in store.iter_examples(PROJECT)]
    flagged = {int(item.example_id[1:]) for item in lp.label_issue_items(store, PROJECT)}
    hit = len(flagged & flipped)
    precision = hit / len(flagged) if flagged else 0.0
    recall = hit / len(flipped)
    f1 = 2 * precision * recall / (precision + recall) if hit else 0.0
    print(f"\njob label_issues on {len(ids):,} examples ({len(set(truth))} classes, 10 % noise):")
    print(
        f"  wall {wall:.1f} s; flagged {len(flagged)}; P {precision:.3f} R {recall:.3f} F1 {f1:.3f}"
    )
    marks = [start, *(t for t, _ in stages[1:]), start + wall]
    for (_, stage), (a, b) in zip(stages, zip(marks, marks[1:], strict=False), strict=False):
        print(f"  {stage:<28} {b - a:6.1f} s")
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--postgres", default=os.environ.get("CURATION_TEST_POSTGRES_URL"))
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--job", action="store_true", help="also time the label_issues job")
    args = parser.parse_args()
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        home.mkdir()
        backends = [("sqlite", f"sqlite:///{home / 'curation.db'}")]
        if args.postgres:
            backends.append(("postgresql", args.postgres))
        for name, url in backends:
            made = _fresh_postgres(url) if name == "postgresql" else None
            start = time.perf_counter()
            store = build(made or url, args.examples, tmp)
            took = time.perf_counter() - start
            print(f"\n{name}: {args.examples:,} examples set up in {took:.1f} s")
            times = core(store, args.steps)
            store.dispose()
            for key, samples in times.items():
                print(f"  {key:<16} {_stats(samples)}")
            if made:
                _drop_postgres(url, made)
        if not args.no_browser:
            samples = browser(home, args.steps)
            print(f"\nbrowser, key 'a' to the next example shown ({len(samples)} steps, SQLite):")
            print(f"  {'accept + next':<16} {_stats(samples)}")
        if args.job:
            job(tmp, args.examples)
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _fresh_postgres(base: str) -> str:
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_labels_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(base: str, url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
