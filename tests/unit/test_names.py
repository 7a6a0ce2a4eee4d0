"""Project names: the one rule, used by the store (and so by the sidebar and the command line).

Names made before the rule existed still open; new ones are refused with the reason, never fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from curation.cli import main
from curation.errors import InputError, NotFoundError
from curation.names import PROJECT_NAME_MAX, validate_project_name
from curation.store import Store
from curation.store import schema as s
from tests.unit.store_helpers import seed_project, write_alpaca

GOOD = [
    "demo",
    "a",
    "Q3 eval set",
    "my-project_v1.2",
    "Café crème",
    "日本語のデータ",
    "हिन्दी",  # vowel signs are combining marks after a letter
    "Ελληνικά 2024",
    "x" * PROJECT_NAME_MAX,
    "README.md",
]

BAD = [
    ("", "needs a name"),
    (" padded ", "starts or ends with a space"),
    ("trailing ", "starts or ends with a space"),
    ("\tleading tab", "starts or ends with a space"),
    ("x" * (PROJECT_NAME_MAX + 1), f"{PROJECT_NAME_MAX + 1} characters long"),
    ("x" * 300, "use at most 100"),
    ("../../../tmp/x", "path separator"),
    ("a/b", "path separator"),
    ("a\\b", "path separator"),
    (".", "only dots"),
    ("..", "only dots"),
    ("...", "only dots"),
    ("a\x00b", "control or invisible character"),
    ("line\nbreak", "control or invisible character"),
    ("zero\u200bwidth", "control or invisible character"),
    ("right\u202eleft", "control or invisible character"),
    ("emoji 🎉", "not allowed"),
    ("a:b", "not allowed"),
    ("`code`", "not allowed"),
    ("[link](http://x)", "not allowed"),
    ("\u0301accent first", "not allowed"),
]


@pytest.mark.parametrize("name", GOOD)
def test_good_names_are_kept_exactly(name: str) -> None:
    assert validate_project_name(name) == name


@pytest.mark.parametrize(("name", "why"), BAD)
def test_bad_names_are_refused_with_the_reason(name: str, why: str) -> None:
    with pytest.raises(InputError, match=why) as refused:
        validate_project_name(name)
    message = str(refused.value)
    assert "use " in message or "remove" in message  # says what to do instead
    assert "\x00" not in message and "\n" not in message  # the bad value is shown escaped


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def test_the_store_refuses_bad_names_and_creates_nothing(store: Store) -> None:
    for name, why in [(" padded ", "space"), ("../x", "path separator"), ("x" * 300, "at most")]:
        with pytest.raises(InputError, match=why):
            store.create_project(name, "ada")
        with pytest.raises(InputError, match=why):
            store.ensure_project(name, "ada")
    assert store.list_projects() == []
    with pytest.raises(NotFoundError, match="No project named"):
        store.project_id("x" * 300)  # a lookup of a too-long name is not a database error
    store.create_project("Café crème", "ada")
    assert store.list_projects() == ["Café crème"]


def test_projects_with_legacy_names_still_open(store: Store, tmp_path: Path) -> None:
    legacy = ["padded ", "../../../tmp/x", "a/b"]
    with store.engine.begin() as conn:
        for name in legacy:
            conn.execute(
                insert(s.projects).values(
                    name=name, created_at=datetime.now(UTC), created_by="old", settings={}
                )
            )
    for name in legacy:
        assert store.ensure_project(name, "ada") == store.project_id(name)
        ids = seed_project(store, tmp_path, 3, project=name)
        store.set_status(name, ids[:1], "rejected", "ada", "bad")
        assert store.stats(name)["by_status"] == {"active": 2, "rejected": 1}


def test_the_command_line_refuses_a_padded_name(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    path = write_alpaca(tmp_path / "d.jsonl", 3)
    code = main(["import", str(path), "--project", " padded ", "--db", db, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "' padded '" in err and "starts or ends with a space" in err
    st = Store(db)
    assert st.list_projects() == []
    st.dispose()
