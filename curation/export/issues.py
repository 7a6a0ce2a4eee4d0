"""Reports that the export writer and validator hand back.

Their problems are the one `curation.issues.Issue` type (re-exported here): unrepresentable
examples, format errors and warnings alike; the code decides the severity (`WARNING_CODES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from curation.issues import Issue

__all__ = ["Issue", "TokenStats", "ValidationReport"]


@dataclass(frozen=True, slots=True)
class TokenStats:
    """Distribution of per-example token counts (percentiles by linear interpolation)."""

    count: int = 0
    min: int = 0
    mean: float = 0.0
    p50: float = 0.0
    p90: float = 0.0
    p95: float = 0.0
    max: int = 0
    limit: int | None = None
    over_limit: int = 0

    @classmethod
    def from_counts(cls, counts: list[int], limit: int | None = None) -> TokenStats:
        if not counts:
            return cls(limit=limit)
        ordered = sorted(counts)
        p50, p90, p95 = (round(float(q), 2) for q in np.percentile(ordered, [50, 90, 95]))
        return cls(
            count=len(ordered),
            min=ordered[0],
            mean=round(sum(ordered) / len(ordered), 2),
            p50=p50,
            p90=p90,
            p95=p95,
            max=ordered[-1],
            limit=limit,
            over_limit=sum(1 for c in ordered if limit is not None and c > limit),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "min": self.min,
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p95": self.p95,
            "max": self.max,
            "limit": self.limit,
            "over_limit": self.over_limit,
        }


@dataclass(slots=True)
class ValidationReport:
    """What `validate` found in written files.

    Attributes
    ----------
    preset:
        The preset name the files were checked against.
    paths:
        The files read, in the order checked (train first).
    errors, warnings:
        Issues; any error blocks an export.
    n_records:
        Records read over all files.
    records_per_file:
        File name -> number of records.
    tokens:
        Per-example token statistics over all files.
    token_counts_are_estimates:
        True when no real tokenizer was available and counts are the documented estimate.
    tokenizer:
        What counted the tokens (``"estimate"``, a tokenizer.json path, a tiktoken encoding).
    """

    preset: str
    paths: list[Path] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    n_records: int = 0
    records_per_file: dict[str, int] = field(default_factory=dict)
    tokens: TokenStats = field(default_factory=TokenStats)
    token_counts_are_estimates: bool = True
    tokenizer: str = "estimate"

    @property
    def ok(self) -> bool:
        """True when no error was found (warnings do not block)."""
        return not self.errors

    def codes(self, *, level: str = "errors") -> dict[str, int]:
        """Count issues per code, for ``level`` ``"errors"`` or ``"warnings"``."""
        issues = self.errors if level == "errors" else self.warnings
        out: dict[str, int] = {}
        for issue in issues:
            out[issue.code] = out.get(issue.code, 0) + 1
        return dict(sorted(out.items()))

    def summary(self) -> dict[str, Any]:
        """A small JSON-able summary (for the manifest and the CLI report)."""
        return {
            "preset": self.preset,
            "ok": self.ok,
            "n_records": self.n_records,
            "records_per_file": dict(sorted(self.records_per_file.items())),
            "errors": self.codes(level="errors"),
            "warnings": self.codes(level="warnings"),
            "tokens": self.tokens.to_dict(),
            "token_counts_are_estimates": self.token_counts_are_estimates,
            "tokenizer": self.tokenizer,
        }
