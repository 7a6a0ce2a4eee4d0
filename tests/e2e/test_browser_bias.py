"""In a real browser: import Dolly's category data, run the bias audit (a background job), see
its charts, click a bar of the category chart and read the examples behind it, then choose
another bar from the list; nothing is fetched from outside the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    off_machine,
    start_project,
    upload_and_import,
    wait_idle,
    watch_requests,
)

pytestmark = pytest.mark.e2e

BAR_LIST = "Examples behind a bar (or click one)"


def _cell(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for a table cell starting with `text` (st.dataframe draws on a canvas; its cells are
    an accessibility layer the browser keeps hidden)."""
    start = " ".join(text.split())[:50]
    page.locator("[role=gridcell]", has_text=start).first.wait_for(state="attached")


def test_run_the_audit_see_a_chart_and_drill_into_a_bar(
    page, app_url: str, shared_data: Path
) -> None:
    path = shared_data / "dolly" / "random_selection_20_top_100.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    open_qa = [r for r in records if r["category"] == "open_qa"]
    brainstorming = [r for r in records if r["category"] == "brainstorming"]
    assert (len(open_qa), len(brainstorming)) == (39, 2)  # counted by reading the file
    requests = watch_requests(page)
    start_project(page, app_url, "bias-demo")
    upload_and_import(page, str(path))
    page.get_by_text("random_selection_20_top_100.json: imported 100 examples").wait_for()

    page.get_by_role("link", name="Bias audit").click()
    wait_idle(page)
    page.get_by_text("No bias audit yet").wait_for()
    page.get_by_role("button", name="Run bias audit").click()
    page.get_by_text("Run 1 by ada", exact=False).wait_for(timeout=120_000)
    wait_idle(page)
    page.get_by_text("category 'open_qa' is 39% of the data", exact=False).first.wait_for()

    # the first chart is the category chart, drawn as SVG, longest bar (open_qa) on top
    chart = page.get_by_test_id("stVegaLiteChart").first
    chart.locator("svg").first.wait_for()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    chart.get_by_text("brainstorming", exact=True).wait_for()
    chart.click(position={"x": box["width"] * 0.45, "y": 48})  # on open_qa's bar
    wait_idle(page)
    bars = page.get_by_label(BAR_LIST).first
    page.wait_for_function(
        "label => [...document.querySelectorAll('input[role=combobox]')]"
        ".some(e => e.getAttribute('aria-label') === label && e.value.startsWith('open_qa'))",
        arg=BAR_LIST,
    )
    assert bars.input_value() == "open_qa · 39 example(s)"
    page.get_by_text("category: examples per value: open_qa · 39 example(s)").wait_for()
    _cell(page, open_qa[0]["instruction"])

    # or from the list: the keyboard opens it
    bars.focus()
    bars.press("ArrowDown")
    page.get_by_role("option", name="brainstorming · 2 example(s)", exact=True).click()
    wait_idle(page)
    page.get_by_text("category: examples per value: brainstorming · 2 example(s)").wait_for()
    for record in brainstorming:
        _cell(page, record["instruction"])
    assert off_machine(requests, app_url) == []
