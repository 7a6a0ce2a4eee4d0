"""Export page, writing: a folder that is not an earlier export is never written to, replacing an
earlier one needs a confirmation, and a download-only export leaves no folder behind.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from curation.formats import read_examples
from curation.store import Store
from tests.app.markup import shown
from tests.app.waiting import finish_jobs
from tests.legacy import legacy_project

PAGE = "pages/export_page.py"


def _project(store: Store, shared_data: Path, name: str = "p") -> None:
    legacy_project(store, name)
    store.add_import(name, read_examples(shared_data / "llamafactory" / "identity.json"), "ada")


def test_a_folder_holding_other_files_is_refused(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    _project(store, shared_data)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("years of work")
    at = open_page(PAGE)
    at.text_input(key="export_folder").input(str(out)).run()
    assert any("precious.txt" in shown(w.value) for w in at.warning)
    assert at.button(key="export_run").disabled
    assert not [c for c in at.checkbox if c.key == "export_replace"]
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_replacing_an_earlier_export_needs_the_confirmation(
    open_page, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    _project(store, shared_data)
    out = tmp_path / "out"
    at = open_page(PAGE)
    at.selectbox(key="export_preset").set_value("openai").run()
    at.text_input(key="export_folder").input(str(out)).run()
    assert not [c for c in at.checkbox if c.key == "export_replace"]  # a new folder: no question
    at.button(key="export_run").click().run()
    finish_jobs(at, store)
    assert not at.exception, at.exception
    assert any(
        shown(s.value).startswith("Wrote ") and str(out) in shown(s.value) for s in at.success
    )
    first = (out / "train.jsonl").read_bytes()

    at.number_input(key="export_seed").set_value(5).run()
    assert at.button(key="export_run").disabled  # an earlier export is there now
    at.checkbox(key="export_replace").check().run()
    assert not at.button(key="export_run").disabled
    at.button(key="export_run").click().run()
    finish_jobs(at, store)
    assert not at.exception, at.exception
    assert (out / "train.jsonl").read_bytes() != first  # replaced by the new seed's split
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out"]  # no temp folders left


def test_download_only_export_builds_in_a_job_folder_that_keeps_only_the_zip(
    open_page, store: Store, shared_data: Path, home: Path
) -> None:
    name = "../../escape-me"  # a name from before project names were checked
    _project(store, shared_data, name)
    at = open_page(PAGE, project=name)
    at.selectbox(key="export_preset").set_value("openai").run()
    at.button(key="export_run").click().run()
    finish_jobs(at, store, name)
    assert not at.exception, at.exception

    message = " ".join(shown(s.value) for s in at.success)
    assert "ready to download as escape-me-openai.zip" in message
    assert "Wrote" not in message and str(home) not in message
    done = at.session_state["export_result"]
    assert done["zip_name"] == "escape-me-openai.zip" and done["out_dir"] is None
    # the build folder is gone: the job's folder holds the zip alone, and nothing escaped it
    (job_dir,) = (home / "exports").iterdir()
    assert [p.name for p in job_dir.iterdir()] == ["escape-me-openai.zip"]
    assert sorted(p.name for p in home.parent.iterdir() if p.name.startswith("escape")) == []
    names = zipfile.ZipFile(io.BytesIO(Path(done["zip_path"]).read_bytes())).namelist()
    assert {n.split("/", 1)[0] for n in names} == {"escape-me-openai"}
    assert {n.split("/", 1)[1] for n in names} >= {"train.jsonl", "manifest.json"}
