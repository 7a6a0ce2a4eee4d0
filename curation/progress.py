"""One progress protocol for every step, the store, the readers and background jobs.

Long work reports `ProgressUpdate`s to a `ProgressFn`; the CLI renders them with a terminal bar,
the app with `st.progress`, and a background job writes them to its row in the jobs table. Work
that is not watched gets `no_progress`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressUpdate:
    """How far one stage of a piece of work has come.

    `total` is None when the amount of work is not known in advance (a streamed file); `done`
    then counts what has been handled so far.
    """

    stage: str
    done: int
    total: int | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """Share done in [0, 1], or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


ProgressFn = Callable[[ProgressUpdate], None]


def no_progress(update: ProgressUpdate) -> None:
    """The progress sink for work nobody watches."""


def report(
    progress: ProgressFn | None, stage: str, done: int, total: int | None = None, message: str = ""
) -> None:
    """Send one update to `progress` if there is one."""
    if progress is not None:
        progress(ProgressUpdate(stage, done, total, message))
