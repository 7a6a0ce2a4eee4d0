"""What an annotator does to preference and feedback examples: swap, prefer, tie, edit, label, answer.

Each operation writes ONE revision through `Store.edit_messages`, attributed to its author with
a reason, so it is an audit event that `Store.undo` reverses; rejecting is `Store.set_status`.
"""

from __future__ import annotations

from curation.errors import ConflictError, InputError
from curation.records import Candidate, Example, Message
from curation.store import Store, StoredExample

# ---- what an example and its candidates are, in the annotator's words ---------------------------


def kind_label(example: Example) -> str:
    """A short name for the example's kind: ``pair``, ``ranking``, ``tie``, ``unranked``,
    ``KTO``, ``needs answer`` or ``sft``."""
    kind = example.kind
    if kind == "preference":
        if example.is_tie:
            return "tie"
        if example.chosen is None:
            return "unranked"
        return "pair" if len(example.candidates) == 2 else "ranking"
    return {"feedback": "KTO", "needs_answer": "needs answer"}.get(kind, "sft")


def candidate_label(example: Example, index: int) -> str:
    """What candidate `index` is to a trainer: ``chosen``, ``rejected``, ``tie``, ``rank n``
    or ``unranked``."""
    candidate = _candidate(example, index)
    if example.is_tie and candidate.rank is not None:
        best = min(c.rank for c in example.candidates if c.rank is not None)
        return "tie" if candidate.rank == best else f"rank {candidate.rank}"
    if candidate is example.chosen:
        return "chosen"
    if candidate is example.rejected:
        return "rejected"
    return "unranked" if candidate.rank is None else f"rank {candidate.rank}"


def final_answer(candidate: Candidate) -> str:
    """The text of the candidate's final assistant message (what `edit_candidate` replaces)."""
    last = _last_assistant(candidate.messages)
    return "" if last is None else candidate.messages[last].content


def restored_status(example: Example) -> str:
    """The status an example removed from the data set returns to: ``active``, or
    ``needs_answer`` while it still has no answer."""
    return "needs_answer" if example.needs_answer else "active"


# ---- the changes, on candidates alone -----------------------------------------------------------


def swapped(example: Example) -> list[Candidate]:
    """The candidates with the chosen and the rejected one's ranks exchanged."""
    chosen, rejected = example.chosen, example.rejected
    if chosen is None or rejected is None:
        raise InputError(
            f"Example {example.id} has no chosen and rejected answer to swap "
            f"(it is {_a(kind_label(example))}); prefer one of its candidates instead."
        )
    ranks = {id(chosen): rejected.rank, id(rejected): chosen.rank}
    return [_ranked(c, ranks.get(id(c), c.rank)) for c in example.candidates]


def preferring(example: Example, index: int) -> list[Candidate]:
    """The candidates with `index` ranked 1 and every other one below it, in their old order.

    The others keep their order and their ties (ranks 2, 3, ...); unranked ones share the rank
    below every ranked one, since all that is known of them is that they are not preferred.
    """
    _candidate(example, index)
    if example.chosen is example.candidates[index]:
        raise InputError(
            f"Candidate {index + 1} of example {example.id} is already the chosen one."
        )
    others = sorted(
        {c.rank for i, c in enumerate(example.candidates) if i != index and c.rank is not None}
    )
    below = {rank: n for n, rank in enumerate(others, start=2)}
    unranked = len(others) + 2
    return [
        _ranked(c, 1 if i == index else unranked if c.rank is None else below[c.rank])
        for i, c in enumerate(example.candidates)
    ]


def tied(example: Example) -> list[Candidate]:
    """The candidates all ranked 1: none is better than another."""
    if len(example.candidates) < 2:
        raise InputError(
            f"Example {example.id} has {len(example.candidates)} candidate answer(s); "
            "a tie needs two or more."
        )
    if all(c.rank == 1 for c in example.candidates):
        raise InputError(f"Example {example.id} is already a tie.")
    return [_ranked(c, 1) for c in example.candidates]


def with_final_answer(example: Example, index: int, text: str) -> list[Candidate]:
    """The candidates with candidate `index`'s final assistant message saying `text`.

    The message keeps its tool calls, name and weight; a candidate without an assistant
    message gets one.
    """
    candidate = _candidate(example, index)
    messages = list(candidate.messages)
    last = _last_assistant(messages)
    keeps_calls = last is not None and bool(messages[last].tool_calls)
    if not text.strip() and not keeps_calls:
        raise InputError(
            f"The new text of candidate {index + 1} is empty; write the answer, or reject the "
            "example if no answer is worth keeping."
        )
    if last is None:
        messages.append(Message("assistant", text))
    elif messages[last].content == text:
        raise InputError(f"Candidate {index + 1} already says this; nothing to save.")
    else:
        old = messages[last]
        messages[last] = Message(
            old.role, text, old.tool_calls, old.name, old.tool_call_id, old.weight
        )
    new = Candidate(messages, rank=candidate.rank, score=candidate.score, name=candidate.name)
    return [new if i == index else c for i, c in enumerate(example.candidates)]


# ---- the changes, as revisions in the store ------------------------------------------------------


def swap_preference(
    store: Store,
    project: str,
    example_id: str,
    *,
    author: str,
    expected_revision: int,
    reason: str = "swapped chosen and rejected",
) -> int:
    """Make the rejected answer the chosen one and the chosen one rejected; returns the new
    revision. Raises `InputError` unless the example has a chosen and a rejected answer, and
    `ConflictError` if it moved on from `expected_revision`."""
    stored = _load(store, project, example_id, expected_revision)
    return _save(
        store,
        project,
        stored,
        author,
        reason,
        candidates=swapped(stored.example),
        desirable=stored.example.desirable,
    )


def set_preferred(
    store: Store,
    project: str,
    example_id: str,
    candidate_index: int,
    *,
    author: str,
    expected_revision: int,
    reason: str | None = None,
) -> int:
    """Rank candidate `candidate_index` (0-based) first and the others below it (see
    `preferring`); returns the new revision."""
    stored = _load(store, project, example_id, expected_revision)
    candidates = preferring(stored.example, candidate_index)
    reason = reason or f"preferred candidate {candidate_index + 1}"
    return _save(
        store,
        project,
        stored,
        author,
        reason,
        candidates=candidates,
        desirable=stored.example.desirable,
    )


def mark_tie(
    store: Store,
    project: str,
    example_id: str,
    *,
    author: str,
    expected_revision: int,
    reason: str = "marked as a tie",
) -> int:
    """Give every candidate the same rank; returns the new revision."""
    stored = _load(store, project, example_id, expected_revision)
    return _save(
        store,
        project,
        stored,
        author,
        reason,
        candidates=tied(stored.example),
        desirable=stored.example.desirable,
    )


def edit_candidate(
    store: Store,
    project: str,
    example_id: str,
    candidate_index: int,
    new_text: str,
    *,
    author: str,
    expected_revision: int,
    reason: str | None = None,
) -> int:
    """Replace the text of a candidate's final assistant message (see `with_final_answer`);
    returns the new revision. Its rank, score and name stay."""
    stored = _load(store, project, example_id, expected_revision)
    candidates = with_final_answer(stored.example, candidate_index, new_text)
    reason = reason or f"edited candidate {candidate_index + 1}"
    return _save(
        store,
        project,
        stored,
        author,
        reason,
        candidates=candidates,
        desirable=stored.example.desirable,
    )


def set_desirable(
    store: Store,
    project: str,
    example_id: str,
    desirable: bool | None,
    *,
    author: str,
    expected_revision: int,
    reason: str | None = None,
) -> int:
    """Label a conversation's final answer desirable (True) or undesirable (False) for KTO, or
    remove the label (None); returns the new revision."""
    stored = _load(store, project, example_id, expected_revision)
    ex = stored.example
    if ex.candidates:
        raise InputError(
            f"Example {ex.id} is {_a(kind_label(ex))} of candidate answers; a desirable label is "
            "for a conversation with one answer."
        )
    if ex.needs_answer:
        raise InputError(f"Example {ex.id} has no answer to label yet; write its answer first.")
    if ex.desirable is desirable:
        raise InputError(f"Example {ex.id} is already {_desirable_word(desirable)}.")
    reason = reason or f"marked {_desirable_word(desirable)}"
    return _save(store, project, stored, author, reason, candidates=[], desirable=desirable)


def write_answer(
    store: Store,
    project: str,
    example_id: str,
    text: str,
    *,
    author: str,
    expected_revision: int,
    reason: str = "wrote the answer",
) -> int:
    """Append the assistant's answer to an example that needs one; returns the new revision.

    The store then makes a ``needs_answer`` example ``active``.
    """
    stored = _load(store, project, example_id, expected_revision)
    ex = stored.example
    if not ex.needs_answer:
        raise InputError(
            f"Example {ex.id} already has an answer (it is {_a(kind_label(ex))}); edit it instead."
        )
    if not text.strip():
        raise InputError("The answer is empty; write the assistant's reply first.")
    messages = [*ex.messages, Message("assistant", text)]
    return store.edit_messages(
        project, ex.id, messages, author, reason, expected_revision=stored.revision
    )


# ---- helpers -------------------------------------------------------------------------------------


def _candidate(example: Example, index: int) -> Candidate:
    n = len(example.candidates)
    if not n:
        raise InputError(
            f"Example {example.id} has no candidate answers (it is {_a(kind_label(example))})."
        )
    if not 0 <= index < n:
        raise InputError(
            f"Example {example.id} has candidates 1 to {n}; there is no candidate {index + 1}."
        )
    return example.candidates[index]


def _last_assistant(messages: list[Message]) -> int | None:
    return next(
        (i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "assistant"), None
    )


def _ranked(candidate: Candidate, rank: int | None) -> Candidate:
    return Candidate(candidate.messages, rank=rank, score=candidate.score, name=candidate.name)


def _desirable_word(desirable: bool | None) -> str:
    return {True: "desirable", False: "undesirable", None: "without a KTO label"}[desirable]


def _a(label: str) -> str:
    return ("an " if label[0] in "aeiou" else "a ") + label


def _load(store: Store, project: str, example_id: str, expected_revision: int) -> StoredExample:
    """The example, refused with `ConflictError` if it moved on from the revision the annotator
    saw (the store checks again under its lock when writing)."""
    stored = store.get_example(project, example_id)
    if stored.revision != expected_revision:
        raise ConflictError(
            f"Example {example_id} was changed by someone else since you opened it (it is now "
            f"at revision {stored.revision}, you saw revision {expected_revision}). Look at it "
            "again and redo your change if it still applies."
        )
    return stored


def _save(
    store: Store,
    project: str,
    stored: StoredExample,
    author: str,
    reason: str,
    *,
    candidates: list[Candidate],
    desirable: bool | None,
) -> int:
    """One revision with the example's prompt and these candidates and label."""
    ex = stored.example
    new = Example(ex.id, ex.messages, candidates=candidates, desirable=desirable)
    return store.edit_messages(
        project,
        ex.id,
        ex.messages,
        author,
        reason,
        expected_revision=stored.revision,
        preference=new.preference_payload(),
    )
