"""Export folders and zips: only an earlier export of this app is ever replaced, and only when
asked; any other folder or file is left exactly as it was (core, and the command line).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from curation.cli import main
from curation.errors import ExportError
from curation.export import export_dataset, make_zip
from curation.export.bundle import (
    _move_into_place,
    check_zip_target,
    inspect_export_target,
    save_zip,
    zip_path_for,
)
from curation.formats import read_examples


@pytest.fixture(scope="module")
def examples(shared_data: Path) -> list:
    return read_examples(shared_data / "llamafactory" / "identity.json").examples


def _export(examples: list, out: Path, *, n: int = 20, overwrite: bool = False):  # type: ignore[no-untyped-def]
    return export_dataset(
        examples[:n],
        examples[n : n + 5],
        out,
        "alpaca",
        seed=0,
        parameters={},
        curation_stats={},
        zip=True,
        overwrite=overwrite,
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def test_a_folder_that_is_not_an_export_is_never_emptied(examples: list, tmp_path: Path) -> None:
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "precious.txt").write_text("years of work")
    (out / "sub" / "notes.md").write_text("more")
    before = _snapshot(out)
    for overwrite in (False, True):
        with pytest.raises(ExportError, match=r"not part of an earlier export.*precious\.txt"):
            _export(examples, out, overwrite=overwrite)
    assert _snapshot(out) == before
    assert _leftovers(tmp_path, "mine") == []


def test_an_earlier_export_is_replaced_only_when_asked(examples: list, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _export(examples, out, n=20)
    assert inspect_export_target(out).kind == "earlier-export"
    with pytest.raises(ExportError, match="holds an earlier export"):
        _export(examples, out, n=10)
    assert _snapshot(out)["train.jsonl"].count(b"\n") == first.train_count == 20
    second = _export(examples, out, n=10, overwrite=True)
    assert second.train_count == 10
    assert _snapshot(out)["train.jsonl"].count(b"\n") == 10
    assert _leftovers(tmp_path, "out") == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda out: (out / "notes.txt").write_text("mine"), "notes.txt"),
        (lambda out: (out / "mine").mkdir(), "mine/"),
        (lambda out: (out / "train.jsonl").write_text("hand-edited\n"), "train.jsonl (changed"),
        (lambda out: (out / "link").symlink_to(out / "README.md"), "link"),
    ],
)
def test_an_earlier_export_with_anything_added_or_changed_is_not_replaced(
    examples: list, tmp_path: Path, change, named: str
) -> None:
    out = tmp_path / "out"
    _export(examples, out)
    change(out)
    before = _snapshot(out)
    target = inspect_export_target(out)
    assert target.kind == "not-an-export" and target.refused
    with pytest.raises(ExportError, match=named.replace("(", r"\(")):
        _export(examples, out, overwrite=True)
    assert _snapshot(out) == before


def test_files_links_and_foreign_manifests_are_refused(examples: list, tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        _export(examples, file, overwrite=True)
    assert file.read_text() == "x"

    real = tmp_path / "real"
    _export(examples, real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    before = _snapshot(real)
    with pytest.raises(ExportError, match="is a symbolic link"):
        _export(examples, link, overwrite=True)
    assert _snapshot(real) == before and link.is_symlink()

    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"app": "someone-else", "files": {}}))
    assert inspect_export_target(other).kind == "not-an-export"


def test_new_and_empty_folders_are_written(examples: list, tmp_path: Path) -> None:
    assert inspect_export_target(tmp_path / "new").kind == "new"
    (tmp_path / "empty").mkdir()
    assert inspect_export_target(tmp_path / "empty").kind == "empty"
    assert _export(examples, tmp_path / "empty").train_count == 20
    assert _export(examples, tmp_path / "a" / "b" / "new").train_count == 20


def test_a_file_added_after_the_first_check_stops_the_swap(examples: list, tmp_path: Path) -> None:
    out, staged = tmp_path / "out", tmp_path / "staged"
    _export(examples, out)
    _export(examples, staged, n=5)
    (out / "late.txt").write_text("added while the export was running")
    before = _snapshot(out)
    with pytest.raises(ExportError, match="late.txt"):
        _move_into_place(staged, out, overwrite=True)
    assert _snapshot(out) == before  # put back untouched
    assert staged.is_dir() and _leftovers(tmp_path, "out") == []


def test_a_large_foreign_tree_is_named_by_its_first_entries(tmp_path: Path) -> None:
    out = tmp_path / "big"
    for i in range(50):
        (out / f"d{i:02d}").mkdir(parents=True)
    target = inspect_export_target(out)
    assert target.kind == "not-an-export"
    assert target.foreign == ("d00/", "d01/", "d02/", "d03/", "d04/")


def test_zips_are_replaced_only_when_they_are_an_earlier_exports(
    examples: list, tmp_path: Path
) -> None:
    result = _export(examples, tmp_path / "out")
    assert result.zip_bytes is not None
    path = zip_path_for(tmp_path / "out")
    assert path == tmp_path / "out.zip"
    check_zip_target(path, overwrite=False)  # nothing there yet
    save_zip(result.zip_bytes, path)
    with pytest.raises(ExportError, match="zip of an earlier export"):
        save_zip(b"new", path)
    save_zip(make_zip(tmp_path / "out"), path, overwrite=True)
    assert (
        zipfile.ZipFile(path).namelist() == zipfile.ZipFile(io.BytesIO(result.zip_bytes)).namelist()
    )

    mine = tmp_path / "mine.zip"
    with zipfile.ZipFile(mine, "w") as zf:
        zf.writestr("photos/cat.jpg", b"meow")
    not_a_zip = tmp_path / "notes.zip"
    not_a_zip.write_text("not a zip at all")
    for other in (mine, not_a_zip, tmp_path / "out"):  # a folder named like the zip, too
        before = other.read_bytes() if other.is_file() else None
        with pytest.raises(ExportError, match="not the zip of an earlier export"):
            save_zip(result.zip_bytes, other, overwrite=True)
        assert (other.read_bytes() if other.is_file() else None) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cli_refuses_a_foreign_folder_and_keeps_zips_unless_overwrite(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(shared_data / "llamafactory" / "identity.json")
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    common = ("--preset", "alpaca", "--quiet", "--zip")
    code, text = _cli(capsys, "export", source, "--out", str(out), "--overwrite", *common)
    assert code == 2 and "precious.txt" in text and "never emptied" in text
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]
    assert not (tmp_path / "out.zip").exists()

    fresh = tmp_path / "fresh"
    assert _cli(capsys, "export", source, "--out", str(fresh), *common)[0] == 0
    first_zip = (tmp_path / "fresh.zip").read_bytes()
    # the folder and the zip are both earlier exports now: refused without --overwrite
    code, text = _cli(capsys, "export", source, "--out", str(fresh), *common)
    assert code == 2 and "earlier export" in text and "--overwrite" in text
    # without the folder, the zip alone still stops the export before anything is written
    for p in sorted(fresh.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    fresh.rmdir()
    code, text = _cli(capsys, "export", source, "--out", str(fresh), *common)
    assert code == 2 and "fresh.zip" in text and not fresh.exists()
    code, _ = _cli(
        capsys, "export", source, "--out", str(fresh), "--seed", "3", "--overwrite", *common
    )
    assert code == 0 and (tmp_path / "fresh.zip").read_bytes() != first_zip

    (tmp_path / "other.zip").write_text("someone's file")
    code, text = _cli(
        capsys, "pipeline", source, "--out", str(tmp_path / "other"), "--overwrite", *common
    )
    assert code == 2 and "not the zip of an earlier export" in text
    assert (tmp_path / "other.zip").read_text() == "someone's file"
    assert not (tmp_path / "other").exists()
