"""Who labels what next, and what an annotator may see: pure rules over the labels so far.

The queue calls `next_examples`; the annotation view filters labels through `visible_labels`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.errors import LabelError
from curation.labeling.labels import Label

__all__ = [
    "ASSIGNMENT_ORDERS",
    "AnnotationProgress",
    "annotators_by_example",
    "annotation_progress",
    "next_examples",
    "visible_labels",
]

ASSIGNMENT_ORDERS: tuple[str, ...] = ("finish", "spread")


def annotators_by_example(labels: Iterable[Label]) -> dict[str, set[str]]:
    """Example id -> the distinct annotators (role ``annotator``) who labelled it.

    Reviewers' and imported labels do not count: they are not independent annotations.
    """
    out: dict[str, set[str]] = {}
    for label in labels:
        if label.role == "annotator":
            out.setdefault(label.example_id, set()).add(label.annotator)
    return out


def _check_k(annotators_per_example: int) -> None:
    k = annotators_per_example
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise LabelError(f"annotators_per_example must be a whole number >= 1, not {k!r}")


def next_examples(
    example_ids: Sequence[str],
    labels: Iterable[Label],
    annotator: str,
    *,
    annotators_per_example: int,
    limit: int = 1,
    in_progress: Mapping[str, Collection[str]] | None = None,
    skipped: Collection[str] = (),
    order: str = "finish",
) -> list[str]:
    """The next examples for `annotator`, so that each example gets enough distinct annotators.

    An example is offered when `annotator` has not labelled it and fewer than
    `annotators_per_example` people have labelled it or hold it open (`in_progress`); so no
    one labels an example twice and no example gets more annotators than it needs, even when
    several people work at once (provided the caller records what it hands out).

    Parameters
    ----------
    example_ids:
        The queue's examples in their stable order (e.g. import order, or a filtered view).
    labels:
        Every label given so far (any roles; only annotators' count).
    annotator:
        Who asks for work.
    annotators_per_example:
        How many distinct annotators each example needs (the schema's setting).
    limit:
        At most this many ids are returned.
    in_progress:
        Example id -> annotators who currently hold it open without having labelled it yet
        (the caller drops stale holds). An example `annotator` holds comes first, so a reload
        resumes it; others' holds count as labels to come.
    skipped:
        Examples `annotator` skipped; they come after every other offer, in queue order.
    order:
        ``"finish"`` (default): examples that others already started come first, so examples
        reach the required count (and agreement and review can start) early, as in Label
        Studio's overlap queue; ``"spread"``: examples with the fewest annotators first,
        so every example gets a first label before any gets a second.
        Ties keep the order of `example_ids`.

    Returns
    -------
    list[str]
        Up to `limit` example ids, best first.
    """
    _check_k(annotators_per_example)
    if order not in ASSIGNMENT_ORDERS:
        raise LabelError(f"order must be one of {', '.join(ASSIGNMENT_ORDERS)}, not {order!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise LabelError(f"limit must be a whole number >= 0, not {limit!r}")
    if not isinstance(annotator, str) or not annotator.strip():
        raise LabelError(f"annotator must be a name, not {annotator!r}")
    done = annotators_by_example(labels)
    holds = in_progress or {}
    skipped_set = set(skipped)
    ranked: list[tuple[int, int, int, int]] = []
    seen: set[str] = set()
    for position, example_id in enumerate(example_ids):
        if example_id in seen:
            continue
        seen.add(example_id)
        labelled_by = done.get(example_id, set())
        if annotator in labelled_by:
            continue
        holders = set(holds.get(example_id, ())) - labelled_by
        mine = annotator in holders
        taken = len(labelled_by) + len(holders - {annotator})
        if taken >= annotators_per_example:
            continue
        progress = -taken if order == "finish" else taken
        ranked.append((0 if mine else 1, 1 if example_id in skipped_set else 0, progress, position))
    ranked.sort()
    return [example_ids[item[3]] for item in ranked[:limit]]


def visible_labels(
    labels: Iterable[Label],
    *,
    viewer: str,
    reviewer: bool = False,
    show_imported: bool = True,
) -> list[Label]:
    """The labels `viewer` may see: never another annotator's before giving one's own.

    Per example and field: the viewer's own labels always; other annotators' and reviewers'
    labels only once the viewer has labelled that field of that example themselves.
    Reviewers see everything. Imported labels came with the data (they are in its metadata)
    and are shown unless `show_imported` is false.

    Parameters
    ----------
    labels:
        Labels of one or many examples.
    viewer:
        The person looking.
    reviewer:
        Whether the viewer reviews (sees every label, to settle disagreements).
    show_imported:
        Whether imported labels are shown before the viewer has labelled.
    """
    labels = list(labels)
    if reviewer:
        return labels
    answered = {
        (label.example_id, label.field)
        for label in labels
        if label.annotator == viewer and label.role == "annotator"
    }
    out = []
    for label in labels:
        if label.role == "imported":
            if show_imported or (label.example_id, label.field) in answered:
                out.append(label)
        elif (label.annotator == viewer and label.role == "annotator") or (
            label.example_id,
            label.field,
        ) in answered:
            out.append(label)
    return out


@dataclass(frozen=True, slots=True)
class AnnotationProgress:
    """How far annotation is, overall and per annotator.

    Attributes
    ----------
    examples:
        Examples in the queue.
    annotators_per_example:
        The required number of distinct annotators.
    complete:
        Examples with at least that many annotators.
    started:
        Examples with at least one annotator but fewer than required.
    untouched:
        Examples nobody labelled.
    done_fraction:
        Annotations given (each example counted up to the required number) over those needed.
    per_annotator:
        Annotator -> examples of the queue they labelled.
    """

    examples: int
    annotators_per_example: int
    complete: int
    started: int
    untouched: int
    done_fraction: float
    per_annotator: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "annotators_per_example": self.annotators_per_example,
            "complete": self.complete,
            "started": self.started,
            "untouched": self.untouched,
            "done_fraction": self.done_fraction,
            "per_annotator": dict(self.per_annotator),
        }


def annotation_progress(
    example_ids: Collection[str], labels: Iterable[Label], *, annotators_per_example: int
) -> AnnotationProgress:
    """Counts for the queue's progress bars (examples outside `example_ids` are ignored)."""
    _check_k(annotators_per_example)
    ids = set(example_ids)
    done = {e: a for e, a in annotators_by_example(labels).items() if e in ids}
    k = annotators_per_example
    complete = sum(1 for a in done.values() if len(a) >= k)
    started = sum(1 for a in done.values() if 0 < len(a) < k)
    given = sum(min(len(a), k) for a in done.values())
    per: dict[str, int] = {}
    for annotators in done.values():
        for name in annotators:
            per[name] = per.get(name, 0) + 1
    return AnnotationProgress(
        examples=len(ids),
        annotators_per_example=k,
        complete=complete,
        started=started,
        untouched=len(ids) - complete - started,
        done_fraction=given / (k * len(ids)) if ids else 0.0,
        per_annotator=dict(sorted(per.items())),
    )
