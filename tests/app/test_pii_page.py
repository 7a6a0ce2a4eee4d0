"""AppTest of the PII scrub page: scan, review in bulk, scrub the accepted findings, residual."""

from __future__ import annotations

import json
from pathlib import Path

from curation.formats import read_examples
from curation.jobs import list_jobs
from curation.store import Store
from curation.store.pii_findings import list_findings, pii_status
from tests.app.waiting import finish_jobs

PAGE = "pages/pii_page.py"
EMAIL = "ana.lopez@example.org"
PHONE = "212-555-0187"
ROWS = [
    (f"Write to {EMAIL} about the invoice.", f"I will write to {EMAIL} today."),
    (f"Call {PHONE} and ask for the manager.", f"Or write to {EMAIL} instead."),
    ("How many legs does a spider have?", "Eight."),
]


def _project(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "instruction": q, "output": a}) + "\n"
            for i, (q, a) in enumerate(ROWS)
        )
    )
    store.create_project("p", "ada")
    store.add_import("p", read_examples(path), "ada")


def _click(at, label: str) -> None:  # type: ignore[no-untyped-def]
    labels = [b.label for b in at.button]
    matches = [i for i, text in enumerate(labels) if text.replace("\\", "").startswith(label)]
    assert matches, labels
    at.button[matches[0]].click().run(timeout=240)
    assert not at.exception, at.exception


def _metric(at, label: str) -> int:  # type: ignore[no-untyped-def]
    return int(next(m.value for m in at.metric if m.label == label))


def test_scan_review_scrub_and_residual(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    assert any("No PII scan yet" in i.value for i in at.info)
    at.multiselect(key="pii_entities").set_value(["EMAIL_ADDRESS", "PHONE_NUMBER"])
    _click(at, "Scan project")  # a background job: the page shows it running, then the result
    finish_jobs(at, store)
    assert [j.step for j in list_jobs(store, "p")] == ["pii_scan"]

    assert _metric(at, "Findings") == 4
    assert _metric(at, "Not reviewed") == 4
    # Unreviewed findings scoring high hold the export back.
    assert _metric(at, "Residual") == pii_status(store, "p")["pending_high"] > 0
    table = at.dataframe[0].value  # counts by type and decision
    assert int(table.loc["EMAIL_ADDRESS", "pending"]) == 3
    assert int(table.loc["PHONE_NUMBER", "pending"]) == 1

    # Accept every address in one event, reject the phone number as a false alarm.
    at.selectbox(key="pii_bulk_type").set_value("EMAIL_ADDRESS").run()
    _click(at, "Mark 3 unreviewed")
    at.selectbox(key="pii_bulk_type").set_value("PHONE_NUMBER").run()
    at.selectbox(key="pii_bulk_to").set_value("rejected").run()
    _click(at, "Mark 1 unreviewed")
    states = {(x.finding.entity_type, x.state, x.reviewed_by) for x in list_findings(store, "p")}
    assert states == {("EMAIL_ADDRESS", "accepted", "ada"), ("PHONE_NUMBER", "rejected", "ada")}
    reviews = store.events("p", kinds=["pii_review"])
    assert len(reviews) == 2 and reviews[-1]["author"] == "ada"
    assert _metric(at, "Accepted, not scrubbed") == 3
    assert _metric(at, "Residual") == 3

    _click(at, "Scrub 3 accepted")
    texts = {e.id: [m.content for m in e.example.messages] for e in store.iter_examples("p")}
    assert texts["q0"] == [
        "Write to <EMAIL_ADDRESS_1> about the invoice.",
        "I will write to <EMAIL_ADDRESS_1> today.",
    ]
    # the rejected phone number stays; the clean example is untouched
    assert texts["q1"] == [
        f"Call {PHONE} and ask for the manager.",
        "Or write to <EMAIL_ADDRESS_1> instead.",
    ]
    assert texts["q2"] == [ROWS[2][0], ROWS[2][1]]
    assert _metric(at, "Residual") == 0
    assert any("Nothing left" in s.value for s in at.success)

    # Undoing the scrub brings the addresses back, and with them the residual.
    scrub = store.events("p", kinds=["pii_scrub"])[0]
    store.undo("p", scrub["id"], "bo")
    at.run()
    assert _metric(at, "Residual") == 3
    assert _metric(at, "Accepted, not scrubbed") == 3


def test_review_event_is_undone_on_its_own(store: Store, tmp_path: Path) -> None:
    from curation.pii.findings import Finding
    from curation.store.pii_findings import review_findings, save_findings

    _project(store, tmp_path)
    finding = Finding(9, 30, "EMAIL_ADDRESS", 1.0, "EmailRecognizer", "0" * 64)
    save_findings(store, "p", [("q0", "messages[0].content", finding)], "ada")
    (stored,) = list_findings(store, "p")
    first = review_findings(store, "p", {stored.pk: "accepted"}, "ada")
    second = review_findings(store, "p", {stored.pk: "rejected"}, "bo")
    assert first and second
    # the later decision must be undone first: the first one is refused meanwhile
    import pytest

    from curation.errors import ConflictError

    with pytest.raises(ConflictError, match="reviewed again"):
        store.undo("p", first, "ada")
    store.undo("p", second, "bo")
    assert list_findings(store, "p")[0].state == "accepted"
    store.undo("p", first, "ada")
    (back,) = list_findings(store, "p")
    assert back.state == "pending" and back.reviewed_by is None
    # a re-scan keeps reviewed findings and their decisions
    review_findings(store, "p", {back.pk: "rejected"}, "ada")
    save_findings(store, "p", [], "ada")
    assert [x.state for x in list_findings(store, "p")] == ["rejected"]


def test_unreviewed_places_do_not_hold_an_export_back(store: Store, tmp_path: Path) -> None:
    from curation.pii.findings import Finding, text_sha256
    from curation.store.pii_findings import review_findings, save_findings

    _project(store, tmp_path)
    text = ROWS[2][0]
    place = Finding(0, 3, "LOCATION", 0.85, "SpacyNerRecognizer", text_sha256(text))
    save_findings(store, "p", [("q2", "messages[0].content", place)], "ada")
    assert pii_status(store, "p")["residual"] == 0 and pii_status(store, "p")["pending"] == 1
    (stored_place,) = list_findings(store, "p", entity_types=["LOCATION"])
    review_findings(store, "p", {stored_place.pk: "accepted"}, "ada")
    assert pii_status(store, "p")["residual"] == 1


def test_export_page_holds_back_until_pii_is_handled(
    open_page, store: Store, tmp_path: Path
) -> None:
    from curation.pii.findings import Finding, text_sha256

    _project(store, tmp_path)
    text = ROWS[0][0]
    start = text.index(EMAIL)
    finding = Finding(
        start, start + len(EMAIL), "EMAIL_ADDRESS", 1.0, "EmailRecognizer", text_sha256(text)
    )
    from curation.store.pii_findings import review_findings, save_findings

    save_findings(store, "p", [("q0", "messages[0].content", finding)], "ada")
    at = open_page("pages/export_page.py")
    assert any("PII finding(s) remain" in w.value for w in at.warning)
    assert at.button(key="export_run").disabled
    at.checkbox(key="export_allow_pii").check().run()
    assert not at.button(key="export_run").disabled
    # a reviewer rejecting the finding (a false alarm) lifts the hold
    (stored,) = list_findings(store, "p")
    review_findings(store, "p", {stored.pk: "rejected"}, "ada")
    at.run()
    assert not any("PII finding(s) remain" in w.value for w in at.warning)


def test_own_entity_types_are_checked_and_saved(open_page, store: Store, tmp_path: Path) -> None:
    _project(store, tmp_path)
    at = open_page(PAGE)
    at.text_area(key="pii_recognizers").set_value('[{"name": "x"')
    at.button(key="pii_save_config").click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert store.project_settings("p") == {}
    at.text_area(key="pii_allow_list").set_value("help@example.org\n")
    at.text_area(key="pii_recognizers").set_value(
        '[{"name": "ticket", "supported_entity": "TICKET_ID", '
        '"patterns": [{"name": "t", "regex": "TCK-\\\\d{6}", "score": 0.9}]}]'
    )
    at.button(key="pii_save_config").click().run()
    assert not at.exception, at.exception
    saved = store.project_settings("p")["pii"]
    assert saved["allow_list"] == ["help@example.org"]
    assert saved["recognizers"][0]["supported_entity"] == "TICKET_ID"
    # the new type is offered, and chosen, for the next scan
    assert "TICKET_ID" in at.multiselect(key="pii_entities").value


def test_browse_lists_the_examples_by_the_review_state_of_their_findings(
    open_page, store: Store, tmp_path: Path
) -> None:
    from curation.pii import PiiConfig, PiiScanner
    from curation.pii.project import scan_project
    from curation.store.pii_findings import review_findings

    _project(store, tmp_path)
    at = open_page("pages/browse_page.py")
    assert at.selectbox(key="browse_pii_state").disabled  # no scan yet
    scanner = PiiScanner(entities=["EMAIL_ADDRESS", "PHONE_NUMBER"], config=PiiConfig(workers=1))
    scan_project(store, "p", scanner, "ada")
    phone = [f.pk for f in list_findings(store, "p") if f.finding.entity_type == "PHONE_NUMBER"]
    review_findings(store, "p", {pk: "rejected" for pk in phone}, "ada")
    at.run()
    picker = at.selectbox(key="browse_pii_state")
    assert not picker.disabled
    assert "not reviewed (2)" in picker.options and "rejected (1)" in picker.options
    picker.set_value("*").run()
    assert list(at.dataframe[0].value["id"]) == ["q0", "q1"]
    at.selectbox(key="browse_pii_state").set_value("rejected").run()
    assert list(at.dataframe[0].value["id"]) == ["q1"]
    at.selectbox(key="browse_pii_state").set_value("pending").run()
    assert list(at.dataframe[0].value["id"]) == ["q0", "q1"]  # q1 has an email too
    at.selectbox(key="browse_pii_state").set_value("").run()
    assert len(at.dataframe[0].value) == 3
