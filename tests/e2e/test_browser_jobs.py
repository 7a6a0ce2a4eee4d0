"""In a real browser: a semantic dedup run is a background job that goes on while the user is on
Browse, and its clusters are there when they come back to Deduplicate.

Its own server (module fixture), so the sentence model is cold and the job takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.jobs import list_jobs
from curation.store import Store
from tests.e2e.helpers import start_project, upload_and_import, wait_idle

pytestmark = pytest.mark.e2e

ROWS = [
    ("How do I boil an egg?", "Put it in boiling water for nine minutes."),
    ("how do I  boil an EGG?", "Put it in boiling water for nine minutes!"),
    ("What is the capital of Peru?", "Lima."),
    ("How do I boil an egg", "put it in boiling water, for nine minutes"),
]


def test_dedup_job_goes_on_while_the_user_browses(
    page, app_url: str, app_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "dups.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "instruction": q, "output": a}) + "\n"
            for i, (q, a) in enumerate(ROWS)
        )
    )
    start_project(page, app_url, "jobs-demo")
    upload_and_import(page, str(path))
    page.get_by_text("dups.jsonl: imported 4 examples").wait_for()

    page.get_by_role("link", name="Deduplicate", exact=True).click()
    wait_idle(page)
    page.get_by_role("radiogroup", name="Method").get_by_text("semantic", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Find duplicates").click()
    page.get_by_text("it keeps running if you switch page").wait_for()

    page.get_by_role("link", name="Browse", exact=True).click()  # leave while it runs
    page.get_by_text("4 matching examples").wait_for()
    store = Store(f"sqlite:///{app_home / 'curation.db'}")
    try:
        [job] = [j for j in list_jobs(store, "jobs-demo") if j.step == "dedup"]
        assert job.active, job  # the user left before it finished: a cold model load takes seconds
        page.wait_for_timeout(500)
        page.get_by_role("link", name="Deduplicate", exact=True).click()
        page.get_by_text("Cluster 1 · 3 examples").wait_for(timeout=240_000)
        [job] = [j for j in list_jobs(store, "jobs-demo") if j.step == "dedup"]
        assert job.state == "done" and job.worker and job.worker.endswith(":app")
    finally:
        store.dispose()
    page.get_by_text("semantic on whole conversation").first.wait_for()
