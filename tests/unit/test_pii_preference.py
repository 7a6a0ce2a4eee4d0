"""PII in preference data: every candidate answer is scanned, and scrubbed as a revision."""

from __future__ import annotations

from pathlib import Path

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
