"""Store errors on real databases leak nothing: no SQL parameters (record text), no passwords.

A database refusal becomes a `StoreError` that says what happened; URLs show the password masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from curation.errors import StoreError
from curation.formats import read_examples
from curation.records import Message
from curation.store import Store
from tests.unit.store_helpers import seed_project

SECRET = "078-05-1120"  # a social security number inside a record
PASSWORD = "s3cret-pw"


@pytest.fixture()
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.dispose()


def _records_with_secret(tmp_path: Path, n: int = 3) -> Path:
    path = tmp_path / "people.jsonl"
    rows = [
        {"instruction": f"Who is person {i}?", "output": f"Person {i}, SSN {SECRET}."}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _assert_clean(exc: BaseException) -> None:
    text = str(exc)
    assert SECRET not in text
    assert PASSWORD not in text
    assert "[SQL" not in text and "parameters" not in text.lower()
    # no raw database error chained on for a traceback to print
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


def test_a_refused_insert_shows_no_record_text(store: Store, tmp_path: Path) -> None:
    store.create_project("p", "ada")
    result = read_examples(_records_with_secret(tmp_path))
    result.examples[-1].source = None  # type: ignore[assignment]  # violates NOT NULL
    with pytest.raises(StoreError) as refused:
        store.add_import("p", result, "ada")
    _assert_clean(refused.value)
    assert "nothing was saved" in str(refused.value).lower()
    assert store.count_examples("p") == 0


def test_a_value_postgresql_refuses_shows_no_record_text(
    new_postgres_db: Callable[[], str], tmp_path: Path
) -> None:
    st = Store(new_postgres_db())
    try:
        st.create_project("p", "ada")
        result = read_examples(_records_with_secret(tmp_path))
        result.examples[0].id = "x" * 300  # longer than the id column holds
        with pytest.raises(StoreError) as refused:
            st.add_import("p", result, "ada")
        _assert_clean(refused.value)
        assert st.count_examples("p") == 0
    finally:
        st.dispose()


def test_an_edit_with_a_nul_character_is_refused_alike_on_both_databases(
    store: Store, tmp_path: Path
) -> None:
    ex_id = seed_project(store, tmp_path, 2)[0]
    with pytest.raises(StoreError, match=r"NUL") as refused:
        store.edit_messages(
            "p",
            ex_id,
            [Message("user", f"SSN {SECRET}\x00"), Message("assistant", "ok")],
            "ada",
            "edit",
            expected_revision=0,
        )
    _assert_clean(refused.value)
    assert "user turn 1" in str(refused.value)
    assert store.get_example("p", ex_id).revision == 0


def test_schema_too_new_masks_the_password(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        url = url.set(password=PASSWORD)  # trust auth: the server ignores it, the URL keeps it
    st = Store(url.render_as_string(hide_password=False))
    from curation.store import schema as s

    with st.engine.begin() as conn:
        conn.execute(s.schema_version.update().values(version=99))
    st.dispose()
    with pytest.raises(StoreError, match="newer than this app") as refused:
        Store(url.render_as_string(hide_password=False))
    _assert_clean(refused.value)
    if url.get_backend_name() != "sqlite":
        assert "***" in str(refused.value)
    else:
        assert str(url.database) in str(refused.value)


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    url = f"postgresql+psycopg://ada:{PASSWORD}@127.0.0.1:1/nothing"
    with pytest.raises(StoreError, match="Cannot open the database") as refused:
        Store(url)
    _assert_clean(refused.value)
    assert "postgresql+psycopg://ada:***@127.0.0.1:1/nothing" in str(refused.value)
