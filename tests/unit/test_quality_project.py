"""Quality flags on a stored project: a saved run per flag and example, the bulk action as one
undoable event, and the counts in the dataset card and the readiness summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.errors import CurationError, InputError
from curation.export.from_project import curation_stats, export_project
from curation.export.readiness import readiness_summary
from curation.formats import read_examples
from curation.quality import Expectation, QualityConfig, StructureExpectations
from curation.quality.project import (
    flagged_examples,
    load_quality_run,
    mark_flagged,
    quality_stats,
    run_project_quality,
)
from curation.store import ExampleFilter, Store
from tests.unit.quality_helpers import write_known_bad


@pytest.fixture()
def store(db_url: str, tmp_path: Path) -> Store:
    st = Store(db_url)
    st.create_project("p", "ada")
    st.add_import("p", read_examples(write_known_bad(tmp_path / "bad.jsonl")), "ada")
    yield st  # type: ignore[misc]
    st.dispose()


def test_run_is_saved_per_flag_and_filterable(store: Store) -> None:
    progress: list[tuple[str, int, int | None]] = []
    run = run_project_quality(
        store, "p", author="ada", progress=lambda u: progress.append((u.stage, u.done, u.total))
    )
    assert run.report is not None and ("quality", 5, 5) in progress
    assert (run.n_examples, run.n_flagged) == (5, 3)
    assert run.flagged_codes()[0] == "refusal"
    assert store.step_result_counts("p", "quality") == {
        "refusal": 2,
        "empty_answer": 1,
        "too_short": 1,
    }
    assert store.step_result_ids("p", "quality", "refusal") == ["q2", "q4"]
    rows = flagged_examples(store, "p", run, "empty_answer")
    assert [(r.example_id, r.status, r.answer) for r in rows] == [("q1", "active", "N/A")]
    assert "N/A" in rows[0].reason
    flt = ExampleFilter(quality_flag="refusal")
    assert [e.id for e in store.list_examples("p", flt)] == ["q2", "q4"]
    again = load_quality_run(store, "p")
    assert again is not None and again.run_id == run.run_id and again.counts == run.counts
    assert again.report is None  # a loaded run carries its numbers, not the rows
    assert again.expectations_label() == "none"


def test_mark_flagged_is_one_undoable_event(store: Store) -> None:
    run_project_quality(store, "p", author="ada")
    store.set_status("p", ["q4"], "filtered", "bob", "off topic")  # decided since the run
    event = mark_flagged(store, "p", "refusal", author="cy")
    assert event is not None
    statuses = store.statuses("p", ["q2", "q4"])
    assert statuses == {"q2": "rejected", "q4": "filtered"}
    logged = store.events("p", limit=1)[0]
    assert logged["kind"] == "quality" and logged["author"] == "cy"
    assert len(logged["payload"]["changes"]) == 1
    assert store.get_example("p", "q2").status_reason == "quality flag: Refusal"
    assert mark_flagged(store, "p", "refusal", author="cy") is None  # nothing active left
    store.undo("p", event, "cy")
    assert store.statuses("p", ["q2", "q4"]) == {"q2": "active", "q4": "filtered"}
    with pytest.raises(InputError, match="duplicate"):
        mark_flagged(store, "p", "refusal", author="cy", status="duplicate")


def test_declared_structure_is_run_and_named(store: Store) -> None:
    config = QualityConfig(expectations=StructureExpectations(default=Expectation.parse("json")))
    run = run_project_quality(store, "p", config, author="ada")
    assert run.counts["invalid_structure"] == 5
    assert run.expectations_label() == "json"


def test_no_active_example_is_a_clear_error(store: Store) -> None:
    store.set_status("p", [f"q{i}" for i in range(5)], "rejected", "ada", "all bad")
    with pytest.raises(CurationError, match="no active example"):
        run_project_quality(store, "p", author="ada")


def test_card_and_readiness_show_the_latest_run(store: Store, tmp_path: Path) -> None:
    assert quality_stats(store, "p") is None
    assert "quality" not in curation_stats(store, "p", None)
    items = {i.name: i for i in readiness_summary([], [], stats=curation_stats(store, "p", None))}
    assert items["quality flags"].status == "not-run"

    run_project_quality(store, "p", author="ada")
    stats = curation_stats(store, "p", None)["quality"]
    assert stats["examples_checked"] == 5 and stats["flagged"] == 3
    assert stats["flagged_active"] == 3
    assert (stats["refusal"], stats["empty_answer"], stats["too_short"]) == (2, 1, 1)
    assert "truncated" not in stats  # flags that found nothing stay off the card
    items = {i.name: i for i in readiness_summary([], [], stats={"quality": stats})}
    assert items["quality flags"].status == "warn" and items["quality flags"].value == 3
    assert "3 active examples carry a quality flag (of 5 checked)" in items["quality flags"].message

    mark_flagged(store, "p", "refusal", author="ada")
    assert quality_stats(store, "p")["flagged_active"] == 1  # q1 still active

    result = export_project(
        store, "p", tmp_path / "out", "openai", author="ada", eval_count=1, seed=0
    )
    card = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "| quality | examples_checked: 5, flagged: 3, flagged_active: 1, refusal: 2," in card
    readiness = {i.name: i for i in result.readiness}
    assert readiness["quality flags"].status == "warn"
    assert "1 active example carries a quality flag" in readiness["quality flags"].message


def test_the_checks_run_as_a_background_job(store: Store) -> None:
    from curation.jobs import Worker, get_job, submit

    job = submit(store, "p", "quality", {"flags": ["refusal", "empty_answer"]}, author="bob")
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.id == job.id and finished.state == "done"
    assert finished.result == {
        "step": "quality",
        "run_id": finished.result["run_id"],
        "n_examples": 5,
        "n_flagged": 3,  # two refusals, one empty answer (write_known_bad)
    }
    run = load_quality_run(store, "p")
    assert run is not None and run.run_id == finished.result["run_id"] and run.author == "bob"
    assert set(run.flagged_codes()) == {"refusal", "empty_answer"}
    assert get_job(store, job.id).progress.stage == "quality"


def test_bad_job_parameters_are_refused_at_submit(store: Store) -> None:
    from curation.errors import JobError
    from curation.jobs import list_jobs, submit

    with pytest.raises(JobError, match="nope"):
        submit(store, "p", "quality", {"flags": ["nope"]}, author="bob")
    with pytest.raises(JobError, match="unknown QualityConfig key"):
        submit(store, "p", "quality", {"flag": ["refusal"]}, author="bob")
    assert list_jobs(store, "p") == []


def test_a_cancelled_job_saves_no_run(store: Store) -> None:
    from curation.jobs import Worker, request_cancel, submit

    job = submit(store, "p", "quality", {}, author="bob")
    request_cancel(store, job.id)  # queued: cancelled at once
    assert Worker(store, progress_every=0).run_once() is None
    assert load_quality_run(store, "p") is None
