"""Preference data in a real browser: import a TRL pair file, swap one pair's preference on
Browse, export `trl-dpo` and read the pairs back from the downloaded zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.e2e.helpers import choose, start_project, upload_and_import, wait_idle

pytestmark = pytest.mark.e2e

PAIRS = Path(__file__).resolve().parents[1] / "fixtures" / "preference"


def test_import_pairs_swap_one_and_export_trl_dpo(page, app_url: str, tmp_path: Path) -> None:
    path = PAIRS / "trl_preference_conversational.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    start_project(page, app_url, "pairs-demo")
    upload_and_import(page, str(path))
    page.get_by_text(f"imported {len(records)} examples").first.wait_for()

    nav = page.get_by_test_id("stSidebarNavItems")
    nav.get_by_role("link", name="Browse", exact=True).click()
    wait_idle(page)
    # the first pair: its prompt once, its two answers side by side with their preference
    page.get_by_text("What color is the sky?", exact=True).first.wait_for()
    page.get_by_text("It is blue.", exact=True).first.wait_for()
    page.get_by_text("It is green.", exact=True).first.wait_for()
    page.get_by_role("button", name="Swap preference").click()
    wait_idle(page)
    page.get_by_text("revision 1", exact=False).first.wait_for()

    nav.get_by_role("link", name="Export", exact=True).click()
    page.get_by_text("1 · What goes out").wait_for()
    choose(page, "Preset", "trl-dpo")
    page.get_by_text("prompt / chosen / rejected", exact=False).first.wait_for()
    page.get_by_role("button", name="Export", exact=True).click()
    wait_idle(page, timeout=60_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download zip").click()
    target = tmp_path / "export.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as zf:
        names = {name.rsplit("/", 1)[-1]: name for name in zf.namelist()}
        rows = [
            json.loads(line)
            for name in ("train.jsonl", "validation.jsonl")
            if name in names
            for line in zf.read(names[name]).decode("utf-8").splitlines()
        ]
    assert len(rows) == len(records)
    by_prompt = {row["prompt"][-1]["content"]: row for row in rows}
    sky = by_prompt["What color is the sky?"]
    assert sky["chosen"] == [{"role": "assistant", "content": "It is green."}]
    assert sky["rejected"] == [{"role": "assistant", "content": "It is blue."}]
    for record in records[1:]:
        row = by_prompt[record["prompt"][-1]["content"]]
        assert row["chosen"][-1]["content"] == record["chosen"][-1]["content"]
        assert row["rejected"][-1]["content"] == record["rejected"][-1]["content"]
        assert row["prompt"] == record["prompt"]
