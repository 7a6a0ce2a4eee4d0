"""Small Playwright helpers for driving the Streamlit app the way a person does."""

from __future__ import annotations

import re
from typing import Any


def wait_idle(page: Any, timeout: int = 30_000) -> None:
    """Wait until the script has finished its rerun."""
    page.wait_for_function(
        "() => { const s = document.querySelector('[data-testid=\"stApp\"]');"
        " return s && s.getAttribute('data-test-script-state') === 'notRunning'; }",
        timeout=timeout,
    )


def choose(page: Any, label: str, option: str, attempts: int = 3) -> None:
    """Pick `option` in the select box `label`; open it again if a rerun closed it first."""
    for attempt in range(attempts):
        wait_idle(page)
        page.get_by_label(label, exact=True).click()
        item = page.get_by_role("option", name=option, exact=True)
        try:
            item.wait_for(timeout=10_000)
            item.click()
            break
        except Exception:  # the list closed under a rerun: press Escape and open it again
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
    wait_idle(page)


def fill(page: Any, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    wait_idle(page)


def start_project(page: Any, url: str, project: str, user: str = "ada") -> None:
    """Open the app, set the annotator name and create a project."""
    page.goto(url)
    page.get_by_label("Annotator name", exact=True).wait_for()
    wait_idle(page)
    fill(page, "Annotator name", user)
    if not page.get_by_label("Project name", exact=True).is_visible():
        page.get_by_text("New project", exact=True).click()
    fill(page, "Project name", project)
    page.get_by_role("button", name="Create project").click()
    wait_idle(page)
    page.get_by_text(f"{project} · 0 examples").wait_for()


def upload_and_import(page: Any, path: str) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)
    wait_idle(page)
    button = page.get_by_role("button", name="Import ")
    button.wait_for()
    button.click()
    # the import runs as a background job: its summaries replace the progress bar when it ends
    page.get_by_role("heading", name="Last import").wait_for(timeout=60_000)
    wait_idle(page)


def shown(text: str) -> str:
    """Text as a reader sees it: word joiners are invisible, runs of whitespace are one space."""
    return re.sub(r"\s+", " ", text.replace("\u2060", "")).strip()


def watch_requests(page: Any) -> list[str]:
    """Every URL the page requests from now on."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    return requests


def off_machine(requests: list[str], url: str) -> list[str]:
    """Requests that went anywhere but the app under test."""
    return [r for r in requests if not (r.startswith(url) or r.startswith(("data:", "blob:")))]
