"""The audit as files: JSON (a top-level ``findings`` list, then every check's numbers) and one
self-contained HTML page whose charts are inline SVG, so it opens offline.

Every text in the HTML, from data or not, goes through `html.escape`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from curation.bias.base import Chart
from curation.bias.runner import AuditReport

__all__ = ["render_html", "report_json", "write_html", "write_json"]

_SEVERITY_COLOURS = {
    "critical": "#b3261e",
    "warning": "#a15c00",
    "info": "#3b5ba5",
    "ok": "#2e7d32",
    "failed": "#6b6b6b",
}
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1f1f1f;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.sev{font-weight:600;white-space:nowrap}.muted{color:#666;font-size:.85rem}
.chart{margin:1rem 0;overflow-x:auto}.chart svg{max-width:100%;height:auto}
.counts span{display:inline-block;margin-right:1rem;font-weight:600}
"""
# vl-convert writes a standalone SVG document; inline, it needs no XML declaration.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>\s*")


def report_json(report: AuditReport) -> dict[str, Any]:
    """The JSON report (`AuditReport.to_json`)."""
    return report.to_json()


def write_json(report: AuditReport, path: str | Path) -> Path:
    """Write the JSON report to `path` (UTF-8, indented); returns the path."""
    out = Path(path)
    out.write_text(
        json.dumps(report_json(report), indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    return out


def _sev(severity: str) -> str:
    colour = _SEVERITY_COLOURS.get(severity, "#333")
    return f'<span class="sev" style="color:{colour}">{escape(severity)}</span>'


def _chart_html(chart: Chart) -> str:
    try:
        from curation.bias.charts import chart_svg

        svg = _XML_DECLARATION.sub("", chart_svg(chart))
    except ImportError:  # no renderer: the numbers still show
        svg = ""
    rows = "".join(
        f"<tr><td>{escape(b.label)}</td><td>{escape(b.series or '')}</td>"
        f"<td>{b.value:,.4g}</td><td>{b.n:,}</td><td>{escape(b.detail)}</td></tr>"
        for b in chart.bars
    )
    table = (
        f"<details><summary>{escape(chart.title)}: the numbers</summary><table>"
        f"<tr><th>{escape(chart.y_title or 'label')}</th><th>series</th>"
        f"<th>{escape(chart.x_title or 'value')}</th><th>examples</th><th>detail</th></tr>"
        f"{rows}</table></details>"
    )
    figure = f'<div class="chart" data-chart="{escape(chart.key)}">{svg}</div>' if svg else ""
    if not svg:
        figure = (
            f'<p class="muted">{escape(chart.title)} (install vl-convert-python to draw it)</p>'
        )
    return figure + table


def render_html(
    report: AuditReport, *, title: str = "Bias audit", generated_at: str | None = None
) -> str:
    """The whole audit as one HTML page: summary, findings ranked by severity, then each check
    with its charts (inline SVG) and the term lists' provenance. No script, no external file.

    Parameters
    ----------
    title:
        The page title (a project or file name is fine: it is escaped).
    generated_at:
        Shown in the header; now (UTC) when None.
    """
    when = generated_at or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    s = report.summary
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">Generated {escape(when)} · {s.n_examples:,} examples audited'
        f" ({s.n_read:,} read) · overall {_sev(s.severity)}</p>",
        '<p class="counts">'
        + "".join(f"<span>{escape(k)}: {v:,}</span>" for k, v in s.counts.items())
        + "</p>",
        f"<p>{escape(s.message)}</p>",
        "<h2>Findings, most severe first</h2>",
    ]
    if report.findings:
        parts.append(
            "<table><tr><th>severity</th><th>check</th><th>finding</th><th>examples</th></tr>"
        )
        for f in report.findings:
            parts.append(
                f"<tr><td>{_sev(f.severity)}</td><td>{escape(f.check)}</td>"
                f"<td>{escape(f.message)}</td><td>{f.n:,}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No findings.</p>")
    for check in report.checks:
        parts.append(f'<h2 id="{escape(check.code)}">{escape(check.title)}</h2>')
        parts.append(f'<p class="muted">{escape(check.description)}</p>')
        parts.append(f"<p>{_sev(check.severity)} {escape(check.message)}</p>")
        if check.error:
            parts.append(f"<p>Error: {escape(check.error)}</p>")
        for chart in check.charts:
            if chart.bars:
                parts.append(_chart_html(chart))
    lists = report.info.get("term_lists") or []
    if lists:
        parts.append("<h2>Term lists</h2><table>")
        parts.append("<tr><th>list</th><th>version</th><th>license</th><th>source</th></tr>")
        for t in lists:
            parts.append(
                f"<tr><td>{escape(str(t.get('name', '')))}</td>"
                f"<td>{escape(str(t.get('version', '')))}</td>"
                f"<td>{escape(str(t.get('license', '')))}</td>"
                f"<td>{escape(str(t.get('source', '')))}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(report: AuditReport, path: str | Path, *, title: str = "Bias audit") -> Path:
    """Write `render_html` to `path` (UTF-8); returns the path."""
    out = Path(path)
    out.write_text(render_html(report, title=title), encoding="utf-8")
    return out
