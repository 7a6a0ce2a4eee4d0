"""The whole flow in a real browser: start the app, create a project, upload, import, browse.

Runs `streamlit run app.py` on a free port and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import start_project, upload_and_import, wait_idle

pytestmark = pytest.mark.e2e


def test_upload_import_and_browse(page, app_url: str, shared_data: Path) -> None:
    path = shared_data / "llamafactory" / "identity.json"
    records = json.loads(path.read_text())
    start_project(page, app_url, "demo")
    upload_and_import(page, str(path))
    page.get_by_text(f"identity.json: imported {len(records)} examples").wait_for()
    page.get_by_text(f"demo · {len(records)} examples").wait_for()

    page.get_by_role("link", name="Browse the examples").click()
    wait_idle(page)
    page.get_by_text(f"{len(records)} matching examples").wait_for()
    # the first example is shown in detail, its answer rendered as plain text
    first_answer = records[0]["output"]
    page.get_by_text(first_answer, exact=True).first.wait_for()
