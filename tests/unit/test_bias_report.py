"""The audit's files: JSON with a top-level `findings` list of exactly the documented fields, and
an HTML page that opens offline with its charts (inline SVG, no script, no external reference)
and escapes every text from the data."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from curation.bias import FINDING_FIELDS, AuditReport, run_audit
from curation.bias.report import render_html, write_json
from tests.unit.test_bias_checks import ex, skewed_examples

HOSTILE = '<script>alert("x")</script><img src=https://evil.example/p.png>'


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_json_findings_have_exactly_the_documented_fields(tmp_path: Path) -> None:
    report = run_audit(skewed_examples())
    path = write_json(report, tmp_path / "audit.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data)[0] == "findings"
    assert data["findings"], "the skewed data has findings"
    for finding in data["findings"]:
        assert tuple(finding) == FINDING_FIELDS
        assert finding["severity"] in ("info", "warning", "critical")
        assert finding["n"] >= 0 and isinstance(finding["example_ids"], list)
    disparity = next(f for f in data["findings"] if f["check"] == "outcome_disparity")
    assert (disparity["axis"], disparity["group"], disparity["field"]) == (
        "gender",
        "female",
        "status",
    )
    assert disparity["metric"] == "selection_rate_ratio" and disparity["value"] == 0.2
    assert disparity["threshold"] == 0.8 and disparity["n"] == len(disparity["example_ids"]) == 20
    assert {t["name"] for t in data["term_lists"]} == {"demographic-terms", "offensive-terms"}


def test_the_saved_form_round_trips() -> None:
    report = run_audit(skewed_examples())
    again = AuditReport.from_record(json.loads(json.dumps(report.to_record())))
    assert [f.to_dict() for f in again.findings] == [f.to_dict() for f in report.findings]
    assert [f.codes for f in again.findings] == [f.codes for f in report.findings]
    assert [c.code for c in again.checks] == [c.code for c in report.checks]
    assert [len(c.charts) for c in again.checks] == [len(c.charts) for c in report.checks]
    assert again.summary == report.summary


def test_html_opens_offline_with_its_charts() -> None:
    report = run_audit(skewed_examples())
    html = render_html(report, title="Audit of p")
    tags = _tags(html)
    names = [t for t, _ in tags]
    assert "script" not in names and "iframe" not in names
    for tag, attrs in tags:
        for attr in ("src", "href", "xlink:href"):
            value = attrs.get(attr) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, attr, value)
    assert "@import" not in html and "url(http" not in html
    charts = sum(len([c for c in check.charts if c.bars]) for check in report.checks)
    assert names.count("svg") == charts >= 5  # every chart drawn, inline
    assert 'data-chart="outcome_disparity:status=rejected"' in html
    # the chart's marks and labels are in the SVG: the groups of the rejection chart
    section = html.split('data-chart="outcome_disparity:status=rejected"')[1].split("</svg>")[0]
    assert ">women<" in section and ">men<" in section


def test_html_escapes_text_from_the_data() -> None:
    examples = [
        ex(f"Q {i}", "A.", ident=f"h{i}", metadata={"category": HOSTILE if i < 25 else "plain"})
        for i in range(30)
    ]
    html = render_html(run_audit(examples), title=HOSTILE)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert not any(t == "img" for t, _ in _tags(html))
