"""What every `curation` command shares: the report command, store and target options, the
author default, a file-or-project target and progress bars on stderr."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from functools import wraps
from types import SimpleNamespace
from typing import Any, TypeVar

import click
from tqdm import tqdm

from curation.errors import CurationError
from curation.progress import ProgressUpdate
from curation.store import Store

Args = SimpleNamespace
"""A command's parsed options and arguments, by their Python names (``args.map_user``)."""
Report = dict[str, Any]
Run = Callable[[Args], Report]
Printer = Callable[[Report], None]
F = TypeVar("F", bound=Callable[..., Any])

TARGET_METAVAR = "FILE_OR_PROJECT"


class DescribedArgument(click.Argument):
    """A positional argument with a help text, listed under "Arguments" in ``--help``."""

    def __init__(self, param_decls: Sequence[str], *, help: str | None = None, **attrs: Any):
        super().__init__(param_decls, **attrs)
        self.help = help


class ReportCommand(click.Command):
    """A command whose ``--help`` describes its positional arguments as well as its options
    (Click 8.5 does so itself, in "Positional arguments"; earlier versions do not)."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if hasattr(click.Command, "format_arguments"):
            super().format_options(ctx, formatter)
            return
        rows = [
            (p.human_readable_name + ("..." if p.nargs != 1 else ""), p.help)
            for p in self.params
            if isinstance(p, DescribedArgument) and p.help
        ]
        if rows:
            with formatter.section("Arguments"):
                formatter.write_dl(rows)
        super().format_options(ctx, formatter)


def report_command(name: str, help_text: str, printer: Printer) -> Callable[[Run], click.Command]:
    """Make `run(args) -> report` the command `name`: the options declared on `run` (Click
    decorators below this one) are parsed into `args`, and the report is printed as JSON with
    ``--json`` or by `printer`."""

    def build(run: Run) -> click.Command:
        @wraps(run)  # carries the Click parameters declared on `run`
        def callback(**values: Any) -> int:
            args = Args(**{k: _plain(v) for k, v in values.items()})
            report = run(args)
            if getattr(args, "json", False) is True:
                print(json.dumps(report, indent=2, default=str, ensure_ascii=False))
            else:
                printer(report)
            return 0

        return click.command(name, cls=ReportCommand, help=help_text, short_help=help_text)(
            callback
        )

    return build


def _plain(value: Any) -> Any:
    """A repeatable option or argument as a list, None when it was not given at all."""
    if isinstance(value, tuple):
        return list(value) or None
    return value


def argument(name: str, help: str, **attrs: Any) -> Callable[[F], F]:
    """A positional argument that ``--help`` describes."""
    return click.argument(name, cls=DescribedArgument, help=help, **attrs)


def options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several Click decorators as one, applied so that ``--help`` lists them in this order."""

    def apply(fn: F) -> F:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def db_option() -> Callable[[F], F]:
    return click.option(
        "--db", default=None, help="database URL (default: CURATION_DB_URL or ./.curation)"
    )


def quiet_option() -> Callable[[F], F]:
    return click.option("--quiet", is_flag=True, help="no progress bars")


def store_options(*, project: bool = True) -> Callable[[F], F]:
    """--project (required; left out when `project` is False, for commands where it means
    something else), --db, --author, --json and --quiet."""
    shared = [
        db_option(),
        click.option("--author", default=None, help="name recorded in the audit log"),
        click.option("--json", is_flag=True, help="print the report as JSON"),
        quiet_option(),
    ]
    if project:
        shared.insert(0, click.option("--project", required=True, help="project name in the store"))
    return options(*shared)


def target_options() -> Callable[[F], F]:
    """What a command works on: a data file by position, or a project by ``--project NAME``."""
    return options(
        argument(
            "target",
            "a data file (or, when no such file exists, the name of a project: deprecated, "
            "use --project NAME)",
            required=False,
            default=None,
            metavar=f"[{TARGET_METAVAR}]",
        ),
        click.option("--project", default=None, help="the project in the store to work on"),
    )


def default_author() -> str:
    return os.environ.get("CURATION_USER") or getpass.getuser() or "cli"


def author_of(args: Args) -> str:
    """The name the audit log records: ``--author``, else $CURATION_USER or the login name."""
    return args.author or default_author()


def open_store(args: Args) -> Store:
    return Store(args.db)


@contextlib.contextmanager
def opened(args: Args) -> Iterator[Store]:
    """The store ``--db`` names, disposed of when the block ends."""
    store = open_store(args)
    try:
        yield store
    finally:
        store.dispose()


class Progress:
    """A tqdm bar per stage on stderr, fed the `curation.progress` protocol: pass `update`
    wherever the core takes a `ProgressFn`."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, tqdm] = {}

    def update(self, update: ProgressUpdate) -> None:
        """Move the bar of ``update.stage`` (made on its first update) to ``update.done``."""
        if not self.enabled:
            return
        bar = self.bars.get(update.stage)
        if bar is None:
            bar = self.bars[update.stage] = tqdm(
                total=update.total, desc=update.stage, file=sys.stderr, leave=False
            )
        if update.total is not None and bar.total != update.total:
            bar.total = update.total
        bar.n = update.done
        bar.refresh()

    def counter(self, stage: str) -> Callable[[int, int | None], None]:
        """`update` as ``(done, total)`` for one stage: the form `Store.add_import` reports in."""

        def count(done: int, total: int | None) -> None:
            self.update(ProgressUpdate(stage, done, total))

        return count

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


# ---- what a command works on: a file or a project --------------------------------------------


def _project_names(args: Args) -> list[str]:
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


def resolve_target(args: Args) -> str:
    """Whether a command works on a file or a project: returns "file" or "project".

    `--project NAME` always means the project. A positional target means the file when it
    exists, else the project (with a note on stderr that `--project` is the way to say so); a
    name that is both an existing file and a project is refused rather than guessed (a path with
    a separator, such as ``./README.md``, is always the file). `args.target` is set to the file
    or project name.
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
        print(
            f"note: naming a project by position is deprecated; use --project "
            f"{shlex.quote(target)}",
            file=sys.stderr,
        )
        return "project"
    known = ", ".join(names) or "none yet"
    raise CurationError(
        f"{target!r} is neither an existing file nor a project in the store (known projects: "
        f"{known}). Check the path, or name a project with --project NAME."
    )


# ---- small shared helpers -------------------------------------------------------------------


def listed(value: str | None) -> list[str] | None:
    """A comma-separated option as a list (None when not given)."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def write_jsonl(path: str, rows: Sequence[dict[str, Any]]) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
