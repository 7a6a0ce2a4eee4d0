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
    chat = page.get_by_test_id("stChatMessage")
    chat.get_by_text(first_answer, exact=True).first.wait_for()


def test_find_and_resolve_a_duplicate_cluster(page, app_url: str, tmp_path: Path) -> None:
    rows = [
        ("How do I boil an egg?", "Put it in boiling water for nine minutes."),
        ("how do I  boil an EGG?", "Put it in boiling water for nine minutes!"),
        ("What is the capital of Peru?", "Lima."),
        ("How do I boil an egg", "put it in boiling water, for nine minutes"),
    ]
    path = tmp_path / "dups.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "instruction": q, "output": a}) + "\n"
            for i, (q, a) in enumerate(rows)
        )
    )
    start_project(page, app_url, "dedup-demo")
    upload_and_import(page, str(path))
    page.get_by_text("dups.jsonl: imported 4 examples").wait_for()

    page.get_by_role("link", name="Deduplicate").click()
    wait_idle(page)
    page.get_by_role("radiogroup", name="Method").get_by_text("exact", exact=True).click()
    page.get_by_role("button", name="Find duplicates").click()
    wait_idle(page)
    page.get_by_text("Cluster 1 · 3 examples").wait_for()
    page.get_by_role("button", name="Resolve cluster").click()
    wait_idle(page)
    # the sidebar counts two duplicates: the cluster's other members
    sidebar = page.get_by_test_id("stSidebar")
    duplicates = sidebar.get_by_test_id("stMetric").filter(has_text="Duplicates")
    duplicates.get_by_text("2", exact=True).wait_for()


def test_export_and_download_zip(page, app_url: str, shared_data: Path, tmp_path: Path) -> None:
    import zipfile

    path = shared_data / "llamafactory" / "identity.json"
    n = len(json.loads(path.read_text()))
    start_project(page, app_url, "export-demo")
    upload_and_import(page, str(path))
    page.get_by_text(f"identity.json: imported {n} examples").wait_for()

    page.get_by_role("link", name="Export").click()
    wait_idle(page)
    page.get_by_text(f"{n}").first.wait_for()
    page.get_by_role("button", name="Export", exact=True).click()
    wait_idle(page, timeout=60_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download zip").click()
    target = tmp_path / "export.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as zf:
        names = {name.rsplit("/", 1)[-1]: name for name in zf.namelist()}
        assert {"train.jsonl", "validation.jsonl", "README.md", "manifest.json"} <= set(names)
        rows = [
            json.loads(line)
            for name in ("train.jsonl", "validation.jsonl")
            for line in zf.read(names[name]).decode("utf-8").splitlines()
        ]
    assert len(rows) == n
    assert all(r["messages"][-1]["role"] == "assistant" for r in rows)


def test_quality_run_counts_and_bulk_reject(page, app_url: str, tmp_path: Path) -> None:
    from tests.unit.quality_helpers import write_known_bad

    path = write_known_bad(tmp_path / "known_bad.jsonl")
    start_project(page, app_url, "quality-demo")
    upload_and_import(page, str(path))
    page.get_by_text("known_bad.jsonl: imported 5 examples").wait_for()

    page.get_by_role("link", name="Quality").click()
    wait_idle(page)
    page.get_by_text("Quality checks have not run on this project yet").wait_for()
    page.get_by_role("button", name="Run quality checks").click()
    wait_idle(page, timeout=60_000)
    page.get_by_text("5 examples checked · 3 flagged").wait_for()
    page.get_by_role("button", name="Mark the 2 active example(s) rejected").click()
    wait_idle(page)
    page.get_by_role("button", name="Yes, mark them").click()
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    active = sidebar.get_by_test_id("stMetric").filter(has_text="Active")
    active.get_by_text("3", exact=True).wait_for()
    page.get_by_role("button", name="Undo the last bulk action").click()
    wait_idle(page)
    active.get_by_text("5", exact=True).wait_for()
