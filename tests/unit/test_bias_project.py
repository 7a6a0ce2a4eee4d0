"""The bias audit on a stored project (SQLite and PostgreSQL): rejected examples read for the
outcome check, the run and its per-example rows saved in one go, the examples behind a bar or a
finding listed in SQL, the card's summary, the background job, and a cancel that saves nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.bias import AuditConfig
from curation.bias.codes import label_code, mention_code
from curation.bias.project import (
    STEP,
    audit_project,
    behind_ids,
    examples_behind,
    load_audit_run,
    run_project_audit,
)
from curation.bias.summary import bias_summary
from curation.errors import Cancelled, CurationError, JobError
from curation.formats import read_examples
from curation.jobs import Worker, get_job, submit
from curation.progress import ProgressUpdate
from curation.store import Store
from tests.unit.test_bias_checks import skewed_examples


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.dispose()


def seed_skewed(store: Store, tmp_path: Path, project: str = "p") -> None:
    """The skewed people data imported through the real reader, then rejected as planned."""
    pairs = skewed_examples()
    path = tmp_path / f"{project}-people.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": e.id,
                    "instruction": e.prompt,
                    "output": e.response,
                    "category": e.metadata["category"],
                }
            )
            + "\n"
            for e, _ in pairs
        ),
        encoding="utf-8",
    )
    store.create_project(project, "ada")
    store.add_import(project, read_examples(path), "ada")
    store.set_status(
        project, [e.id for e, s in pairs if s == "rejected"], "rejected", "ada", "plan"
    )


def test_run_saved_with_rows_and_drill_down(store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    run = run_project_audit(store, "p", author="ada")
    assert run.report.summary.n_examples == 74 and run.report.summary.n_read == 100
    women = {f"w{i}" for i in range(40)}
    ids = store.step_result_ids("p", STEP, mention_code("gender", "female"), run_id=run.run_id)
    assert set(ids) == women  # rejected ones too: the outcome check compares them
    rejected_women = behind_ids(
        store, "p", run, codes=(mention_code("gender", "female"), label_code("status", "rejected"))
    )
    assert rejected_women == [f"w{i}" for i in range(20)]  # import order
    [finding] = [f for f in run.report.findings if f.check == "outcome_disparity"]
    listed = examples_behind(store, "p", run, codes=finding.codes)
    assert [x.example_id for x in listed] == [f"w{i}" for i in range(20)]
    assert {x.status for x in listed} == {"rejected"}
    assert listed[0].prompt.startswith("Write a short note about a woman")
    again = load_audit_run(store, "p")
    assert again is not None and again.run_id == run.run_id
    assert [f.message for f in again.report.findings] == [f.message for f in run.report.findings]
    assert again.n_rows == len(run.report.rows)
    assert store.events("p", limit=1)[0]["kind"] == "step_run"


def test_quality_verdicts_become_a_field(store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    from curation.quality.project import run_project_quality

    run_project_quality(store, "p", author="ada")
    audit = audit_project(store, "p", AuditConfig(checks=("label_balance",)))
    assert [f["name"] for f in audit.info["fields"]] == ["category", "status", "quality"]
    check = audit.check("label_balance")
    assert check is not None and sum(check.info["fields"]["quality"]["counts"].values()) == 74


def test_bias_summary_for_the_card_and_readiness(store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    assert bias_summary(store, "p") is None
    run = run_project_audit(store, "p", author="ada")
    summary = bias_summary(store, "p")
    assert summary is not None
    counts = run.report.summary.counts
    assert summary["run_id"] == run.run_id and summary["examples_audited"] == 74
    assert summary["active_now"] == 74
    assert (summary["critical"], summary["warning"], summary["info"]) == (
        counts["critical"],
        counts["warning"],
        counts["info"],
    )
    assert summary["findings"] == len(run.report.findings) and summary["severity"] == "critical"
    assert summary["top_findings"][0].startswith("Answers mentioning women are rejected 5.0x")
    assert summary["notes"][0] == f"bias audit run {run.run_id} by ada"
    store.set_status("p", ["m30"], "rejected", "ada", "later")
    later = bias_summary(store, "p")
    assert later is not None and "73 are active now" in later["notes"][1]
    assert later["active_now"] == 73 and later["examples_audited"] == 74
    # the export's step stats (the card's table and readiness) carry it
    from curation.export.card import render_steps
    from curation.export.from_project import curation_stats
    from curation.export.readiness import readiness_summary

    stats = curation_stats(store, "p", None)
    assert stats["audit"]["critical"] == counts["critical"] > 0
    audit_row = next(line for line in render_steps(stats) if line.startswith("| audit |"))
    assert "not run" not in audit_row and "critical" in audit_row
    items = {i.name: i for i in readiness_summary([], [], stats=stats)}
    assert items["bias audit"].status == "warn"
    assert "are active now" in items["bias audit"].message  # one example changed since


def test_the_audit_runs_as_a_background_job(store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    job = submit(store, "p", STEP, {"checks": ["label_balance", "outcome_disparity"]}, author="ada")
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.id == job.id and finished.state == "done"
    assert finished.result is not None and finished.result["critical"] >= 1
    run = load_audit_run(store, "p")
    assert run is not None and run.run_id == finished.result["run_id"]
    assert [c.code for c in run.report.checks] == ["label_balance", "outcome_disparity"]
    assert get_job(store, job.id).progress.stage  # the worker wrote its stages


def test_bad_parameters_are_refused_at_submit(store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    with pytest.raises(JobError, match="unknown bias check 'nope'"):
        submit(store, "p", STEP, {"checks": ["nope"]}, author="ada")
    with pytest.raises(JobError, match="min_group"):
        submit(
            store, "p", STEP, {"settings": {"outcome_disparity": {"min_group": 0}}}, author="ada"
        )


def test_a_cancelled_audit_saves_nothing(store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)

    def cancel(update: ProgressUpdate) -> None:
        if update.stage == "bias audit: topic coverage":
            raise Cancelled("asked")

    with pytest.raises(Cancelled):
        run_project_audit(store, "p", author="ada", progress=cancel)
    assert load_audit_run(store, "p") is None
    assert store.step_result_total("p", STEP) == 0


def test_a_project_without_active_examples(store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    ids = [e.id for e in store.list_examples("p", limit=None)]
    store.set_status("p", ids, "filtered", "ada", "all gone")
    with pytest.raises(CurationError, match="no active example to audit"):
        run_project_audit(store, "p", author="ada")
