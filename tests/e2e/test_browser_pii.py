"""In a real browser: scan a project for PII, accept the findings, scrub them, residual zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import start_project, upload_and_import, wait_idle

pytestmark = pytest.mark.e2e

RECORDS = [
    (
        "Send the refund form to billing@example.org today.",
        "I have sent it to billing@example.org.",
    ),
    ("Ask support@example.org about the delivery.", "Done, support@example.org will reply."),
    ("How many legs does a spider have?", "Eight."),
]


def test_scan_accept_scrub_and_residual_zero(page, app_url: str, tmp_path: Path) -> None:
    data = tmp_path / "contacts.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"r{i}", "instruction": q, "output": a}) + "\n"
            for i, (q, a) in enumerate(RECORDS)
        ),
        encoding="utf-8",
    )
    start_project(page, app_url, "pii-demo")
    upload_and_import(page, str(data))
    page.get_by_text("contacts.jsonl: imported 3 examples").wait_for()

    page.get_by_role("link", name="PII scrub").click()
    wait_idle(page)
    page.get_by_text("No PII scan yet", exact=False).wait_for()
    page.get_by_role("button", name="Scan project").click()
    # a background job: its progress shows, then the page reruns with the findings (the first
    # scan loads the spaCy model)
    page.get_by_text("Counts by type", exact=True).wait_for(timeout=180_000)
    wait_idle(page)
    # the findings table shows each span in context
    page.get_by_text("Review in bulk", exact=True).wait_for()

    page.get_by_role("button", name="Mark 4 unreviewed").click()
    wait_idle(page)
    page.get_by_role("button", name="Scrub 4 accepted finding(s)").click()
    wait_idle(page, timeout=120_000)
    page.get_by_text("Nothing left that holds the export back.").wait_for()
    residual = page.get_by_test_id("stMetric").filter(has_text="Residual")
    assert residual.get_by_test_id("stMetricValue").inner_text().strip() == "0"
