"""What every bias check reads: the audited examples with their words, labels and verdicts,
computed once and shared (`AuditData`), and the label fields found in them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from curation.bias.config import AuditConfig
from curation.bias.terms import TermList, demographic_terms, offensive_terms, words
from curation.quality.view import ExampleView
from curation.records import Example, Message

__all__ = [
    "QUALITY_FIELD",
    "STATUS_FIELD",
    "AuditData",
    "AuditSubject",
    "LabelField",
    "detect_label_fields",
    "label_value",
]

STATUS_FIELD = "status"
QUALITY_FIELD = "quality"
FLAGGED, CLEAN = "flagged", "clean"
MIN_FIELD_SHARE = 0.2  # a detected label field is held by at least this share of examples


def label_value(value: Any) -> str | None:
    """A metadata value as a label: strings (stripped), booleans and integers; else None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


class AuditSubject:
    """One audited example: its id, status, turns and the words of its prompt and answer.

    The turns are those quality checks read (`ExampleView`): a preference pair's prompt and
    preferred answer. Words are computed on first use and kept.
    """

    def __init__(
        self,
        example: Example,
        status: str = "active",
        *,
        in_scope: bool = True,
        quality: str | None = None,
    ) -> None:
        self.example = example
        self.view = ExampleView(example)
        self.id = self.view.id
        self.status = status
        self.in_scope = in_scope
        self.quality = quality
        self.metadata: Mapping[str, Any] = example.metadata or {}
        self.labels: dict[str, str] = {}

    @property
    def messages(self) -> list[Message]:
        return self.view.messages

    @cached_property
    def prompt(self) -> str:
        return self.view.prompt

    @cached_property
    def answer(self) -> str:
        return self.view.answer

    @cached_property
    def prompt_words(self) -> list[str]:
        return words(self.prompt)

    @cached_property
    def answer_words(self) -> list[str]:
        return words(self.answer)


@dataclass(frozen=True, slots=True)
class LabelField:
    """A field whose values label examples.

    Attributes
    ----------
    name:
        As reports call it: the metadata key (``category``), or ``status`` / ``quality``
        (``metadata.status`` when a metadata key would clash).
    kind:
        ``metadata``, ``status`` (the curation status) or ``quality`` (flagged by the latest
        quality run, or clean).
    key:
        The metadata key, for ``kind="metadata"``.
    """

    name: str
    kind: Literal["metadata", "status", "quality"]
    key: str | None = None

    @property
    def verdict(self) -> bool:
        """A decision about the example (status, quality flag), not a property of its content."""
        return self.kind != "metadata"

    @property
    def population(self) -> Literal["coverage", "all"]:
        """Whose values count: the curation status compares every status read; the others
        describe the examples that would be trained on."""
        return "all" if self.kind == "status" else "coverage"

    def value(self, subject: AuditSubject) -> str | None:
        if self.kind == "status":
            return subject.status
        if self.kind == "quality":
            return subject.quality
        return label_value(subject.metadata.get(self.key or ""))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "key": self.key}


def detect_label_fields(
    subjects: Sequence[AuditSubject], *, max_values: int, keys: Sequence[str] | None = None
) -> list[str]:
    """Metadata keys of `subjects` that look like labels, most held first.

    With `keys`, those keys (in that order) whatever they hold. Otherwise: a key is a label
    when at least a fifth of the examples hold a scalar value for it, it has 2 to
    `max_values` distinct values, fewer than half as many values as examples holding it (an
    id or a free-text field is not a label), and at most 10 values when they are numbers.
    """
    if keys is not None:
        return list(keys)
    held: Counter[str] = Counter()
    values: dict[str, set[str]] = {}
    numeric: dict[str, bool] = {}
    for s in subjects:
        for key, raw in s.metadata.items():
            value = label_value(raw)
            if value is None:
                continue
            held[key] += 1
            seen = values.setdefault(key, set())
            if len(seen) <= max_values:
                seen.add(value)
            numeric[key] = numeric.get(key, True) and isinstance(raw, int)
    n = len(subjects)
    out = []
    for key, count in held.most_common():
        distinct = len(values[key])
        if count < MIN_FIELD_SHARE * n or not 2 <= distinct <= max_values:
            continue
        if distinct >= count / 2 or (numeric[key] and distinct > 10):
            continue
        out.append(key)
    return out


class AuditData:
    """The audited examples and what the checks share about them.

    Parameters
    ----------
    subjects:
        Every example read: those in scope (whose coverage is audited) and those read only for
        the outcome check (rejected ones).
    config:
        The audit's configuration.
    demographic, offensive:
        The term lists (the shipped ones by default).

    Attributes
    ----------
    coverage:
        The subjects in scope, in input order.
    fields:
        The label fields: detected or configured metadata keys, then ``status`` when more than
        one status was read, then ``quality`` when a quality run judged the examples.
    memo:
        Values several checks derive (mentions per example), computed once.
    """

    def __init__(
        self,
        subjects: Sequence[AuditSubject],
        config: AuditConfig | None = None,
        *,
        demographic: TermList | None = None,
        offensive: TermList | None = None,
    ) -> None:
        self.config = config or AuditConfig()
        self.subjects = list(subjects)
        self.coverage = [s for s in self.subjects if s.in_scope]
        self.demographic = demographic or demographic_terms()
        self.offensive = offensive or offensive_terms()
        self.memo: dict[str, Any] = {}
        self.fields = self._fields()
        for s in self.subjects:
            for f in self.fields:
                value = f.value(s) if (f.population == "all" or s.in_scope) else None
                if value is not None:
                    s.labels[f.name] = value

    def _fields(self) -> list[LabelField]:
        keys = detect_label_fields(
            self.coverage, max_values=self.config.max_label_values, keys=self.config.label_fields
        )
        reserved = {STATUS_FIELD, QUALITY_FIELD}
        fields = [LabelField(f"metadata.{k}" if k in reserved else k, "metadata", k) for k in keys]
        if len({s.status for s in self.subjects}) > 1:
            fields.append(LabelField(STATUS_FIELD, "status"))
        if any(s.quality is not None for s in self.coverage):
            fields.append(LabelField(QUALITY_FIELD, "quality"))
        return fields

    def population(self, field: LabelField) -> list[AuditSubject]:
        """The subjects that hold a value of `field`."""
        return [s for s in self.subjects if field.name in s.labels]

    def field(self, name: str) -> LabelField:
        return next(f for f in self.fields if f.name == name)

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """``memo[key]``, computed by `compute` on first use."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @property
    def n(self) -> int:
        return len(self.coverage)


def subjects_from(
    examples: Iterable[Example | tuple[Example, str]],
    config: AuditConfig | None = None,
    *,
    quality_flagged: set[str] | None = None,
) -> list[AuditSubject]:
    """Audit subjects from examples, or ``(example, status)`` pairs (a file's examples are
    active). Examples whose status is in neither of `config`'s lists are left out.

    With `quality_flagged` (ids flagged by the latest quality run), every subject in scope
    gets a quality verdict: ``flagged`` or ``clean``.
    """
    config = config or AuditConfig()
    coverage = set(config.coverage_statuses)
    read = set(config.statuses)
    out = []
    for item in examples:
        example, status = item if isinstance(item, tuple) else (item, "active")
        if status not in read:
            continue
        in_scope = status in coverage
        quality = None
        if quality_flagged is not None and in_scope:
            quality = FLAGGED if example.id in quality_flagged else CLEAN
        out.append(AuditSubject(example, status, in_scope=in_scope, quality=quality))
    return out
