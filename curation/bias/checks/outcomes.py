"""Association of groups with outcomes: for each label or verdict value, its rate per mentioned
group and the disparity ratio between the lowest and the highest (fairlearn's selection-rate
ratio), flagged below 0.8 only when the counts and a confidence interval support it.

"Answers mentioning women are rejected 4x as often as those mentioning men" is what curation
would teach a model if nobody looked.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from curation.bias.base import AuditCheck, Bar, Chart, CheckOutput, Finding, Severity, Tick
from curation.bias.checks.representation import mentions_of
from curation.bias.codes import label_code, mention_code
from curation.bias.data_set import AuditData, AuditSubject, LabelField
from curation.bias.stats import Disparity, disparity
from curation.errors import InputError
from curation.quality.settings import CheckSettings, require_fraction, require_int

__all__ = ["NO_GROUP", "OutcomeDisparity", "OutcomeDisparitySettings"]

NO_GROUP = "none"  # the examples that mention no group of the axis: the reference


@dataclass(frozen=True, slots=True)
class OutcomeDisparitySettings(CheckSettings):
    """When a rate differs between groups enough to be a finding.

    Attributes
    ----------
    threshold:
        Ratio of the lowest group rate to the highest below which a disparity is reported:
        0.8, the "four-fifths rule" fairlearn's demographic parity ratio is read against.
    min_group:
        Examples a group needs to be compared at all: 20. Below it a rate moves by 5 points
        with every example.
    min_events:
        Examples with the outcome the higher-rate group needs: 5. "2 of 20 vs 0 of 25" has a
        ratio of 0 and says nothing.
    confidence:
        Confidence of the ratio's interval (Wilson intervals of both rates at 97.5 % each, so
        the ratio's interval holds at least 95 %: `curation.bias.stats.ratio_interval`). A
        disparity is a warning when the interval lies below 1 (the groups differ) and critical
        when it lies below `threshold` too.
    compare_none:
        Also compare with the examples that mention no group of the axis: False. Their rates
        are always in the table, but "mentions no gender" often means "is not about a person"
        (on DBpedia it made villages and companies the reference for Artist), so the groups
        are compared with each other only unless asked.
    max_values:
        Values of a label field tested, most frequent first: 12 (each test is one more chance of
        a false finding).
    max_charts:
        Rate charts drawn, those with findings first: 8.
    """

    threshold: float = 0.8
    min_group: int = 20
    min_events: int = 5
    confidence: float = 0.95
    compare_none: bool = False
    max_values: int = 12
    max_charts: int = 8

    def __post_init__(self) -> None:
        name = type(self).__name__
        require_fraction(name, "threshold", self.threshold)
        require_int(name, "min_group", self.min_group, low=1)
        require_int(name, "min_events", self.min_events, low=1)
        require_fraction(name, "confidence", self.confidence)
        if not 0.5 <= self.confidence < 1:
            raise InputError(f"{name}.confidence must be in [0.5, 1), not {self.confidence!r}")
        if not isinstance(self.compare_none, bool):
            raise InputError(f"{name}.compare_none must be true or false")
        require_int(name, "max_values", self.max_values, low=1)
        require_int(name, "max_charts", self.max_charts, low=0)


def _verb(field: LabelField, value: str) -> str:
    if field.kind == "status":
        return f"{value}" if value != "needs_answer" else "left without an answer"
    if field.kind == "quality":
        return "flagged by the quality checks"
    return f"labelled {field.name}={value!r}"


def _tested_values(field: LabelField, counts: Counter[str], most: int) -> list[str]:
    """The outcome values whose rates are compared: a verdict's non-default values (rejected,
    flagged), a two-valued label's rarer value, or each value of a larger label field."""
    if field.kind == "status":
        return [v for v, _ in counts.most_common() if v != "active"]
    if field.kind == "quality":
        return ["flagged"] if counts.get("flagged") else []
    values = [v for v, _ in counts.most_common()]
    if len(values) == 2:
        return values[-1:]
    return values[:most]


class OutcomeDisparity(AuditCheck):
    """For every label field and value, the share of each group's examples with that value
    (groups: those mentioned by the term list, per axis, plus the examples mentioning none),
    and the ratio of the lowest share to the highest with a confidence interval."""

    code = "outcome_disparity"
    title = "Groups and outcomes"
    description = (
        "For each label or verdict (category, status, quality flag), how often examples "
        "mentioning each group get each value, and the ratio between groups: a ratio below 0.8 "
        "backed by the counts means curation or labels treat the groups differently."
    )
    Settings = OutcomeDisparitySettings
    settings: OutcomeDisparitySettings

    def run(self, data: AuditData, tick: Tick) -> CheckOutput:
        s = self.settings
        out = CheckOutput()
        mentions = mentions_of(data)
        terms = data.demographic
        table: list[dict[str, Any]] = []
        charts: list[tuple[bool, Chart]] = []
        for k, field in enumerate(data.fields):
            tick(k, len(data.fields))
            population = data.population(field)
            counts = Counter(x.labels[field.name] for x in population)
            if len(counts) < 2:
                continue
            groups = self._groups(data, population, mentions)
            for value in _tested_values(field, counts, s.max_values):
                bars: list[Bar] = []
                found_here = False
                for axis in terms.axes:
                    members = groups.get(axis)
                    if not members:
                        continue
                    rates = {
                        g: (sum(1 for x in xs if x.labels[field.name] == value), len(xs))
                        for g, xs in members.items()
                    }
                    compared = {g: kn for g, kn in rates.items() if s.compare_none or g != NO_GROUP}
                    result = disparity(compared, min_n=s.min_group, confidence=s.confidence)
                    for g, (hit, n) in rates.items():
                        row = {
                            "field": field.name,
                            "value": value,
                            "axis": axis,
                            "group": g,
                            "k": hit,
                            "n": n,
                            "rate": round(hit / n, 4) if n else 0.0,
                            "compared": g in compared and n >= s.min_group,
                        }
                        table.append(row)
                        if row["compared"]:
                            bars.append(self._bar(data, field, value, axis, g, hit, n, result))
                    if result is None:
                        continue
                    finding = self._judge(data, field, value, axis, result, members)
                    if finding is not None:
                        out.findings.append(finding)
                        found_here = True
                if bars:
                    charts.append(
                        (
                            found_here,
                            Chart(
                                f"{self.code}:{field.name}={value}",
                                f"Share {_verb(field, value)}, per group",
                                "rate",
                                f"share {_verb(field, value)}",
                                "group",
                                tuple(bars),
                                note=f"groups with at least {s.min_group} examples; bars "
                                f"show {s.confidence:.0%} Wilson intervals",
                            ),
                        )
                    )
        charts.sort(key=lambda t: not t[0])  # stable: those with findings first
        out.charts = [c for _, c in charts[: s.max_charts]]
        out.info = {"rates": table, "fields": [f.name for f in data.fields]}
        if not data.fields:
            out.message = "No label or verdict field to compare groups on."
        elif not out.findings:
            out.message = (
                f"No disparity below {s.threshold} backed by the counts (groups of at least "
                f"{s.min_group} examples)."
            )
        return out

    def _groups(
        self,
        data: AuditData,
        population: list[AuditSubject],
        mentions: dict[str, dict[tuple[str, str], tuple[int, int]]],
    ) -> dict[str, dict[str, list[AuditSubject]]]:
        """axis -> group -> the subjects of `population` mentioning it (and `NO_GROUP`)."""
        groups: dict[str, dict[str, list[AuditSubject]]] = defaultdict(lambda: defaultdict(list))
        axes = data.demographic.axes
        for x in population:
            found = mentions.get(x.id, {})
            seen = set()
            for axis, group in found:
                groups[axis][group].append(x)
                seen.add(axis)
            for axis in axes:
                if axis not in seen:
                    groups[axis][NO_GROUP].append(x)
        return groups

    def _label(self, data: AuditData, axis: str, group: str) -> str:
        if group == NO_GROUP:
            return f"no {data.demographic.axis_labels.get(axis, axis)} term"
        return data.demographic.group(axis, group).label

    def _bar(
        self,
        data: AuditData,
        field: LabelField,
        value: str,
        axis: str,
        group: str,
        hit: int,
        n: int,
        result: Disparity | None,
    ) -> Bar:
        rate = next((r for r in (result.compared if result else ()) if r.group == group), None)
        codes: tuple[str, ...] = (label_code(field.name, value),)
        if group != NO_GROUP:
            codes = (mention_code(axis, group), *codes)
        return Bar(
            self._label(data, axis, group),
            hit / n if n else 0.0,
            hit,
            codes if group != NO_GROUP else (),
            series=data.demographic.axis_labels.get(axis, axis),
            low=rate.low if rate else None,
            high=rate.high if rate else None,
            detail=f"{hit} of {n}",
        )

    def _judge(
        self,
        data: AuditData,
        field: LabelField,
        value: str,
        axis: str,
        result: Disparity,
        members: dict[str, list[AuditSubject]],
    ) -> Finding | None:
        s = self.settings
        if not result.supported(s.threshold, min_events=s.min_events):
            return None
        severity: Severity = "critical" if result.ratio_high < s.threshold else "warning"
        hi, lo = result.high, result.low
        hi_label, lo_label = self._label(data, axis, hi.group), self._label(data, axis, lo.group)
        times = f"{1 / result.ratio:.1f}x as often as" if result.ratio > 0 else "while none of"
        behind = [x.id for x in members[hi.group] if x.labels[field.name] == value]
        subject = "Examples" if field.kind == "metadata" else "Answers"
        about = f"mentioning {hi_label}" if hi.group != NO_GROUP else f"with {hi_label}"
        about_lo = (
            f"those mentioning {lo_label}" if lo.group != NO_GROUP else f"those with {lo_label}"
        )
        advice = (
            "check whether the labels follow the content or the group"
            if field.kind == "metadata"
            else "check whether they were judged on their content"
        )
        codes: tuple[str, ...] = (label_code(field.name, value),)
        if hi.group != NO_GROUP:
            codes = (mention_code(axis, hi.group), *codes)
        return self.finding(
            severity,
            f"{subject} {about} are {_verb(field, value)} {times} {about_lo} ({hi.k} of {hi.n}, "
            f"{hi.rate:.0%}, vs {lo.k} of {lo.n}, {lo.rate:.0%}; ratio {result.ratio:.2f}, "
            f"{s.confidence:.0%} interval {result.ratio_low:.2f}-{result.ratio_high:.2f}): "
            f"review these {len(behind)} and {advice}.",
            metric="selection_rate_ratio",
            value=result.ratio,
            threshold=s.threshold,
            axis=axis,
            group=hi.group,
            field=field.name,
            example_ids=behind,
            codes=codes,
            weight=1 - result.ratio,
        )
