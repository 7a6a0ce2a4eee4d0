"""Per-example step results: saved with their run in one transaction, read per flag, filtered in
SQL through `ExampleFilter.quality_flag`, and bulk status changes undone in one step."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.errors import NotFoundError
from curation.store import ANY_FLAG, ExampleFilter, StatusChange, StepResult, Store
from tests.unit.store_helpers import seed_project


@pytest.fixture()
def store(db_url: str) -> Store:
    st = Store(db_url)
    yield st  # type: ignore[misc]
    st.dispose()


def _save(store: Store, results: list[StepResult], author: str = "ada") -> int:
    return store.save_step_results(
        "p", "quality", {"config": {}}, {"flagged": len(results)}, results, author
    )


def test_save_writes_run_rows_and_one_event(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 6)
    before = len(store.events("p"))
    run = _save(
        store,
        [
            StepResult(ids[4], "refusal", 0.1, "declines", detail={"kind": "apology"}),
            StepResult(ids[1], "empty_answer", 0.0, "no answer"),
            StepResult(ids[1], "refusal", 0.3, "declines too"),
        ],
    )
    events = store.events("p")
    assert len(events) == before + 1
    assert events[0]["kind"] == "step_run" and events[0]["payload"]["run_id"] == run
    assert store.latest_step_run("p", "quality")["id"] == run
    assert store.step_result_counts("p", "quality") == {"refusal": 2, "empty_answer": 1}
    assert store.step_result_ids("p", "quality", "refusal") == [ids[1], ids[4]]  # import order
    assert store.step_result_ids("p", "quality", ANY_FLAG) == [ids[1], ids[4]]
    assert store.step_result_total("p", "quality") == 2
    rows = store.step_results("p", "quality", code="refusal")
    assert [(r.example_id, r.score, r.reason) for r in rows] == [
        (ids[1], 0.3, "declines too"),
        (ids[4], 0.1, "declines"),
    ]
    assert rows[1].detail == {"kind": "apology"}
    assert "quality" in store.stats("p")["steps_run"]


def test_unknown_example_saves_nothing(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 2)
    before = len(store.events("p"))
    with pytest.raises(NotFoundError, match="not in the project.*nope"):
        _save(store, [StepResult(ids[0], "refusal"), StepResult("nope", "refusal")])
    assert store.latest_step_run("p", "quality") is None
    assert len(store.events("p")) == before
    assert store.step_results("p", "quality") == []


def test_filter_by_flag_reads_the_latest_run_in_sql(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 8)
    seed_project(store, tmp_path, 3, project="other")
    flt = ExampleFilter(quality_flag="refusal")
    assert store.count_examples("p", flt) == 0  # never run: nothing carries a flag
    _save(store, [StepResult(ids[2], "refusal"), StepResult(ids[5], "empty_answer")])
    assert [e.id for e in store.list_examples("p", flt)] == [ids[2]]
    assert store.count_examples("p", ExampleFilter(quality_flag=ANY_FLAG)) == 2
    assert store.count_examples("other", flt) == 0  # another project's run is not this one's
    # a newer run replaces the old one for filtering; the old run is still readable
    newer = _save(store, [StepResult(ids[6], "refusal"), StepResult(ids[7], "refusal")])
    assert [e.id for e in store.list_examples("p", flt)] == [ids[6], ids[7]]
    assert store.count_examples("p", ExampleFilter(quality_flag="empty_answer")) == 0
    first = store.step_runs("p", "quality")[-1]["id"]
    assert store.step_result_ids("p", "quality", "refusal", run_id=first) == [ids[2]]
    # combined with the other filters
    store.set_status("p", [ids[6]], "rejected", "ada", "bad")
    both = ExampleFilter(quality_flag="refusal", statuses=["active"])
    assert [e.id for e in store.list_examples("p", both)] == [ids[7]]
    assert store.step_result_counts("p", "quality", statuses=["active"]) == {"refusal": 1}
    assert store.step_result_counts("p", "quality", run_id=newer) == {"refusal": 2}


def test_bulk_status_change_skips_other_statuses_and_undoes_in_one(
    store: Store, tmp_path: Path
) -> None:
    ids = seed_project(store, tmp_path, 5)
    store.set_status("p", [ids[3]], "duplicate", "bob", "dup")
    changes = {i: StatusChange("rejected", "quality flag") for i in ids[1:4]}
    event = store.apply_status_changes(
        "p", changes, "ada", "{n} rejected", event_kind="quality", only_from=["active"]
    )
    statuses = store.statuses("p", ids)
    assert [statuses[i] for i in ids] == ["active", "rejected", "rejected", "duplicate", "active"]
    logged = store.events("p", limit=1)[0]
    assert logged["summary"] == "2 rejected" and logged["author"] == "ada"
    store.undo("p", event, "ada")
    statuses = store.statuses("p", ids)
    assert [statuses[i] for i in ids] == ["active", "active", "active", "duplicate", "active"]


def test_undoing_the_import_removes_its_results(store: Store, tmp_path: Path) -> None:
    ids = seed_project(store, tmp_path, 3)
    _save(store, [StepResult(ids[0], "refusal")])
    import_event = store.events("p", kinds=["import"])[0]["id"]
    store.undo("p", import_event, "ada")
    assert store.step_results("p", "quality") == []
    assert store.count_examples("p", ExampleFilter(quality_flag=ANY_FLAG)) == 0
