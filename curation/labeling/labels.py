"""One given label (example, annotator, field, value, time, role) and the latest-wins rule.

The store's labels table holds these rows; assignment, agreement and final labels read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from curation.errors import LabelError
from curation.labeling.schema import LabelSchema, LabelValue

__all__ = ["LABEL_ROLES", "Label", "check_labels", "latest_labels"]

LABEL_ROLES: tuple[str, ...] = ("annotator", "reviewer", "imported")
"""``annotator``: a person's own label; ``reviewer``: a final decision that wins over votes;
``imported``: adopted from the example's metadata, kept apart from people's labels."""


@dataclass(frozen=True, slots=True)
class Label:
    """One label as stored.

    Attributes
    ----------
    example_id:
        The labelled example.
    annotator:
        Who gave it (for ``imported``, the metadata key it came from).
    field:
        The schema field.
    value:
        The canonical value (see `LabelSchema.validate_labels`); a list of tags becomes a tuple.
    time:
        When it was given; None sorts before any time (tests and imports without times).
    role:
        One of `LABEL_ROLES`.
    """

    example_id: str
    annotator: str
    field: str
    value: LabelValue
    time: datetime | None = None
    role: str = "annotator"

    def __post_init__(self) -> None:
        if not isinstance(self.example_id, str) or not self.example_id:
            raise LabelError(f"a label needs an example id, not {self.example_id!r}")
        if not isinstance(self.annotator, str) or not self.annotator.strip():
            raise LabelError(
                f"label on {self.example_id!r}: annotator must be a name, not {self.annotator!r}"
            )
        if self.role not in LABEL_ROLES:
            raise LabelError(
                f"label on {self.example_id!r}: role {self.role!r} is not one of "
                f"{', '.join(LABEL_ROLES)}"
            )
        if isinstance(self.value, list | set | frozenset):
            object.__setattr__(self, "value", tuple(self.value))


def _sort_key(item: tuple[int, Label]) -> tuple[bool, datetime | None, int]:
    position, label = item
    return (label.time is not None, label.time, position)


def latest_labels(labels: Iterable[Label]) -> list[Label]:
    """The newest label per (example, annotator, field, role); equal times: the later one.

    The result keeps the order in which each key first appeared, so it is stable.
    """
    ordered = sorted(enumerate(labels), key=_sort_key)
    newest: dict[tuple[str, str, str, str], tuple[int, Label]] = {}
    first_seen: dict[tuple[str, str, str, str], int] = {}
    for position, label in ordered:
        key = (label.example_id, label.annotator, label.field, label.role)
        newest[key] = (position, label)
        first_seen[key] = min(first_seen.get(key, position), position)
    return [newest[key][1] for key in sorted(newest, key=first_seen.__getitem__)]


def check_labels(
    labels: Iterable[Label],
    schema: LabelSchema,
    *,
    candidates: dict[str, int] | None = None,
) -> list[Label]:
    """Every label validated against `schema` (canonical values), or `LabelError` naming it.

    Parameters
    ----------
    labels:
        Labels to check, e.g. rows read from a file before they are stored.
    schema:
        The project's schema.
    candidates:
        Optional example id -> number of candidate answers (for preference values).
    """
    out: list[Label] = []
    for label in labels:
        n = None if candidates is None else candidates.get(label.example_id, 0)
        try:
            value = schema.validate_labels({label.field: label.value}, n_candidates=n)
        except LabelError as exc:
            raise LabelError(
                f"label by {label.annotator!r} on {label.example_id!r}: {exc}"
            ) from exc
        if label.field not in value:
            raise LabelError(
                f"label by {label.annotator!r} on {label.example_id!r}: field {label.field!r} "
                "has an empty value; leave it out instead"
            )
        out.append(
            Label(
                label.example_id,
                label.annotator,
                label.field,
                value[label.field],
                label.time,
                label.role,
            )
        )
    return out
