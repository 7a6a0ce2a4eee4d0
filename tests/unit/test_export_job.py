"""Export as a background job: parameters checked at submit, the same files as a direct export,
a download-only export kept as its zip alone, a blocked export reported with its examples, a cancel
during the split writing nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from curation.errors import JobError
from curation.export.from_project import export_project
from curation.export.job import exports_dir, run_export_job
from curation.formats import read_examples
from curation.jobs import Worker, list_jobs, submit
from curation.jobs.worker import Cancelled
from curation.progress import ProgressUpdate
from curation.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture()
def store(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("CURATION_HOME", str(tmp_path / "home"))
    st = Store(db_url)
    st.create_project("p", "ada")
    st.add_import("p", read_examples(SAMPLE / "identity.json"), "ada")
    return st


def _run(store: Store, params: dict[str, Any]) -> Any:
    job = submit(store, "p", "export", params, author="bob")
    finished = Worker(store, progress_every=0).run_once()
    assert finished is not None and finished.id == job.id
    return finished


def test_a_folder_export_writes_what_a_direct_export_writes(store: Store, tmp_path: Path) -> None:
    settings = {"preset": "openai", "seed": 3, "eval_fraction": 0.2}
    finished = _run(store, {"settings": settings, "out_dir": str(tmp_path / "job")})
    assert finished.state == "done" and finished.result["ok"], finished
    direct = export_project(
        store, "p", tmp_path / "direct", "openai", author="ada", seed=3, eval_fraction=0.2
    )
    for name in ("train.jsonl", "validation.jsonl"):
        assert (tmp_path / "job" / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()
    result = finished.result
    assert (result["train"], result["eval"]) == (direct.train_count, direct.eval_count)
    lines = (tmp_path / "job" / "train.jsonl").read_text().splitlines()
    assert result["train"] == len(lines) > 0
    assert result["out_dir"] == str(tmp_path / "job")
    assert {r["name"] for r in result["readiness"]} >= {"eval size"}
    json.dumps(result)  # the jobs table holds JSON
    exports = [e for e in store.events("p", kinds=["export"]) if e["author"] == "bob"]
    assert len(exports) == 1
    # the page's download: the zip of the folder's files
    names = zipfile.ZipFile(io.BytesIO(Path(result["zip_path"]).read_bytes())).namelist()
    assert {n.rsplit("/", 1)[-1] for n in names} >= {"train.jsonl", "manifest.json"}


def test_a_download_only_export_keeps_the_zip_alone(store: Store) -> None:
    finished = _run(store, {"settings": {"preset": "trl-messages"}, "out_dir": None})
    assert finished.state == "done" and finished.result["ok"], finished
    result = finished.result
    assert result["out_dir"] is None and result["zip_name"] == "p-trl-messages.zip"
    (job_dir,) = exports_dir().iterdir()
    assert [p.name for p in job_dir.iterdir()] == ["p-trl-messages.zip"]
    archive = zipfile.ZipFile(job_dir / "p-trl-messages.zip")
    train = archive.read("p-trl-messages/train.jsonl").decode().splitlines()
    assert len(train) == result["train"] and all("messages" in json.loads(t) for t in train)


def test_an_export_the_preset_cannot_carry_is_reported_with_its_examples(
    store: Store, tmp_path: Path
) -> None:
    store.add_import("p", read_examples(SAMPLE / "glaive_toolcall_en_demo.json"), "ada")
    out = tmp_path / "out"
    finished = _run(store, {"settings": {"preset": "alpaca"}, "out_dir": str(out)})
    assert finished.state == "done" and finished.result["ok"] is False
    assert "cannot be written as alpaca" in finished.result["message"]
    errors = finished.result["errors"]
    assert {e["code"] for e in errors} == {"tool_calls_unsupported", "multi_turn_unsupported"}
    assert len(errors) <= 500 and all(e["id"] for e in errors)
    assert not out.exists() and not any(exports_dir().iterdir())
    skipping = {"preset": "alpaca", "skip_unrepresentable": True}
    finished = _run(store, {"settings": skipping, "out_dir": str(out)})
    assert finished.state == "done" and finished.result["ok"]
    assert (out / "train.jsonl").exists()


def test_a_cancel_during_the_split_writes_nothing(store: Store, tmp_path: Path) -> None:
    def progress(update: ProgressUpdate) -> None:
        raise Cancelled("cancel asked")

    out = tmp_path / "out"
    params = {"settings": {"preset": "openai"}, "out_dir": str(out)}
    with pytest.raises(Cancelled):
        run_export_job(store, "p", params, progress, lambda: False, author="bob")
    assert not out.exists() and not any(exports_dir().iterdir())
    assert store.events("p", kinds=["export"]) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "needs 'settings' with a 'preset'"),
        ({"settings": {"preset": "nope"}}, "nope"),
        ({"settings": {"preset": "openai", "eval_fraction": 1.5}}, "eval_fraction"),
        ({"settings": {"preset": "openai", "colour": 1}}, "unknown export option"),
        ({"settings": {"preset": "openai"}, "zip": True}, "Unknown export job parameter"),
        ({"settings": {"preset": "openai"}, "card": {"title": "x"}}, "Unknown card field"),
        ({"settings": {"preset": "openai"}, "sources": "a.json"}, "'sources' is a list"),
        ({"settings": {"preset": "openai"}, "metadata": ["x"]}, "'metadata' maps"),
        ({"settings": {"preset": "openai"}, "out_dir": " "}, "'out_dir' is a folder"),
    ],
)
def test_bad_parameters_are_refused_at_submit(
    store: Store, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(JobError, match=message):
        submit(store, "p", "export", params, author="bob")
    assert list_jobs(store, "p") == []
