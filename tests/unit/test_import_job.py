"""Import as a background job: parameters checked at submit, files stored one by one, an
unreadable file reported while the others import, uploads deleted, a cancel keeps what was stored."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from curation.errors import JobError
from curation.formats.job import (
    STALE_UPLOAD_SECONDS,
    mapping_from_dict,
    mapping_to_dict,
    run_import_job,
    save_upload,
    uploads_dir,
)
from curation.formats.mapping import ColumnMapping, DropRule
from curation.jobs import Worker, list_jobs, submit
from curation.jobs.worker import Cancelled
from curation.progress import ProgressUpdate
from curation.store import Store


@pytest.fixture()
def store(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    st = Store(db_url)
    st.create_project("p", "ada")
    return st


def _alpaca(n: int, word: str) -> bytes:
    rows = [
        {"instruction": f"{word} question {i}", "output": f"{word} answer {i}"} for i in range(n)
    ]
    return json.dumps(rows).encode()


def _jsonl(n: int, word: str) -> bytes:
    rows = [{"prompt": f"{word} prompt {i}", "completion": f"{word} reply {i}"} for i in range(n)]
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_files_are_stored_and_an_unreadable_one_is_reported(store: Store) -> None:
    paths = [
        save_upload("alpaca.json", _alpaca(3, "first")),
        save_upload("broken.json", b"garbage{{{"),
        save_upload("pairs.jsonl", _jsonl(2, "second")),
    ]
    assert all(Path(p).parent.parent == uploads_dir() for p in paths)
    job = submit(store, "p", "import", {"files": [{"path": p} for p in paths]}, author="bob")
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.id == job.id and finished.state == "done"
    summaries = finished.result["summaries"]
    assert [s["file_name"] for s in summaries] == ["alpaca.json", "broken.json", "pairs.jsonl"]
    assert summaries[0]["imported"] == 3 and summaries[2]["imported"] == 2
    assert "not valid JSON" in summaries[1]["error"] and "imported" not in summaries[1]
    assert store.count_examples("p") == 5
    imports = store.events("p", kinds=["import"])
    assert len(imports) == 2 and {e["author"] for e in imports} == {"bob"}
    assert not any(Path(p).exists() for p in paths)  # uploads deleted when the job ended
    assert not any(uploads_dir().iterdir())


def test_a_file_outside_the_uploads_folder_is_left_alone(store: Store, tmp_path: Path) -> None:
    own = tmp_path / "mine.json"
    own.write_bytes(_alpaca(2, "kept"))
    submit(
        store, "p", "import", {"files": [{"path": str(own), "name": "shown.json"}]}, author="bob"
    )
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.state == "done"
    assert finished.result["summaries"][0]["file_name"] == "shown.json"
    assert own.exists()


def test_the_same_file_twice_is_refused_unless_reimport_is_allowed(store: Store) -> None:
    seen = []
    for allow, data in (
        (False, _alpaca(2, "again")),
        (False, _alpaca(2, "again")),
        (True, _alpaca(2, "again")),
    ):
        params = {"files": [{"path": save_upload("a.json", data)}], "allow_reimport": allow}
        submit(store, "p", "import", params, author="bob")
        finished = Worker(store, progress_every=0).run_once()
        assert finished is not None and finished.state == "done"
        seen.append(finished.result["summaries"][0])
    assert [s["already_imported"] for s in seen] == [False, True, False]
    assert [s["imported"] for s in seen] == [2, 0, 0]  # a re-import adds only new ids
    assert seen[2]["skipped_reasons"] == {"already in project": 2}
    assert store.count_examples("p") == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "needs 'files'"),
        ({"files": []}, "needs 'files'"),
        ({"files": [{"name": "x"}]}, "needs a 'path'"),
        ({"files": [{"path": "/no/such/file.json"}]}, "No file or folder"),
        ({"files": [{"path": "."}], "reimport": True}, "Unknown import job parameter"),
        ({"files": [{"path": ".", "colour": 1}]}, "Unknown import file key"),
        ({"files": [{"path": ".", "format": "yaml"}]}, "Unknown format 'yaml'"),
        ({"files": [{"path": ".", "min_margin": -1}]}, "min_margin"),
        ({"files": [{"path": ".", "min_margin": True}]}, "min_margin"),
        ({"files": [{"path": ".", "mapping": ["prompt"]}]}, "column mapping is an object"),
        ({"files": [{"path": ".", "mapping": {"nope": "x"}}]}, "Bad column mapping"),
    ],
)
def test_bad_parameters_are_refused_at_submit(
    store: Store, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(JobError, match=message):
        submit(store, "p", "import", params, author="bob")
    assert list_jobs(store, "p") == []


def test_a_mapping_survives_the_job_parameters() -> None:
    mapping = ColumnMapping(
        user=["question", "context"],
        assistant="answer",
        system="persona",
        user_template=None,
        drop_where=(DropRule("split", ("test", "dev")),),
    )
    data = json.loads(json.dumps(mapping_to_dict(mapping)))  # through the jobs table's JSON
    assert mapping_from_dict(data) == mapping
    assert mapping_to_dict(None) is None and mapping_from_dict(None) is None


def test_a_mapped_file_imports_through_the_job(store: Store) -> None:
    rows = [{"q": f"question {i}", "a": f"answer {i}", "split": s} for i, s in enumerate("ttd")]
    path = save_upload("qa.jsonl", "\n".join(json.dumps(r) for r in rows).encode())
    mapping = ColumnMapping(user=["q"], assistant="a", drop_where=(DropRule("split", ("d",)),))
    params = {"files": [{"path": path, "mapping": mapping_to_dict(mapping)}]}
    submit(store, "p", "import", params, author="bob")
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.state == "done", finished
    assert finished.result["summaries"][0]["imported"] == 2
    prompts = sorted(s.example.prompt for s in store.iter_examples("p"))
    assert prompts == ["question 0", "question 1"]


def test_a_cancel_keeps_the_files_stored_before_it(store: Store) -> None:
    paths = [save_upload("one.json", _alpaca(2, "one")), save_upload("two.json", _alpaca(2, "two"))]
    stages: list[str] = []

    def progress(update: ProgressUpdate) -> None:
        stages.append(update.stage)
        if update.stage == "reading two.json":
            raise Cancelled("cancel asked")

    with pytest.raises(Cancelled):
        run_import_job(
            store, "p", {"files": [{"path": p} for p in paths]}, progress, lambda: False, author="b"
        )
    assert store.count_examples("p") == 2
    assert {s.example.prompt for s in store.iter_examples("p")} == {
        "one question 0",
        "one question 1",
    }
    assert "storing one.json" in stages and "storing two.json" not in stages
    assert not any(Path(p).exists() for p in paths)


def test_uploads_get_their_own_folder_and_old_ones_are_cleared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURATION_HOME", str(tmp_path))
    first, second = save_upload("a.json", b"[]"), save_upload("a.json", b"[]")
    assert first != second and Path(first).read_bytes() == b"[]"
    assert save_upload("../../escape.json", b"[]").startswith(str(uploads_dir()))
    old = time.time() - STALE_UPLOAD_SECONDS - 60
    os.utime(Path(first).parent, (old, old))
    save_upload("b.json", b"[]")
    assert not Path(first).exists() and Path(second).exists()
