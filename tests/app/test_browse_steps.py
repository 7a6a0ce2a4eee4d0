"""AppTest of Browse's step-results filter: any step that keeps per-example rows (a plug-in step
registered with one line, the quality step) is offered, then its codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.formats import read_examples
from curation.quality.project import run_project_quality
from curation.steps import run_project_steps, steps
from curation.store import Store
from tests.unit.steps_fixture import SHORT, ShortAnswersStep

BROWSE = "pages/browse_page.py"
ANSWERS = ["Yes.", "Paris is the capital of France.", "42", "I'm sorry, but as an AI I cannot."]


@pytest.fixture()
def short_answers() -> Iterator[ShortAnswersStep]:
    with steps.registered(ShortAnswersStep()) as step:
        yield step


def _project(store: Store, tmp_path: Path) -> list[str]:
    rows = [{"instruction": f"Question {i}?", "output": a} for i, a in enumerate(ANSWERS)]
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")
    return [row.id for row in store.list_examples("p")]


def test_browse_filters_by_a_plug_in_steps_results(
    open_page, store: Store, tmp_path: Path, short_answers
) -> None:
    ids = _project(store, tmp_path)
    at = open_page(BROWSE)
    assert at.selectbox(key="browse_step_step").disabled  # no step kept rows yet
    assert not run_project_steps(store, "p", ["short_answers"], author="ada").failed
    run_project_quality(store, "p", author="ada")
    at.run()
    pick = at.selectbox(key="browse_step_step")
    assert not pick.disabled
    assert pick.options == ["(any example)", "Quality (1)", "Short answers (2)"]
    pick.set_value("short_answers").run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["id"]) == [ids[0], ids[2]]
    code = at.selectbox(key="browse_step_code:short_answers")
    assert code.options == ["any result (2)", "short_answer (2)"]
    code.set_value(SHORT).run()
    assert list(at.dataframe[0].value["id"]) == [ids[0], ids[2]]
    at.selectbox(key="browse_step_step").set_value("quality").run()
    assert list(at.dataframe[0].value["id"]) == [ids[3]]
    at.selectbox(key="browse_step_step").set_value("").run()
    assert len(at.dataframe[0].value) == 4
