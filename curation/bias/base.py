"""The bias-check contract: ``run(data, progress) -> CheckOutput`` (per-example rows, findings,
charts, an info dict), the finding record the JSON report lists, and the registry of checks.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from curation.errors import InputError
from curation.quality.settings import CheckSettings, NoSettings
from curation.registry import CodeRegistry

if TYPE_CHECKING:
    from curation.bias.data_set import AuditData

__all__ = [
    "FINDING_FIELDS",
    "SEVERITIES",
    "AuditCheck",
    "AuditRow",
    "Bar",
    "Chart",
    "CheckOutput",
    "CheckRegistry",
    "Finding",
    "Severity",
    "Tick",
    "make_code",
    "registry",
    "severity_rank",
]

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")  # most severe first
FINDING_FIELDS = (
    "check",
    "axis",
    "group",
    "field",
    "metric",
    "value",
    "threshold",
    "severity",
    "message",
    "n",
    "example_ids",
)
MAX_CODE = 100  # the store's step_results.code column
Tick = Callable[[int, "int | None"], None]
"""``tick(done, total)``: a check's progress within its own stage."""


def severity_rank(severity: str) -> int:
    """0 for critical, 1 warning, 2 info, 3 anything else (ok, failed): for sorting."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)  # type: ignore[arg-type]


def make_code(*parts: object) -> str:
    """A step-result code from `parts` joined by ``:`` (``mention:gender:female``).

    Codes longer than the store's 100 characters keep their start and end in a hash, so two
    long label values never share a code.
    """
    code = ":".join(str(p) for p in parts)
    if len(code) <= MAX_CODE:
        return code
    digest = hashlib.sha1(code.encode("utf-8")).hexdigest()[:12]
    return f"{code[: MAX_CODE - 13]}~{digest}"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the audit found, with the numbers behind it and what to do about it.

    The JSON report lists exactly `FINDING_FIELDS` (`to_dict`); ``codes`` and ``weight`` are
    kept with saved runs for the page.

    Attributes
    ----------
    check:
        The check's code (``label_balance``, ``outcome_disparity``...).
    axis:
        The demographic axis (``gender``), or None.
    group:
        The group or value the finding is about (``female``, ``open_qa``), or None.
    field:
        The label or verdict field (``category``, ``status``), or None.
    metric, value, threshold:
        What was measured, its value and the threshold it was judged against (None when the
        finding only reports).
    severity:
        ``info``, ``warning`` or ``critical``.
    message:
        A sentence with the numbers and a concrete suggestion.
    n, example_ids:
        How many examples are behind it, and their ids.
    codes:
        Step-result codes whose examples (all of them: the intersection) are behind it, for
        listing them from the store; empty when ``example_ids`` is the whole story.
    weight:
        Orders findings of one severity: larger first (how far past the threshold).
    """

    check: str
    axis: str | None
    group: str | None
    field: str | None
    metric: str
    value: float | None
    threshold: float | None
    severity: Severity
    message: str
    n: int
    example_ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    weight: float = 0.0

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"a finding's severity is one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        """The finding as the JSON report has it: exactly `FINDING_FIELDS`."""
        return {
            "check": self.check,
            "axis": self.axis,
            "group": self.group,
            "field": self.field,
            "metric": self.metric,
            "value": _number(self.value),
            "threshold": _number(self.threshold),
            "severity": self.severity,
            "message": self.message,
            "n": self.n,
            "example_ids": list(self.example_ids),
        }

    def to_record(self) -> dict[str, Any]:
        """`to_dict` plus ``codes`` and ``weight``: what a saved run keeps."""
        return {**self.to_dict(), "codes": list(self.codes), "weight": self.weight}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            check=str(data["check"]),
            axis=data.get("axis"),
            group=data.get("group"),
            field=data.get("field"),
            metric=str(data["metric"]),
            value=data.get("value"),
            threshold=data.get("threshold"),
            severity=data["severity"],
            message=str(data["message"]),
            n=int(data["n"]),
            example_ids=tuple(data.get("example_ids") or ()),
            codes=tuple(data.get("codes") or ()),
            weight=float(data.get("weight") or 0.0),
        )


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):  # JSON has no NaN or inf
        return None
    return round(value, 4)


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One per-example result of a check, as the store keeps it (a step-result row).

    ``code`` names the bar or group the example is behind (``topic:3``, ``mention:gender:male``),
    so a page lists a bar's examples with one query.
    """

    example_id: str
    code: str
    score: float | None = None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar (or point) of a chart.

    Attributes
    ----------
    label:
        What it is ("open_qa", "gender: women").
    value:
        Its length (a count, a share, a median, a rate).
    n:
        Examples behind it.
    codes:
        Step-result codes whose intersection is the examples behind it; empty: not listable.
    series:
        A second grouping drawn as colour ("prompt" / "answer"), or None.
    low, high:
        An interval around ``value`` (rates), or None.
    detail:
        A short note for the tooltip ("12 of 40").
    """

    label: str
    value: float
    n: int
    codes: tuple[str, ...] = ()
    series: str | None = None
    low: float | None = None
    high: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": _number(self.value),
            "n": self.n,
            "codes": list(self.codes),
            "series": self.series,
            "low": _number(self.low),
            "high": _number(self.high),
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bar:
        return cls(
            str(data["label"]),
            float(data.get("value") or 0.0),
            int(data.get("n") or 0),
            tuple(data.get("codes") or ()),
            data.get("series"),
            data.get("low"),
            data.get("high"),
            str(data.get("detail") or ""),
        )


ChartKind = Literal["bar", "rate"]


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart of a check: bars (``kind="bar"``) or rates with intervals (``kind="rate"``).

    ``key`` is unique within the audit (``label_balance:category``); ``sort`` is ``"value"``
    (longest bar first) or ``"given"`` (the bars' order: histogram bins).
    """

    key: str
    title: str
    kind: ChartKind
    x_title: str
    y_title: str
    bars: tuple[Bar, ...]
    note: str = ""
    sort: Literal["value", "given"] = "value"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "x_title": self.x_title,
            "y_title": self.y_title,
            "bars": [b.to_dict() for b in self.bars],
            "note": self.note,
            "sort": self.sort,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Chart:
        return cls(
            str(data["key"]),
            str(data["title"]),
            data.get("kind", "bar"),
            str(data.get("x_title") or ""),
            str(data.get("y_title") or ""),
            tuple(Bar.from_dict(b) for b in data.get("bars") or ()),
            str(data.get("note") or ""),
            data.get("sort", "value"),
        )


@dataclass(slots=True)
class CheckOutput:
    """What a check's `run` returns.

    Attributes
    ----------
    rows:
        Per-example results (the check's per-example table).
    findings:
        What it found, any order (the runner ranks them).
    charts:
        What the page and the report draw.
    info:
        The check's numbers (tables, parameters) as JSON.
    message:
        The check's one-line summary; None lets the runner use its top finding's message.
    """

    rows: list[AuditRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


class AuditCheck(ABC):
    """Base of every bias check: a code, a title, a description and documented settings.

    Subclasses set ``code`` (snake_case, stored with every row and finding), ``title``,
    ``description`` (what it measures and why it matters for fine-tuning) and ``Settings``
    (a `CheckSettings` subclass whose docstring gives each threshold's reason).
    """

    code: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    Settings: ClassVar[type[CheckSettings]] = NoSettings

    def __init__(self, settings: CheckSettings | None = None) -> None:
        settings = self.Settings() if settings is None else settings
        if not isinstance(settings, self.Settings):
            raise InputError(
                f"check {self.code!r} takes {self.Settings.__name__}, not {type(settings).__name__}"
            )
        self.settings = settings

    @abstractmethod
    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        """Measure `data`; call ``tick(done, total)`` on long work (it may raise `Cancelled`)."""

    def finding(
        self,
        severity: Severity,
        message: str,
        *,
        metric: str,
        value: float | None,
        threshold: float | None = None,
        axis: str | None = None,
        group: str | None = None,
        field: str | None = None,
        example_ids: Sequence[str] = (),
        n: int | None = None,
        codes: Sequence[str] = (),
        weight: float = 0.0,
    ) -> Finding:
        """A `Finding` of this check; ``n`` defaults to the number of `example_ids`."""
        ids = tuple(example_ids)
        return Finding(
            self.code,
            axis,
            group,
            field,
            metric,
            value,
            threshold,
            severity,
            message,
            len(ids) if n is None else n,
            ids,
            tuple(codes),
            weight,
        )


class CheckRegistry(CodeRegistry[type[AuditCheck]]):
    """The known bias checks by code, in registration order (the order the page shows them).

    Adding a check is one class and one `register` line (`curation.bias.builtin`).
    """

    def __init__(self) -> None:
        super().__init__("bias check", "checks")


registry = CheckRegistry()
"""The default registry; `curation.bias.builtin` registers the built-in checks in it."""
