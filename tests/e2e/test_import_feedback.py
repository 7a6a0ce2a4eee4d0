"""Import feedback in a real browser: five files at once, counts before the click, summary after.

Also undoes that import from the Activity page, which asks before removing the examples.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.helpers import start_project, wait_idle

pytestmark = pytest.mark.e2e

FILES = (
    "llamafactory/identity.json",
    "dolly/random_selection_20_top_100.json",
    "self-instruct/seed_tasks.jsonl",
    "llamafactory/glaive_toolcall_en_demo.json",
    "fastchat/dummy_conversation.json",
)
# The page scrolls inside Streamlit's main section; before, five files made it 12,000 px tall.
MAX_PAGE_HEIGHT = 4_000


def _page_height(page) -> int:
    return int(
        page.evaluate(
            "() => Math.max(...[...document.querySelectorAll("
            '\'[data-testid="stMain"], [data-testid="stAppViewContainer"], html, body\')]'
            ".map(e => e.scrollHeight))"
        )
    )


def test_five_files_show_what_they_add_and_the_summary_comes_first(
    page, app_url: str, shared_data: Path
) -> None:
    start_project(page, app_url, "five")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        [str(shared_data / rel) for rel in FILES]
    )
    wait_idle(page, timeout=90_000)
    button = page.get_by_role("button", name=re.compile(r"^Import [\d,]+ new examples from 5"))
    button.wait_for()
    total = int(re.search(r"Import ([\d,]+)", button.inner_text()).group(1).replace(",", ""))
    assert _page_height(page) < MAX_PAGE_HEIGHT, _page_height(page)
    # Each file has its tab; the first one's details are shown, the others are one click away.
    tabs = page.get_by_role("tab")
    assert tabs.count() == len(FILES)
    tabs.nth(4).click()
    page.get_by_text("Preview (canonical chat view, first two examples)").last.wait_for()

    button.click()
    wait_idle(page, timeout=120_000)
    summary = page.get_by_text(f"Added {total:,} examples from 5 files")
    summary.wait_for()
    box = summary.bounding_box()
    assert box is not None and box["y"] < 600, box  # on screen without scrolling
    page.get_by_text(f"five · {total} examples").first.wait_for()
    assert page.get_by_test_id("stFileUploaderFile").count() == 0  # the uploader is empty

    page.get_by_role("link", name="Activity & undo").click()
    wait_idle(page)
    page.get_by_role("button", name="Undo").first.click()
    wait_idle(page)
    page.get_by_text(re.compile(r"removes the [\d,]+ examples? imported from")).wait_for()
    page.get_by_role("button", name="Yes, undo").click()
    wait_idle(page)
    # the toast reads "Undid event #N"; the log row of the import then says who undid it
    page.get_by_text(re.compile(r"^Undid event #\d+$")).wait_for()
    page.get_by_text(re.compile(r"^undone by #\d+$")).first.wait_for()
