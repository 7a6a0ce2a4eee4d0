"""Alembic migrations: frozen revisions, legacy databases adopted, head equals the live tables."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from curation.store import Store
from curation.store import migrations as m
from curation.store import schema as s

# The newest revision this app ships (one place to change when a revision is added).
HEAD = "0008"


def _v1_by_frozen_revision(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(m._config(conn), "0001")
        conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
        conn.execute(
            text(
                "INSERT INTO projects (name, created_at, created_by, settings) "
                "VALUES ('old', CURRENT_TIMESTAMP, 'ada', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO examples (project_id, example_id, position, source, raw, messages,"
                " meta, status, revision, content_hash, search_text, answer_chars, updated_at)"
                " VALUES (1, 'e1', 0, 'f.jsonl', '{}', '[]', '{\"lang\": \"en\"}', 'active', 0,"
                " 'h', 'hi', 2, CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()


def test_upgrade_from_frozen_v1_keeps_data_and_matches_live_tables(db_url: str) -> None:
    _v1_by_frozen_revision(db_url)
    st = Store(db_url)
    assert st.schema_version() == int(HEAD)
    assert st.list_projects() == ["old"]
    with st.engine.connect() as conn:
        assert conn.execute(text("SELECT example_id FROM examples")).scalars().all() == ["e1"]
        # the 0003 data step indexed the v1 example's metadata
        assert conn.execute(text("SELECT name FROM metadata_fields")).scalars().all() == ["lang"]
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
        assert compare_metadata(MigrationContext.configure(conn), s.metadata) == []
    st.dispose()


def test_upgrade_from_0003_adds_step_results_and_keeps_runs(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(m._config(conn), "0003")
        conn.execute(text("INSERT INTO schema_version (version) VALUES (3)"))
        conn.execute(
            text(
                "INSERT INTO projects (name, created_at, created_by, settings) "
                "VALUES ('old', CURRENT_TIMESTAMP, 'ada', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO step_runs (project_id, step, params, result, stats, author,"
                " created_at) VALUES (1, 'dedup', '{}', '{}', '{}', 'ada', CURRENT_TIMESTAMP)"
            )
        )
        assert not inspect(conn).has_table("step_results")
    engine.dispose()
    st = Store(db_url)
    with st.engine.connect() as conn:
        assert inspect(conn).has_table("step_results")
        columns = {c["name"] for c in inspect(conn).get_columns("step_results")}
        assert {"run_id", "example_pk", "example_id", "code", "score", "reason"} <= columns
        indexes = {i["name"] for i in inspect(conn).get_indexes("step_results")}
        assert {"ix_step_results_run_code", "ix_step_results_example"} <= indexes
        assert compare_metadata(MigrationContext.configure(conn), s.metadata) == []
    assert st.latest_step_run("old", "dedup") is not None
    assert st.step_result_counts("old", "quality") == {}
    st.dispose()


def test_legacy_v1_database_is_stamped_and_upgraded(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        s.MIGRATIONS[0](conn)
        conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
    engine.dispose()
    st = Store(db_url)
    with st.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
        assert compare_metadata(MigrationContext.configure(conn), s.metadata) == []
    assert st.schema_version() == int(HEAD)
    st.dispose()


def test_newer_alembic_revision_is_refused(db_url: str) -> None:
    import pytest

    from curation.errors import StoreError

    st = Store(db_url)
    with st.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    st.dispose()
    with pytest.raises(StoreError, match=f"revision 0099, newer than this app's {HEAD}"):
        Store(db_url)


def test_cli_db_current_and_upgrade(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from curation.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    _v1_by_frozen_revision(url)
    assert main(["db", "current", "--url", url]) == 0
    assert f"at revision 0001 (app head {HEAD})" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", url]) == 0
    assert f"upgraded from 0001 to {HEAD}" in capsys.readouterr().out
    assert main(["db", "current", "--url", url]) == 0
    assert f"at revision {HEAD} (app head {HEAD})" in capsys.readouterr().out


def _open(url: str) -> int:
    st = Store(url)
    version = st.schema_version()
    st.dispose()
    return version


def test_two_processes_open_a_fresh_database_at_once(db_url: str) -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(_open, [db_url, db_url]))
    assert results == [int(HEAD), int(HEAD)]
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar() == 1
    engine.dispose()


def test_upgrade_from_0003_adds_the_pii_findings_table(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(m._config(conn), "0003")
        assert not inspect(conn).has_table("pii_findings")
    engine.dispose()
    st = Store(db_url)
    try:
        with st.engine.connect() as conn:
            cols = {c["name"] for c in inspect(conn).get_columns("pii_findings")}
            assert MigrationContext.configure(conn).get_current_revision() == HEAD
        assert {"example_pk", "location", "finding_id", "text_sha256", "state"} <= cols
    finally:
        st.dispose()


def _job_row(state: str) -> dict[str, object]:
    return {
        "project_id": 1,
        "step": "dedup",
        "params": "{}",
        "state": state,
        "progress_stage": "",
        "progress_done": 0,
        "progress_message": "",
        "author": "ada",
        "cancel_requested": False,
    }


_INSERT_JOB = text(
    "INSERT INTO jobs (project_id, step, params, state, progress_stage, progress_done,"
    " progress_message, author, created_at, cancel_requested) VALUES (:project_id, :step,"
    " :params, :state, :progress_stage, :progress_done, :progress_message, :author,"
    " CURRENT_TIMESTAMP, :cancel_requested)"
)


def test_0006_adds_jobs_with_one_active_job_per_step_and_project(db_url: str) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    _v1_by_frozen_revision(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(m._config(conn), "0003")
        assert not conn.dialect.has_table(conn, "jobs")
    engine.dispose()

    st = Store(db_url)  # upgrades 0003 -> head
    with st.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), s.metadata) == []
        assert st.list_projects() == ["old"]
    with st.engine.begin() as conn:
        for state in ("done", "failed", "cancelled", "queued"):  # history does not count
            conn.execute(_INSERT_JOB, _job_row(state))
    for state in ("queued", "running"):
        with pytest.raises(IntegrityError), st.engine.begin() as conn:
            conn.execute(_INSERT_JOB, _job_row(state))
    with st.engine.begin() as conn:
        conn.execute(_INSERT_JOB, {**_job_row("running"), "step": "pii"})  # another step is free
        conn.execute(text("UPDATE jobs SET state = 'done' WHERE state = 'queued'"))
        conn.execute(_INSERT_JOB, _job_row("running"))  # the step is free again
        counts = dict(conn.execute(text("SELECT state, count(*) FROM jobs GROUP BY state")).all())
    assert counts == {"done": 2, "failed": 1, "cancelled": 1, "running": 2}
    st.dispose()
