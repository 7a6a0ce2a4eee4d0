"""`run_quality`: every enabled check over a project's examples, batch by batch, one row per flag.

The quality step wraps it: rows map one to one onto the platform's step rows, the summary onto its card.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from curation.progress import ProgressFn, report
from curation.quality.base import DatasetCheck, ExampleCheck, Flag
from curation.quality.config import QualityConfig
from curation.quality.view import ExampleView, QualitySubject

__all__ = [
    "CRITICAL_SHARE",
    "WARNING_SHARE",
    "ProgressFn",
    "QualityReport",
    "QualityRow",
    "QualitySummary",
    "run_quality",
    "run_quality_batches",
]


STAGE = "quality"
DATASET_STAGE = "quality: whole-dataset checks"
BATCH_SIZE = 500
MAX_ERRORS_KEPT = 50
# Share of flagged examples from which the summary says warning / critical: one example in
# fifty is worth a look; one in ten flagged means the data needs work before training.
WARNING_SHARE = 0.02
CRITICAL_SHARE = 0.10

Severity = Literal["ok", "info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class QualityRow:
    """One flag on one example; the fields are the platform's `StepRow` fields.

    Attributes
    ----------
    example_id:
        The flagged example.
    flag:
        Always True (rows exist only for flags).
    score:
        In [0, 1], low = bad.
    code:
        The flag's code (``"truncated"``): what Browse filters on.
    suggestion:
        What the check proposes instead, when it knows.
    reason:
        The sentence shown to annotators.
    data:
        ``kind`` (sub-kind), ``location`` (turn, offsets, line, column) and the check's extras.
    """

    example_id: str
    flag: bool = True
    score: float | None = None
    code: str | None = None
    suggestion: str | None = None
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, example_id: str, flag: Flag) -> QualityRow:
        data: dict[str, Any] = {"kind": flag.kind}
        if flag.location is not None:
            data["location"] = flag.location.to_dict()
        data.update(flag.data)
        return cls(
            example_id,
            True,
            round(flag.score, 4),
            flag.code,
            flag.suggestion,
            flag.reason,
            data,
        )

    @property
    def kind(self) -> str | None:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "example_id": self.example_id,
            "flag": self.flag,
            "score": self.score,
            "code": self.code,
            "suggestion": self.suggestion,
            "reason": self.reason,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class QualitySummary:
    """The run in one line: severity, message and the numbers the card and readiness show.

    Attributes
    ----------
    severity:
        ``ok`` (nothing flagged), ``info`` (under 2 % of examples flagged), ``warning``
        (under 10 %), ``critical`` (10 % or more).
    message:
        A sentence: how many examples are flagged and the commonest flags.
    n_examples, n_flagged:
        Examples checked; examples with at least one flag.
    counts:
        Examples flagged per code, for every code that ran (zeros included), in registry order.
    """

    severity: Severity
    message: str
    n_examples: int
    n_flagged: int
    counts: dict[str, int]

    def numbers(self) -> dict[str, int | float | str]:
        """Flat numbers for the dataset card and readiness: totals, share, one per code."""
        out: dict[str, int | float | str] = {
            "examples": self.n_examples,
            "flagged": self.n_flagged,
            "flagged_share": round(self.n_flagged / self.n_examples, 4) if self.n_examples else 0.0,
        }
        out.update(self.counts)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "message": self.message,
            "n_examples": self.n_examples,
            "n_flagged": self.n_flagged,
            "counts": dict(self.counts),
        }


@dataclass(slots=True)
class QualityReport:
    """What `run_quality` returns: the rows, the summary and an info dict.

    ``info`` holds ``config`` (its `to_dict`), ``codes`` (what ran), ``kinds`` (code ->
    sub-kind -> count), ``seconds`` (code -> time spent), and ``errors`` (checks that raised
    on an example: code, example id, error; at most 50 kept, ``n_errors`` counts them all).
    """

    rows: list[QualityRow]
    summary: QualitySummary
    info: dict[str, Any]

    def rows_for(self, code: str) -> list[QualityRow]:
        return [r for r in self.rows if r.code == code]

    def flagged_ids(self, code: str | None = None) -> list[str]:
        """Ids of examples with a flag (of `code`, when given), in input order, once each."""
        return list(
            dict.fromkeys(r.example_id for r in self.rows if code is None or r.code == code)
        )


def _chunks(examples: Iterable[QualitySubject], size: int) -> Iterator[list[QualitySubject]]:
    batch: list[QualitySubject] = []
    for ex in examples:
        batch.append(ex)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_quality(
    examples: Iterable[QualitySubject],
    config: QualityConfig | None = None,
    *,
    progress: ProgressFn | None = None,
    total: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> QualityReport:
    """Run every enabled quality check over `examples`.

    Parameters
    ----------
    examples:
        `curation.records.Example`s, or the platform's step inputs (anything with
        ``messages``, ``metadata``, ``tools`` and ``id`` / ``example_id``).
    config:
        Which flags, their settings and the declared structures; None = the defaults.
    progress:
        A `curation.progress.ProgressFn`: sent ``ProgressUpdate("quality", done, total)`` after
        each batch, and ``ProgressUpdate("quality: whole-dataset checks", k, n)`` around the
        checks that need every example. It may
        raise (e.g. `JobCancelled`) to stop the run: nothing is kept, nothing needs undoing.
    total:
        Number of examples, for progress (taken from `examples` when it has a length).
    batch_size:
        Examples per progress report.

    Returns
    -------
    QualityReport
        One row per (example, flag) in input order, the summary, and the info dict.
    """
    if total is None and isinstance(examples, Sequence):
        total = len(examples)
    return run_quality_batches(
        _chunks(examples, max(1, batch_size)), config, progress=progress, total=total
    )


def run_quality_batches(
    batches: Iterable[Sequence[QualitySubject]],
    config: QualityConfig | None = None,
    *,
    progress: ProgressFn | None = None,
    total: int | None = None,
) -> QualityReport:
    """`run_quality` over batches as the step platform hands them (same result)."""
    config = config or QualityConfig()
    codes = config.codes()
    reg = config.registry()
    checks = [reg.get(code).from_config(config) for code in codes]
    per_example = [c for c in checks if isinstance(c, ExampleCheck)]
    dataset = [c for c in checks if isinstance(c, DatasetCheck)]
    order = {code: i for i, code in enumerate(codes)}
    seconds: dict[str, float] = defaultdict(float)
    errors: list[dict[str, str]] = []
    n_errors = 0
    found: list[tuple[int, int, QualityRow]] = []
    position: dict[str, int] = {}
    done = 0
    clock = time.perf_counter

    def failed(code: str, example_id: str, exc: Exception) -> None:
        nonlocal n_errors
        n_errors += 1
        if len(errors) < MAX_ERRORS_KEPT:
            errors.append(
                {"code": code, "example_id": example_id, "error": f"{type(exc).__name__}: {exc}"}
            )

    report(progress, STAGE, 0, total)
    for batch in batches:
        views = [ExampleView(example) for example in batch]
        for view in views:
            pos = position.setdefault(view.id, len(position))
            for check in per_example:
                start = clock()
                try:
                    result = check.check(view)
                except Exception as exc:  # one check failing on one example is data
                    failed(check.code, view.id, exc)
                    result = None
                seconds[check.code] += clock() - start
                if isinstance(result, Flag):
                    found.append((pos, order[check.code], QualityRow.of(view.id, result)))
        for dcheck in dataset:
            start = clock()
            try:
                dcheck.observe_batch(views)
            except Exception as exc:  # the batch is lost to this check only
                failed(dcheck.code, views[0].id if views else "", exc)
            seconds[dcheck.code] += clock() - start
        done += len(batch)
        report(progress, STAGE, done, total)
    if dataset:
        report(progress, DATASET_STAGE, 0, len(dataset))
    for k, dcheck in enumerate(dataset, 1):
        start = clock()
        try:
            for example_id, flag in dcheck.finish():
                pos = position.get(example_id, len(position))
                found.append((pos, order[dcheck.code], QualityRow.of(example_id, flag)))
        except Exception as exc:
            failed(dcheck.code, "", exc)
        seconds[dcheck.code] += clock() - start
        report(progress, DATASET_STAGE, k, len(dataset))
    found.sort(key=lambda t: (t[0], t[1]))
    rows = [row for _, _, row in found]
    summary = summarise(rows, codes, done)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        kinds[row.code or ""][row.kind or ""] += 1
    info = {
        "config": config.to_dict(),
        "codes": list(codes),
        "kinds": {code: dict(c.most_common()) for code, c in kinds.items()},
        "seconds": {code: round(seconds[code], 4) for code in codes},
        "errors": errors,
        "n_errors": n_errors,
    }
    return QualityReport(rows, summary, info)


def summarise(rows: Sequence[QualityRow], codes: Sequence[str], n_examples: int) -> QualitySummary:
    """The summary of `rows` from a run of `codes` over `n_examples` examples."""
    per_code: dict[str, set[str]] = {code: set() for code in codes}
    for row in rows:
        per_code.setdefault(row.code or "", set()).add(row.example_id)
    counts = {code: len(ids) for code, ids in per_code.items()}
    flagged = len({row.example_id for row in rows})
    share = flagged / n_examples if n_examples else 0.0
    severity: Severity
    if flagged == 0:
        severity = "ok"
    elif share < WARNING_SHARE:
        severity = "info"
    elif share < CRITICAL_SHARE:
        severity = "warning"
    else:
        severity = "critical"
    if flagged == 0:
        message = f"No quality flag on {n_examples} examples."
    else:
        top = sorted(((n, c) for c, n in counts.items() if n), key=lambda t: (-t[0], t[1]))[:3]
        most = ", ".join(f"{c} {n}" for n, c in top)
        message = f"{flagged} of {n_examples} examples flagged ({share:.1%}); most: {most}."
    return QualitySummary(severity, message, n_examples, flagged, counts)
