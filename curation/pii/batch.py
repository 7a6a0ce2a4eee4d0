"""PII over whole datasets: scan every example, scrub them, re-scan what was written.

`scan_dataset` and `scrub_dataset` are what the `curation pii` command and the store's scrub
call; they work on canonical `Example`s and return plain rows (no raw values) for reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.pii.findings import Finding
from curation.pii.operators import Scrubber, ScrubResult
from curation.pii.scanner import PiiScanner
from curation.pii.targets import ScanTarget, apply_scrubbed, scan_targets
from curation.progress import ProgressFn
from curation.records import Example

__all__ = [
    "DatasetScan",
    "DatasetScrub",
    "finding_rows",
    "scan_dataset",
    "scrub_dataset",
]


@dataclass(slots=True)
class DatasetScan:
    """Every scanned text of a dataset with its findings, in example order."""

    hits: list[tuple[ScanTarget, list[Finding]]]
    n_examples: int

    @property
    def n_findings(self) -> int:
        return sum(len(fs) for _, fs in self.hits)

    def counts(self) -> dict[str, int]:
        """Findings per entity type, most frequent first."""
        c = Counter(f.entity_type for _, fs in self.hits for f in fs)
        return dict(c.most_common())

    def examples_with_findings(self) -> list[str]:
        return list(dict.fromkeys(t.example_id for t, fs in self.hits if fs))


def scan_dataset(
    scanner: PiiScanner,
    examples: Sequence[Example],
    *,
    roles: Sequence[str] | None = None,
    include_metadata: bool = True,
    progress: ProgressFn | None = None,
) -> DatasetScan:
    """Scan every turn (roles selectable), tool call and metadata text of `examples`."""
    targets = scan_targets(examples, roles=roles, include_metadata=include_metadata)
    found = scanner.scan([t.text for t in targets], progress=progress)
    return DatasetScan(list(zip(targets, found, strict=True)), len(examples))


def finding_rows(scan: DatasetScan) -> list[dict[str, Any]]:
    """One JSON-able row per finding: where it is and what it is, never the characters."""
    rows = []
    for target, findings in scan.hits:
        for f in findings:
            rows.append(
                {
                    "example_id": target.example_id,
                    "location": target.location,
                    "role": target.role,
                    "finding_id": f.id,
                    **f.to_dict(),
                }
            )
    return rows


@dataclass(slots=True)
class DatasetScrub:
    """Scrubbed examples (only those that changed) and the record of what was replaced."""

    changed: list[Example]
    records: list[dict[str, Any]]
    counts: dict[str, int]
    residual: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_replacements(self) -> int:
        return sum(self.counts.values())


def _residual(
    scanner: PiiScanner,
    scrubbed: list[tuple[ScanTarget, ScrubResult]],
    progress: ProgressFn | None,
) -> list[dict[str, Any]]:
    """Findings in the scrubbed texts outside what the scrubber wrote.

    A replacement's own span is not a finding, whatever the operator wrote there: a
    placeholder is no personal data, and a surrogate name is a made-up one.
    """
    found = scanner.scan([r.text for _, r in scrubbed], progress=progress)
    rows = []
    for (target, result), findings in zip(scrubbed, found, strict=True):
        written = [(r.new_start, r.new_end) for r in result.replacements]
        for f in findings:
            if any(s <= f.start and f.end <= e for s, e in written):
                continue
            rows.append(
                {
                    "example_id": target.example_id,
                    "location": target.location,
                    "finding_id": f.id,
                    **f.to_dict(),
                }
            )
    return rows


def scrub_dataset(
    scanner: PiiScanner,
    scrubber: Scrubber,
    examples: Sequence[Example],
    scan: DatasetScan,
    *,
    min_score: float | None = None,
    messages_only: bool = False,
    residual: bool = True,
    progress: ProgressFn | None = None,
) -> DatasetScrub:
    """Apply `scan`'s findings to `examples` with `scrubber`, then re-scan the new texts.

    Parameters
    ----------
    min_score:
        Apply only findings scoring at least this (None = every finding of the scan).
    messages_only:
        Leave metadata texts as they are (a store revision holds the conversation only).
    residual:
        Re-scan the scrubbed texts and list what is still found outside the replacements.
    """
    by_example: dict[str, dict[str, ScrubResult]] = {}
    done: list[tuple[ScanTarget, ScrubResult]] = []
    records: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for target, findings in scan.hits:
        chosen = [f for f in findings if min_score is None or f.score >= min_score]
        if not chosen or (messages_only and target.role is None):
            continue
        result = scrubber.apply(target.text, chosen, json_string=target.is_json)
        if not result.replacements:
            continue
        by_example.setdefault(target.example_id, {})[target.location] = result
        done.append((target, result))
        counts.update(r.entity_type for r in result.replacements)
        records.append(
            {"example_id": target.example_id, "location": target.location, **result.record()}
        )
    changed = [apply_scrubbed(ex, by_example[ex.id]) for ex in examples if ex.id in by_example]
    rest = _residual(scanner, done, progress) if residual and done else []
    return DatasetScrub(changed, records, dict(counts.most_common()), rest)
