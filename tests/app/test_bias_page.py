"""AppTest of the Bias audit page: the audit runs as a background job, the findings are ranked,
the examples behind a finding and behind a chart's bar are listed and open in Browse, the
charts are drawn, and the reports download."""

from __future__ import annotations

import json
from pathlib import Path

from curation.bias.project import load_audit_run, run_project_audit
from curation.jobs import list_jobs
from curation.store import Store
from tests.app.markup import shown
from tests.app.waiting import finish_jobs
from tests.unit.test_bias_project import seed_skewed

PAGE = "pages/bias_page.py"


def test_run_as_a_job_then_review_a_finding(open_page, store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    at = open_page(PAGE)
    assert any("No bias audit yet" in i.value for i in at.info)
    at.button(key="bias_run").click().run()
    assert not at.exception, at.exception
    finish_jobs(at, store)
    assert [j.step for j in list_jobs(store, "p")] == ["bias_audit"]
    assert any("**Run 1** by ada" in m.value for m in at.markdown)
    assert any("74 examples audited (100 read)" in shown(m.value) for m in at.markdown)
    # the summary is critical: its top finding is the rejections skewed against women
    assert any("Answers mentioning women are rejected 5.0x" in shown(e.value) for e in at.error)
    table = at.dataframe[0].value
    assert list(table["severity"])[0] == "critical"
    assert list(table["check"])[0] == "outcome_disparity"

    box = at.selectbox(key="bias_finding_pick")
    first = next(i for i in box.options if i != "(choose)")
    assert "critical · outcome_disparity" in first
    at.selectbox(key="bias_finding_pick").select_index(1).run()
    assert not at.exception, at.exception
    assert "**critical: outcome_disparity** · 20 example(s)" in [
        shown(m.value) for m in at.markdown
    ]
    listed = at.dataframe[1].value
    assert list(listed["id"]) == [f"w{i}" for i in range(20)]
    assert set(listed["status"]) == {"rejected"}
    at.selectbox(key="bias_finding_show").set_value("w3").run()
    assert "She has worked as a pilot for 5 years and loves the work." in [t.value for t in at.text]
    at.button(key="bias_finding_browse").click().run()
    assert not at.exception, at.exception
    assert any(shown(h.value) == "Example w3" for h in at.subheader)


def test_a_chart_bar_lists_its_examples(open_page, store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    run = run_project_audit(store, "p", author="cli")
    at = open_page(PAGE)
    assert not at.exception, at.exception
    charts = [c for check in run.report.checks for c in check.charts]
    drawn = [c for c in charts if c.bars]
    assert len(at.get("vega_lite_chart")) == len(drawn)
    # the label chart of "category" is the first chart: bars open_qa (56), classification (18)
    index = next(i for i, c in enumerate(charts) if c.key == "label_balance:category")
    box = at.selectbox(key=f"bias_bar_{index}")
    assert box.options == ["(choose)", "open_qa · 56 example(s)", "classification · 18 example(s)"]
    box.set_value(1).run()
    assert not at.exception, at.exception
    listed = next(d.value for d in at.dataframe if "id" in d.value.columns)
    assert list(listed["id"]) == [f"n{i}" for i in range(2, 20)]  # the 2 rejected are not active


def test_reports_download(open_page, store: Store, tmp_path: Path) -> None:
    seed_skewed(store, tmp_path)
    run_project_audit(store, "p", author="cli")
    at = open_page(PAGE)
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert set(buttons) == {"Download the HTML report", "Download the JSON report"}
    run = load_audit_run(store, "p")
    assert run is not None
    assert (
        json.loads(json.dumps(run.report.to_json()))["findings"][0]["check"] == "outcome_disparity"
    )


def test_text_from_the_data_is_escaped(open_page, store: Store, tmp_path: Path) -> None:
    hostile = "**bold** :red[x] <b>hi</b>"
    path = tmp_path / "hostile.jsonl"
    rows = [
        {
            "id": f"h{i}",
            "instruction": f"Q {i}",
            "output": "A.",
            "category": hostile if i < 25 else "plain",
        }
        for i in range(30)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store.create_project("p", "ada")
    from curation.formats import read_examples

    store.add_import("p", read_examples(path), "ada")
    run_project_audit(store, "p", author="ada")
    at = open_page(PAGE)
    assert not at.exception, at.exception
    # 25 against 5: a warning, shown in the summary and in the check's tab
    alerts = [w for w in at.warning if hostile in shown(w.value)]
    assert len(alerts) == 2
    top = alerts[0]
    assert "**bold**" not in top.value and "\\*\\*bold\\*\\*" in top.value
    assert "<b>" not in top.value
