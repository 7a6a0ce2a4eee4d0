"""What an import returns: the examples, per-record issues and facts about the file.

`ImportResult` is the one value the Import page, the CLI and the store read after `read_examples`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curation.formats.mapping import ColumnMapping
from curation.records import Example


@dataclass(slots=True)
class ImportIssue:
    """One problem found while importing.

    Attributes
    ----------
    line:
        1-based line number for JSONL, 1-based record / row number for other containers,
        None for problems that concern the whole file.
    message:
        What is wrong, starting with where (``"line 7: invalid JSON: ..."``).
    record_id:
        The id the record would have had, when known.
    reason:
        A short category (``"invalid json"``, ``"empty turn"``...) used to count skips.
    """

    line: int | None
    message: str
    record_id: str | None = None
    reason: str = "other"


@dataclass
class ImportResult:
    """Everything one call of `read_examples` found.

    Attributes
    ----------
    examples:
        The records converted to canonical `Example`s.
    errors:
        Record-level problems; each names the record and why it was skipped.
    warnings:
        Problems that did not stop the import (e.g. a latin-1 fallback decode).
    detected_format:
        The shape used to convert records (one of ``SHAPES``).
    container:
        How the bytes were parsed (one of ``CONTAINERS``).
    columns:
        Field names seen in the records, in first-seen order.
    suggested_mapping:
        For ``"mapped"`` data without an explicit mapping: the mapping guessed from column names.
    needs_mapping:
        True when no user or no assistant column could be guessed; nothing was imported and
        the caller should ask for a `ColumnMapping`.
    sha256:
        Hash of the input bytes (for a directory, of its files' names and hashes).
    source:
        The file name, or the ``source`` the caller gave.
    total_records:
        Records found in the file (records read, when ``limit`` stopped early).
    format_confidence:
        Share of sampled records that fit ``detected_format``, in [0, 1].
    truncated:
        True when ``limit`` stopped reading before the end of the file.
    skip_counts:
        Reason category -> number of records not imported; see `skipped_reasons`.
    """

    examples: list[Example] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    detected_format: str = "mapped"
    container: str = ""
    columns: list[str] = field(default_factory=list)
    suggested_mapping: ColumnMapping | None = None
    needs_mapping: bool = False
    sha256: str = ""
    source: str = ""
    total_records: int = 0
    format_confidence: float = 0.0
    truncated: bool = False
    skip_counts: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def skipped(self) -> int:
        """Number of records that produced no example."""
        return sum(self.skip_counts.values())

    def skipped_reasons(self) -> dict[str, int]:
        """Reason category -> number of records skipped for it."""
        return dict(self.skip_counts)

    def problems(self) -> list[dict[str, Any]]:
        """Every record-level issue in file order, as rows for a table or a report.

        Each row has ``line``, ``outcome`` (``"skipped"``: the record or instance was not
        imported; ``"kept"``: it was, with the change the ``problem`` names, e.g. a generated id),
        ``reason``, ``record`` (the id it has or would have had) and ``problem``.
        """
        rows = [(issue, "skipped") for issue in self.errors]
        rows += [(issue, "kept") for issue in self.warnings if issue.line is not None]
        rows.sort(key=lambda row: row[0].line or 0)
        return [
            {
                "line": issue.line,
                "outcome": outcome,
                "reason": issue.reason,
                "record": issue.record_id,
                "problem": issue.message,
            }
            for issue, outcome in rows
        ]
