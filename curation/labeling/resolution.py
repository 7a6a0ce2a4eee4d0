"""Final labels: a reviewer's label wins; else the annotators' unanimous or majority value;
else unresolved (a disagreement for the review queue). Export reads these, never raw votes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from curation.errors import LabelError
from curation.labeling.labels import Label, latest_labels
from curation.labeling.schema import LabelSchema, LabelValue

__all__ = [
    "FINAL_STATUSES",
    "FinalLabel",
    "ResolutionRule",
    "resolve_field",
    "resolve_final_labels",
]

FINAL_STATUSES: tuple[str, ...] = (
    "reviewed",
    "unanimous",
    "majority",
    "imported",
    "pending",
    "unresolved",
)
"""``reviewed``: a reviewer decided; ``unanimous`` / ``majority``: from annotators' votes;
``imported``: nobody labelled the field, the imported label stands; ``pending``: fewer
annotators than required so far; ``unresolved``: annotators disagree without a majority."""

RESOLVED: frozenset[str] = frozenset({"reviewed", "unanimous", "majority", "imported"})


@dataclass(frozen=True, slots=True)
class ResolutionRule:
    """How votes become a final label.

    Attributes
    ----------
    min_annotators:
        Votes needed before a final label is drawn from them; None takes the schema's
        ``annotators_per_example``. Fewer votes give status ``pending``.
    min_votes:
        A majority value needs at least this many votes (so 1 of 1 is unanimous, but with three
        annotators split 1-1-1 nothing wins).
    min_share:
        A majority value needs strictly more than this share of the votes (0.5: a strict
        majority; 2/3: a two-thirds majority).
    use_imported:
        When no annotator labelled the field, the imported label (if any) is final.
    """

    min_annotators: int | None = None
    min_votes: int = 2
    min_share: float = 0.5
    use_imported: bool = True

    def __post_init__(self) -> None:
        for name in ("min_annotators", "min_votes"):
            value = getattr(self, name)
            if value is None and name == "min_annotators":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LabelError(f"{name} must be a whole number >= 1, not {value!r}")
        share = self.min_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 <= share < 1.0:
            raise LabelError(f"min_share must be a number in [0, 1), not {share!r}")
        if not isinstance(self.use_imported, bool):
            raise LabelError(f"use_imported must be true or false, not {self.use_imported!r}")


@dataclass(frozen=True, slots=True)
class FinalLabel:
    """The final value of one field of one example and how it was reached.

    Attributes
    ----------
    example_id, field:
        What it is about.
    value:
        The final value, or None when the status is ``pending`` or ``unresolved``.
    status:
        One of `FINAL_STATUSES`.
    votes:
        ``(value, count)`` of the annotators' latest labels, most votes first (tags: per tag).
    annotators:
        Who voted.
    decided_by:
        The reviewer for ``reviewed``, the metadata source for ``imported``, else None.
    """

    example_id: str
    field: str
    value: LabelValue | None
    status: str
    votes: tuple[tuple[Any, int], ...] = ()
    annotators: tuple[str, ...] = ()
    decided_by: str | None = None

    @property
    def resolved(self) -> bool:
        """True when the label is final (reviewed, unanimous, majority or imported)."""
        return self.status in RESOLVED

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "example_id": self.example_id,
            "field": self.field,
            "value": value,
            "status": self.status,
            "votes": [[list(v) if isinstance(v, tuple) else v, n] for v, n in self.votes],
            "annotators": list(self.annotators),
            "decided_by": self.decided_by,
        }


def _tally(values: Iterable[Any]) -> tuple[tuple[Any, int], ...]:
    counts = Counter(values)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))))


def _resolve_tags(
    votes: Mapping[str, tuple[str, ...]], rule: ResolutionRule, options: tuple[str, ...]
) -> tuple[tuple[str, ...] | None, str, tuple[tuple[Any, int], ...]]:
    """Tags decided tag by tag: in with a majority for it, out with a majority against."""
    m = len(votes)
    per_tag = Counter(tag for chosen in votes.values() for tag in set(chosen))
    tally = tuple((tag, per_tag[tag]) for tag in options if per_tag[tag])
    if len({tuple(v) for v in votes.values()}) == 1:
        return tuple(next(iter(votes.values()))), "unanimous", tally
    chosen: list[str] = []
    for tag in options:
        yes, no = per_tag[tag], m - per_tag[tag]
        if yes / m > rule.min_share and yes >= rule.min_votes:
            chosen.append(tag)
        elif not (no / m > rule.min_share and no >= rule.min_votes):
            return None, "unresolved", tally
    return tuple(chosen), "majority", tally


def resolve_field(
    votes: Mapping[str, LabelValue],
    *,
    kind: str,
    rule: ResolutionRule,
    required: int,
    reviewer: tuple[str, LabelValue] | None = None,
    imported: tuple[str, LabelValue] | None = None,
    options: tuple[str, ...] = (),
) -> tuple[LabelValue | None, str, tuple[tuple[Any, int], ...], str | None]:
    """The rule for one field of one example: ``(value, status, votes tally, decided_by)``.

    Parameters
    ----------
    votes:
        Annotator -> their latest value.
    kind:
        The field's kind (tags are decided tag by tag; free text only by a reviewer).
    rule:
        The `ResolutionRule`.
    required:
        Votes needed before votes decide (the rule's or the schema's ``min_annotators``).
    reviewer, imported:
        ``(who, value)`` of the latest reviewer label and of the imported label, if any.
    options:
        The field's tags, for multi-choice fields.
    """
    if kind == "multi_choice":
        per_tag = Counter(tag for v in votes.values() for tag in set(v))  # type: ignore[arg-type]
        tally: tuple[tuple[Any, int], ...] = tuple(
            (tag, per_tag[tag]) for tag in options if per_tag[tag]
        )
    else:
        tally = _tally(votes.values())
    if reviewer is not None:
        return reviewer[1], "reviewed", tally, reviewer[0]
    if not votes:
        if imported is not None and rule.use_imported:
            return imported[1], "imported", tally, imported[0]
        return None, "pending", tally, None
    if kind == "text":
        return None, "pending", tally, None
    if len(votes) < required:
        return None, "pending", tally, None
    if kind == "multi_choice":
        value, status, tally = _resolve_tags(votes, rule, options)  # type: ignore[arg-type]
        return value, status, tally, None
    if len(tally) == 1:
        return tally[0][0], "unanimous", tally, None
    top, count = tally[0]
    if tally[1][1] < count and count >= rule.min_votes and count / len(votes) > rule.min_share:
        return top, "majority", tally, None
    return None, "unresolved", tally, None


def resolve_final_labels(
    labels: Iterable[Label],
    schema: LabelSchema,
    *,
    rule: ResolutionRule | None = None,
) -> list[FinalLabel]:
    """Final labels for every (example, field) that has any label.

    Reviewer's latest label wins; else, with at least the required number of annotators,
    their unanimous value, else a majority (at least ``min_votes`` votes and more than
    ``min_share`` of them), else ``unresolved``; with no annotator label the imported label
    stands (``use_imported``). Free-text fields are final only when a reviewer wrote one.

    Parameters
    ----------
    labels:
        Labels as stored, any roles, history allowed (the latest per person and field counts).
    schema:
        The project's schema; labels of fields it no longer has are ignored.
    rule:
        The `ResolutionRule`; default: a strict majority of at least two votes once the
        schema's ``annotators_per_example`` have labelled.

    Returns
    -------
    list[FinalLabel]
        In the order each (example, field) first appears in `labels`.
    """
    rule = rule or ResolutionRule()
    required = rule.min_annotators or schema.annotators_per_example
    kinds = {f.name: f for f in schema.fields}
    votes: dict[tuple[str, str], dict[str, LabelValue]] = {}
    reviewer: dict[tuple[str, str], tuple[str, LabelValue]] = {}
    imported: dict[tuple[str, str], tuple[str, LabelValue]] = {}
    latest = [label for label in latest_labels(labels) if label.field in kinds]
    order = dict.fromkeys((label.example_id, label.field) for label in latest)
    # Oldest first (stable for equal times), so the newest reviewer or import is kept last.
    for label in sorted(latest, key=lambda lab: (lab.time is not None, lab.time)):
        key = (label.example_id, label.field)
        if label.role == "annotator":
            votes.setdefault(key, {})[label.annotator] = label.value
        elif label.role == "reviewer":
            reviewer[key] = (label.annotator, label.value)
        else:
            imported[key] = (label.annotator, label.value)
    out = []
    for key in order:
        f = kinds[key[1]]
        if f.kind == "text" and key not in reviewer:
            continue
        by = votes.get(key, {})
        value, status, tally, decided_by = resolve_field(
            by,
            kind=f.kind,
            rule=rule,
            required=required,
            reviewer=reviewer.get(key),
            imported=imported.get(key),
            options=tuple(getattr(f, "options", ())) if f.kind == "multi_choice" else (),
        )
        out.append(FinalLabel(key[0], key[1], value, status, tally, tuple(sorted(by)), decided_by))
    return out
