"""The Label page in a real browser: set a schema, then label an example with a keyboard
shortcut and see the count move and the next example open.

Runs `streamlit run app.py` on a free port and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.store import Store
from curation.store import labels as repo
from tests.e2e.helpers import start_project, upload_and_import, wait_idle

pytestmark = pytest.mark.e2e


def test_label_with_a_keyboard_shortcut_and_see_the_count_move(
    page, app_url: str, app_home: Path, tmp_path: Path
) -> None:
    rows = [
        {"id": f"q{i}", "instruction": f"What is {i} plus {i}?", "output": str(2 * i)}
        for i in range(3)
    ]
    path = tmp_path / "sums.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    start_project(page, app_url, "label-demo")
    upload_and_import(page, str(path))
    page.get_by_text("sums.jsonl: imported 3 examples").wait_for()

    page.get_by_role("link", name="Label", exact=True).click()
    wait_idle(page)
    page.get_by_text("This project has no label schema yet").wait_for()
    page.get_by_role("button", name="Start with a verdict and a note").click()
    wait_idle(page)
    page.get_by_text("Annotate", exact=True).click()
    wait_idle(page)
    page.get_by_role("heading", name="Example q0").wait_for()
    page.get_by_text("Your labels: 0").wait_for()

    page.get_by_role("heading", name="Label", exact=True).click()  # focus off any input
    page.keyboard.press("a")  # Accept: saves and opens the next example
    page.get_by_role("heading", name="Example q1").wait_for()
    page.get_by_text("Your labels: 1").wait_for()
    # typing a note with the shortcut letters in it types them; it saves nothing
    note = page.get_by_label("note")
    note.click()
    note.type("a fixed answer, next")
    wait_idle(page)
    page.get_by_role("heading", name="Example q1").wait_for()
    page.get_by_text("Your labels: 1").wait_for()
    page.get_by_role("heading", name="Label", exact=True).click()
    page.keyboard.press("x")  # Reject, with the note typed above
    page.get_by_role("heading", name="Example q2").wait_for()
    page.get_by_text("Your labels: 2").wait_for()

    store = Store(f"sqlite:///{app_home / 'curation.db'}")
    try:
        got = {(r.example_id, r.value) for r in repo.list_labels(store, "label-demo")}
    finally:
        store.dispose()
    assert got == {("q0", "accept"), ("q1", "reject"), ("q1", "a fixed answer, next")}
