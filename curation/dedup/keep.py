"""Keep policies: which member of a duplicate cluster stays when the others are removed.

Pure functions over small `MemberInfo` records; the store supplies the facts, the UI the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KEEP_POLICIES", "MemberInfo", "choose_keeper"]

KEEP_POLICIES: tuple[str, ...] = ("first", "longest", "most-edited", "best-labelled", "manual")


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """What a keep policy may look at for one cluster member.

    Attributes
    ----------
    index:
        The member's index in the deduplicated texts (ties go to the smallest).
    example_id:
        The example's id in the store.
    answer_length:
        Characters in the assistant answer.
    revision_count:
        Number of edits made to the example.
    label_score:
        Quality score from labelling (higher is better), None when unlabelled.
    imported_order:
        Position in import order (smaller is earlier).
    """

    index: int
    example_id: str
    answer_length: int
    revision_count: int
    label_score: float | None
    imported_order: int


def choose_keeper(members: list[MemberInfo], policy: str) -> int:
    """Return the index of the member to keep under `policy`.

    Parameters
    ----------
    members:
        The cluster's members (at least one).
    policy:
        ``"first"`` (earliest imported), ``"longest"`` (longest assistant answer),
        ``"most-edited"`` (most revisions), ``"best-labelled"`` (highest label score; falls
        back to longest when no member is labelled; unlabelled members lose to labelled ones),
        or ``"manual"`` (raises: the caller must let the annotator pick).

    Returns
    -------
    int
        ``MemberInfo.index`` of the keeper; ties go to the smallest index.
    """
    if policy not in KEEP_POLICIES:
        raise ValueError(f"policy must be one of {KEEP_POLICIES}, not {policy!r}")
    if policy == "manual":
        raise ValueError(
            "policy 'manual' has no automatic keeper: let the annotator pick one member"
        )
    if not members:
        raise ValueError("members is empty: a cluster needs at least one member to keep")
    if policy == "first":
        best = min(members, key=lambda m: (m.imported_order, m.index))
    elif policy == "longest":
        best = min(members, key=lambda m: (-m.answer_length, m.index))
    elif policy == "most-edited":
        best = min(members, key=lambda m: (-m.revision_count, m.index))
    else:
        labelled = [m for m in members if m.label_score is not None]
        if not labelled:
            return choose_keeper(members, "longest")
        best = min(labelled, key=lambda m: (-(m.label_score or 0.0), m.index))
    return best.index
