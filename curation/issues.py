"""The one issue type: what every reader, check and step hands back about a problem it found.

An import's malformed record, an export's unrepresentable example or schema error, and a
step's finding are all an `Issue` (code, severity, message, example id, location), and
`issue_rows` turns any list of them into the rows the pages' tables and the CLI's reports show.

    Issue(7, "alpaca-000006", "invalid json", "line 7: invalid JSON: ...", file="data.jsonl")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DEFAULT_COLUMNS", "Column", "MAX_ROWS", "SEVERITIES", "Issue", "Severity", "issue_rows"]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
MAX_ROWS = 500  # rows a page's table shows; the files and reports hold every issue


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in the data.

    Attributes
    ----------
    line:
        1-based line (record, row) number in its file, or None when the issue concerns the
        whole file or is not tied to a line.
    example_id:
        The canonical example's id when known (for an import, the id the record has or would
        have had).
    code:
        A stable machine-readable code: ``missing_content``, ``schema_mismatch`` for an export;
        for an import, the category skips are counted under (``invalid json``, ``not utf-8``...).
    message:
        What is wrong, naming the bad value, and what to do.
    file:
        The file name the line belongs to, when known.
    cause:
        For an example left out (``skipped_unrepresentable``): the code of the error that kept
        the preset from carrying it (``last_not_assistant``, ``tool_calls_unsupported``...).
    severity:
        ``error`` (blocks, or the record was not imported), ``warning`` (went through, with the
        change the message names) or ``info``.
    field:
        Where in the record, when known (``messages[2].content``, ``metadata.label``).
    """

    line: int | None
    example_id: str | None
    code: str
    message: str
    file: str | None = None
    cause: str | None = None
    severity: Severity = "error"
    field: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}"
            )

    @property
    def location(self) -> str:
        """Where, in words: ``"train.jsonl, line 7, messages[2].content"`` ("" when unknown)."""
        parts = [
            self.file or "",
            f"line {self.line}" if self.line is not None else "",
            self.field or "",
        ]
        return ", ".join(p for p in parts if p)

    # An import names the code its "reason" and the example id its "record id".
    @property
    def reason(self) -> str:
        """The code, as import summaries call it (the category skips are counted under)."""
        return self.code

    @property
    def record_id(self) -> str | None:
        """The example id, as import summaries call it."""
        return self.example_id

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "example_id": self.example_id,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }
        if self.cause is not None:
            out["cause"] = self.cause
        if self.field is not None:
            out["field"] = self.field
        return out


Column = str | Callable[[Issue], Any]
# The columns the pages show for an export's errors: heading -> Issue attribute.
DEFAULT_COLUMNS: Mapping[str, Column] = {
    "line": "line",
    "id": "example_id",
    "code": "code",
    "problem": "message",
}


def issue_rows(
    issues: Iterable[Issue],
    columns: Mapping[str, Column] | None = None,
    *,
    limit: int | None = MAX_ROWS,
) -> list[dict[str, Any]]:
    """Issues as table rows, in order: one dict per issue, one key per column.

    Parameters
    ----------
    columns:
        Heading -> an `Issue` attribute (``"line"``, ``"example_id"``, ``"location"``,
        ``"severity"``...) or a function of the issue; `DEFAULT_COLUMNS` when None.
    limit:
        At most this many rows (None: all); messages stay data, shown in a table.
    """
    wanted = DEFAULT_COLUMNS if columns is None else columns
    rows: list[dict[str, Any]] = []
    for issue in issues:
        if limit is not None and len(rows) >= limit:
            break
        rows.append(
            {
                heading: get(issue) if callable(get) else getattr(issue, get)
                for heading, get in wanted.items()
            }
        )
    return rows
