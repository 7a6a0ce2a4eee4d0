"""Label and category distribution per label field, and how unbalanced it is.

A fine-tuned model answers like the categories it saw most: the gap between the largest and the
smallest value is the first skew to fix.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from curation.bias.base import (
    AuditCheck,
    AuditRow,
    Bar,
    Chart,
    CheckOutput,
    Finding,
    Severity,
    Tick,
)
from curation.bias.codes import label_code
from curation.bias.data_set import AuditData, LabelField
from curation.quality.settings import CheckSettings, require_int, require_number

__all__ = ["LabelBalance", "LabelBalanceSettings"]


@dataclass(frozen=True, slots=True)
class LabelBalanceSettings(CheckSettings):
    """When a label field is unbalanced.

    Attributes
    ----------
    warn_ratio:
        Examples of the largest value over those of the smallest from which the field is a
        warning: 4 (an 80/20 split of two values; Dolly-15k's open_qa against creative_writing
        is about 5).
    critical_ratio:
        From this ratio it is critical: 10 (a 91/9 split: the small value barely teaches).
    min_examples:
        Examples a field needs before its balance is judged: 20 (below, every split is noise).
    max_bars:
        Values drawn per field, largest first: 30 (the rest are summed in the info dict).
    """

    warn_ratio: float = 4.0
    critical_ratio: float = 10.0
    min_examples: int = 20
    max_bars: int = 30

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_number(name, "warn_ratio", self.warn_ratio, low=1.0, high=1e9)
        require_number(name, "critical_ratio", self.critical_ratio, low=self.warn_ratio, high=1e9)
        require_int(name, "min_examples", self.min_examples, low=1)
        require_int(name, "max_bars", self.max_bars, low=1)


class LabelBalance(AuditCheck):
    """Counts each value of every label field and judges the gap between the largest and the
    smallest (metadata labels); verdicts (status, quality flag) are reported as shares."""

    code = "label_balance"
    title = "Labels and categories"
    description = (
        "How examples spread over the values of each label field (imported categories and "
        "labels, curation status, quality verdicts): a value with many times the examples of "
        "another teaches the model to answer like it."
    )
    Settings = LabelBalanceSettings
    settings: LabelBalanceSettings

    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        out = CheckOutput()
        tables = {}
        for k, field in enumerate(data.fields):
            tick(k, len(data.fields))
            members: dict[str, list[str]] = defaultdict(list)
            for s in data.population(field):
                value = s.labels[field.name]
                members[value].append(s.id)
                out.rows.append(AuditRow(s.id, label_code(field.name, value)))
            if not members:
                continue
            total = sum(len(ids) for ids in members.values())
            ordered = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            tables[field.name] = {
                "kind": field.kind,
                "n": total,
                "counts": {v: len(ids) for v, ids in ordered},
            }
            out.charts.append(self._chart(field, ordered, total))
            finding = self._judge(field, ordered, total)
            if finding is not None:
                out.findings.append(finding)
        out.info = {"fields": tables}
        if not data.fields:
            out.message = "No label field found: no metadata field holds a few repeated values."
        return out

    def _chart(self, field: LabelField, ordered: list[tuple[str, list[str]]], total: int) -> Chart:
        bars = tuple(
            Bar(
                value,
                len(ids),
                len(ids),
                (label_code(field.name, value),),
                detail=f"{len(ids) / total:.1%} of {total}",
            )
            for value, ids in ordered[: self.settings.max_bars]
        )
        rest = len(ordered) - len(bars)
        return Chart(
            f"{self.code}:{field.name}",
            f"{field.name}: examples per value",
            "bar",
            "examples",
            field.name,
            bars,
            note=f"{rest} more value(s) not drawn" if rest > 0 else "",
        )

    def _judge(
        self, field: LabelField, ordered: list[tuple[str, list[str]]], total: int
    ) -> Finding | None:
        s = self.settings
        if len(ordered) < 2 or total < s.min_examples:
            return None
        (top, top_ids), (bottom, bottom_ids) = ordered[0], ordered[-1]
        if field.verdict:
            # a verdict's spread is a fact about curation, not a skew to fix: reported only
            shares = ", ".join(f"{v} {len(ids) / total:.0%} ({len(ids)})" for v, ids in ordered)
            return self.finding(
                "info",
                f"{field.name} of the {total} audited examples: {shares}.",
                metric="share",
                value=len(top_ids) / total,
                field=field.name,
                group=top,
                n=total,
            )
        ratio = len(top_ids) / len(bottom_ids)
        if ratio < s.warn_ratio:
            return None
        severity: Severity = "critical" if ratio >= s.critical_ratio else "warning"
        smallest = [v for v, ids in ordered if len(ids) == len(bottom_ids)]
        named = ", ".join(smallest[:3]) + (
            f" and {len(smallest) - 3} more" if len(smallest) > 3 else ""
        )
        return self.finding(
            severity,
            f"{field.name} {top!r} is {len(top_ids) / total:.0%} of the data ({len(top_ids)} of "
            f"{total}) and {bottom!r} only {len(bottom_ids) / total:.1%} ({len(bottom_ids)}), "
            f"{ratio:.1f}x fewer: downsample {top!r} or add examples to {named}.",
            metric="imbalance_ratio",
            value=ratio,
            threshold=s.warn_ratio,
            field=field.name,
            group=top,
            example_ids=top_ids,
            codes=(label_code(field.name, top),),
            weight=ratio / s.warn_ratio,
        )
