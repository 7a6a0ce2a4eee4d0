"""`run_audit`: every enabled bias check over the audited examples, one failing check reported as
data while the others run, findings ranked by severity, and the report's JSON form.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from curation.bias.base import (
    SEVERITIES,
    AuditRow,
    Chart,
    CheckOutput,
    Finding,
    severity_rank,
)
from curation.bias.config import AuditConfig
from curation.bias.data_set import AuditData, subjects_from
from curation.bias.terms import TermList
from curation.errors import CurationError
from curation.progress import ProgressFn, report
from curation.records import Example

__all__ = [
    "STAGE",
    "AuditReport",
    "AuditSummary",
    "CheckResult",
    "rank_findings",
    "run_audit",
    "run_audit_data",
]

STAGE = "bias audit"
REPORT_VERSION = 1
CheckSeverity = Literal["ok", "info", "warning", "critical", "failed"]


@dataclass(slots=True)
class CheckResult:
    """One check's part of the audit: its verdict, rows, findings, charts and numbers.

    Attributes
    ----------
    code, title, description:
        The check.
    severity:
        Its worst finding's severity; ``ok`` without findings; ``failed`` when it raised.
    message:
        One line: the check's own summary, else its top finding's message.
    rows:
        Per-example rows (kept in the store; not in the JSON report).
    findings, charts, info:
        As the check returned them (findings ranked).
    seconds:
        Time it took.
    error:
        ``Type: message`` when it raised (then the traceback's last lines are in ``info``).
    """

    code: str
    title: str
    description: str
    severity: CheckSeverity
    message: str
    rows: list[AuditRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything but the rows (and findings as their JSON records)."""
        return {
            "code": self.code,
            "title": self.title,
            "description": self.description,
            "severity": self.severity,
            "message": self.message,
            "n_findings": len(self.findings),
            "charts": [c.to_dict() for c in self.charts],
            "info": self.info,
            "seconds": round(self.seconds, 4),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], findings: list[Finding]) -> CheckResult:
        return cls(
            code=str(data["code"]),
            title=str(data.get("title") or data["code"]),
            description=str(data.get("description") or ""),
            severity=data.get("severity", "ok"),
            message=str(data.get("message") or ""),
            findings=[f for f in findings if f.check == data["code"]],
            charts=[Chart.from_dict(c) for c in data.get("charts") or ()],
            info=dict(data.get("info") or {}),
            seconds=float(data.get("seconds") or 0.0),
            error=data.get("error"),
        )


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """The audit in one line, with the counts the dataset card and readiness show.

    Attributes
    ----------
    severity:
        The worst finding's severity, ``ok`` when nothing was found.
    message:
        Counts per severity and the top finding.
    n_examples:
        Examples whose coverage was audited (in scope).
    n_read:
        Examples read (rejected ones too, for the outcome check).
    counts:
        Findings per severity (``critical``, ``warning``, ``info``).
    failed:
        Codes of the checks that raised.
    """

    severity: str
    message: str
    n_examples: int
    n_read: int
    counts: dict[str, int]
    failed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "message": self.message,
            "n_examples": self.n_examples,
            "n_read": self.n_read,
            "counts": dict(self.counts),
            "failed": list(self.failed),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditSummary:
        return cls(
            str(data.get("severity", "ok")),
            str(data.get("message", "")),
            int(data.get("n_examples", 0)),
            int(data.get("n_read", 0)),
            {str(k): int(v) for k, v in (data.get("counts") or {}).items()},
            tuple(data.get("failed") or ()),
        )


@dataclass(slots=True)
class AuditReport:
    """What `run_audit` returns: each check's result, the ranked findings, a summary, an info dict.

    ``info`` holds ``config`` (its `to_dict`), ``fields`` (the label fields), ``term_lists``
    (name, version, license, source of each list used) and ``seconds`` (total).
    """

    checks: list[CheckResult]
    findings: list[Finding]
    summary: AuditSummary
    info: dict[str, Any]

    @property
    def rows(self) -> list[AuditRow]:
        """Every check's per-example rows, once per (example, code)."""
        seen: set[tuple[str, str]] = set()
        out = []
        for check in self.checks:
            for row in check.rows:
                key = (row.example_id, row.code)
                if key not in seen:
                    seen.add(key)
                    out.append(row)
        return out

    def check(self, code: str) -> CheckResult | None:
        return next((c for c in self.checks if c.code == code), None)

    def to_json(self) -> dict[str, Any]:
        """The JSON report: ``findings`` (each exactly `FINDING_FIELDS`), then the summary,
        each check's message, charts and numbers, the label fields and the term lists."""
        return {
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.summary.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "fields": self.info.get("fields", []),
            "term_lists": self.info.get("term_lists", []),
            "config": self.info.get("config", {}),
            "version": REPORT_VERSION,
        }

    def to_record(self) -> dict[str, Any]:
        """What a saved run keeps: `to_json` with the findings' drill-down codes."""
        out = self.to_json()
        out["findings"] = [f.to_record() for f in self.findings]
        out["info"] = {k: v for k, v in self.info.items() if k not in ("fields", "term_lists")}
        return out

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> AuditReport:
        """A report from `to_record` (or `to_json`): rows are not in it (they are in the store)."""
        findings = [Finding.from_record(f) for f in data.get("findings") or ()]
        checks = [CheckResult.from_dict(c, findings) for c in data.get("checks") or ()]
        info = dict(data.get("info") or {})
        info.setdefault("config", data.get("config") or {})
        info["fields"] = list(data.get("fields") or ())
        info["term_lists"] = list(data.get("term_lists") or ())
        return cls(checks, findings, AuditSummary.from_dict(data.get("summary") or {}), info)


def rank_findings(
    findings: Iterable[Finding], order: Mapping[str, int] | None = None
) -> list[Finding]:
    """Most severe first; within a severity the largest ``weight`` first, then check order."""
    order = order or {}
    return sorted(
        findings,
        key=lambda f: (severity_rank(f.severity), -f.weight, order.get(f.check, 99), f.message),
    )


def _summarise(findings: list[Finding], n: int, n_read: int, failed: list[str]) -> AuditSummary:
    counts = Counter(f.severity for f in findings)
    ordered: dict[str, int] = {s: counts.get(s, 0) for s in SEVERITIES}
    worst = next((s for s in SEVERITIES if ordered[s]), "ok")
    if findings:
        parts = ", ".join(f"{k} {s}" for s, k in ordered.items() if k)
        message = f"{parts} on {n:,} examples. Top: {findings[0].message}"
    else:
        message = f"Nothing found on {n:,} examples."
    if failed:
        message += f" {len(failed)} check(s) failed: {', '.join(failed)}."
    return AuditSummary(worst, message, n, n_read, ordered, tuple(failed))


def _tick(progress: ProgressFn | None, stage: str) -> Any:
    def tick(done: int, total: int | None) -> None:
        report(progress, stage, done, total)

    return tick


def run_audit_data(data: AuditData, *, progress: ProgressFn | None = None) -> AuditReport:
    """Run every enabled check over `data` (see `run_audit`).

    Raises
    ------
    CurationError
        When no example is in scope (nothing to audit).
    """
    if not data.coverage:
        raise CurationError(
            "No example to audit: none is in the audited statuses "
            f"({', '.join(data.config.coverage_statuses)})."
        )
    config = data.config
    codes = config.codes()
    reg = config.registry()
    started = time.perf_counter()
    results: list[CheckResult] = []
    order = {code: i for i, code in enumerate(codes)}
    for i, code in enumerate(codes):
        cls = reg.get(code)
        report(progress, STAGE, i, len(codes), cls.title)
        stage = f"{STAGE}: {cls.title.lower()}"
        start = time.perf_counter()
        try:
            check = cls(config.settings_for(code))
            output = check.run(data, _tick(progress, stage))
            if not isinstance(output, CheckOutput):
                raise TypeError(f"run returned {type(output).__name__}, not CheckOutput")
        except Exception as exc:  # one check failing is data; the others still run
            lines = traceback.format_exception(exc)
            results.append(
                CheckResult(
                    code,
                    cls.title,
                    cls.description,
                    "failed",
                    f"The check failed ({type(exc).__name__}: {exc}); the other checks ran.",
                    info={"traceback": "".join(lines[-3:])[-2000:]},
                    seconds=time.perf_counter() - start,
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            continue
        findings = rank_findings(output.findings)
        severity: CheckSeverity = findings[0].severity if findings else "ok"
        message = output.message or (findings[0].message if findings else "Nothing to report.")
        results.append(
            CheckResult(
                code,
                cls.title,
                cls.description,
                severity,
                message,
                output.rows,
                findings,
                output.charts,
                output.info,
                time.perf_counter() - start,
            )
        )
    report(progress, STAGE, len(codes), len(codes))
    findings = rank_findings((f for r in results for f in r.findings), order)
    failed = [r.code for r in results if r.severity == "failed"]
    summary = _summarise(findings, len(data.coverage), len(data.subjects), failed)
    info = {
        "config": config.to_dict(),
        "fields": [f.to_dict() for f in data.fields],
        "term_lists": [data.demographic.provenance(), data.offensive.provenance()],
        "seconds": round(time.perf_counter() - started, 3),
        "check_seconds": {r.code: round(r.seconds, 3) for r in results},
    }
    return AuditReport(results, findings, summary, info)


def run_audit(
    examples: Iterable[Example | tuple[Example, str]],
    config: AuditConfig | None = None,
    *,
    quality_flagged: set[str] | None = None,
    demographic: TermList | None = None,
    offensive: TermList | None = None,
    progress: ProgressFn | None = None,
) -> AuditReport:
    """Run every enabled bias check over `examples`.

    Parameters
    ----------
    examples:
        `curation.records.Example`s (a file: all active), or ``(example, status)`` pairs (a
        project's examples in `config`'s statuses).
    config:
        Which checks, their settings, the label fields and statuses; None = the defaults.
    quality_flagged:
        Ids flagged by the latest quality run, when there is one: adds the ``quality`` verdict.
    demographic, offensive:
        Term lists to use instead of the shipped ones.
    progress:
        Receives ``bias audit`` stage updates (check i of n) and each check's own stage; it
        may raise (`Cancelled`) to stop the run, which then returns nothing.

    Returns
    -------
    AuditReport
        Per-check results, findings ranked by severity, the summary and the info dict.
    """
    config = config or AuditConfig()
    subjects = subjects_from(examples, config, quality_flagged=quality_flagged)
    data = AuditData(subjects, config, demographic=demographic, offensive=offensive)
    return run_audit_data(data, progress=progress)
