"""The PII scan as a background job: parameters checked at submit, findings kept, progress and
no raw PII in the job's record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.errors import JobError
from curation.jobs import Worker, submit
from curation.store import Store
from curation.store.pii_findings import list_findings

pytestmark = pytest.mark.timeout(300)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store(f"sqlite:///{tmp_path / 's.db'}")
    yield st
    st.dispose()


def _project(store: Store, tmp_path: Path) -> None:
    from curation.formats import read_examples

    path = tmp_path / "pii.jsonl"
    rows = [
        {"id": "a", "instruction": "Mail the report to anna.berg@example.org.", "output": "Sent."},
        {"id": "b", "instruction": "Summarise: the sky is blue.", "output": "Blue sky."},
        {"id": "c", "instruction": "Call me on +44 20 7946 0958.", "output": "Will do."},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")


def test_bad_parameters_are_refused_at_submit(store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    with pytest.raises(JobError, match="Unknown PII scan parameter"):
        submit(store, "p", "pii_scan", {"entity": ["PERSON"]}, author="ada")
    with pytest.raises(JobError, match=r"threshold is in \[0, 1\], not 2"):
        submit(store, "p", "pii_scan", {"score_threshold": 2}, author="ada")
    with pytest.raises(JobError, match="Unknown roles human"):
        submit(store, "p", "pii_scan", {"roles": ["human"]}, author="ada")


def test_scan_job_keeps_the_findings_and_its_record_holds_no_raw_pii(
    store: Store, tmp_path: Path
) -> None:
    _project(store, tmp_path)
    job = submit(
        store,
        "p",
        "pii_scan",
        {"entities": ["EMAIL_ADDRESS", "PHONE_NUMBER"], "roles": ["user"]},
        author="bo",
    )
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.id == job.id
    assert finished.state == "done", finished.error
    found = {(f.example_id, f.finding.entity_type) for f in list_findings(store, "p")}
    assert found == {("a", "EMAIL_ADDRESS"), ("c", "PHONE_NUMBER")}
    assert finished.result is not None
    assert finished.result["n_findings"] == 2
    assert finished.result["by_type"] == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    record = json.dumps(finished.to_dict(), default=str)
    assert "anna.berg" not in record and "7946" not in record
    assert finished.stage  # progress was written
    # an unknown entity type fails the job with a clear reason, nothing is kept
    bad = submit(store, "p", "pii_scan", {"entities": ["SHOE_SIZE"]}, author="bo")
    failed = Worker(store, progress_every=0).run_once()
    assert failed is not None and failed.id == bad.id and failed.state == "failed"
    assert "Unknown entity type(s) SHOE_SIZE" in (failed.error or "")
    assert len(list_findings(store, "p")) == 2
