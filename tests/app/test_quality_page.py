"""AppTest of the Quality page: run on a project with known-bad examples, counts per flag, the
examples behind a flag, bulk reject (confirmed) and its undo, declared structures, persistence,
and opening an example in Browse; and Browse's quality-flag filter."""

from __future__ import annotations

import json
from pathlib import Path

from curation.formats import read_examples
from curation.jobs import list_jobs
from curation.quality.project import run_project_quality
from curation.store import Store
from tests.app.markup import shown
from tests.app.waiting import finish_jobs
from tests.unit.quality_helpers import write_known_bad

PAGE = "pages/quality_page.py"
BROWSE = "pages/browse_page.py"


def _project(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    store.add_import("p", read_examples(write_known_bad(tmp_path / "bad.jsonl")), "ada")


# AppTest does not expose a dataframe's key: the counts come first, then the flag's examples.
def _counts(at, column: str = "flagged") -> dict[str, int]:  # type: ignore[no-untyped-def]
    table = at.dataframe[0].value
    return dict(zip(table["flag"], table[column], strict=True))


def _examples(at) -> list[str]:  # type: ignore[no-untyped-def]
    return list(at.dataframe[1].value["id"])


def test_run_review_bulk_reject_and_undo(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    assert any("have not run" in i.value for i in at.info)
    at.button(key="quality_run").click().run()
    assert not at.exception, at.exception
    finish_jobs(at, store)  # the checks run as a background job
    (job,) = list_jobs(store, "p", step="quality")
    assert (job.state, job.author, job.result["n_flagged"]) == ("done", "ada", 3)
    counts = _counts(at)
    assert (counts["refusal"], counts["empty_answer"], counts["too_short"]) == (2, 1, 1)
    assert counts["truncated"] == 0
    assert any("3 of 5 examples flagged" in shown(e.value) for e in at.error)  # critical

    at.selectbox(key="quality_flag_pick").set_value("refusal").run()
    assert _examples(at) == ["q2", "q4"]
    assert "Refusal" in at.selectbox(key="quality_flag_pick").format_func("refusal")

    # the bulk action asks first; nothing changes before the yes
    at.button(key="quality_bulk").click().run()
    assert store.statuses("p", ["q2", "q4"]) == {"q2": "active", "q4": "active"}
    assert any(
        "Set 2 active example(s) flagged Refusal to rejected" in shown(w.value) for w in at.warning
    )
    at.button(key="quality_bulk_confirm").click().run()
    assert not at.exception, at.exception
    assert store.statuses("p", ["q2", "q4"]) == {"q2": "rejected", "q4": "rejected"}
    event = store.events("p", limit=1)[0]
    assert event["kind"] == "quality" and event["author"] == "ada"
    assert len(event["payload"]["changes"]) == 2
    assert _counts(at, "still active")["refusal"] == 0

    at.button(key="quality_undo").click().run()
    assert store.statuses("p", ["q2", "q4"]) == {"q2": "active", "q4": "active"}
    assert store.events("p", kinds=["undo"])[0]["author"] == "ada"


def test_the_saved_run_is_shown_on_the_next_visit(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    run_project_quality(store, "p", author="cli")
    at = open_page(PAGE)
    assert _counts(at)["refusal"] == 2
    assert any("by cli" in shown(m.value) for m in at.markdown)


def test_cancel_leaves_everything(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    run_project_quality(store, "p", author="ada")
    at = open_page(PAGE)
    at.selectbox(key="quality_flag_pick").set_value("empty_answer").run()
    at.selectbox(key="quality_bulk_status").set_value("filtered").run()
    at.button(key="quality_bulk").click().run()
    at.button(key="quality_bulk_cancel").click().run()
    assert store.get_example("p", "q1").status == "active"
    assert not any(b.key == "quality_bulk_confirm" for b in at.button)


def test_declared_structure_and_schema_upload(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    at.selectbox(key="quality_expect").set_value("regex").run()
    assert at.button(key="quality_run").disabled  # no pattern yet
    assert any("Type the pattern" in e.value for e in at.error)
    at.selectbox(key="quality_expect").set_value("json").run()
    at.file_uploader(key="quality_schema").set_value(
        ("schema.json", b'{"type": ', "application/json")
    ).run()
    assert any("not JSON" in shown(e.value) for e in at.error)
    schema = json.dumps({"type": "object"}).encode()
    at.file_uploader(key="quality_schema").set_value(
        ("schema.json", schema, "application/json")
    ).run()
    at.button(key="quality_run").click().run()
    assert not at.exception, at.exception
    finish_jobs(at, store)
    assert _counts(at)["invalid_structure"] == 5
    assert any("expected structure: json with a JSON Schema" in shown(m.value) for m in at.markdown)


def test_open_an_example_in_browse(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    run_project_quality(store, "p", author="ada")
    store.set_status("p", ["q4"], "rejected", "ada", "refuses")  # Browse lists active only
    at = open_page(PAGE)
    at.selectbox(key="quality_flag_pick").set_value("refusal").run()
    at.selectbox(key="quality_show_refusal").set_value("q4").run()
    assert "As an AI language model, I cannot write poems." in [t.value for t in at.text]
    at.button(key="quality_open_browse").click().run()
    assert not at.exception, at.exception
    assert any(shown(h.value) == "Example q4" for h in at.subheader)


def test_browse_filters_by_the_latest_quality_run(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(BROWSE)
    assert at.selectbox(key="browse_quality_flag").disabled  # no run yet
    run_project_quality(store, "p", author="ada")
    at.run()
    flag = at.selectbox(key="browse_quality_flag")
    assert not flag.disabled
    flag.set_value("refusal").run()
    assert list(at.dataframe[0].value["id"]) == ["q2", "q4"]
    assert "**2** matching" in at.markdown[0].value
    at.selectbox(key="browse_quality_flag").set_value("*").run()
    assert list(at.dataframe[0].value["id"]) == ["q1", "q2", "q4"]
    store.set_status("p", ["q1"], "rejected", "ada", "empty")
    at.run()  # the status filter (active) and the flag filter together
    assert list(at.dataframe[0].value["id"]) == ["q2", "q4"]
    at.selectbox(key="browse_quality_flag").set_value("").run()
    assert len(at.dataframe[0].value) == 4
