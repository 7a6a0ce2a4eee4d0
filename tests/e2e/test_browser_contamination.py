"""In a real browser: the contamination check with an MT-Bench-shaped reference file, a metadata
filter on a boolean field, and the Browse fixes (a row click after a typed id, one-click save).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import fill, start_project, upload_and_import, wait_idle

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"
ROW_HEIGHT = 35  # st.dataframe's default row (and header) height in pixels


def _choose(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_contamination_against_an_mt_bench_file(page, app_url: str) -> None:
    training = BENCH / "alpaca_eval_outputs.json"
    start_project(page, app_url, "contam-demo")
    upload_and_import(page, str(training))
    page.get_by_text("alpaca_eval_outputs.json: imported 6 examples").wait_for()

    page.get_by_role("link", name="Deduplicate").click()
    wait_idle(page)
    page.get_by_text("Contamination check", exact=True).wait_for()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        str(BENCH / "mt_bench_question.jsonl")
    )
    wait_idle(page)
    page.get_by_text("14 reference item(s) from mt_bench_question.jsonl (field 'turns')").wait_for()
    page.get_by_role("button", name="Check contamination").click()
    wait_idle(page)
    page.get_by_text("2 of 6 active example(s) match one of the 14 reference items.").wait_for()
    # the table holds both texts; read them back through the grid's copy of its cells
    grid = page.get_by_test_id("stDataFrame")
    hawaii = json.loads((BENCH / "mt_bench_question.jsonl").read_text().splitlines()[0])
    grid.get_by_text(hawaii["turns"][0], exact=True).first.wait_for(state="attached")


def test_empty_reference_file_is_an_error(page, app_url: str, tmp_path: Path) -> None:
    start_project(page, app_url, "contam-empty")
    upload_and_import(page, str(BENCH / "alpaca_eval_outputs.json"))
    page.get_by_text("alpaca_eval_outputs.json: imported 6 examples").wait_for()
    page.get_by_role("link", name="Deduplicate").click()
    wait_idle(page)
    # the click's rerun may not have started yet: wait for the page, so the file goes to its uploader
    page.get_by_text("Contamination check", exact=True).wait_for()
    empty = tmp_path / "question.jsonl"
    empty.write_text('{"question_id": 1, "category": "writing", "turns": [""]}\n')
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(empty))
    wait_idle(page)
    page.get_by_text("0 reference items read from field", exact=False).wait_for()
    assert page.get_by_role("button", name="Check contamination").count() == 0


def test_boolean_metadata_filter_and_browse_fixes(page, app_url: str, shared_data: Path) -> None:
    path = shared_data / "self-instruct" / "seed_tasks.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    n_true = sum(len(r["instances"]) for r in raw if r["is_classification"] is True)
    n_all = sum(len(r["instances"]) for r in raw)
    start_project(page, app_url, "filter-demo")
    upload_and_import(page, str(path))
    page.get_by_text(f"seed_tasks.jsonl: imported {n_all} examples").wait_for()

    page.get_by_role("link", name="Browse the examples").click()
    wait_idle(page)
    page.get_by_text(f"{n_all} matching examples").wait_for()
    _choose(page, "Metadata field", f"is_classification (boolean; {n_all} examples)")
    _choose(page, "Value", f"true ({n_true})")
    page.get_by_text(f"{n_true} matching examples").wait_for()

    # an id typed in "Open an example by id", then a row click: the click wins
    ids = [r["id"] for r in raw if r["is_classification"] is True]
    fill(page, "Open an example by id", ids[-1])
    page.get_by_role("heading", name=f"Example {ids[-1]}").wait_for()
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_have_count(1)  # the table drawn afresh, without its row selection
    box = table.bounding_box()
    assert box is not None
    third_row_y = box["y"] + ROW_HEIGHT * 3 + ROW_HEIGHT / 2  # header, rows 1 and 2, row 3
    page.mouse.click(box["x"] + 15, third_row_y)
    wait_idle(page)
    page.get_by_role("heading", name=f"Example {ids[2]}").wait_for()
    assert page.get_by_label("Open an example by id", exact=True).input_value() == ""

    # type in an edit box and click "Save revision" once: it saves what was typed
    page.get_by_text("Edit this example").click()
    answer = page.get_by_label("assistant turn 2", exact=True)
    answer.fill("An answer typed and saved with one click.")
    page.get_by_role("button", name="Save revision").click()
    wait_idle(page)
    page.get_by_text("revision 1 · source").wait_for()
