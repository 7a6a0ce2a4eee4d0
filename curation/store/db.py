"""The store's connection layer: engines, read and write transactions, and safe error messages.

Writes take their lock when they begin (SQLite `BEGIN IMMEDIATE`; row locks on PostgreSQL), and a
database error leaves as a `StoreError` that shows neither SQL parameters nor passwords.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, StatementError

from curation.errors import ConflictError, StoreError
from curation.formats.jsontext import has_long_digit_run

WRITE = "curation_write"  # execution option that makes a transaction take the write lock
SQLITE_BUSY_MS = 10_000  # how long a SQLite writer waits for the write lock before giving up
# PostgreSQL advisory lock key held while migrating, so two apps starting at once do not race.
MIGRATION_LOCK = 0x6375726174696F6E  # "curation"
_PG_CONFLICT_STATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock wait


def safe_url(url: str | URL) -> str:
    """`url` as it may be shown to people: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show nothing of it that could hold a secret
        return "<unreadable database URL>"


def create_store_engine(url: str) -> Engine:
    """An engine for the store at `url` that never logs or prints SQL parameters.

    SQLite files get WAL mode, a busy timeout and foreign keys, and SQLAlchemy's documented
    pysqlite recipe: the driver's own (legacy) BEGIN is switched off and the `begin` event emits
    ``BEGIN IMMEDIATE`` for writes (so a write's reads happen under the write lock) and a plain
    deferred ``BEGIN`` for reads (so WAL readers are never serialised behind writers).
    """
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        pool_pre_ping=not is_sqlite,  # a server may restart under a long-running app; a file cannot
        hide_parameters=True,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
    )
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def json_dumps(value: Any) -> str:
    # orjson is several times faster than json on the import hot path (raw + messages + meta).
    # It refuses integers beyond 64 bits and nesting beyond 254 levels, which records may hold
    # (`curation.formats` admits up to 400): the standard library writes both exactly.
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(
            value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
        )


def _json_default(value: Any) -> Any:
    """What orjson writes natively and the standard library does not: dates and times."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_loads(data: str | bytes) -> Any:
    # orjson reads integers beyond 64 bits as floats: such text goes to the standard library.
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if has_long_digit_run(raw):
        return json.loads(raw)  # exact for integers of any size
    return orjson.loads(raw)


def sqlite_pragmas(dbapi_conn: Any, _record: Any = None) -> None:
    """WAL, the busy timeout, NORMAL sync and foreign keys on a new SQLite connection."""
    cur = dbapi_conn.cursor()
    # the timeout first: switching a fresh file to WAL takes a lock that another process
    # opening the same file at the same moment must wait for, not fail on
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_connect(dbapi_conn: Any, record: Any) -> None:
    sqlite_pragmas(dbapi_conn, record)
    # pysqlite's legacy mode runs SELECTs outside any transaction; SQLAlchemy emits BEGIN instead.
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads; one consistent snapshot on SQLite, no lock taken."""
    with translate_errors(engine.url), engine.connect() as conn:
        yield conn


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back on any error.

    On SQLite the write lock is taken at BEGIN, so every read inside sees the latest committed
    state and nothing can change it before the commit. On PostgreSQL (READ COMMITTED) callers
    lock the rows they read with ``SELECT ... FOR UPDATE`` (`lock_rows` below).
    """
    with translate_errors(engine.url), engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn


def take_migration_lock(conn: Connection) -> None:
    """Serialise schema migrations between processes (SQLite's write lock already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


@contextmanager
def translate_errors(url: str | URL) -> Iterator[None]:
    """Turn database errors into `StoreError`s that say what happened, without leaking."""
    try:
        yield
    except DBAPIError as exc:
        raise describe_db_error(exc, url) from None
    except StatementError as exc:  # a value the driver could not even send (e.g. not JSON)
        raise StoreError(
            f"The database could not store a value ({_first_line(exc.orig)}); nothing was saved."
        ) from None


def describe_db_error(exc: DBAPIError, url: str | URL) -> StoreError:
    """A `StoreError` for `exc`: the kind of failure and the driver's first line, no parameters.

    The first line of a driver message names the problem ("value too long for type character
    varying(200)"); PostgreSQL puts the offending values in later DETAIL lines, which are dropped.
    """
    orig = exc.orig
    first = _first_line(orig)
    kind = type(orig).__name__
    if exc.statement is None:
        return StoreError(f"Cannot open the database at {safe_url(url)}: {first} ({kind}).")
    if exc.connection_invalidated:
        return StoreError(
            f"The connection to the database at {safe_url(url)} was lost ({first}); "
            "nothing was saved, try again."
        )
    state = getattr(orig, "sqlstate", None)
    if state in _PG_CONFLICT_STATES:
        return ConflictError(
            "Another change to the same data was being saved at the same moment, so this one "
            "was not saved; reload and try again."
        )
    lowered = first.lower()
    if "database is locked" in lowered or "database is busy" in lowered:
        return StoreError(
            f"The database stayed busy with other changes for over {SQLITE_BUSY_MS // 1000} s, "
            "so nothing was saved; try again."
        )
    return StoreError(f"The database refused the operation: {first} ({kind}); nothing was saved.")


def _first_line(orig: BaseException | None) -> str:
    if orig is None:
        return "unknown error"
    line = (str(orig).strip().splitlines() or [type(orig).__name__])[0].strip()
    return line if len(line) <= 200 else line[:197] + "..."


__all__ = [
    "create_store_engine",
    "describe_db_error",
    "json_dumps",
    "reading",
    "safe_url",
    "sqlite_pragmas",
    "take_migration_lock",
    "translate_errors",
    "writing",
]
