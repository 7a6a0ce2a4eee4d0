"""What every `curation` command shares: the command registry, store and target options,
the author default, and progress bars on stderr."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tqdm import tqdm

from curation.errors import CurationError
from curation.store import Store

Command = Callable[[argparse.Namespace], dict[str, Any]]
PRINTERS: dict[str, Callable[[dict[str, Any]], None]] = {}
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(
    name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Command], Command]:
    """Register `run(args) -> report` with the function that declares its arguments."""

    def register(fn: Command) -> Command:
        COMMANDS[name] = (fn, configure, help_text)
        return fn

    return register


def default_author() -> str:
    return os.environ.get("CURATION_USER") or getpass.getuser() or "cli"


def _store(args: argparse.Namespace) -> Store:
    return Store(args.db)


def _common(parser: argparse.ArgumentParser, *, project: bool = True) -> None:
    if project:
        parser.add_argument("--project", required=True, help="project name in the store")
    parser.add_argument(
        "--db", default=None, help="database URL (default: CURATION_DB_URL or ./.curation)"
    )
    parser.add_argument("--author", default=None, help="name recorded in the audit log")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


class Progress:
    """A tqdm bar per stage on stderr; callable as progress(done, total) or (stage, done, total)."""

    def __init__(self, enabled: bool, desc: str = "") -> None:
        self.enabled = enabled
        self.desc = desc
        self.bars: dict[str, tqdm] = {}

    def __call__(self, *args: Any) -> None:
        if not self.enabled:
            return
        stage, done, total = (self.desc, *args) if len(args) == 2 else args
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False)
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


# ---- what dedup and export work on: a file or a project ------------------------------------


def _target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        nargs="?",
        default=None,
        help="a data file (or, when no such file exists, the name of a project)",
    )
    p.add_argument("--project", default=None, help="the project in the store to work on")


def _project_names(args: argparse.Namespace) -> list[str]:
    """Projects in the store `--db` names; none when its SQLite file does not exist yet."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from curation.store import default_db_url

    url = args.db or default_db_url()
    try:
        parsed = make_url(url)
    except ArgumentError:  # Store() below says what is wrong with it
        parsed = None
    if (
        parsed
        and parsed.get_backend_name() == "sqlite"
        and not os.path.exists(parsed.database or "")
    ):
        return []  # asking must not create an empty store as a side effect
    store = Store(url)
    try:
        return store.list_projects()
    finally:
        store.dispose()


def _resolve_target(args: argparse.Namespace) -> str:
    """Whether `dedup` / `export` work on a file or a project: returns "file" or "project".

    `--project NAME` always means the project. A positional target means the file when it
    exists, else the project; a name that is both an existing file and a project is refused
    rather than guessed (a path with a separator, such as ``./README.md``, is always the file).
    `args.target` is set to the file or project name.
    """
    if args.project is not None:
        if args.target is not None:
            raise CurationError(
                f"Give either a file ({args.target!r}) or --project {args.project!r}, not both."
            )
        args.target = args.project
        return "project"
    target = args.target
    if target is None:
        raise CurationError("Name what to work on: a data file, or --project NAME.")
    is_path = os.sep in target or "/" in target or bool(os.altsep and os.altsep in target)
    if os.path.exists(target):
        if is_path or target not in _project_names(args):
            return "file"
        raise CurationError(
            f"{target!r} is both a file here and a project in the store. Use --project "
            f"{shlex.quote(target)} for the project, or ./{target} for the file."
        )
    names = _project_names(args)
    if not is_path and target in names:
        return "project"
    known = ", ".join(names) or "none yet"
    raise CurationError(
        f"{target!r} is neither an existing file nor a project in the store (known projects: "
        f"{known}). Check the path, or name a project with --project NAME."
    )


def _listed(value: str | None) -> list[str] | None:
    """A comma-separated option as a list (None when not given)."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@contextlib.contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Store]:
    store = _store(args)
    try:
        yield store
    finally:
        store.dispose()


def _write_jsonl(path: str, rows: Sequence[dict[str, Any]]) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
