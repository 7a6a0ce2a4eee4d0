"""`curation pii scan|scrub`: findings without values, consistent replacements across examples
and runs, a project scrub as one undoable event, and the store's batch edit it rests on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.cli import main
from curation.errors import ConflictError
from curation.records import Message
from curation.store import Store

EMAIL = "ana.lopez@example.org"
PHONE = "212-555-0187"
ENTITIES = "EMAIL_ADDRESS,PHONE_NUMBER"
RECORDS = [
    ("a", f"Write to {EMAIL} about the invoice.", f"Sure, I will write to {EMAIL} today."),
    ("b", f"Call {PHONE} and ask for the manager.", f"Or write to {EMAIL} instead."),
    ("c", "How many legs does a spider have?", "Eight."),
]


def _write(path: Path, records: list[tuple[str, str, str]] = RECORDS) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for rid, user, answer in records:
            messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            fh.write(json.dumps({"id": rid, "messages": messages}) + "\n")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--json", "--quiet"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 else {}), out.err


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_scan_writes_positions_and_types_never_the_values(tmp_path: Path, capsys) -> None:
    data = _write(tmp_path / "data.jsonl")
    out = tmp_path / "findings.jsonl"
    code, report, err = _run(
        capsys, "pii", "scan", str(data), "--out", str(out), "--entities", ENTITIES
    )
    assert code == 0, err
    assert report["by_type"] == {"EMAIL_ADDRESS": 3, "PHONE_NUMBER": 1}
    assert report["examples_with_findings"] == 2 and report["examples"] == 3
    rows = _lines(out)
    text = out.read_text(encoding="utf-8")
    assert EMAIL not in text and PHONE not in text and "ana.lopez" not in text
    texts = {
        (rid, f"messages[{i}].content"): t for rid, u, a in RECORDS for i, t in enumerate((u, a))
    }
    for row in rows:  # each span points exactly at the value in its turn
        span = texts[(row["example_id"], row["location"])][row["start"] : row["end"]]
        assert span == (EMAIL if row["entity_type"] == "EMAIL_ADDRESS" else PHONE)
        assert row["role"] in ("user", "assistant")


def test_scrub_of_a_file_numbers_each_value_the_same_everywhere(tmp_path: Path, capsys) -> None:
    data = _write(tmp_path / "data.jsonl")
    folder = tmp_path / "scrubbed"
    code, report, err = _run(
        capsys, "pii", "scrub", str(data), "--out", str(folder), "--entities", ENTITIES
    )
    assert code == 0, err
    assert report["replacements"] == 4 and report["examples_changed"] == 2
    assert report["residual"] == 0
    by_id = {r["id"]: r for r in _lines(folder / "scrubbed.jsonl")}
    assert list(by_id) == ["a", "b", "c"]  # every example, in order, the clean one unchanged
    a, b, c = (by_id[k]["messages"] for k in "abc")
    assert a[0]["content"] == "Write to <EMAIL_ADDRESS_1> about the invoice."
    assert a[1]["content"] == "Sure, I will write to <EMAIL_ADDRESS_1> today."
    assert b[0]["content"] == "Call <PHONE_NUMBER_1> and ask for the manager."
    assert b[1]["content"] == "Or write to <EMAIL_ADDRESS_1> instead."
    assert c[1]["content"] == "Eight."
    record = (folder / "scrub_record.jsonl").read_text(encoding="utf-8")
    assert EMAIL not in record and PHONE not in record
    assert len(_lines(folder / "scrub_record.jsonl")) == 4  # one per scrubbed text


def test_project_scrub_is_one_undoable_event_with_one_map_per_project(
    tmp_path: Path, capsys, db_url: str
) -> None:
    from curation.export.from_project import curation_stats
    from curation.export.readiness import readiness_summary

    first = _write(tmp_path / "first.jsonl")
    db = ["--db", db_url]
    assert main(["import", str(first), "--project", "p", *db, "--quiet"]) == 0
    capsys.readouterr()
    code, report, err = _run(
        capsys, "pii", "scrub", "--project", "p", *db, "--entities", ENTITIES, "--author", "ada"
    )
    assert code == 0, err
    assert report["examples_changed"] == 2 and report["residual"] == 0
    store = Store(db_url)
    try:
        ids = {e.id: e for e in store.iter_examples("p")}
        assert len(ids) == 3
        a = next(e for e in ids.values() if e.example.messages[0].content.startswith("Write"))
        assert a.example.messages[0].content == "Write to <EMAIL_ADDRESS_1> about the invoice."
        assert a.revision == 1
        event = store.events("p", kinds=["pii_scrub"])[0]
        assert event["id"] == report["event"] and event["author"] == "ada"
        assert len(event["payload"]["changes"]) == 2
        assert EMAIL not in json.dumps(event, default=str)
        stats = curation_stats(store, "p", None)
        assert stats["pii"]["residual"] == 0 and stats["pii"]["replacements"] == 4
        items = {i.name: i for i in readiness_summary([], [], stats=stats)}
        assert items["PII residual"].status == "ok"
    finally:
        store.dispose()

    # A later import holding the same address gets the same number: the map is the project's.
    later = _write(tmp_path / "later.jsonl", [("d", f"Forward it to {EMAIL}.", "Done.")])
    assert main(["import", str(later), "--project", "p", *db, "--quiet"]) == 0
    capsys.readouterr()
    code, report, err = _run(capsys, "pii", "scrub", "--project", "p", *db, "--entities", ENTITIES)
    assert code == 0, err
    assert report["examples_changed"] == 1
    store = Store(db_url)
    try:
        texts = [e.example.messages[0].content for e in store.iter_examples("p")]
        assert "Forward it to <EMAIL_ADDRESS_1>." in texts
        # Undo of the first scrub brings the original text back, attributed to the undoer.
        store.undo("p", event["id"], "bo")
        restored = {e.example.messages[0].content for e in store.iter_examples("p")}
        assert f"Write to {EMAIL} about the invoice." in restored
        assert f"Call {PHONE} and ask for the manager." in restored
    finally:
        store.dispose()


def test_undoing_a_scrub_brings_the_residual_back(tmp_path: Path, capsys) -> None:
    from curation.export.from_project import curation_stats

    db_url = f"sqlite:///{tmp_path / 's.db'}"
    data = _write(tmp_path / "data.jsonl")
    assert main(["import", str(data), "--project", "p", "--db", db_url, "--quiet"]) == 0
    capsys.readouterr()
    code, report, err = _run(
        capsys,
        "pii",
        "scan",
        "--project",
        "p",
        "--db",
        db_url,
        "--entities",
        ENTITIES,
        "--out",
        str(tmp_path / "f.jsonl"),
    )
    assert code == 0, err
    store = Store(db_url)
    try:
        before = curation_stats(store, "p", None)["pii"]
        # found, not reviewed, all of them scoring high enough to hold an export back
        assert before["findings"] == 4 and before["pending"] == 4
        assert before["residual"] == before["pending_high"] > 0
    finally:
        store.dispose()
    code, report, err = _run(
        capsys, "pii", "scrub", "--project", "p", "--db", db_url, "--entities", ENTITIES
    )
    assert code == 0, err
    store = Store(db_url)
    try:
        after = curation_stats(store, "p", None)["pii"]
        assert after["residual"] == 0 and after["findings"] == 0
        assert after["no_longer_apply"] == 4 and after["replacements"] == 4
        store.undo("p", report["event"], "ada")
        undone = curation_stats(store, "p", None)["pii"]
        assert undone["residual"] == before["residual"]  # the text is back, so is the finding
    finally:
        store.dispose()


def test_edit_many_writes_nothing_when_one_example_moved_on(db_url: str, tmp_path: Path) -> None:
    data = _write(tmp_path / "data.jsonl")
    store = Store(db_url)
    try:
        store.ensure_project("p", "ada")
        from curation.formats import read_examples

        store.add_import("p", read_examples(data), "ada")
        rows = {e.id: e for e in store.iter_examples("p")}
        ids = sorted(rows)
        # Someone edits the second example after our read.
        store.edit_messages(
            "p", ids[1], [Message("user", "changed"), Message("assistant", "x")], "bo", "fix"
        )
        edits = {
            i: ([Message("user", f"new {i}"), Message("assistant", "y")], rows[i].revision)
            for i in ids[:2]
        }
        with pytest.raises(ConflictError, match="changed since they were read"):
            store.edit_many("p", edits, "ada", "batch")
        after = {e.id: e for e in store.iter_examples("p")}
        assert after[ids[0]].revision == 0  # the first one was not written either
        assert after[ids[0]].example.messages[0].content == rows[ids[0]].example.messages[0].content
        # Made from the current revisions, the batch is one event that one undo reverses.
        edits = {
            i: ([Message("user", f"new {i}"), Message("assistant", "y")], after[i].revision)
            for i in ids[:2]
        }
        event = store.edit_many("p", edits, "ada", "batch")
        assert event is not None
        assert [store.get_example("p", i).example.messages[0].content for i in ids[:2]] == [
            f"new {ids[0]}",
            f"new {ids[1]}",
        ]
        store.undo("p", event, "ada")
        assert store.get_example("p", ids[0]).example.messages[0].content == RECORDS[0][1]
        assert store.get_example("p", ids[1]).example.messages[0].content == "changed"
    finally:
        store.dispose()


def test_bad_options_fail_before_any_data_is_read(tmp_path: Path, capsys) -> None:
    data = _write(tmp_path / "data.jsonl")
    code, _, err = _run(capsys, "pii", "scan", str(data))
    assert code == 2 and "--out" in err
    code, _, err = _run(capsys, "pii", "scrub", str(data), "--entities", ENTITIES)
    assert code == 2 and "--out DIR" in err
    code, _, err = _run(
        capsys, "pii", "scan", str(data), "--out", str(tmp_path / "f.jsonl"), "--entities", "NOPE"
    )
    assert code == 2 and "NOPE" in err
    assert not (tmp_path / "f.jsonl").exists()


def test_export_is_refused_while_pii_remains_unless_allowed(tmp_path: Path, capsys) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 's.db'}"]
    data = _write(tmp_path / "data.jsonl")
    assert main(["import", str(data), "--project", "p", *db, "--quiet"]) == 0
    findings = ["--out", str(tmp_path / "f.jsonl"), "--entities", ENTITIES]
    assert main(["pii", "scan", "--project", "p", *db, *findings, "--quiet"]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    export = ["export", "--project", "p", *db, "--preset", "openai", "--quiet"]
    code = main([*export, "--out", str(out)])
    assert code == 2 and "PII finding(s) remain" in capsys.readouterr().err
    assert not out.exists()
    code = main([*export, "--out", str(out), "--allow-pii", "--eval-count", "1"])
    assert code == 0, capsys.readouterr().err
    card = (out / "README.md").read_text(encoding="utf-8")
    pii_row = next(line for line in card.splitlines() if line.startswith("| pii |"))
    assert "residual: 4" in pii_row
    # Scrubbed, the same export goes through without the override.
    assert main(["pii", "scrub", "--project", "p", *db, "--entities", ENTITIES, "--quiet"]) == 0
    capsys.readouterr()
    code = main([*export, "--out", str(tmp_path / "out2"), "--eval-count", "1"])
    assert code == 0, capsys.readouterr().err


TICKETS = {
    "allow_list": ["help@example.org"],
    "recognizers": [
        {
            "name": "ticket",
            "supported_entity": "TICKET_ID",
            "patterns": [{"name": "ticket", "regex": r"TCK-\d{6}", "score": 0.9}],
            "context": ["ticket"],
        }
    ],
}


def test_project_configuration_is_saved_used_and_undone(tmp_path: Path, capsys) -> None:
    db_url = f"sqlite:///{tmp_path / 's.db'}"
    db = ["--db", db_url]
    data = _write(
        tmp_path / "data.jsonl",
        [("t", "My ticket TCK-123456 is open; write to help@example.org.", f"Mail {EMAIL}.")],
    )
    assert main(["import", str(data), "--project", "p", *db, "--quiet"]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"recognizers": [{"name": "x", "supported_entity": "X"}]}))
    code, _, err = _run(capsys, "pii", "config", "--project", "p", *db, "--config", str(bad))
    assert code == 2 and "x" in err
    conf = tmp_path / "conf.json"
    conf.write_text(json.dumps(TICKETS))
    code, report, err = _run(capsys, "pii", "config", "--project", "p", *db, "--config", str(conf))
    assert code == 0, err
    assert "TICKET_ID" in report["config"]["entities"]
    out = tmp_path / "f.jsonl"
    code, report, err = _run(capsys, "pii", "scan", "--project", "p", *db, "--out", str(out))
    assert code == 0, err
    types = {r["entity_type"] for r in _lines(out)}
    assert "TICKET_ID" in types and "EMAIL_ADDRESS" in types
    text = "My ticket TCK-123456 is open; write to help@example.org."
    spans = {
        text[r["start"] : r["end"]] for r in _lines(out) if r["location"] == "messages[0].content"
    }
    assert "TCK-123456" in spans and "help@example.org" not in spans  # the allow list holds
    store = Store(db_url)
    try:
        event = store.events("p", kinds=["settings"])[0]
        assert event["payload"]["before"] is None and event["author"]
        store.undo("p", event["id"], "ada")
        assert "pii" not in store.project_settings("p")
    finally:
        store.dispose()


def test_setting_changes_are_atomic_and_undo_refuses_a_later_change(db_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = Store(db_url)
    try:
        store.ensure_project("p", "ada")
        first = store.set_project_setting("p", "pii", {"allow_list": ["a"]}, "ada")
        with ThreadPoolExecutor(8) as pool:
            events = list(
                pool.map(
                    lambda i: store.set_project_setting("p", "pii", {"allow_list": [str(i)]}, "bo"),
                    range(8),
                )
            )
        # every logged before-value is the value the previous committed change left
        logged = sorted(
            (e for e in store.events("p", kinds=["settings"]) if e["id"] in events),
            key=lambda e: e["id"],
        )
        previous = {"allow_list": ["a"]}
        for e in logged:
            assert e["payload"]["before"] == previous
            previous = e["payload"]["after"]
        assert store.project_settings("p")["pii"] == previous
        with pytest.raises(ConflictError, match="changed again"):
            store.undo("p", first, "ada")
        for e in reversed(logged):
            store.undo("p", e["id"], "ada")
        assert store.project_settings("p")["pii"] == {"allow_list": ["a"]}
        store.undo("p", first, "ada")
        assert store.project_settings("p") == {}
    finally:
        store.dispose()
