"""What an import returns: the examples, per-record issues and facts about the file.

`ImportResult` is the one value the Import page, the CLI and the store read after `read_examples`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curation.formats.mapping import ColumnMapping
from curation.issues import Column, Issue, issue_rows
from curation.records import Example

ImportIssue = Issue
"""An import's problems are the one `Issue` type: ``line`` (1-based line for JSONL, record or
row number for other containers, None for the whole file), ``message`` (starting with where:
``"line 7: invalid JSON: ..."``), ``example_id`` (the id the record would have had; also
``record_id``), ``code`` (the category skips are counted under, ``invalid json``, ``empty
turn``...; also ``reason``) and ``severity`` (``error``: not imported; ``warning``: imported with
the change the message names)."""


# The Import page's problem table: what became of the record, why, its id, the message.
PROBLEM_COLUMNS: dict[str, Column] = {
    "line": "line",
    "outcome": lambda issue: "skipped" if issue.severity == "error" else "kept",
    "reason": "code",
    "record": "example_id",
    "problem": "message",
}


def import_warning(
    message: str, *, reason: str = "other", line: int | None = None, record_id: str | None = None
) -> Issue:
    """A problem that did not stop the import (a fallback decode, a generated id...)."""
    return Issue(line, record_id, reason, message, severity="warning")


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
    ratings_rule, min_margin:
        The `RatingsRule` that ranked completions rated one by one, when the file had such
        records (None otherwise): what the Import page offers to change.
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
    ratings_rule: str | None = None
    min_margin: float | None = None

    @property
    def skipped(self) -> int:
        """Number of records that produced no example."""
        return sum(self.skip_counts.values())

    def skipped_reasons(self) -> dict[str, int]:
        """Reason category -> number of records skipped for it."""
        return dict(self.skip_counts)

    def kind_counts(self) -> dict[str, int]:
        """How many examples are of each kind, preference data split by how it is ranked.

        Keys: ``pairs`` (a chosen and a rejected answer), ``ties`` (ranked answers all ranked
        alike), ``unpaired`` (other preference examples: one ranked answer, or none ranked),
        ``desirable`` / ``undesirable`` (KTO labels), ``needs_answer`` and ``sft``.
        """
        counts = dict.fromkeys(KINDS, 0)
        for example in self.examples:
            counts[example_kind(example)] += 1
        return counts

    def kinds_summary(self) -> str:
        """The preference, feedback and needs-answer counts in a few words ("" when none)."""
        return kinds_sentence(self.kind_counts())

    def problems(self) -> list[dict[str, Any]]:
        """Every record-level issue in file order, as rows for a table or a report.

        Each row has ``line``, ``outcome`` (``"skipped"``: the record or instance was not
        imported; ``"kept"``: it was, with the change the ``problem`` names, e.g. a generated id),
        ``reason``, ``record`` (the id it has or would have had) and ``problem``.
        """
        issues = list(self.errors) + [w for w in self.warnings if w.line is not None]
        issues.sort(key=lambda issue: issue.line or 0)
        return issue_rows(issues, PROBLEM_COLUMNS, limit=None)


KINDS = ("pairs", "ties", "unpaired", "desirable", "undesirable", "needs_answer", "sft")


def example_kind(example: Example) -> str:
    """One of ``KINDS``: what an imported example is, for the import summary."""
    if example.candidates:
        if example.chosen is not None and example.rejected is not None:
            return "pairs"
        ranks = {c.rank for c in example.candidates if c.rank is not None}
        ranked = sum(1 for c in example.candidates if c.rank is not None)
        return "ties" if ranked >= 2 and len(ranks) == 1 else "unpaired"
    if example.needs_answer:
        return "needs_answer"
    if example.desirable is not None:
        return "desirable" if example.desirable else "undesirable"
    return "sft"


def kinds_sentence(counts: dict[str, int]) -> str:
    """``"12 pairs, 2 ties, 5 desirable / 3 undesirable (KTO), 4 need an answer"``.

    Only the kinds that occur are named; plain SFT examples are not.
    """
    parts = []
    for kind, one, many in (
        ("pairs", "pair", "pairs"),
        ("ties", "tie", "ties"),
        ("unpaired", "preference example without a pair", "preference examples without a pair"),
    ):
        n = counts.get(kind, 0)
        if n:
            parts.append(f"{n:,} {one if n == 1 else many}")
    good, bad = counts.get("desirable", 0), counts.get("undesirable", 0)
    if good or bad:
        parts.append(f"{good:,} desirable / {bad:,} undesirable (KTO)")
    n = counts.get("needs_answer", 0)
    if n:
        parts.append(f"{n:,} {'needs' if n == 1 else 'need'} an answer")
    return ", ".join(parts)
