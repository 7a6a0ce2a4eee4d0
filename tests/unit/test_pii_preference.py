"""PII in preference data: every candidate answer is scanned, and scrubbed as a revision."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.formats.results import ImportResult
from curation.pii import PiiConfig, PiiScanner
from curation.pii.project import scan_project, scrub_project
from curation.pii.targets import scan_targets
from curation.records import Example, Message, pair
from curation.store import Store
from curation.store.pii_findings import list_findings, review_findings


def _pair() -> Example:
    return Example(
        "p1",
        [Message("user", "How do I reach support?")],
        candidates=pair(
            [Message("assistant", "Use the help form on the website.")],
            [Message("assistant", "Write to anna.berg@example.org, she answers at night.")],
        ),
    )


def test_candidates_are_scan_targets_with_their_location() -> None:
    targets = scan_targets([_pair()], include_metadata=False)
    assert [(t.location, t.role) for t in targets] == [
        ("messages[0].content", "user"),
        ("candidates[0].messages[0].content", "assistant"),
        ("candidates[1].messages[0].content", "assistant"),
    ]
    assert scan_targets([_pair()], roles=["user"], include_metadata=False)[0].role == "user"
    assert len(scan_targets([_pair()], roles=["user"], include_metadata=False)) == 1


def test_scrubbing_a_rejected_answer_is_an_undoable_revision(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.ensure_project("p", "ada")
    store.add_import("p", ImportResult(examples=[_pair()], source="f", sha256="y" * 64), "ada")
    scanner = PiiScanner(entities=["EMAIL_ADDRESS"], config=PiiConfig(workers=1))
    scan_project(store, "p", scanner, "ada")
    found = list_findings(store, "p")
    assert [f.location for f in found] == ["candidates[1].messages[0].content"]
    review_findings(store, "p", {f.pk: "accepted" for f in found}, "ada")
    done = scrub_project(store, "p", scanner, "placeholder", "ada")
    assert done["replacements"] == 1
    after = store.get_example("p", "p1").example
    assert after.rejected is not None
    assert after.rejected.messages[0].content == "Write to <EMAIL_ADDRESS>, she answers at night."
    assert after.chosen is not None and after.chosen.messages[0].content.startswith("Use the")
    store.undo("p", done["event"], "ada")
    back = store.get_example("p", "p1").example
    assert (
        back.rejected is not None and "anna.berg@example.org" in back.rejected.messages[0].content
    )
    store.dispose()


def test_examples_are_listed_by_the_review_state_of_their_findings(db_url: str) -> None:
    from curation.errors import StoreError
    from curation.store import ExampleFilter

    store = Store(db_url)
    store.ensure_project("p", "ada")
    clean = Example("c", [Message("user", "Hi"), Message("assistant", "Hello.")])
    mailed = Example(
        "m",
        [Message("user", "Mail bob.stone@example.com today."), Message("assistant", "Done.")],
    )
    result = ImportResult(examples=[_pair(), clean, mailed], source="f", sha256="z" * 64)
    store.add_import("p", result, "ada")
    scanner = PiiScanner(entities=["EMAIL_ADDRESS"], config=PiiConfig(workers=1))
    scan_project(store, "p", scanner, "ada")

    def ids(state: str) -> list[str]:
        return sorted(e.id for e in store.list_examples("p", ExampleFilter(pii_state=state)))

    assert ids("*") == ["m", "p1"]
    assert ids("pending") == ["m", "p1"]
    assert ids("accepted") == []
    pk = next(f.pk for f in list_findings(store, "p") if f.example_id == "m")
    review_findings(store, "p", {pk: "accepted"}, "ada")
    assert ids("accepted") == ["m"]
    assert ids("pending") == ["p1"]
    assert store.count_examples("p", ExampleFilter(pii_state="rejected")) == 0
    with pytest.raises(StoreError, match="Unknown PII review state 'maybe'"):
        store.list_examples("p", ExampleFilter(pii_state="maybe"))
    store.dispose()
